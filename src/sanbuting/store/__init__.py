"""The store: sanbuting's system of record when it runs as a service (accounts, bills,
payments, an append-only ledger, an outbox), in SQLite by default or PostgreSQL.

`store.models` holds the typed SQLAlchemy models, `store.database` the engine and session for
`SANBUTING_DATABASE_URL`, `store.migrations` the Alembic migrations (`upgrade`, `downgrade`).
"""
