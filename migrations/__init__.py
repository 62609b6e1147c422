"""SQL migrations, applied in order by `frontline.migrate`. Shipped as package data."""
