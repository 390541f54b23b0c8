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
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from compcalc import __version__
from compcalc.errors import CompcalcError, Diagnostic

if TYPE_CHECKING:
    import pandas as pd

    from compcalc.periods import Period
    from compcalc.rules import RuleSet
    from compcalc.statements.model import PeriodResult
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
        help="sales ledger; repeat to concatenate several files",
    )
    inputs.add_argument("--period", required=True, help="pay period, e.g. 2024-03")

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
    from compcalc.statements.files import write_atomic
    from compcalc.statements.text import render_summary

    if args.store is None:
        result = _compute(args)
    else:
        with _open_store(args.store) as store:
            result = _compute_into(store, args)
    if args.out is not None:
        write_atomic(args.out / "result.json", result.to_json())
    sys.stdout.write(result.to_json() if args.format == "json" else render_summary(result))
    sys.stdout.flush()
    if args.out is not None:
        print(f"wrote {args.out / 'result.json'}", file=sys.stderr)
    return 0


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
    result = _compute(args, rules=rules, period=period.label, paid_to_date=paid)
    saved = store.save_run(result, plan_year_start=year_start)
    print(
        f"saved draft run {saved.run_id[:SHORT_DIGEST]} for {saved.period} in {store.url}",
        file=sys.stderr,
    )
    return result


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
) -> PeriodResult:
    """Load the three inputs and run the period: the part ``run`` and ``explain`` share."""
    from . import api

    if rules is None:
        rules = api.load_rules(args.rules)
    roster = api.read_roster(args.roster)
    ledgers: list[Path] = args.ledger
    ledger = api.read_ledger(ledgers[0] if len(ledgers) == 1 else ledgers)
    result: PeriodResult = api.run_period(
        rules, roster, ledger, period or args.period, paid_to_date=paid_to_date
    )
    return result


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
