"""The Dask engine on a real ``dask.distributed`` LocalCluster (two worker processes).

Whatever way the rows are spread over the workers, the result must be the single-machine
run's, byte for byte: the canonical JSON (statements, lines, transactions cited, rejected rows
with their reasons, digests, run totals) is compared whole. The inputs cover what crosses
employees or files: team overrides (a manager's override rolls up the reports' credit, which
may sit on the other worker), a sale split between employees, rows rejected while reading and
while checking (whose reasons name the file), an employee's rows spread over several files,
employees with no ledger row at all, and what earlier periods paid; and a generated ledger
larger than either worker's memory limit.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dask.distributed")

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import compcalc
from cli_run import cli
from compcalc.engine.dask_run import _buckets, default_parts, expand_paths, local_client
from compcalc.inputs.ledger import files_digest
from compcalc.statements.model import PeriodResult
from generated import generated_tables

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "rules" / "account_managers.yaml"
ROSTER = REPO / "examples" / "roster.csv"
MONTHS = [REPO / "examples" / "ledger" / f"2026-{m}.csv" for m in ("10", "11", "12")]

# Rows that cross employees and files; E001 manages E002-E007 (national override), E017
# manages E018-E026 (key account override).
EXTRA = """transaction_id,employee_id,date,event,amount,currency,share
X1,E002,2026-11-03,sale,10000.00,USD,60
X1,E018,2026-11-03,sale,10000.00,USD,40
X2,E999,2026-11-04,sale,500.00,USD,
X3,E002,2026-11-05,sale,12.345,USD,
X4,E003,2026-11-06,dispute_opened,,USD,
X5,E004,2026-11-07,sale,2000.00,USD,
X5,E004,2026-11-08,sale,2500.00,USD,
X6,E019,2026-11-09,sale,3000.00,USD,
X6,E020,2026-11-20,refund,100.00,USD,
X7,E003,2026-12-02,sale,4100.00,USD,
X7,E003,2026-12-09,dispute_opened,,USD,
X8,E020,2026-10-30,sale,8800.00,USD,
X8,E020,2026-12-03,refund,800.00,USD,
"""


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with local_client(workers=2, memory_limit="1GiB") as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def rules() -> compcalc.RuleSet:
    return compcalc.load_rules(RULES)


@pytest.fixture(scope="module")
def margin_rules() -> compcalc.RuleSet:
    """The flagship with every commission and override paid on margin (the ledger's margin
    column is then read and digested, as it is not for the flagship itself)."""
    rules = compcalc.load_rules_text(RULES.read_text().replace("basis: amount", "basis: margin"))
    assert rules.uses_margin and not compcalc.load_rules(RULES).uses_margin
    return rules


@pytest.fixture(scope="module")
def ledger_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    extra = tmp_path_factory.mktemp("ledger") / "extra.csv"
    extra.write_text(EXTRA)
    return [*(str(p) for p in MONTHS), str(extra)]


def _pandas(rules: Any, files: list[str], period: str, **kw: Any) -> PeriodResult:
    ledger = compcalc.read_ledger(files, rules=rules)
    return compcalc.run_period(rules, ROSTER, ledger, period, **kw)


def _dask(rules: Any, files: Any, period: str, client: Any, **kw: Any) -> PeriodResult:
    return compcalc.run_period(rules, ROSTER, files, period, engine="dask", client=client, **kw)


@pytest.mark.parametrize("period", ["2026-10", "2026-11", "2026-12"])
def test_same_bytes_as_one_machine(rules: Any, ledger_files: list[str], client: Any, period: str):
    # With 8 parts the two sharers of X1 fall in different buckets: each bucket gets the
    # whole split sale (its shares are allocated over all of it).
    assert len(set(_buckets(pd.Series(["E002", "E018"]), 8).tolist())) == 2
    expected = _pandas(rules, ledger_files, period)
    for partitions in (1, 3, 8):
        got = _dask(rules, ledger_files, period, client, partitions=partitions)
        assert got.to_json() == expected.to_json(), f"{period}, {partitions} partitions"


def test_same_bytes_with_rules_on_margin(
    margin_rules: compcalc.RuleSet, ledger_files: list[str], client: Any
):
    """Rules that pay on margin have the margin read (and digested) on the workers too; the
    flagship, which pays on none, has it left unread on both engines (the tests above)."""
    on_margin = margin_rules
    expected = _pandas(on_margin, ledger_files, "2026-12")
    assert expected.ledger_sha256 == compcalc.read_ledger(ledger_files).sha256
    flagship = _pandas(compcalc.load_rules(RULES), ledger_files, "2026-12")
    assert flagship.ledger_sha256 != expected.ledger_sha256
    got = _dask(on_margin, ledger_files, "2026-12", client, partitions=3)
    assert got.to_json() == expected.to_json()


def test_the_inputs_reach_across_employees_and_files(rules: Any, ledger_files: list[str]):
    """The comparison above is only worth something if these cases are really in it."""
    result = _pandas(rules, ledger_files, "2026-12")
    # Rejected while reading (E999's row is fine on its own: rejected by the check; X3 has
    # too many decimals) and while checking across rows (no sale, conflicting sales, an
    # event under another employee than the sale's), each naming its file and line.
    extra = sorted(r.line or 0 for r in result.rejected if Path(r.source).name == "extra.csv")
    assert extra == [4, 5, 6, 7, 8, 10]
    assert {Path(r.source).name for r in result.rejected} == {"extra.csv", "2026-12.csv"}
    lines = {(s.employee_id, line.id): line for s in result.statements for line in s.lines}
    # X1 is split 60/40 between E002 (E001's team) and E018 (E017's team): each share counts
    # in its own manager's override.
    assert "X1" in lines[("E001", "team_override.member.E002")].transactions
    assert "X1" in lines[("E017", "team_override.member.E018")].transactions
    assert "X1" not in lines[("E001", "team_override.member.E003")].transactions
    # A sale disputed this period is held; a late refund of a sale paid earlier claws back.
    held = {(s.employee_id, note.transaction_id) for s in result.statements for note in s.held}
    assert ("E003", "X7") in held
    assert lines[("E020", "commission.clawback")].transactions == ("X8",)


def test_same_bytes_with_paid_to_date(rules: Any, ledger_files: list[str], client: Any):
    """What closed periods paid (as the store gives it) is shared with every worker."""
    october = _pandas(rules, ledger_files, "2026-10")
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for statement in october.statements:
        for line in statement.lines:
            if line.kind in ("commission", "bonus", "draw", "override"):
                paid[(statement.employee_id, line.component)] += line.amount
    expected = _pandas(rules, ledger_files, "2026-11", paid_to_date=dict(paid))
    got = _dask(rules, ledger_files, "2026-11", client, paid_to_date=dict(paid), partitions=4)
    assert got.to_json() == expected.to_json()


def test_patterns_name_the_files_in_sorted_order(rules: Any):
    pattern = str(REPO / "examples" / "ledger" / "2026-1*.csv")
    assert expand_paths(pattern) == [str(p) for p in MONTHS]
    by_pattern = compcalc.read_ledger(pattern)
    by_list = compcalc.read_ledger([str(p) for p in MONTHS])
    assert by_pattern.sha256 == by_list.sha256
    assert by_pattern.frame.equals(by_list.frame)


def test_a_dataframe_is_refused_with_the_reason(rules: Any, client: Any):
    frame = compcalc.read_ledger(str(MONTHS[0])).frame
    with pytest.raises(compcalc.errors.InputError, match="not a pandas DataFrame"):
        compcalc.run_period(rules, ROSTER, frame, "2026-10", engine="dask", client=client)


def _text_parts(files: list[str], cuts: list[int]) -> list[pd.DataFrame]:
    """The files' rows as one text table, cut at ``cuts`` into pandas DataFrames."""
    whole = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    whole = whole.fillna("").reset_index(drop=True)
    bounds = [0, *cuts, len(whole)]
    return [whole.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


def _in_the_client(*_: Any, **__: Any) -> Any:
    raise AssertionError("the ledger was read or checked in the client, not on the workers")


def _only_on_the_workers(patch: pytest.MonkeyPatch) -> None:
    """Reading, checking or computing the ledger in this process (the client) fails: what a
    run on Dask does on the workers (separate processes, which these patches do not reach)."""
    import dask
    import dask.base

    for module in (compcalc.api, compcalc.engine.dask_run):
        patch.setattr(module, "frame_partitions", _in_the_client)
    patch.setattr(compcalc.api, "_read_ledger", _in_the_client)
    patch.setattr(compcalc.engine.run, "check_ledger", _in_the_client)
    for module in (dask, dask.base):  # dask.compute(...), collection.compute()
        patch.setattr(module, "compute", _in_the_client)


def test_a_dask_dataframe_is_read_partition_by_partition(
    rules: Any, ledger_files: list[str], client: Any, monkeypatch: pytest.MonkeyPatch
):
    """``run_period(..., ledger=<Dask DataFrame>)``: each partition is read as one file named
    ``<ledger>[k]``, on either engine, and the result is the one-machine run's over the list
    of the same partitions as pandas DataFrames, byte for byte."""
    import dask.dataframe as dd

    # Cut inside the months and inside the extra rows (X5's two sales, an employee's rows
    # and the split sale X1 land in different partitions)
    frames = _text_parts(ledger_files, [150, 330, 499, 504])
    assert [f["transaction_id"].iloc[0] for f in frames[3:]] == ["X1", "X5"]
    assert min(len(f) for f in frames) > 0
    ledger = dd.concat([dd.from_pandas(f, npartitions=1) for f in frames])
    assert ledger.npartitions == len(frames)
    for period in ("2026-11", "2026-12"):
        expected = compcalc.run_period(rules, ROSTER, frames, period)
        text = expected.to_json()
        in_memory = compcalc.run_period(rules, ROSTER, ledger, period, engine="pandas")
        assert in_memory.to_json() == text
        with monkeypatch.context() as patch:  # Dask's engine reads the partitions where they are
            _only_on_the_workers(patch)
            for partitions in (None, 1, 5):
                got = _dask(rules, ledger, period, client, partitions=partitions)
                assert got.to_json() == text, f"{period}, {partitions} partitions"
            # A Dask DataFrame without an engine named runs on Dask (the current client's)
            assert compcalc.run_period(rules, ROSTER, ledger, period).to_json() == text
    # Each partition is named by its place and its rows numbered from 1, as a file's are;
    # the ledger's digest is that of its partitions' digests (as several files' is).
    digests = [compcalc.read_ledger(f, rules=rules).sha256 for f in frames]
    assert expected.ledger_sha256 == files_digest(digests)
    assert len(set(digests)) == len(frames)
    where = {(r.source, r.row) for r in expected.rejected if r.column == "amount"}
    extra_row = next(i for i, t in enumerate(frames[3]["transaction_id"]) if t == "X3")
    assert ("<ledger>[3]", extra_row + 1) in where
    one = compcalc.run_period(rules, ROSTER, dd.from_pandas(frames[3], npartitions=1), "2026-11")
    assert one.ledger_sha256 == digests[3]
    assert {r.source for r in one.rejected if r.source.startswith("<")} == {"<ledger>[0]"}


def test_a_listed_file_has_its_own_digest_on_both_engines(
    rules: Any, ledger_files: list[str], client: Any
):
    """One file is one ledger, listed or not: the same digest and bytes on either engine."""
    alone = compcalc.read_ledger(ledger_files[0], rules=rules)
    assert compcalc.read_ledger(ledger_files[:1], rules=rules).sha256 == alone.sha256
    pandas_run = compcalc.run_period(rules, ROSTER, ledger_files[:1], "2026-10")
    assert pandas_run.ledger_sha256 == alone.sha256
    dask_run = _dask(rules, ledger_files[:1], "2026-10", client, partitions=2)
    assert dask_run.to_json() == pandas_run.to_json()


@pytest.mark.parametrize("engine", ["pandas", "dask"])
def test_what_is_not_a_ledger_is_refused_with_what_to_give(
    rules: Any, ledger_files: list[str], client: Any, engine: str
):
    import dask.dataframe as dd

    frame = _text_parts(ledger_files[:1], [])[0]
    ledger = dd.from_pandas(frame, npartitions=2)
    read = compcalc.read_ledger(frame)
    refused: list[tuple[str, Any]] = [("a Dask Series is not a ledger", ledger["amount"])]
    if engine == "dask":  # files or a Dask DataFrame, nothing else
        message = "or a Dask DataFrame on its own, not a pandas DataFrame or a ledger already"
        for given in ([ledger_files[0], frame], [ledger], [read, ledger_files[0]], read, frame):
            refused.append((message, given))
    else:
        refused += [
            ("not a Dask DataFrame: give a Dask DataFrame", [ledger]),
            ("not a Ledger: give a Dask DataFrame or a ledger already read on its own",
             [read, ledger_files[0]]),
            ("the same DataFrame is given twice", [frame, ledger_files[1], frame]),
        ]  # fmt: skip
    for message, given in refused:
        with pytest.raises(compcalc.errors.InputError, match=message):
            compcalc.run_period(rules, ROSTER, given, "2026-10", engine=engine, client=client)


def test_listed_sources_mix_frames_and_paths(rules: Any, ledger_files: list[str]):
    """Paths and DataFrames in one list (a pattern stands for its files), or a generator."""
    frame = _text_parts(ledger_files[-1:], [])[0]
    pattern = str(REPO / "examples" / "ledger" / "2026-1[12].csv")
    mixed = compcalc.read_ledger([frame, pattern])
    spelled = compcalc.read_ledger([frame, *(str(p) for p in MONTHS[1:])])
    assert mixed.sha256 == spelled.sha256
    pd.testing.assert_frame_equal(mixed.frame, spelled.frame)
    assert mixed.source == f"<ledger>[0] + {MONTHS[1]} + {MONTHS[2]}"
    generated = compcalc.read_ledger(str(p) for p in MONTHS)
    assert generated.sha256 == compcalc.read_ledger([str(p) for p in MONTHS]).sha256


def test_listed_dataframes_are_named_by_their_place(rules: Any, ledger_files: list[str]):
    frames = _text_parts(ledger_files[-1:], [6])  # X3 (three decimals) is row 4
    frames[1].loc[1, "amount"] = "12,5"
    ledger = compcalc.read_ledger(frames)
    rejected = sorted((r.source, r.row) for r in ledger.rejected)
    assert rejected == [("<ledger>[0]", 4), ("<ledger>[1]", 2)]
    assert ledger.source == "<ledger>[0] + <ledger>[1]"


def test_cli_engine_dask_prints_the_same_json(tmp_path: Path):
    common = [
        "run", "--rules", str(RULES), "--roster", str(ROSTER), "--period", "2026-12",
        "--format", "json",
    ]  # fmt: skip
    pattern = str(REPO / "examples" / "ledger" / "2026-1*.csv")
    one = cli([*common, "--ledger", pattern])
    assert one.code == 0, one.err
    with pytest.MonkeyPatch.context() as patch:
        _only_on_the_workers(patch)
        two = cli([*common, "--ledger", pattern, "--engine", "dask", "--workers", "2"])
    assert two.code == 0, two.err
    assert two.out == one.out
    assert "Traceback" not in two.err


def test_cli_engine_dask_reads_a_glob_of_parquet_files(tmp_path: Path):
    """`compcalc run --engine dask --ledger 'DIR/*.parquet'`, as the issue writes it: the
    same JSON as the default engine on the same files, a transaction's rows spread over files."""
    frames = [pd.read_csv(month, dtype=str, keep_default_na=False) for month in MONTHS]
    rows = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=7)
    for number, chunk in enumerate(np.array_split(np.arange(len(rows)), 3)):
        table = pa.Table.from_pandas(rows.iloc[chunk], preserve_index=False)
        pq.write_table(table, tmp_path / f"part-{number}.parquet")
    common = [
        "run", "--rules", str(RULES), "--roster", str(ROSTER), "--period", "2026-12",
        "--format", "json", "--ledger", str(tmp_path / "*.parquet"),
    ]  # fmt: skip
    one = cli(common)
    assert one.code == 0, one.err
    with pytest.MonkeyPatch.context() as patch:
        _only_on_the_workers(patch)
        two = cli([*common, "--engine", "dask", "--workers", "2"])
    assert two.code == 0, two.err
    assert two.out == one.out
    # every file read: the statements of the same rows from the example CSV files
    csv = cli([*common[:-1], str(REPO / "examples" / "ledger" / "2026-1*.csv")])
    assert csv.code == 0, csv.err
    for key in ("statements", "summary"):
        assert json.loads(one.out)[key] == json.loads(csv.out)[key]
    assert '"transactions": [' in one.out


