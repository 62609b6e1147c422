"""GraphQL object types, one module per concept; ``from_row`` builds them from read rows."""
