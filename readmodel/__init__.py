"""Read side: the projector and the SQL queries over read models (asyncpg)."""
