"""The ``compcalc`` command: parse arguments, call the public API, print. No business logic.

Exit codes: 0 the command did its job (a run with rejected rows still completed; they are
reported), 1 the inputs or rules have problems (shown as ``file:line:col: message``, never a
traceback), 2 the command line itself is wrong. A traceback means a bug in compcalc.

    compcalc validate rules/account_managers.yaml
    compcalc run --rules R --roster roster.csv --ledger sales.csv --period 2024-03 --out out/
    compcalc explain --rules R --roster roster.csv --ledger sales.csv --period 2024-03 --employee E1
    compcalc run ... --period 2024-03 --store [URL]    also save the run as a draft in the store
    compcalc close --period 2024-03 [--store URL]      its latest draft becomes the paid run
    compcalc export --period 2024-03 --format payroll-csv [--store URL] [--out FILE]
    compcalc diff RUN_A RUN_B [--store URL] [--format text|json|csv]
    compcalc diff --rules OLD --rules-new NEW --roster R --ledger L --period 2024-03

``diff`` exits 0 whether or not the runs differ (the output says); a run id that matches no
saved run or more than one is a one-line message and exit code 1, like an unknown employee.
On a terminal, ``run``, ``explain`` and ``diff`` show a progress bar on stderr; piped, never.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from compcalc import __version__
from compcalc.errors import CompcalcError, Diagnostic

if TYPE_CHECKING:
    import datetime as dt
    from decimal import Decimal

    import pandas as pd

    from compcalc.inputs import Ledger, Roster
    from compcalc.offers.model import Distribution
    from compcalc.periods import Period
    from compcalc.rules import RuleSet
    from compcalc.statements.model import PeriodResult, PriorRun
    from compcalc.store import Store

PROG = "compcalc"
SHORT_DIGEST = 12
KNOWN_IDS_SHOWN = 8
DEFAULT_STORE = "sqlite:///compcalc.db"  # the same as compcalc.store.store.DEFAULT_URL

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    >>> main(["--version"])  # doctest: +SKIP
    compcalc 0.1.0
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # usage errors (2), --help and --version (0)
        return _exit_code(stop.code)
    command: Command = args.command
    try:
        return command(args)
    except CompcalcError as error:
        _print_diagnostics(error.diagnostics)
        return 1
    except BrokenPipeError:  # `compcalc run ... | head`: the reader left; not an error to show
        _silence_stdout()
        return 1
    except OSError as error:
        _error(_os_message(error))
        return 1
    except KeyboardInterrupt:
        return 130


def console_main() -> int:
    """The installed ``compcalc`` command: :func:`main` in a process of its own, tuned for a
    batch run by :func:`tune_batch_process`."""
    tune_batch_process()
    return main()


def tune_batch_process() -> None:
    """Settings for a process that does one batch run and exits (the ``compcalc`` command).

    The cyclic garbage collector: a run builds hundreds of thousands of small objects
    (statement lines and their details) that live until the end, and the default thresholds
    rescan them again and again (about a sixth of the CPU time of a 1M-row run). The library
    pauses it only while it builds and writes statements (:mod:`compcalc.resources`); here
    the imported modules are frozen out of its scans and it is tuned for the whole process,
    reading and checking included.

    The allocator is left as it is: keeping freed memory for reuse (glibc's ``mallopt``, no
    mapped blocks, no trimming) saved about 1.2 s of a 10M-row run's 28 s and cost 520 MiB at
    its peak, over the target of three times the ledger's Arrow size (benchmarks/README.md).

    Process-wide and lasting, so the library never does this by itself (:func:`main` is
    called in-process by tests and other programs, which keep theirs); a program of its own
    that runs one batch may call it first.
    """
    gc.freeze()  # the imported modules: never garbage, never scanned again
    gc.set_threshold(100_000, 50, 1000)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command (exposed for tests and shell completion)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Deterministic, auditable sales commission calculations."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    validate = commands.add_parser("validate", help="check rule files and report every problem")
    validate.add_argument("rules", nargs="+", type=Path, metavar="RULES", help="rule file(s)")
    validate.set_defaults(command=_validate)

    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument("--rules", required=True, type=Path, help="rule file")
    inputs.add_argument("--roster", required=True, type=Path, help="roster (CSV or Parquet)")
    inputs.add_argument(
        "--ledger",
        required=True,
        type=Path,
        action="append",
        help="sales ledger; repeat to concatenate several files; a quoted pattern such as "
        "'ledger/*.parquet' stands for the files it matches",
    )
    inputs.add_argument("--period", required=True, help="pay period, e.g. 2024-03")
    inputs.add_argument(
        "--fx",
        type=Path,
        metavar="FILE",
        help="dated FX rates (CSV: date,from,to,rate) to convert sales in other currencies",
    )

    inputs.add_argument(
        "--engine",
        choices=("pandas", "dask"),
        default="pandas",
        help="pandas: one process (default); dask: read, check and evaluate the ledger files "
        "on Dask workers (same result to the byte; needs the dask extra)",
    )
    inputs.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default: a local cluster, one worker per core)",
    )
    inputs.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --engine dask: local workers (default: one per core)",
    )
    inputs.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="with --engine dask: memory per local worker, e.g. 2GiB (default: RAM / workers)",
    )

    run = commands.add_parser("run", parents=[inputs], help="compute a period's statements")
    run.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text summary (default) or the canonical JSON result",
    )
    run.add_argument("--out", type=Path, metavar="DIR", help="also write DIR/result.json")
    _store_option(run, default=None, action="also save the run as a draft in the store")
    run.set_defaults(command=_run)

    close = commands.add_parser("close", help="close a period: its latest draft run is paid")
    close.add_argument("--period", required=True, help="pay period, e.g. 2024-03")
    _store_option(close, default=DEFAULT_STORE, action="the store")
    close.set_defaults(command=_close)

    runs = commands.add_parser("runs", help="list the store's runs: id, period, status, total")
    _store_option(runs, default=DEFAULT_STORE, action="the store")
    runs.set_defaults(command=_runs)

    export = commands.add_parser("export", help="payroll export of a closed period's run")
    export.add_argument("--period", required=True, help="pay period, e.g. 2024-03")
    export.add_argument(
        "--format", required=True, choices=("payroll-csv", "json"), help="export format"
    )
    _store_option(export, default=DEFAULT_STORE, action="the store")
    export.add_argument(
        "--out", type=Path, metavar="FILE", help="write FILE atomically instead of stdout"
    )
    export.set_defaults(command=_export)

    explain = commands.add_parser(
        "explain", parents=[inputs], help="show one employee's statement line by line"
    )
    explain.add_argument("--employee", required=True, help="employee id")
    explain.set_defaults(command=_explain)
    _add_diff_parser(commands)
    _add_offer_parsers(commands)
    from .commands import check, plandoc, plantest, statements

    for family in (statements, plandoc, plantest, check):
        family.register(commands)
    return parser


def _store_option(parser: argparse.ArgumentParser, *, default: str | None, action: str) -> None:
    parser.add_argument(
        "--store",
        nargs="?",
        const=DEFAULT_STORE,
        default=default,
        metavar="URL",
        help=f"{action}: a SQLAlchemy URL (default {DEFAULT_STORE})",
    )


# --------------------------------------------------------------------------- commands


def _validate(args: argparse.Namespace) -> int:
    from . import api

    failed = 0
    for path in args.rules:
        try:
            rules = api.load_rules(path)
        except CompcalcError as error:
            _print_diagnostics(error.diagnostics)
            failed += 1
            continue
        except OSError as error:
            _error(_os_message(error))
            failed += 1
            continue
        print(f"ok  {path}  ({_describe_rules(rules)})")
    if failed:
        _error(f"{failed} of {len(args.rules)} rule file(s) have problems")
    return 1 if failed else 0


def _run(args: argparse.Namespace) -> int:
    from compcalc.statements.text import render_brief, render_summary

    if args.store is None:
        result = _compute(args)
    else:
        with _open_store(args.store) as store:
            result = _compute_into(store, args)
    data = result.to_json_bytes() if args.format == "json" else None
    if args.out is not None:
        _write_json(args.out / "result.json", result, data)
    sys.stdout.write(data.decode() if data is not None else render_summary(result))
    sys.stdout.flush()
    if args.out is not None:
        print(f"wrote {args.out / 'result.json'}", file=sys.stderr)
    if args.format == "json" and _interactive(sys.stderr):
        # stdout stays pure JSON (whose "summary" has the figures); a person sees them here.
        sys.stderr.write(render_brief(result))
    return 0


def _write_json(path: Path, result: PeriodResult, data: bytes | None) -> None:
    """The run's canonical JSON to ``path``: ``data`` when made already, else written a
    statement at a time (the whole never held: 600 MB at ten million ledger rows)."""
    import orjson

    from compcalc.resources import gc_paused
    from compcalc.statements.files import write_atomic

    if data is not None:
        write_atomic(path, data)
        return
    try:
        with gc_paused():
            write_atomic(path, result.json_pieces())
    except orjson.JSONEncodeError:  # text orjson refuses: the slow way, whole
        write_atomic(path, result.to_json_bytes())


def _compute_into(store: Store, args: argparse.Namespace) -> PeriodResult:
    """Run the period with what the store's closed periods paid, and save it as a draft."""
    from . import api
    from .periods import plan_year_start

    rules = api.load_rules(args.rules)
    period = _period(args.period)
    year_start = plan_year_start(period.start, rules.plan_year.start_month)
    still_open = store.open_periods_before(period.start, year_start)
    if still_open:
        raise CompcalcError(
            f"period {period.label} cannot run before earlier period(s) "
            f"{', '.join(still_open)} of the plan year are closed; close {still_open[0]} first"
        )
    paid = store.paid_to_date(period.start, year_start)
    history = store.prior_runs(period.start, year_start)
    result = _compute(
        args, rules=rules, period=period.label, paid_to_date=paid, history=history
    )
    saved = store.save_run(result, plan_year_start=year_start)
    print(
        f"saved draft run {saved.run_id[:SHORT_DIGEST]} for {saved.period} in {store.url}",
        file=sys.stderr,
    )
    return result


