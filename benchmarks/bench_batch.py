"""One period of the flagship plan at scale: compcalc against a hand-written DuckDB query.

    python3 benchmarks/bench_batch.py --data benchmarks/data/1m --period 2027-09 \\
        --generate 1000000 50000

reads ``roster.parquet`` and ``ledger.parquet`` from ``--data`` (``--generate ROWS EMPLOYEES``
writes them with ``generate.py`` first when the folder has none), then runs, each in its own
child process so each side's peak RSS is its own:

* **compcalc**: ``read_roster`` and ``read_ledger`` (Parquet, every row checked; read for
  the rules, as ``compcalc run`` reads it: the flagship pays on no margin, so the file's
  ``margin`` column is left unread, as the SQL leaves it), then
  ``run_period`` of ``rules/account_managers.yaml`` without ``paid_to_date`` (earlier
  periods replayed): the statements with their line-level audit (formulas, transactions,
  held and excluded sales, to-date figures). Read and compute are timed apart; writing
  the result's canonical JSON (what ``compcalc run --out`` writes) is timed after them and
  reported on its own, outside wall.
* **DuckDB**: ``totals.sql``, one query from the same two Parquet files to each employee's
  total for the period, timed from ``execute`` to the last row fetched.

It reports wall times, ledger rows per second, peak RSS (``ru_maxrss``, read in the child)
against the ledger's in-memory Arrow size, and the time ratio compcalc / DuckDB; then checks
every employee's total is equal on both sides to the cent. If not, it prints the first
employees that differ, with both figures split by kind of pay, and exits with status 1.
``--repeat N`` runs each side N times (medians of the times, the highest RSS) and checks the
runs agree with each other. ``--process command`` runs compcalc's child as the ``compcalc``
command runs (``compcalc.cli.tune_batch_process``); the default measures the library call in a
process with Python's defaults.

The SQL covers the population ``generate.py`` makes (see ``totals.sql``): everyone employed
for the whole plan year, one currency, no split sales, no rejected rows. The inputs are
checked for that first, and the run stops (status 2) if they fall outside it.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RULES = HERE.parent / "rules" / "account_managers.yaml"
QUERY = HERE / "totals.sql"
KINDS = ("base", "allowances", "commission", "bonus", "draw", "override")
# compcalc's component kinds, in the order of KINDS.
LINE_KINDS = ("base_salary", "allowance", "commission", "bonus", "draw", "override")
MIB = 1024 * 1024
# The months the flagship rule set is in force for (effective 2026-10-01 to 2027-09-30).
PERIOD, FIRST, LAST = re.compile(r"\d{4}-(0[1-9]|1[0-2])"), "2026-10", "2027-09"


# ---------------------------------------------------------------------------------------------
# The two sides, each run in a child process: ``bench_batch.py --child SIDE ...``


def peak_rss() -> int:
    """This process's peak resident set so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_compcalc(data: Path, period: str) -> dict[str, Any]:
    """Read both files and run the period; totals and pay by kind per employee, in cents."""
    import compcalc

    baseline = peak_rss()
    rules = compcalc.load_rules(RULES)
    started = time.perf_counter()
    roster = compcalc.read_roster(data / "roster.parquet")
    ledger = compcalc.read_ledger(data / "ledger.parquet", rules=rules)
    read = time.perf_counter() - started
    started = time.perf_counter()
    result = compcalc.run_period(rules, roster, ledger, period)
    compute = time.perf_counter() - started
    rss = peak_rss()
    # What `compcalc run --out` writes: the canonical JSON (not part of wall, timed apart).
    started = time.perf_counter()
    json_bytes = len(result.to_json_bytes())
    json_s = time.perf_counter() - started
    employees: dict[str, list[int]] = {}
    for statement in result.statements:
        by_kind = dict.fromkeys(LINE_KINDS, 0)
        for line in statement.lines:
            by_kind[line.kind] += cents(line.amount)
        employees[statement.employee_id] = [
            *(by_kind[k] for k in LINE_KINDS),
            cents(statement.total),
        ]
    return {
        "read_s": read,
        "compute_s": compute,
        "wall_s": read + compute,
        "json_s": json_s,
        "json_bytes": json_bytes,
        "peak_rss": rss,
        "peak_rss_json": peak_rss(),
        "baseline_rss": baseline,
        "lines": sum(len(s.lines) for s in result.statements),
        "rejected": [f"{r.source} row {r.row}: {r.reason}" for r in result.rejected[:5]],
        "rejected_count": len(result.rejected),
        "employees": employees,
    }


