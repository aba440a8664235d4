"""PostgreSQL server fixtures (filled by the in-database collector work)."""
