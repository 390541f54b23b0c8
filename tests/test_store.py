"""The run store against real databases: SQLite files in ``tmp_path``, and PostgreSQL when
``COMPCALC_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one; each test then gets
a fresh schema of its own, see ``conftest.py``).

Covers: one run per set of inputs, closing periods in order, refusing writes to closed
periods, paid-to-date from closed runs (and that it reproduces the engine's own replay
byte for byte), schema migrations, a save killed with SIGKILL mid-transaction, concurrent
writers, text a column cannot hold, and PostgreSQL URLs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import pickle
import select
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, text
from sqlalchemy import select as sql_select

import compcalc
from compcalc.statements.model import PeriodResult
from compcalc.store import Store, StoreError, latest_version, migrations, schema
from compcalc.store import store as store_module
from compcalc.store.store import PAUSE_ENV, PAUSE_MARKER, store_url

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules" / "account_managers.yaml"
ROSTER = ROOT / "examples" / "roster.csv"
OCT, NOV = (ROOT / "examples" / "ledger" / f"2026-{m}.csv" for m in ("10", "11"))
YEAR = dt.date(2026, 10, 1)  # the account-manager plan year starts in October


# --------------------------------------------------------------------------------------------
# Runs of the shipped example, computed once


@dataclasses.dataclass(frozen=True)
class Runs:
    oct: PeriodResult  # October, October ledger
    oct_more: PeriodResult  # October with the November ledger too: a different ledger digest
    nov: PeriodResult  # November, paid to date replayed by the engine
    rules: compcalc.RuleSet


@pytest.fixture(scope="module")
def runs() -> Runs:
    rules = compcalc.load_rules(RULES)
    return Runs(
        oct=compcalc.run_period(rules, ROSTER, [OCT], "2026-10"),
        oct_more=compcalc.run_period(rules, ROSTER, [OCT, NOV], "2026-10"),
        nov=compcalc.run_period(rules, ROSTER, [OCT, NOV], "2026-11"),
        rules=rules,
    )


# --------------------------------------------------------------------------------------------
# Backends (conftest.py: SQLite, and PostgreSQL when COMPCALC_TEST_POSTGRES_URL is set)


@pytest.fixture
def url(new_store_url: Callable[[], str]) -> str:
    """A URL of an empty store database, once per backend."""
    return new_store_url()


def raw_engine(url: str) -> Engine:
    """An engine on the store's database without the store (same driver as Store.open)."""
    return create_engine(store_url(url))


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with Store.open(url) as opened:
        yield opened


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


# --------------------------------------------------------------------------------------------
# Saving runs


def test_same_inputs_reuse_the_run_and_a_different_ledger_is_a_new_run(
    store: Store, runs: Runs
) -> None:
    first = store.save_run(runs.oct, plan_year_start=YEAR)
    again = store.save_run(runs.oct, plan_year_start=YEAR)
    assert again == first
    assert first.status == "draft"
    assert [r.run_id for r in store.runs()] == [first.run_id]
    assert count(store, "runs") == 1
    lines_saved = count(store, "lines")
    assert lines_saved == sum(len(s.lines) for s in runs.oct.statements)

    other = store.save_run(runs.oct_more, plan_year_start=YEAR)
    assert other.run_id != first.run_id
    assert [r.run_id for r in store.runs()] == [first.run_id, other.run_id]
    assert [r.seq for r in store.runs()] == [1, 2]


def test_saved_run_reads_back_exactly(store: Store, runs: Runs) -> None:
    saved = store.save_run(runs.oct, plan_year_start=YEAR)
    assert store.get_run(saved.run_id) == json.loads(runs.oct.to_json())
    frame = store.lines_frame(saved.run_id)
    expected = runs.oct.to_frame()
    assert list(frame["employee_id"]) == list(expected["employee_id"])
    assert list(frame["line_id"]) == list(expected["line_id"])
    assert list(frame["amount"]) == list(expected["amount"])
    assert all(isinstance(a, Decimal) for a in frame["amount"])
    with pytest.raises(StoreError, match="no run nope"):
        store.get_run("nope")