def run_duckdb(data: Path, period: str, threads: int | None, query_file: Path) -> dict[str, Any]:
    """The hand-written query; totals and pay by kind per employee, in cents."""
    import duckdb

    baseline = peak_rss()
    connection = duckdb.connect()
    if threads is not None:
        connection.execute(f"SET threads = {int(threads)}")
    (used,) = connection.execute("SELECT current_setting('threads')").fetchall()[0]
    query = query_file.read_text(encoding="utf-8")
    parameters = {
        "roster": str(data / "roster.parquet"),
        "ledger": str(data / "ledger.parquet"),
        "period": period,
    }
    started = time.perf_counter()
    rows = connection.execute(query, parameters).fetchall()
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "peak_rss": peak_rss(),
        "baseline_rss": baseline,
        "threads": int(used),
        "employees": {str(row[0]): [int(v) for v in row[1:]] for row in rows},
    }


def cents(amount: Any) -> int:
    """A Decimal amount with at most two places, as integer cents (exact).

    >>> from decimal import Decimal
    >>> cents(Decimal("-1234.50"))
    -123450
    """
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than two decimal places")
    return int(scaled)


def child(args: argparse.Namespace) -> None:
    if args.child == "inspect":
        report = inspect_inputs(args.data, args.period)
    elif args.child == "compcalc":
        if args.process == "command":  # what the compcalc command does before it runs
            from compcalc.cli import tune_batch_process

            tune_batch_process()
        report = run_compcalc(args.data, args.period)
    else:
        report = run_duckdb(args.data, args.period, args.duckdb_threads, args.sql)
    Path(args.out).write_text(json.dumps(report), encoding="utf-8")


def spawn(side: str, args: argparse.Namespace, folder: Path, attempt: int) -> dict[str, Any]:
    """Run one side in a fresh interpreter and read back what it measured.

    Linux carries the parent's peak RSS into a child's ``ru_maxrss`` across ``exec``, so this
    parent imports nothing heavy: a child's figure is its own.
    """
    out = folder / f"{side}-{attempt}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        side,
        "--data",
        str(args.data),
        "--period",
        args.period,
        "--out",
        str(out),
    ]
    if args.duckdb_threads is not None:
        command += ["--duckdb-threads", str(args.duckdb_threads)]
    command += ["--sql", str(args.sql), "--process", args.process]
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        sys.exit(f"bench: the {side} run failed (exit status {done.returncode})")
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


# ---------------------------------------------------------------------------------------------
# Inputs: generate if asked, size them, and check they are what the SQL covers


def generate_if_missing(args: argparse.Namespace) -> None:
    data: Path = args.data
    if (data / "roster.parquet").exists() and (data / "ledger.parquet").exists():
        return
    if args.generate is None:
        sys.exit(
            f"bench: {data} has no roster.parquet and ledger.parquet; "
            "give --generate ROWS EMPLOYEES to make them"
        )
    rows, employees = args.generate
    command = [sys.executable, str(HERE / "generate.py"), "--rows", str(rows)]
    subprocess.run([*command, "--employees", str(employees), "--out", str(data)], check=True)


def inspect_inputs(data: Path, period: str) -> dict[str, Any]:
    """Sizes of the inputs, the ledger's in-memory Arrow size, and what is out of scope."""
    import pyarrow.parquet as pq

    roster = pq.read_table(data / "roster.parquet")
    ledger = pq.read_table(data / "ledger.parquet")
    return {
        "ledger_rows": ledger.num_rows,
        "employees": roster.num_rows,
        "arrow_bytes": ledger.nbytes,
        "problems": out_of_scope(roster, ledger, period),
    }


