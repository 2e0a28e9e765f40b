"""Call records: SQLAlchemy schema, database connection, stores."""