# --------------------------------------------------------------------------------------------
# Closing periods


def test_close_refuses_later_writes_and_a_second_close(store: Store, runs: Runs) -> None:
    with pytest.raises(StoreError, match="2026-10 has no saved runs"):
        store.close_period("2026-10")
    store.save_run(runs.oct, plan_year_start=YEAR)
    latest = store.save_run(runs.oct_more, plan_year_start=YEAR)
    store.save_run(runs.oct, plan_year_start=YEAR)  # reused: does not become the latest
    closed = store.close_period("2026-10")
    assert closed.run_id == latest.run_id
    assert closed.status == "closed"
    assert [r.status for r in store.runs()] == ["draft", "closed"]

    message = (
        f"period 2026-10 is closed (run {latest.run_id}); corrections go into the next open period"
    )
    for result in (runs.oct, runs.oct_more):
        with pytest.raises(StoreError) as refused:
            store.save_run(result, plan_year_start=YEAR)
        assert str(refused.value) == message
    with pytest.raises(StoreError, match="2026-10 is already closed"):
        store.close_period("2026-10")
    assert count(store, "runs") == 2


def test_periods_close_in_order(store: Store, runs: Runs) -> None:
    store.save_run(runs.oct, plan_year_start=YEAR)
    store.save_run(runs.nov, plan_year_start=YEAR)
    with pytest.raises(StoreError, match=r"2026-11 cannot close before .*2026-10"):
        store.close_period("2026-11")
    assert store.close_period("2026-10").period == "2026-10"
    assert store.close_period("2026-11").period == "2026-11"


def test_open_periods_before_lists_earlier_unclosed_periods_of_the_plan_year(
    store: Store, runs: Runs
) -> None:
    nov_start, dec_start = dt.date(2026, 11, 1), dt.date(2026, 12, 1)
    assert store.open_periods_before(nov_start, YEAR) == []  # no runs yet
    store.save_run(runs.oct, plan_year_start=YEAR)
    assert store.open_periods_before(nov_start, YEAR) == ["2026-10"]
    assert store.open_periods_before(dt.date(2026, 10, 1), YEAR) == []  # not before itself
    assert store.open_periods_before(nov_start, dt.date(2026, 11, 1)) == []  # other plan year
    store.save_run(runs.nov, plan_year_start=YEAR)
    assert store.open_periods_before(dec_start, YEAR) == ["2026-10", "2026-11"]
    store.close_period("2026-10")
    assert store.open_periods_before(nov_start, YEAR) == []
    assert store.open_periods_before(dec_start, YEAR) == ["2026-11"]


def test_closed_run_is_the_paid_run_of_a_closed_period_only(store: Store, runs: Runs) -> None:
    assert store.closed_run("2026-10") is None  # unknown period
    store.save_run(runs.oct, plan_year_start=YEAR)
    latest = store.save_run(runs.oct_more, plan_year_start=YEAR)
    assert store.closed_run("2026-10") is None  # drafts only
    closed = store.close_period("2026-10")
    assert store.closed_run("2026-10") == closed
    assert closed.run_id == latest.run_id
    rebuilt = PeriodResult.from_dict(store.get_run(closed.run_id))
    assert rebuilt == runs.oct_more
    assert rebuilt.to_json() == runs.oct_more.to_json()


def test_from_dict_is_the_inverse_of_to_dict(runs: Runs) -> None:
    for result in (runs.oct, runs.nov):
        text = result.to_json()
        rebuilt = PeriodResult.from_dict(json.loads(text))
        assert rebuilt.to_json() == text
        assert rebuilt == result
        amounts = [line.amount for s in rebuilt.statements for line in s.lines]
        assert all(isinstance(a, Decimal) for a in amounts)
    assert any(s.held or s.excluded for s in runs.nov.statements)  # the notes are covered


