"""Schema versions of the run store and the ordered steps that reach each one.

``MIGRATIONS[i]`` takes a store from version ``i`` to ``i + 1``; version 0 is an empty
database. :func:`upgrade` runs the missing steps inside the caller's transaction, so an
upgrade either completes or leaves the store as it was. A store newer than this code is
refused rather than guessed at.

>>> latest_version()
2
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, inspect, select, text

from . import schema
from .errors import StoreError

Migration = Callable[[Connection], None]


def _v1_tables(conn: Connection) -> None:
    """Version 1: schema_version, periods, runs and lines."""
    for table in (schema.schema_version, schema.periods, schema.runs, schema.lines):
        table.create(conn)


def _v2_paid_index(conn: Connection) -> None:
    """Version 2: an index for the paid-to-date sum over closed runs' lines."""
    conn.execute(text("CREATE INDEX ix_lines_pay_code ON lines (pay_code, run_id)"))


MIGRATIONS: Sequence[Migration] = (_v1_tables, _v2_paid_index)


def latest_version() -> int:
    """The schema version this code writes."""
    return len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The store's schema version; 0 for a database without compcalc tables."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    version = conn.execute(select(schema.schema_version.c.version)).scalar_one_or_none()
    return int(version or 0)


def upgrade(conn: Connection, target: int | None = None) -> int:
    """Bring the store to ``target`` (default: the latest) in the caller's transaction.

    Returns the version reached. Raises :class:`StoreError` when the store is newer than
    this code knows.
    """
    goal = latest_version() if target is None else target
    found = current_version(conn)
    if found > latest_version():
        raise StoreError(
            f"this store is at schema version {found}, newer than this compcalc "
            f"understands (up to {latest_version()}); upgrade compcalc to use it"
        )
    for step in MIGRATIONS[found:goal]:
        step(conn)
    if goal > found:
        _write_version(conn, goal, first=found == 0)
    return max(found, goal)


def _write_version(conn: Connection, version: int, *, first: bool) -> None:
    table = schema.schema_version
    if first:
        conn.execute(table.insert().values(id=1, version=version))
    else:
        conn.execute(table.update().where(table.c.id == 1).values(version=version))