def _runs(args: argparse.Namespace) -> int:
    """One line per stored run, oldest first: what ``diff``, ``close`` and ``export`` act on."""
    from decimal import Decimal

    with _open_store(args.store) as store:
        saved = store.runs()
        totals = {
            run.run_id: sum(store.lines_frame(run.run_id)["amount"], Decimal(0)) for run in saved
        }
    if not saved:
        print(f"no runs in {args.store}")
        return 0
    header = ("run", "period", "status", "rules", "ledger", "currency", "total")
    rows = [
        (
            run.run_id[:SHORT_DIGEST],
            run.period,
            run.status,
            f"{run.ruleset_id}@{run.ruleset_version}",
            run.ledger_sha256[:SHORT_DIGEST],
            run.currency,
            f"{totals[run.run_id]:,}",
        )
        for run in saved
    ]
    widths = [max(len(row[k]) for row in (header, *rows)) for k in range(len(header))]
    for row in (header, *rows):
        cells = [
            cell.rjust(width) if k == len(row) - 1 else cell.ljust(width)
            for k, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    return 0


def _close(args: argparse.Namespace) -> int:
    with _open_store(args.store) as store:
        closed = store.close_period(_period(args.period).label)
    print(f"closed {closed.period}: run {closed.run_id[:SHORT_DIGEST]}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from compcalc.statements.export import payroll_csv, payroll_json, write_export
    from compcalc.statements.model import PeriodResult

    label = _period(args.period).label
    with _open_store(args.store) as store:
        closed = store.closed_run(label)
        if closed is None:
            raise CompcalcError(f"period {label} is not closed; close it before exporting")
        result = PeriodResult.from_dict(store.get_run(closed.run_id))
    if args.out is not None:
        write_export(result, args.out, args.format)
        print(f"wrote {args.out}", file=sys.stderr)
        return 0
    sys.stdout.write(payroll_csv(result) if args.format == "payroll-csv" else payroll_json(result))
    sys.stdout.flush()
    return 0


def _explain(args: argparse.Namespace) -> int:
    from compcalc.statements.text import render_explain

    result = _compute(args)
    known = sorted(s.employee_id for s in result.statements)
    if args.employee not in known:
        _error(_unknown_employee(args.employee, known, result.period))
        return 1
    sys.stdout.write(render_explain(result, args.employee))
    return 0


def _compute(
    args: argparse.Namespace,
    *,
    rules: RuleSet | None = None,
    period: str | None = None,
    paid_to_date: pd.DataFrame | None = None,
    history: Sequence[PriorRun] = (),
) -> PeriodResult:
    """Load the three inputs and run the period: the part ``run`` and ``explain`` share."""
    from . import api

    with _progress() as bar:
        if rules is None:
            bar.note(f"reading rules {args.rules}")
            rules = api.load_rules(args.rules)
        bar.total = READ_STEPS + len(rules.plans) + 1
        bar.advance()
        bar.note(f"reading roster {args.roster}")
        roster = api.read_roster(args.roster)
        bar.advance()
        if getattr(args, "engine", "pandas") == "dask":
            bar.note("running on dask")
            return _compute_on_dask(args, rules, roster, period, paid_to_date, history)
        ledgers: list[Path] = args.ledger
        bar.note(f"reading ledger {', '.join(str(p) for p in ledgers)}")
        ledger = _read_ledgers(ledgers, [rules])
        fx_path: Path | None = getattr(args, "fx", None)
        fx = None if fx_path is None else api.read_fx(fx_path)
        bar.advance()
        result: PeriodResult = api.run_period(
            rules,
            roster,
            ledger,
            period or args.period,
            paid_to_date=paid_to_date,
            progress=bar.engine(),
            history=history,
            fx=fx,
        )
    return result


def _compute_on_dask(
    args: argparse.Namespace,
    rules: RuleSet,
    roster: Roster,
    period: str | None,
    paid_to_date: pd.DataFrame | None,
    history: Sequence[PriorRun],
) -> PeriodResult:
    """The run on Dask workers: a local cluster, or the scheduler ``--scheduler`` names."""
    from . import api

    try:
        from .engine.dask_run import local_client
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise CompcalcError(
            "--engine dask needs Dask: python3 -m pip install 'compcalc[dask]'"
        ) from None
    fx_path: Path | None = getattr(args, "fx", None)
    with local_client(args.workers, args.memory_limit, args.scheduler) as client:
        result: PeriodResult = api.run_period(
            rules,
            roster,
            [str(p) for p in args.ledger],
            period or args.period,
            paid_to_date=paid_to_date,
            history=history,
            fx=fx_path,
            engine="dask",
            client=client,
        )
    return result


def _emit(text: str, out: Path | None) -> int:
    """Write ``text`` to ``out`` atomically (saying so on stderr), or to stdout; exit code 0."""
    from compcalc.statements.files import write_atomic

    if out is not None:
        write_atomic(out, text)
        print(f"wrote {out}", file=sys.stderr)
        return 0
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


def _open_store(url: str) -> Store:
    from compcalc.store import Store

    return Store.open(url)


def _period(text: str) -> Period:
    """The period ``text`` names; a malformed one is a plain message (exit 1)."""
    from compcalc.periods import parse_period

    try:
        return parse_period(text)
    except ValueError as error:
        raise CompcalcError(str(error)) from None


# --------------------------------------------------------------------------- diff

DIFF_FORMATS = ("text", "json", "csv")
RUN_ID_MIN = 4  # hex digits of a run id prefix


def _add_diff_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    diff = commands.add_parser(
        "diff",
        help="what changed between two runs, or what a rule change would pay",
        description=(
            "Compare two runs per employee and line: `diff RUN_A RUN_B`, where each RUN is a "
            "run id (or a unique prefix of at least 4 hex digits) in the store, or a "
            "result.json written by `run --out` (or its directory). Or run one period under "
            "two rule sets and compare: `diff --rules OLD --rules-new NEW --roster R "
            "--ledger L --period P`. Exit code 0 whether or not anything differs."
        ),
    )
    diff.add_argument(
        "runs", nargs="*", metavar="RUN", help="two runs: run id (prefix) or result.json"
    )
    diff.add_argument("--rules", type=Path, metavar="OLD", help="rule file in force now")
    diff.add_argument("--rules-new", type=Path, metavar="NEW", help="the changed rule file")
    diff.add_argument("--roster", type=Path, help="roster (with --rules-new)")
    diff.add_argument(
        "--ledger", type=Path, action="append", help="sales ledger (with --rules-new); repeat"
    )
    diff.add_argument("--period", help="pay period (with --rules-new), e.g. 2024-03")
    diff.add_argument(
        "--fx",
        type=Path,
        metavar="FILE",
        help="dated FX rates (with --rules-new) to convert sales in other currencies",
    )
    diff.add_argument(
        "--format", choices=DIFF_FORMATS, default="text", help="text (default), json or csv"
    )
    _store_option(
        diff,
        default=None,
        action=(
            "where run ids are looked up (default store when left out); with --rules-new, "
            "paid to date comes from its closed periods instead of a replay"
        ),
    )
    diff.set_defaults(command=_diff, diff_parser=diff)


def _diff(args: argparse.Namespace) -> int:
    from compcalc.statements.diff import compare_results, render

    parser: argparse.ArgumentParser = args.diff_parser
    what_if = [name for name in ("rules", "rules_new", "roster", "ledger", "period", "fx")
               if getattr(args, name) is not None]  # fmt: skip
    if args.runs and what_if:
        options = ", ".join("--" + name.replace("_", "-") for name in what_if)
        return _usage_error(parser, f"give two runs or {options} with --rules-new, not both")
    if args.runs or not what_if:
        if len(args.runs) != 2:
            return _usage_error(parser, f"expected two runs to compare, got {len(args.runs)}")
        loaded = _load_runs(args.runs, args.store)
        if isinstance(loaded, str):
            return _usage_error(parser, loaded)
        (old, old_source), (new, new_source) = loaded
    else:
        missing = [f"--{name.replace('_', '-')}"
                   for name in ("rules", "rules_new", "roster", "ledger", "period")
                   if getattr(args, name) is None]  # fmt: skip
        if missing:
            return _usage_error(parser, f"a rule change needs {', '.join(missing)} too")
        old, new = _what_if(args)
        old_source, new_source = f"rules {args.rules}", f"rules {args.rules_new}"
    comparison = compare_results(old, new)
    sys.stdout.write(render(comparison, args.format, (old_source, new_source)))
    sys.stdout.flush()
    return 0


def _usage_error(parser: argparse.ArgumentParser, message: str) -> int:
    """Exit code 2 with the command's usage, as argparse reports a wrong command line."""
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return 2


def _load_runs(refs: Sequence[str], store_url: str | None) -> list[tuple[PeriodResult, str]] | str:
    """Each run from its result.json file (or --out directory) or from the store by id.

    Returns a usage message instead when a reference is neither a file nor a run id.
    """
    from compcalc.statements.model import PeriodResult

    files: dict[int, Path] = {}
    for index, ref in enumerate(refs):
        path = Path(ref)
        if path.is_dir() and (path / "result.json").is_file():
            path = path / "result.json"
        if path.is_file():
            files[index] = path
        elif not _looks_like_run_id(ref):
            return (
                f"{ref!r} is neither a result.json file nor a run id "
                f"(at least {RUN_ID_MIN} hex digits)"
            )
    loaded: list[tuple[PeriodResult, str]] = []
    store = None if len(files) == len(refs) else _open_existing_store(store_url or DEFAULT_STORE)
    try:
        for index, ref in enumerate(refs):
            if index in files:
                loaded.append((_read_result(files[index]), str(files[index])))
            else:
                assert store is not None
                saved = store.find_run(ref, min_length=RUN_ID_MIN)
                result = PeriodResult.from_dict(store.get_run(saved.run_id))
                loaded.append((result, f"run {saved.run_id[:SHORT_DIGEST]} ({saved.status})"))
    finally:
        if store is not None:
            store.close()
    return loaded


def _looks_like_run_id(ref: str) -> bool:
    return len(ref) >= RUN_ID_MIN and all(c in "0123456789abcdefABCDEF" for c in ref)


def _open_existing_store(url: str) -> Store:
    """The store at ``url`` for reading; a SQLite file that does not exist is not created."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        target = make_url(url)
    except ArgumentError as error:
        raise CompcalcError(f"cannot open store: {error}") from None
    database = target.database or ""
    local = target.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if local and not database.startswith("file:") and not Path(database).is_file():
        raise CompcalcError(f"no store at {database}: no run has been saved there")
    return _open_store(url)


def _read_result(path: Path) -> PeriodResult:
    import json

    from compcalc.statements.model import PeriodResult

    text = path.read_text(encoding="utf-8")
    try:
        return PeriodResult.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        detail = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise CompcalcError(
            f"{path}: not a result.json written by `compcalc run` ({detail})"
        ) from None


def _what_if(args: argparse.Namespace) -> tuple[PeriodResult, PeriodResult]:
    """The period under the rules in force and under the new rules, on one paid-to-date basis.

    Without ``--store`` both replay the earlier periods of the plan year, each under its own
    rules (write a change meant to start this period as dated values); with ``--store`` both
    take what the store's closed periods paid.
    """
    from . import api

    with _progress() as bar:
        bar.note(f"reading rules {args.rules}, {args.rules_new}")
        old_rules, new_rules = api.load_rules(args.rules), api.load_rules(args.rules_new)
        bar.total = READ_STEPS + len(old_rules.plans) + len(new_rules.plans) + 2
        bar.advance()
        bar.note(f"reading roster {args.roster}")
        roster = api.read_roster(args.roster)
        bar.advance()
        ledgers: list[Path] = args.ledger
        bar.note(f"reading ledger {', '.join(str(p) for p in ledgers)}")
        # Each side's ledger as a run of its rules reads it: once, unless one of them pays on
        # margin and the other does not (the margin then read, checked and digested for it)
        ledger = _read_ledgers(ledgers, [old_rules])
        read = {old_rules.uses_margin: ledger}
        if new_rules.uses_margin not in read:
            read[new_rules.uses_margin] = _read_ledgers(ledgers, [new_rules])
        bar.advance()
        fx = None if args.fx is None else api.read_fx(args.fx)
        period = _period(args.period)
        results = []
        for side, rules in (("old", old_rules), ("new", new_rules)):
            paid: pd.DataFrame | None = None
            history: list[PriorRun] = []
            if args.store is not None:
                paid, history = _store_paid_to_date(args.store, rules, period)
            results.append(
                api.run_period(
                    rules,
                    roster,
                    read[rules.uses_margin],
                    period.label,
                    paid_to_date=paid,
                    progress=bar.engine(f"{side} rules: "),
                    fx=fx,
                    history=history,
                )
            )
    return results[0], results[1]


def _store_paid_to_date(
    url: str, rules: RuleSet, period: Period
) -> tuple[pd.DataFrame, list[PriorRun]]:
    """What the store's closed periods paid before ``period``, and those periods' runs;
    refused while one is open."""
    from .periods import plan_year_start

    year_start = plan_year_start(period.start, rules.plan_year.start_month)
    with _open_existing_store(url) as store:
        still_open = store.open_periods_before(period.start, year_start)
        if still_open:
            raise CompcalcError(
                f"period {period.label} cannot be compared on the store's paid to date while "
                f"earlier period(s) {', '.join(still_open)} are not closed"
            )
        paid: pd.DataFrame = store.paid_to_date(period.start, year_start)
        history = store.prior_runs(period.start, year_start)
    return paid, history


# --------------------------------------------------------------------------- bands, offers


def _add_offer_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bands = commands.add_parser("bands", help="print the salary bands of a rule set")
    bands.add_argument("--rules", required=True, type=Path, help="rule file")
    bands.add_argument("--role", help="only this plan (role)")
    bands.add_argument("--as-of", type=_date, metavar="DATE", help="only bands in force then")
    bands.add_argument("--format", choices=("text", "json", "csv"), default="text")
    bands.set_defaults(command=_bands)

    offer = commands.add_parser(
        "offer",
        help="check an offer against its salary band and model its pay",
        description=(
            "Where the offer's base sits in its band (compa-ratio, range penetration), "
            "target variable pay, OTE, pay mix, allowances and total annual pay from 0 %% to "
            "200 %% of quota, computed by running the plan through the engine for a plan year."
        ),
    )
    offer.add_argument("--rules", required=True, type=Path, help="rule file")
    offer.add_argument("--role", help="the plan, e.g. key_account_manager")
    offer.add_argument("--seniority", help="e.g. senior")
    offer.add_argument("--company-size", help="e.g. large")
    offer.add_argument("--region", help="e.g. metro")
    offer.add_argument("--base", metavar="AMOUNT", help="offered annual base, e.g. 104000")
    offer.add_argument("--quota", metavar="AMOUNT", help="annual sales quota, e.g. 1200000")
    offer.add_argument(
        "--compare", type=Path, metavar="OFFERS.csv",
        help="model every offer of a CSV (label,role,seniority,company_size,region,base,quota)",
    )  # fmt: skip
    offer.add_argument("--as-of", type=_date, metavar="DATE", help="plan year containing DATE")
    offer.add_argument(
        "--step", default="0.05", metavar="FRACTION", help="curve step (0.05 = 5 %%, or finer)"
    )
    offer.add_argument("--deals-per-month", type=int, default=1, metavar="N",
                       help="equal deals a month in the modelled sales (default 1)")  # fmt: skip
    expected = offer.add_mutually_exclusive_group()
    expected.add_argument("--attainments", type=Path, metavar="FILE.csv",
                          help="expected pay over the attainments of a CSV column 'attainment'")
    expected.add_argument("--normal", nargs=2, metavar=("MEAN", "SD"),
                          help="expected pay with attainment ~ normal(MEAN, SD), e.g. 1.0 0.25")
    expected.add_argument("--past-ledger", type=Path, action="append", metavar="FILE",
                          help="expected pay over what the role attained in a past ledger "
                          "(with --past-roster and --past-period; repeat for several files)")
    offer.add_argument("--samples", type=int, default=1000, help="draws of --normal")
    offer.add_argument("--seed", type=int, default=0, help="seed of --normal's draws")
    offer.add_argument("--past-roster", type=Path, metavar="FILE", help="roster of --past-ledger")
    offer.add_argument("--past-period", metavar="YYYY-MM", help="last period of --past-ledger")
    offer.add_argument("--format", choices=("text", "json", "csv"), default="text")
    offer.add_argument("--plot", type=Path, metavar="FILE", help="draw the curve (.png or .svg)")
    offer.set_defaults(command=_offer, offer_parser=offer)  # fmt: skip


def _bands(args: argparse.Namespace) -> int:
    from . import api
    from .offers import band_rows, render_bands

    rules = api.load_rules(args.rules)
    rows = band_rows(rules, args.role, args.as_of)
    sys.stdout.write(render_bands(rows, args.format, rules.currency, rules.locale))
    return 0


def _offer(args: argparse.Namespace) -> int:
    from . import api
    from .offers import (
        Offer,
        compare_offers,
        parse_amount,
        plot_offer,
        read_offers,
        render_comparison,
        render_offer,
    )

    parser: argparse.ArgumentParser = args.offer_parser
    single = ("role", "seniority", "company_size", "region", "base")
    missing = [f"--{name.replace('_', '-')}" for name in single if getattr(args, name) is None]
    if args.compare is None and missing:
        return _usage_error(parser, f"an offer needs {', '.join(missing)} (or --compare FILE)")
    if args.compare is not None and len(missing) < len(single):
        return _usage_error(parser, "give one offer's options or --compare FILE, not both")
    if args.compare is not None and args.plot is not None:
        return _usage_error(parser, "--plot draws one offer; leave it out with --compare")
    rules = api.load_rules(args.rules)
    if args.compare is not None:
        offers = read_offers(args.compare, rules)
    else:
        quota = None if args.quota is None else parse_amount(args.quota, rules, "quota")
        offers = [Offer(
            role=args.role, seniority=args.seniority, company_size=args.company_size,
            region=args.region, base=parse_amount(args.base, rules, "base"), quota=quota,
        )]  # fmt: skip
    results = compare_offers(
        rules, offers, as_of=args.as_of, distribution=_distribution(args, rules),
        step=_step(args.step), deals_per_month=args.deals_per_month,
    )  # fmt: skip
    if args.compare is not None or args.format == "csv":
        sys.stdout.write(render_comparison(results, args.format))
    else:
        one = results[0]
        sys.stdout.write(one.to_json() if args.format == "json" else render_offer(one))
    sys.stdout.flush()
    if args.plot is not None:
        print(f"wrote {plot_offer(results[0], args.plot)}", file=sys.stderr)
    return 0


def _distribution(args: argparse.Namespace, rules: RuleSet) -> Distribution | None:
    """The attainment distribution the options describe (None: no expected pay); a past
    ledger is read for ``rules``, as a run of them reads it."""
    from decimal import Decimal, InvalidOperation

    from . import api
    from .offers import NormalAttainment, PastLedger, read_attainments

    past = (args.past_roster, args.past_period)
    if args.past_ledger is None and any(p is not None for p in past):
        raise CompcalcError("--past-roster and --past-period go with --past-ledger")
    if args.attainments is not None:
        return read_attainments(args.attainments)
    if args.normal is not None:
        try:
            mean, sd = (Decimal(value) for value in args.normal)
        except InvalidOperation:
            raise CompcalcError(
                f"--normal takes a mean and a standard deviation of attainment as fractions "
                f"(1.0 0.25), got {' '.join(args.normal)}"
            ) from None
        return NormalAttainment(mean=mean, sd=sd, samples=args.samples, seed=args.seed)
    if args.past_ledger is not None:
        if any(p is None for p in past):
            raise CompcalcError("--past-ledger needs --past-roster and --past-period too")
        ledgers: list[Path] = args.past_ledger
        ledger = _read_ledgers(ledgers, [rules])
        return PastLedger(api.read_roster(args.past_roster), ledger, args.past_period)
    return None


def _step(text: str) -> Decimal:
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(text)
    except InvalidOperation:
        raise CompcalcError(f"--step takes a fraction such as 0.05 (5 %), got {text!r}") from None


def _date(text: str) -> dt.date:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


# --------------------------------------------------------------------------- progress

READ_STEPS = 3  # rules, roster, ledger
BAR_CELLS = 24
BAR_LABEL = 44


class _Bar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal.

    ``note(label)`` shows what is being done now, ``advance()`` counts a step done, and
    ``engine(prefix)`` is a ``run_period(progress=...)`` callback. Closing clears the line.
    Nothing is ever written when stderr is a pipe or a file.
    """

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.done = 0
        self.total = READ_STEPS
        self.shown = 0

    def note(self, label: str) -> None:
        if not self.enabled:
            return
        total = max(self.total, self.done, 1)
        filled = BAR_CELLS * min(self.done, total) // total
        if len(label) > BAR_LABEL:
            label = label[: BAR_LABEL - 1] + "~"
        text = f"{label:<{BAR_LABEL}} [{'#' * filled}{'-' * (BAR_CELLS - filled)}] "
        text += f"{min(self.done, total)}/{total}"
        self.stream.write("\r" + text.ljust(self.shown))
        self.stream.flush()
        self.shown = max(self.shown, len(text))

    def advance(self, steps: int = 1) -> None:
        self.done += steps

    def engine(self, prefix: str = "") -> Callable[[int, int, str], None]:
        start = self.done

        def report(done: int, total: int, step: str) -> None:
            self.done = start + done
            self.note(f"{prefix}{step}")

        return report

    def clear(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0


@contextlib.contextmanager
def _progress() -> Iterator[_Bar]:
    """A progress bar on stderr if it is a terminal, cleared however the block ends."""
    bar = _Bar(sys.stderr, _interactive(sys.stderr))
    try:
        yield bar
    finally:
        bar.clear()


def _interactive(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


# --------------------------------------------------------------------------- printing


def _describe_rules(rules: RuleSet) -> str:
    """``id=…, version=…, sha256=…``: the digest ``run`` records (of the rules' meaning)."""
    from compcalc.rules.digest import ruleset_digest

    digest = ruleset_digest(rules)[:SHORT_DIGEST]
    return f"id={rules.id}, version={rules.version}, sha256={digest}"


def _unknown_employee(employee: str, known: list[str], period: str) -> str:
    if not known:
        return f"no statement for employee {employee!r}: the run for {period} has no statements"
    shown = ", ".join(known[:KNOWN_IDS_SHOWN])
    if len(known) > KNOWN_IDS_SHOWN:
        shown += f", … ({len(known)} in all)"
    close = difflib.get_close_matches(employee, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"no statement for employee {employee!r} in {period}{hint}\nknown ids: {shown}"


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        if not diagnostic.source:  # errors raised from a plain message carry no location
            diagnostic = dataclasses.replace(diagnostic, source=PROG)
        print(diagnostic, file=sys.stderr)


def _read_ledgers(paths: Sequence[Path], rules: Sequence[RuleSet] | None = None) -> Ledger:
    """The ledger files as one ledger, read for ``rules`` (the margin only if they pay on
    it); says which columns compcalc does not know were left unread (a margin the rules do
    not use goes unsaid: docs/inputs.md says why)."""
    from . import api
    from .inputs.common import canonical_name

    ledger = api.read_ledger(paths[0] if len(paths) == 1 else paths, rules=rules)
    unknown = ledger.unread_columns
    if ledger.without_margin:
        unknown = tuple(name for name in unknown if canonical_name(name) != "margin")
    if unknown:
        print(
            f"{PROG}: ledger {ledger.source}: column(s) {', '.join(unknown)} "
            "not read (compcalc does not use them; its digest does not cover them)",
            file=sys.stderr,
        )
    return ledger


def _error(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _os_message(error: OSError) -> str:
    """``path: No such file or directory`` rather than ``[Errno 2] ...``."""
    reason = error.strerror or str(error)
    if error.filename is not None:
        return f"{os.fsdecode(error.filename)}: {reason}"
    return reason


def _exit_code(code: str | int | None) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