def test_an_unusable_url_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open store: "):
        Store.open("not a url")
    with pytest.raises(StoreError, match=r"cannot open store sqlite:///.*: unable to open"):
        Store.open(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    with Store.open(f"sqlite:///{tmp_path / 'ok.db'}") as store:
        assert store.url == f"sqlite:///{tmp_path / 'ok.db'}"


def test_a_plain_postgresql_url_uses_psycopg_and_its_password_is_never_shown() -> None:
    assert store_url("postgresql://pay:secret@db/books").drivername == "postgresql+psycopg"
    assert store_url("postgres://pay@db/books").drivername == "postgresql+psycopg"
    kept = "postgresql+psycopg2://pay@db/books"  # a driver named explicitly is kept
    assert store_url(kept).render_as_string() == kept
    assert store_url(None).render_as_string() == "sqlite:///compcalc.db"
    # Nothing listens on port 1: the message names the store with its password masked.
    with pytest.raises(StoreError) as refused:
        Store.open("postgresql://pay:secret@127.0.0.1:1/books")
    message = str(refused.value)
    assert message.startswith("cannot open store postgresql+psycopg://pay:***@127.0.0.1:1/books: ")
    assert "secret" not in message


def test_store_url_shows_the_backend_without_the_password(store: Store, url: str) -> None:
    assert store.url == store_url(url).render_as_string(hide_password=True)
    if store_url(url).password:
        assert ":***@" in store.url


def test_text_a_column_cannot_hold_is_refused_alike_on_every_backend(
    store: Store, runs: Runs
) -> None:
    """SQLite would keep it, PostgreSQL would fail in the driver: both refuse it by name."""
    first, *rest = runs.oct.statements

    def with_employee(employee_id: str) -> PeriodResult:
        renamed = dataclasses.replace(first, employee_id=employee_id)
        return dataclasses.replace(runs.oct, statements=(renamed, *rest))

    too_long = with_employee("E" * 201)
    with pytest.raises(StoreError, match="201 characters, the store keeps at most 200"):
        store.save_run(too_long, plan_year_start=YEAR)
    with pytest.raises(StoreError, match="NUL character"):
        store.save_run(with_employee("E\x00"), plan_year_start=YEAR)
    assert (count(store, "runs"), count(store, "periods"), count(store, "lines")) == (0, 0, 0)

    longest = store.save_run(with_employee("E" * 200), plan_year_start=YEAR)
    assert "E" * 200 in set(store.lines_frame(longest.run_id)["employee_id"])


def test_concurrent_writers_queue_instead_of_failing(url: str, runs: Runs) -> None:
    """Stores opened at once on an empty database, then saving at once into one period.

    Without the write lock the upgrades race to create the tables, and the saves race on
    the period row and on ``seq`` (PostgreSQL: unique violations; SQLite: "database is
    locked" when a read snapshot turns stale).
    """
    writers = 6
    variants = [
        dataclasses.replace(runs.oct, ledger_sha256=f"{index:064x}") for index in range(writers)
    ]
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(result: PeriodResult) -> None:
        try:
            barrier.wait(timeout=60)
            with Store.open(url) as mine:  # its own engine and connections, like a process
                barrier.wait(timeout=60)
                mine.save_run(result, plan_year_start=YEAR)
                barrier.wait(timeout=60)
                if result is variants[0]:
                    mine.close_period("2026-10")
        except BaseException as error:  # reported below, with the others
            failures.append(error)

    threads = [threading.Thread(target=write, args=(result,)) for result in variants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with Store.open(url) as store:
        saved = store.runs()
        assert sorted(r.seq for r in saved) == list(range(1, writers + 1))
        assert sorted(r.ledger_sha256 for r in saved) == sorted(r.ledger_sha256 for r in variants)
        assert count(store, "periods") == 1
        assert count(store, "lines") == writers * sum(len(s.lines) for s in runs.oct.statements)
        closed = store.closed_run("2026-10")
        assert closed is not None and closed.seq == writers  # the last saved draft
        assert [r.status for r in saved].count("closed") == 1


@contextmanager
def write_lock_held(path: Path, seconds: float | None) -> Iterator[threading.Event]:
    """Another connection holds the write lock of the new SQLite database at ``path``.

    It lets go after ``seconds`` (None: when the block ends); the event is set just before.
    The database is still in rollback-journal mode: what a store opened at the same moment
    sees while a sibling switches the file to WAL or creates the tables.
    """
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        released.set()  # before COMMIT: whoever got the lock saw the event set
        holder.execute("COMMIT")

    timer = threading.Timer(seconds, release) if seconds is not None else None
    try:
        if timer is not None:
            timer.start()
        yield released
    finally:
        if timer is not None:
            timer.join()
        else:
            release()
        holder.close()


def test_opening_a_new_sqlite_store_waits_for_the_write_lock(tmp_path: Path) -> None:
    """Issue 6: switching to WAL upgrades a read lock, and SQLite never runs the busy
    handler for that upgrade, so a store opened while another connection held the write
    lock failed at once with "database is locked" instead of waiting (busy_timeout)."""
    path = tmp_path / "new.db"
    with write_lock_held(path, seconds=1.0) as released, Store.open(f"sqlite:///{path}") as store:
        assert released.is_set()  # it waited for the lock instead of failing
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert migrations.current_version(conn) == latest_version()


def test_a_sqlite_lock_never_released_is_a_store_error_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_MS", 300)
    path = tmp_path / "new.db"
    with write_lock_held(path, seconds=None) as released:
        with pytest.raises(StoreError, match=r"cannot open store sqlite:///.*database is locked"):
            Store.open(f"sqlite:///{path}")
        assert not released.is_set()


def test_many_stores_opened_at_once_on_a_new_sqlite_file_all_open(tmp_path: Path) -> None:
    """A stress variant of the first half of the concurrent-writers test: every round, a
    fresh file and many stores opening it at the same moment (WAL switch, table creation)."""
    writers, rounds = 8, 20
    failures: list[BaseException] = []
    for round_ in range(rounds):
        url = f"sqlite:///{tmp_path / f'round-{round_}.db'}"
        barrier = threading.Barrier(writers)

        def open_at_once(url: str = url, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait(timeout=60)
                with Store.open(url) as store:
                    store.runs()
            except BaseException as error:  # reported below, with the others
                failures.append(error)

        threads = [threading.Thread(target=open_at_once) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert failures == []


# --------------------------------------------------------------------------------------------
# Paid to date


def test_paid_to_date_is_what_closed_periods_paid_and_matches_the_replay(
    store: Store, runs: Runs
) -> None:
    store.save_run(runs.oct, plan_year_start=YEAR)
    nov_start = dt.date(2026, 11, 1)
    assert store.paid_to_date(nov_start, YEAR).empty  # drafts pay nothing
    store.close_period("2026-10")
    paid = store.paid_to_date(nov_start, YEAR)

    lines = runs.oct.to_frame()
    lines = lines[lines["kind"].isin(["commission", "bonus", "draw", "override"])]
    expected = {
        (e, c): sum(group, Decimal(0))
        for (e, c), group in lines.groupby(["employee_id", "component"])["amount"]
    }
    assert list(paid.columns) == ["employee_id", "component", "amount"]
    assert all(isinstance(a, str) for a in paid["amount"])
    got = {(e, c): Decimal(a) for e, c, a in paid.itertuples(index=False)}
    assert got == expected
    assert sum(got.values()) > 0
    assert store.paid_to_date(dt.date(2026, 10, 1), YEAR).empty  # nothing before October
    assert store.paid_to_date(nov_start, dt.date(2026, 11, 1)).empty  # another plan year

    replay_free = compcalc.run_period(runs.rules, ROSTER, [OCT, NOV], "2026-11", paid_to_date=paid)
    assert replay_free.to_json() == runs.nov.to_json()


# --------------------------------------------------------------------------------------------
# Migrations


def version_of(url: str) -> int:
    engine = raw_engine(url)
    with engine.connect() as conn:
        found = migrations.current_version(conn)
    engine.dispose()
    return found


def test_an_empty_database_is_brought_to_the_latest_version(url: str) -> None:
    assert version_of(url) == 0
    Store.open(url).close()
    assert version_of(url) == latest_version()
    Store.open(url).close()  # opening again is a no-op
    assert version_of(url) == latest_version()


def test_an_older_store_is_upgraded_keeping_its_data(url: str, runs: Runs) -> None:
    engine = raw_engine(url)
    with engine.begin() as conn:
        assert migrations.upgrade(conn, target=1) == 1
        conn.execute(
            schema.periods.insert().values(
                period="2026-09",
                period_start=dt.date(2026, 9, 1),
                period_end=dt.date(2026, 9, 30),
                plan_year_start=dt.date(2025, 10, 1),
                status="open",
            )
        )
    with engine.connect() as conn:
        assert "ix_lines_pay_code" not in {i["name"] for i in inspect(conn).get_indexes("lines")}
    engine.dispose()
    with Store.open(url) as store:
        assert version_of(url) == latest_version()
        with store.engine.connect() as conn:
            indexes = {i["name"] for i in inspect(conn).get_indexes("lines")}
            kept = conn.execute(sql_select(func.count()).select_from(schema.periods))
            assert kept.scalar_one() == 1
        assert "ix_lines_pay_code" in indexes
        store.save_run(runs.oct, plan_year_start=YEAR)


def test_a_newer_store_is_refused(url: str) -> None:
    Store.open(url).close()
    engine = raw_engine(url)
    with engine.begin() as conn:
        conn.execute(schema.schema_version.update().values(version=latest_version() + 1))
    engine.dispose()
    with pytest.raises(StoreError, match=f"schema version {latest_version() + 1}, newer"):
        Store.open(url)


def test_a_failing_upgrade_leaves_the_store_as_it_was(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(conn: object) -> None:
        raise RuntimeError("step failed")

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    with pytest.raises(RuntimeError, match="step failed"):
        Store.open(url)
    assert version_of(url) == 0  # the tables of the earlier steps were rolled back too


# --------------------------------------------------------------------------------------------
# kill -9 in the middle of a save

CHILD = """
import pickle, sys
import datetime as dt
from compcalc.store import Store
with open(sys.argv[2], "rb") as handle:
    result = pickle.load(handle)
with Store.open(sys.argv[1]) as store:
    saved = store.save_run(result, plan_year_start=dt.date(2026, 10, 1))
print("saved", saved.run_id, flush=True)
"""


def run_child(url: str, result_file: Path, pause: bool) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = "1"
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(result_file)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_line(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the child printed nothing in time"
    return process.stdout.readline().strip()


def test_a_save_killed_mid_transaction_leaves_no_trace(
    store: Store, url: str, runs: Runs, tmp_path: Path
) -> None:
    before = store.save_run(runs.oct, plan_year_start=YEAR)
    store.close_period("2026-10")
    result_file = tmp_path / "nov.pickle"
    result_file.write_bytes(pickle.dumps(runs.nov))

    child = run_child(url, result_file, pause=True)
    try:
        assert wait_for_line(child) == PAUSE_MARKER
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    with Store.open(url) as after:
        assert [r.run_id for r in after.runs()] == [before.run_id]
        assert count(after, "periods") == 1
        assert count(after, "lines") == sum(len(s.lines) for s in runs.oct.statements)

    child = run_child(url, result_file, pause=False)
    line = wait_for_line(child)
    child.wait(timeout=30)
    assert child.stdout is not None
    child.stdout.close()
    assert child.returncode == 0, line
    with Store.open(url) as after:
        saved = after.runs()[-1]
        assert line == f"saved {saved.run_id}"
        assert saved.period == "2026-11" and saved.status == "draft"
        assert after.get_run(saved.run_id) == json.loads(runs.nov.to_json())
