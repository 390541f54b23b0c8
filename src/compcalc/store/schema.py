"""The tables of the run store, as SQLAlchemy Core objects (the latest schema version).

Money is stored as integer minor units (``amount_minor``) with the run's ``digits``: the
engine's own representation, exact on every backend, and summable in SQL without any
decimal type differences between SQLite and PostgreSQL. There are no wall-clock columns:
``seq`` orders runs deterministically.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: a single row
    Column("version", Integer, nullable=False),
)

periods = Table(
    "periods",
    metadata,
    Column("period", String(64), primary_key=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("plan_year_start", Date, nullable=False),
    Column("status", String(16), nullable=False),  # open, closed
    # Plain text, not a foreign key: runs already references periods, and a cycle would
    # complicate creation order on every backend. close_period keeps it consistent.
    Column("closed_run_id", String(64), nullable=True),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("period", String(64), ForeignKey("periods.period"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("plan_year_start", Date, nullable=False),
    Column("ruleset_id", String(200), nullable=False),
    Column("ruleset_version", String(200), nullable=False),
    Column("ruleset_sha256", String(64), nullable=False),
    Column("roster_sha256", String(64), nullable=False),
    Column("ledger_sha256", String(64), nullable=False),
    Column("engine_version", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("digits", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # draft, closed
    Column("result_json", Text, nullable=False),
)

lines = Table(
    "lines",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id"), primary_key=True),
    Column("employee_id", String(200), primary_key=True),
    Column("line_id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),  # order of the line on the statement
    Column("component", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("pay_code", String(32), nullable=False),
    Column("item", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
)