def out_of_scope(roster: Any, ledger: Any, period: str) -> list[str]:
    """What in the inputs the SQL does not reproduce (empty: comparable)."""
    from compcalc.periods import parse_period, plan_year_end, plan_year_start

    end = parse_period(period).end
    start, last = plan_year_start(end, 10), plan_year_end(end, 10)
    problems = []
    hired = [d for d in roster.column("hire_date").to_pylist() if d > start.isoformat()]
    if hired:
        problems.append(f"{len(hired)} employee(s) hired after {start} (proration)")
    left = [d for d in roster.column("termination_date").to_pylist() if d and d < last.isoformat()]
    if left:
        problems.append(f"{len(left)} employee(s) leaving before {last} (proration)")
    for name, table in (("roster", roster), ("ledger", ledger)):
        currencies = set(table.column("currency").unique().to_pylist())
        if currencies != {"USD"}:
            problems.append(f"{name} currencies {sorted(currencies)}, not only USD")
    if "share" in ledger.column_names:
        problems.append("the ledger has a share column (split sales)")
    return problems


# ---------------------------------------------------------------------------------------------
# Compare and report


def differences(ours: dict[str, list[int]], sql: dict[str, list[int]]) -> list[str]:
    """One line per employee whose total differs (or who is on one side only)."""
    out = []
    for employee in sorted(set(ours) | set(sql)):
        a, b = ours.get(employee), sql.get(employee)
        if a is not None and b is not None and a[-1] == b[-1]:
            continue
        out.append(f"{employee}: compcalc {split(a)}; DuckDB {split(b)}")
    return out


def split(figures: list[int] | None) -> str:
    if figures is None:
        return "no statement"
    parts = ", ".join(f"{kind} {money(v)}" for kind, v in zip(KINDS, figures[:-1], strict=True))
    return f"total {money(figures[-1])} ({parts})"


def money(value: int) -> str:
    """Cents as ``1,234.56`` for messages.

    >>> money(-123456), money(5)
    ('-1,234.56', '0.05')
    """
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{part:02d}"


def median(runs: Sequence[dict[str, Any]], key: str) -> float:
    return statistics.median(float(run[key]) for run in runs)


