"""HTTP/GraphQL API, configuration, database plumbing and the `frontline` CLI."""
