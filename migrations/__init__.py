"""Alembic migrations, applied by `antt-bot db upgrade` (and automatically on SQLite)."""
