"""The GraphQL API: one schema, served over HTTP and WebSocket at ``/graphql``."""
