"""SQL migrations, applied in order by `api.migrate`. Shipped as package data."""
