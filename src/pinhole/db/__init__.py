"""Metadata database: tables, engine and sessions, migrations."""