def test_a_failed_run_names_the_first_bad_file_and_holds_nothing(
    rules: Any, client: Any, tmp_path: Path
):
    """Files read in parallel may fail in any order: the error is always the first file's
    (in the order the files are given), as on one machine, and the cluster keeps nothing of
    the run (workers sized tightly would otherwise carry it into the next run)."""
    first, second = tmp_path / "a-missing.csv", tmp_path / "b-missing.csv"
    files = [str(MONTHS[0]), str(first), str(MONTHS[1]), str(second)]
    with pytest.raises(compcalc.errors.InputError) as one_machine:
        compcalc.read_ledger(files)
    assert str(first) in str(one_machine.value)
    for _ in range(3):
        with pytest.raises(compcalc.errors.InputError) as raised:
            _dask(rules, files, "2026-10", client, partitions=6)
        assert str(raised.value) == str(one_machine.value)
    del raised
    gc.collect()
    held = -1
    for _ in range(50):  # the scheduler forgets released keys a moment later
        held = sum(client.run(lambda dask_worker: len(dask_worker.data)).values())
        if held == 0:
            break
        time.sleep(0.1)
    assert held == 0


def test_cli_a_file_a_worker_cannot_read_is_said_once(tmp_path: Path):
    """The worker's error reaches the user as the one-machine run says it: the file and the
    reason, no worker log or traceback before it. A real process, as the workers write to
    the terminal's stderr, not to this process's ``sys.stderr``."""
    missing = tmp_path / "missing.csv"
    run = subprocess.run(
        [
            sys.executable, "-m", "compcalc.cli", "run", "--rules", str(RULES),
            "--roster", str(ROSTER), "--period", "2026-10", "--ledger", str(MONTHS[0]),
            "--ledger", str(missing), "--engine", "dask", "--workers", "2",
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip() == f"{missing}: cannot read the file: No such file or directory"


def test_workers_keep_dask_environment_and_add_arrow_pool(client: Any):
    """compcalc's worker settings add to Dask's worker environment, never replace it: glibc's
    trim threshold (memory freed by a task goes back to the system) and one thread per numeric
    library must reach the workers along with Arrow's system allocator."""
    import os

    def environ() -> tuple[str | None, str | None, str | None]:
        keys = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "ARROW_DEFAULT_MEMORY_POOL")
        return tuple(os.environ.get(key) for key in keys)  # type: ignore[return-value]

    for found in client.run(environ).values():
        assert found == ("65536", "1", "system")


# A worker's memory limit, and a generated ledger larger than that as read_ledger holds it
# in memory (the file name a category, whatever the folder's name) and in Arrow: 6.5 million
# events of 5,000 employees in 260 Parquet files (about 497 MiB as read, 460 MiB in Arrow).
WORKER_LIMIT = 450 * 2**20
BIG_ROWS = 6_500_000
BIG_FILES = 260


def test_a_ledger_larger_than_a_worker_memory_limit(margin_rules: Any, tmp_path: Path):
    """Two worker processes of 450 MiB each run a ledger that takes more than 450 MiB in
    memory: no worker holds all of it (the rows wait on disk in the shuffles, each part's
    result leaves its worker when ready), no worker is restarted for memory (the nanny
    restarts one past 95 % of its limit), and the statements are the one-machine run's,
    byte for byte. The parts are sized by :func:`default_parts` from the workers' limit.
    The rules pay on margin, so every column of the ledger is read."""
    rules = margin_rules
    roster_table, ledger_table = generated_tables(5_000, BIG_ROWS)
    assert ledger_table.nbytes > WORKER_LIMIT  # in Arrow
    roster = tmp_path / "roster.parquet"
    pq.write_table(roster_table, roster)
    step = -(-BIG_ROWS // BIG_FILES)
    files = []
    for number in range(BIG_FILES):
        files.append(str(tmp_path / f"ledger-{number:03d}.parquet"))
        pq.write_table(ledger_table.slice(number * step, step), files[-1])
    del ledger_table

    ledger = compcalc.read_ledger(files, rules=rules)
    assert not ledger.without_margin
    assert ledger.frame["source"].dtype == "category"  # a file's name is not what weighs
    assert int(ledger.frame.memory_usage(deep=True).sum()) > WORKER_LIMIT  # as read
    expected = compcalc.run_period(rules, roster, ledger, "2027-09")
    assert len(expected.statements) == 5_000
    citing = [s for s in expected.statements if any(line.transactions for line in s.lines)]
    assert len(citing) > 5_000 // 2  # a month of sales, not salaries alone
    want = hashlib.sha256(expected.to_json_bytes()).hexdigest()
    del ledger, expected

    parts = default_parts(BIG_ROWS, BIG_FILES, 5_000, memory=WORKER_LIMIT)
    assert BIG_ROWS // parts < 25_000  # small parts: each fits a worker with room to spare
    with local_client(workers=2, memory_limit=f"{WORKER_LIMIT}B") as client:
        pids = client.run(os.getpid)
        got = compcalc.run_period(
            rules, roster, str(tmp_path / "ledger-*.parquet"), "2027-09",
            engine="dask", client=client,
        )  # fmt: skip
        assert client.run(os.getpid) == pids, "a worker was restarted"
    assert hashlib.sha256(got.to_json_bytes()).hexdigest() == want
