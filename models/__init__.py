"""Storage: SQLAlchemy 2.0 tables and the queries over them. Imports neither aiohttp nor bot."""
