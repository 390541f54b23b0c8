"""The run store: saved runs, their lines, and which periods are closed.

One :class:`Store` wraps a SQLAlchemy engine (SQLite by default, PostgreSQL by URL). Every
write is a single transaction: a process killed in the middle of a save leaves the store as
it was before.

>>> with Store.open("sqlite://") as store:           # an in-memory store
...     store.runs()
[]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, String, create_engine, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from ..money import from_minor, minor_digits
from ..statements.model import PeriodResult, PriorRun
from . import schema
from .errors import StoreError
from .migrations import current_version, latest_version, upgrade

DEFAULT_URL = "sqlite:///compcalc.db"
# Test-only hook: when set, save_run prints PAUSE_MARKER and sleeps inside its transaction
# right after inserting the run row, so a test can kill the process mid-save (kill -9).
PAUSE_ENV = "COMPCALC_STORE_PAUSE_AFTER_RUN_ROW"
PAUSE_MARKER = "compcalc-store: paused after run row"
# Every write transaction first takes the store's one write lock, so concurrent writers (two
# `compcalc run --store` at once) queue instead of racing on seq, the period row or a close:
# SQLite by BEGIN IMMEDIATE, PostgreSQL by this transaction-scoped advisory lock key.
WRITE_OPTION = "compcalc_write"
PG_LOCK_KEY = 0x636F6D7063616C63  # "compcalc" in ASCII
# Kinds of component whose lines are paid to date: due to date minus these is what a run pays.
# By kind, not pay code: an adjustment line (pay code "adjustment") of a commission counts.
PAID_KINDS = ("commission", "bonus", "draw", "override")
# How long a SQLite connection waits for another one's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 60_000


@dataclass(frozen=True, slots=True)
class SavedRun:
    """A run as the store holds it (without its result; see :meth:`Store.get_run`)."""

    run_id: str
    seq: int
    period: str
    period_start: dt.date
    period_end: dt.date
    plan_year_start: dt.date
    status: str  # draft or closed
    ruleset_id: str
    ruleset_version: str
    ruleset_sha256: str
    roster_sha256: str
    ledger_sha256: str
    engine_version: str
    currency: str


def run_id_of(result: PeriodResult) -> str:
    """The run's id: sha256 over the digests of its inputs, the period and the engine version.

    >>> from compcalc.statements.model import PeriodResult
    >>> r = PeriodResult("2026-10", "2026-10-01", "2026-10-31", "rs", "1", "a", "b", "c",
    ...                  "0.1.0", "USD", ())
    >>> run_id_of(r)[:12]
    'd7242a042b00'
    """
    parts = [
        result.ruleset_sha256,
        result.roster_sha256,
        result.ledger_sha256,
        result.period,
        result.engine_version,
    ]
    if result.fx_sha256:  # runs without an FX table keep the ids they always had
        parts.append(result.fx_sha256)
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def store_url(url: str | None = None) -> URL:
    """The SQLAlchemy URL a store at ``url`` connects to (default ``sqlite:///compcalc.db``).

    A plain ``postgresql://`` (or ``postgres://``) URL uses psycopg 3 (the ``postgres`` extra)
    when it is installed, whatever SQLAlchemy's own default driver is; a URL naming its driver
    (``postgresql+psycopg2://``) is kept. Raises ``sqlalchemy.exc.ArgumentError`` for a
    malformed URL.

    >>> store_url("postgresql://pay:secret@db.example/compcalc").drivername
    'postgresql+psycopg'
    >>> store_url().render_as_string()
    'sqlite:///compcalc.db'
    """
    target = make_url(url or DEFAULT_URL)
    if target.drivername in ("postgresql", "postgres") and importlib.util.find_spec("psycopg"):
        target = target.set(drivername="postgresql+psycopg")
    return target


def _sqlite_setup(engine: Engine) -> None:
    """Foreign keys and WAL on every connection; BEGIN issued by us so DDL is transactional.

    A write transaction (see :func:`_writing`) begins IMMEDIATE: it takes SQLite's write
    lock before its first read, so a concurrent writer waits (busy_timeout) instead of
    failing with "database is locked" when its read snapshot turns stale. The switch to WAL
    is the one step the busy timeout does not cover; :func:`_switch_to_wal` retries it.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver stops issuing its own BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # before any read
        cursor.execute("PRAGMA foreign_keys=ON")
        _switch_to_wal(cursor, SQLITE_BUSY_TIMEOUT_MS)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        writing = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _switch_to_wal(cursor: Any, timeout_ms: int) -> str:
    """``PRAGMA journal_mode=WAL`` on a SQLite connection, retried while another one is busy.

    Returns the journal mode in force afterwards (``'memory'`` for an in-memory database).
    On a database not yet in WAL mode the switch reads the file header under a read lock
    and then upgrades that lock to rewrite it. SQLite never calls the busy handler for such
    an upgrade (two connections waiting on each other would deadlock), so when several
    connections open a new store at once, all but the first can get "database is locked"
    at once, whatever busy_timeout says. Retried here instead, with pauses growing to 0.1 s,
    until about ``timeout_ms`` have been spent pausing; then the last error is raised.

    >>> memory = sqlite3.connect(":memory:")
    >>> _switch_to_wal(memory.cursor(), 1000)
    'memory'
    >>> memory.close()
    """
    pause_ms, waited_ms = 5, 0
    while True:
        try:
            mode: str = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            return mode
        except sqlite3.OperationalError as error:
            busy = (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY
            if not busy or waited_ms >= timeout_ms:
                raise
        time.sleep(pause_ms / 1000)  # float-ok: a pause in seconds, not money
        waited_ms += pause_ms
        pause_ms = min(pause_ms * 2, 100)


class Store:
    """Saved pay runs and closed periods in a SQL database (SQLAlchemy Core).

    >>> with Store.open("sqlite://") as store:
    ...     store.paid_to_date(dt.date(2026, 11, 1), dt.date(2026, 10, 1)).empty
    True
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open (creating or upgrading) the store at ``url``; default ``sqlite:///compcalc.db``.

        Raises :class:`StoreError` when the URL is unusable, the database cannot be reached or
        its schema is newer than this code.
        """
        try:
            target = store_url(url)
            engine = create_engine(target)
        except (ArgumentError, ImportError) as error:  # bad URL, unknown or missing driver
            raise StoreError(f"cannot open store: {error}") from None
        shown = target.render_as_string(hide_password=True)
        if target.get_backend_name() == "sqlite":
            _sqlite_setup(engine)
        try:
            with engine.begin() as conn:
                found = current_version(conn)
            if found != latest_version():  # older: upgrade; newer: upgrade() refuses it
                with _writing(engine) as conn:
                    upgrade(conn)  # checks the version again, now under the write lock
        except OperationalError as error:  # unreachable server, unwritable file ...
            engine.dispose()
            raise StoreError(f"cannot open store {shown}: {error.orig}") from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def url(self) -> str:
        """The store's URL as safe to print (any password masked)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction under the store's write lock; a database error is a StoreError."""
        try:
            with _writing(self.engine) as conn:
                yield conn
        except DBAPIError as error:
            raise StoreError(f"store {self.url}: {error.orig}") from error

    def save_run(self, result: PeriodResult, *, plan_year_start: dt.date | None = None) -> SavedRun:
        """Save ``result`` as a draft run of its period; the same inputs again reuse it.

        ``plan_year_start`` is the first day of the plan year the period belongs to (the CLI
        takes it from the rule set); when omitted, January 1 of the period's start year.
        Raises :class:`StoreError` when the period is closed.

        >>> saved = store.save_run(result)                        # doctest: +SKIP
        >>> saved.status, saved.run_id == store.save_run(result).run_id   # doctest: +SKIP
        ('draft', True)
        """
        start = dt.date.fromisoformat(result.period_start)
        year_start = plan_year_start or dt.date(start.year, 1, 1)
        run_id = run_id_of(result)
        with self._write() as conn:
            period = self._ensure_period(conn, result, year_start)
            if period["status"] == "closed":
                raise StoreError(
                    f"period {result.period} is closed (run {period['closed_run_id']}); "
                    "corrections go into the next open period"
                )
            existing = _run_row(conn, run_id)
            if existing is not None:
                return _saved(existing)
            self._insert_run(conn, result, run_id, year_start)
            _pause_for_tests()
            _insert_lines(conn, result, run_id)
            row = _run_row(conn, run_id)
        assert row is not None
        return _saved(row)

    def close_period(self, period: str) -> SavedRun:
        """Close ``period``: its most recent draft run becomes the closed, paid run.

        Refused when the period has no draft, is already closed, or an earlier period of
        the same plan year that has runs is still open (periods close in order).

        >>> store.close_period("2026-10").status                  # doctest: +SKIP
        'closed'
        """
        with self._write() as conn:
            row = _period_row(conn, period)
            if row is None:
                raise StoreError(f"period {period} has no saved runs; nothing to close")
            if row["status"] == "closed":
                raise StoreError(f"period {period} is already closed (run {row['closed_run_id']})")
            _check_earlier_closed(conn, row)
            runs, periods = schema.runs, schema.periods
            draft = (
                conn.execute(
                    select(runs)
                    .where(runs.c.period == period, runs.c.status == "draft")
                    .order_by(runs.c.seq.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if draft is None:
                raise StoreError(f"period {period} has no draft run to close")
            conn.execute(
                runs.update().where(runs.c.run_id == draft["run_id"]).values(status="closed")
            )
            conn.execute(
                periods.update()
                .where(periods.c.period == period)
                .values(status="closed", closed_run_id=draft["run_id"])
            )
            closed = _run_row(conn, draft["run_id"])
        assert closed is not None
        return _saved(closed)

    # -- reads --------------------------------------------------------------------------

    def paid_to_date(self, period_start: dt.date, plan_year_start: dt.date) -> pd.DataFrame:
        """What closed runs paid before ``period_start`` this plan year, per component.

        Lines of the component kinds in ``PAID_KINDS`` (commission, bonus, draw, override)
        count, adjustment lines of those components included.

        Columns ``employee_id, component, amount`` (exact decimal strings), sorted; exactly
        what :func:`compcalc.run_period` takes as ``paid_to_date``.

        >>> paid = store.paid_to_date(date(2026, 11, 1), date(2026, 10, 1))  # doctest: +SKIP
        >>> compcalc.run_period(rules, roster, ledger, "2026-11",
        ...                     paid_to_date=paid)                 # doctest: +SKIP
        """
        lines, runs = schema.lines, schema.runs
        total = func.sum(lines.c.amount_minor)
        query = (
            select(lines.c.employee_id, lines.c.component, runs.c.digits, total)
            .join(runs, runs.c.run_id == lines.c.run_id)
            .where(
                runs.c.status == "closed",
                runs.c.period_start >= plan_year_start,
                runs.c.period_end < period_start,
                lines.c.kind.in_(PAID_KINDS),
            )
            .group_by(lines.c.employee_id, lines.c.component, runs.c.digits)
            .order_by(lines.c.employee_id, lines.c.component)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(
            [(e, c, f"{from_minor(int(s), int(d)):f}") for e, c, d, s in rows],
            columns=["employee_id", "component", "amount"],
            dtype=object,
        )
        return frame

    def prior_runs(self, period_start: dt.date, plan_year_start: dt.date) -> list[PriorRun]:
        """The closed runs of the plan year before ``period_start``, oldest first.

        Pass them to :func:`compcalc.run_period` as ``history`` with :meth:`paid_to_date`.
        """
        runs = schema.runs
        query = (
            select(runs.c.period, runs.c.ruleset_version, runs.c.ruleset_sha256,
                   runs.c.engine_version)
            .where(
                runs.c.status == "closed",
                runs.c.period_start >= plan_year_start,
                runs.c.period_end < period_start,
            )
            .order_by(runs.c.period_start)
        )  # fmt: skip
        with self.engine.connect() as conn:
            return [PriorRun(*row) for row in conn.execute(query).all()]

    def open_periods_before(self, period_start: dt.date, plan_year_start: dt.date) -> list[str]:
        """Periods of the plan year before ``period_start`` that have runs but are not closed.

        Oldest first. A run of a later period should wait until these are closed, or what it
        takes as paid to date would miss them.

        >>> store.open_periods_before(date(2026, 11, 1), date(2026, 10, 1))  # doctest: +SKIP
        ['2026-10']
        """
        with self.engine.connect() as conn:
            return _open_periods_before(conn, period_start, plan_year_start)

    def closed_run(self, period: str) -> SavedRun | None:
        """The closed (paid) run of ``period``; None when the period is unknown or still open.

        >>> store.closed_run("2026-10").status                    # doctest: +SKIP
        'closed'
        """
        with self.engine.connect() as conn:
            row = _period_row(conn, period)
            if row is None or row["status"] != "closed" or row["closed_run_id"] is None:
                return None
            run = _run_row(conn, row["closed_run_id"])
        return _saved(run) if run is not None else None

    def runs(self) -> list[SavedRun]:
        """Every saved run, in the order saved.

        >>> [(r.period, r.status) for r in store.runs()]         # doctest: +SKIP
        [('2026-10', 'closed'), ('2026-11', 'draft')]
        """
        with self.engine.connect() as conn:
            rows = conn.execute(select(schema.runs).order_by(schema.runs.c.seq)).mappings()
            return [_saved(row) for row in rows]

    def get_run(self, run_id: str) -> dict[str, Any]:
        """The saved run's result as plain data (``PeriodResult.to_dict()`` form).

        >>> store.get_run(saved.run_id)["period"]["label"]       # doctest: +SKIP
        '2026-10'
        """
        with self.engine.connect() as conn:
            text = conn.execute(
                select(schema.runs.c.result_json).where(schema.runs.c.run_id == run_id)
            ).scalar_one_or_none()
        if text is None:
            raise StoreError(f"no run {run_id} in the store")
        data: dict[str, Any] = json.loads(text)
        return data

    def lines_frame(self, run_id: str) -> pd.DataFrame:
        """The run's statement lines, one row each, amounts as exact Decimals.

        >>> store.lines_frame(saved.run_id).groupby("pay_code")["amount"].sum()  # doctest: +SKIP
        """
        lines, runs = schema.lines, schema.runs
        query = (
            select(lines, runs.c.digits)
            .join(runs, runs.c.run_id == lines.c.run_id)
            .where(lines.c.run_id == run_id)
            .order_by(lines.c.employee_id, lines.c.position)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query).mappings())
        columns = ["run_id", "employee_id", "line_id", "component", "kind", "pay_code", "item"]
        frame = pd.DataFrame([[r[c] for c in columns] for r in rows], columns=columns)
        amounts = [from_minor(int(r["amount_minor"]), int(r["digits"])) for r in rows]
        frame["currency"] = [r["currency"] for r in rows]
        frame["amount"] = pd.Series(amounts, dtype=object)
        return frame

    # -- helpers ------------------------------------------------------------------------

    def _ensure_period(
        self, conn: Connection, result: PeriodResult, year_start: dt.date
    ) -> dict[str, Any]:
        row = _period_row(conn, result.period)
        if row is not None:
            return row
        values = {
            "period": result.period,
            "period_start": dt.date.fromisoformat(result.period_start),
            "period_end": dt.date.fromisoformat(result.period_end),
            "plan_year_start": year_start,
            "status": "open",
            "closed_run_id": None,
        }
        conn.execute(schema.periods.insert().values(**values))
        return values

    def _insert_run(
        self, conn: Connection, result: PeriodResult, run_id: str, year_start: dt.date
    ) -> None:
        runs = schema.runs
        seq = conn.execute(select(func.coalesce(func.max(runs.c.seq), 0))).scalar_one()
        conn.execute(
            runs.insert().values(
                run_id=run_id,
                seq=int(seq) + 1,
                period=result.period,
                period_start=dt.date.fromisoformat(result.period_start),
                period_end=dt.date.fromisoformat(result.period_end),
                plan_year_start=year_start,
                ruleset_id=result.ruleset_id,
                ruleset_version=result.ruleset_version,
                ruleset_sha256=result.ruleset_sha256,
                roster_sha256=result.roster_sha256,
                ledger_sha256=result.ledger_sha256,
                engine_version=result.engine_version,
                currency=result.currency,
                digits=minor_digits(result.currency),
                status="draft",
                result_json=result.to_json(),
            )
        )

    def find_run(self, prefix: str, *, min_length: int = 4) -> SavedRun:
        """The saved run whose id is ``prefix`` or starts with it (read-only).

        ``prefix`` is at least ``min_length`` hex digits (any case). Raises
        :class:`StoreError` naming the prefix when it is malformed, matches no run, or
        matches more than one (then the first few matching ids are listed).

        >>> store.find_run(saved.run_id[:8]).run_id == saved.run_id   # doctest: +SKIP
        True
        """
        wanted = prefix.strip().lower()
        if len(wanted) < min_length or any(c not in "0123456789abcdef" for c in wanted):
            raise StoreError(
                f"{prefix!r} is not a run id: expected at least {min_length} hex digits"
            )
        runs = schema.runs
        query = (
            select(runs)
            .where(runs.c.run_id.startswith(wanted, autoescape=True))
            .order_by(runs.c.run_id)
            .limit(4)
        )
        with self.engine.connect() as conn:
            found = [dict(row) for row in conn.execute(query).mappings()]
        if not found:
            raise StoreError(f"no run {prefix} in the store {self.url}")
        if len(found) > 1:
            shown = ", ".join(row["run_id"][:16] for row in found[:3])
            more = ", …" if len(found) > 3 else ""
            raise StoreError(
                f"run id prefix {prefix} is ambiguous: it matches runs {shown}{more}; "
                "give more digits"
            )
        return _saved(found[0])


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the store's write lock (WRITE_OPTION, PG_LOCK_KEY) until it ends."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(PG_LOCK_KEY)))
            yield conn


def _insert_lines(conn: Connection, result: PeriodResult, run_id: str) -> None:
    rows = [
        {
            "run_id": run_id,
            "employee_id": statement.employee_id,
            "line_id": line.id,
            "position": position,
            "component": line.component,
            "kind": line.kind,
            "pay_code": line.pay_code,
            "item": line.item,
            "currency": statement.currency,
            "amount_minor": _minor(line.amount, minor_digits(statement.currency)),
        }
        for statement in result.statements
        for position, line in enumerate(statement.lines)
    ]
    _check_fits(schema.lines.name, _text_limits(schema.lines.columns), rows)
    if rows:
        conn.execute(schema.lines.insert(), rows)


def _text_limits(columns: Any) -> dict[str, int | None]:
    """The text columns of a table and their length limits (None: unlimited)."""
    return {c.name: c.type.length for c in columns if isinstance(c.type, String)}


def _check_fits(table: str, limits: dict[str, int | None], rows: list[dict[str, Any]]) -> None:
    """Refuse text a column cannot hold, the same way on every backend.

    SQLite would store a value longer than its VARCHAR and PostgreSQL would fail with a driver
    error (too long, or a NUL character, which PostgreSQL text cannot hold); this names the
    value instead, before anything is written.
    """
    for row in rows:
        for name, limit in limits.items():
            value = row.get(name)
            if not isinstance(value, str):
                continue
            if limit is not None and len(value) > limit:
                raise StoreError(
                    f"cannot store {table}.{name} {value[:40]!r}...: {len(value)} characters, "
                    f"the store keeps at most {limit}"
                )
            if "\x00" in value:
                raise StoreError(f"cannot store {table}.{name} {value!r}: it has a NUL character")


def _minor(amount: Decimal, digits: int) -> int:
    """Exact minor units of a line amount; a line with more decimals is a bug, not rounded."""
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise StoreError(f"amount {amount} has more than {digits} decimal places")
    return int(scaled)


def _pause_for_tests() -> None:
    """Test-only: see PAUSE_ENV. Does nothing unless the variable is set."""
    if os.environ.get(PAUSE_ENV):
        print(PAUSE_MARKER, flush=True)
        sys.stdout.flush()
        time.sleep(600)


def _open_periods_before(
    conn: Connection, period_start: dt.date, plan_year_start: dt.date
) -> list[str]:
    periods = schema.periods
    found = (
        conn.execute(
            select(periods.c.period)
            .where(
                periods.c.plan_year_start == plan_year_start,
                periods.c.period_start < period_start,
                periods.c.status == "open",
            )
            .order_by(periods.c.period_start)
        )
        .scalars()
        .all()
    )
    return list(found)


def _check_earlier_closed(conn: Connection, period: dict[str, Any]) -> None:
    still_open = _open_periods_before(conn, period["period_start"], period["plan_year_start"])
    if still_open:
        raise StoreError(
            f"period {period['period']} cannot close before earlier period(s) "
            f"{', '.join(still_open)} of the same plan year; close them first"
        )


def _period_row(conn: Connection, period: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(schema.periods).where(schema.periods.c.period == period))
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def _run_row(conn: Connection, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(schema.runs).where(schema.runs.c.run_id == run_id)).mappings().first()
    return dict(row) if row is not None else None


def _saved(row: Any) -> SavedRun:
    fields = SavedRun.__dataclass_fields__
    return SavedRun(**{name: row[name] for name in fields})
