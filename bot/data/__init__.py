"""The database: engine and sessions, the ORM models, the state enums, migrations, the audit
chain's linking at commit (Python on SQLite, trigger SQL on PostgreSQL) and LISTEN/NOTIFY
wake-ups."""