def report(
    args: argparse.Namespace,
    inputs: dict[str, Any],
    ours: list[dict[str, Any]],
    sql: list[dict[str, Any]],
) -> None:
    rows = inputs["ledger_rows"]
    arrow = inputs["arrow_bytes"]
    ours_wall, sql_wall = median(ours, "wall_s"), median(sql, "wall_s")
    ours_rss = max(run["peak_rss"] for run in ours)
    sql_rss = max(run["peak_rss"] for run in sql)
    print(
        f"bench_batch: {args.data}, period {args.period}, {len(ours)} run(s) per side "
        f"(medians of times, highest peak RSS)"
    )
    print(
        f"  ledger {rows:,} rows, in-memory Arrow size {arrow / MIB:,.1f} MiB; "
        f"roster {inputs['employees']:,} employees"
    )
    print(
        f"  DuckDB threads: {sql[0]['threads']}; compcalc: one process "
        f"({ours[0]['lines']:,} statement lines; process settings: {args.process})"
    )
    table = [
        ("read (s)", f"{median(ours, 'read_s'):.2f}", "-"),
        ("compute (s)", f"{median(ours, 'compute_s'):.2f}", "-"),
        ("wall (s)", f"{ours_wall:.2f}", f"{sql_wall:.2f}"),
        ("ledger rows/s", f"{rows / ours_wall:,.0f}", f"{rows / sql_wall:,.0f}"),
        ("peak RSS (MiB)", f"{ours_rss / MIB:,.0f}", f"{sql_rss / MIB:,.0f}"),
        (
            "  after imports (MiB)",
            f"{ours[0]['baseline_rss'] / MIB:,.0f}",
            f"{sql[0]['baseline_rss'] / MIB:,.0f}",
        ),
        ("peak RSS / Arrow size", f"{ours_rss / arrow:.1f}x", f"{sql_rss / arrow:.1f}x"),
        ("canonical JSON (s)", f"{median(ours, 'json_s'):.2f}", "-"),
        ("  its size (MiB)", f"{ours[0]['json_bytes'] / MIB:,.0f}", "-"),
        ("  peak RSS with it (MiB)", f"{max(r['peak_rss_json'] for r in ours) / MIB:,.0f}", "-"),
    ]
    print(f"  {'':24}{'compcalc':>12}{'DuckDB':>12}")
    for name, a, b in table:
        print(f"  {name:24}{a:>12}{b:>12}")
    if len(ours) > 1:
        each = "; ".join(
            f"{name} " + ", ".join(f"{run['wall_s']:.2f}" for run in runs)
            for name, runs in (("compcalc", ours), ("DuckDB", sql))
        )
        print(f"  wall of each run (s): {each}")
    print(f"  time ratio compcalc / DuckDB: {ours_wall / sql_wall:.2f}x")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of the two Parquet files")
    parser.add_argument("--period", required=True, help="the month to pay, YYYY-MM")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side (default 1)")
    parser.add_argument(
        "--generate",
        type=int,
        nargs=2,
        metavar=("ROWS", "EMPLOYEES"),
        help="write the inputs with generate.py first if --data has none",
    )
    parser.add_argument(
        "--duckdb-threads",
        type=int,
        default=None,
        help="DuckDB's threads (default: its own, one per core)",
    )
    parser.add_argument(
        "--sql", type=Path, default=QUERY, help="the query to compare with (default: totals.sql)"
    )
    parser.add_argument(
        "--process",
        choices=("library", "command"),
        default="library",
        help="compcalc's process as a program calling the library has it (default: Python's "
        "defaults), or as the compcalc command tunes it "
        "(compcalc.cli.tune_batch_process: the garbage collector)",
    )
    parser.add_argument(
        "--child", choices=("inspect", "compcalc", "duckdb"), help=argparse.SUPPRESS
    )
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not PERIOD.fullmatch(args.period) or not FIRST <= args.period <= LAST:
        parser.error(f"--period {args.period!r}: a month of the plan year, {FIRST} to {LAST}")
    generate_if_missing(args)
    with tempfile.TemporaryDirectory(prefix="bench_batch-") as folder:
        inputs = spawn("inspect", args, Path(folder), 0)
        if inputs["problems"]:
            print("bench: the inputs are outside what totals.sql covers:", file=sys.stderr)
            for problem in inputs["problems"]:
                print(f"  - {problem}", file=sys.stderr)
            sys.exit(2)
        ours, sql = [], []
        for attempt in range(args.repeat):  # one heavy process at a time
            ours.append(spawn("compcalc", args, Path(folder), attempt))
            sql.append(spawn("duckdb", args, Path(folder), attempt))
    if ours[0]["rejected_count"]:
        print(
            f"bench: compcalc rejected {ours[0]['rejected_count']} input row(s), which "
            "totals.sql does not model, e.g.:",
            *ours[0]["rejected"],
            sep="\n  ",
        )
        sys.exit(2)
    report(args, inputs, ours, sql)
    for side, runs in (("compcalc", ours), ("DuckDB", sql)):
        if any(run["employees"] != runs[0]["employees"] for run in runs[1:]):
            sys.exit(f"bench: repeated {side} runs gave different totals")
    wrong = differences(ours[0]["employees"], sql[0]["employees"])
    if wrong:
        print(f"MISMATCH: {len(wrong)} employee(s) differ; the first ones:")
        for text in wrong[:10]:
            print(f"  {text}")
        sys.exit(1)
    total = sum(figures[-1] for figures in ours[0]["employees"].values())
    print(
        f"  totals equal to the cent for all {len(ours[0]['employees']):,} employees "
        f"(sum {money(total)})"
    )


if __name__ == "__main__":
    main()
