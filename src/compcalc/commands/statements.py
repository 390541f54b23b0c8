"""``compcalc statements``: HTML pay statements, one self-contained page per employee.

    compcalc statements --rules R --roster roster.csv --ledger oct.csv --ledger nov.csv \\
        --period 2026-11 --html out/                  compute the run, then write its pages
    compcalc statements --result out/result.json --html out/     a run saved by `run --out`
    compcalc statements --store [URL] --period 2026-11 --html out/
                                                      the period's latest run in the store

``--locale`` formats the run (default: the rule set's ``locale``, else en_US); a roster
``locale`` column gives an employee their own (``--roster`` works with a saved run too).
``--employee ID`` (repeatable) writes only those pages. The files written go to stderr.
Exit codes as for every command (see :mod:`compcalc.cli`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from compcalc.errors import CompcalcError, Diagnostic

if TYPE_CHECKING:
    from compcalc.inputs import Roster
    from compcalc.rules import RuleSet
    from compcalc.statements.html import Deals
    from compcalc.statements.model import PeriodResult, Rejected

DEFAULT_LOCALE = "en_US"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``compcalc statements`` to the command line."""
    from compcalc.cli import DEFAULT_STORE

    parser = commands.add_parser(
        "statements",
        help="write HTML pay statements, one page per employee",
        description=(
            "Write one self-contained HTML pay statement per employee (and an index.html) "
            "into DIR: totals by pay code, every line with its formula, rule and ledger "
            "transactions, held/excluded/clawed-back sales, year-to-date attainment charts "
            "and the digests that reproduce the figures. The run is computed from --rules "
            "--roster --ledger --period (like `run`), or read from --result FILE or from "
            "--store [URL] (the period's latest run)."
        ),
    )
    parser.add_argument("--html", required=True, type=Path, metavar="DIR",
                        help="folder to write the pages into (created if needed)")  # fmt: skip
    parser.add_argument("--rules", type=Path, help="rule file (its locale is the default)")
    parser.add_argument(
        "--roster", type=Path, help="roster (CSV or Parquet); its locale column, if any, is used"
    )
    parser.add_argument("--ledger", type=Path, action="append",
                        help="sales ledger; repeat for several files")  # fmt: skip
    parser.add_argument("--period", help="pay period, e.g. 2026-11")
    parser.add_argument("--fx", type=Path, metavar="FILE", help="dated FX rates (CSV)")
    parser.add_argument("--result", type=Path, metavar="FILE",
                        help="a result.json written by `run --out` (or its folder)")  # fmt: skip
    parser.add_argument(
        "--store", nargs="?", const=DEFAULT_STORE, default=None, metavar="URL",
        help=f"use the period's latest run in this store (default {DEFAULT_STORE})",
    )  # fmt: skip
    parser.add_argument(
        "--locale", type=_locale_option, help="locale of the pages, e.g. de_DE (default: rules')"
    )
    parser.add_argument("--employee", action="append", metavar="ID",
                        help="only this employee's page; repeat for several")  # fmt: skip
    parser.set_defaults(command=_statements, statements_parser=parser)


def _locale_option(text: str) -> str:
    from compcalc.statements.localise import canonical_locale

    try:
        return canonical_locale(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _statements(args: argparse.Namespace) -> int:
    from compcalc import api
    from compcalc.cli import _compute, _error, _unknown_employee, _usage_error
    from compcalc.statements.html import write_statements_html

    parser: argparse.ArgumentParser = args.statements_parser
    problem = _check_options(args)
    if problem:
        return _usage_error(parser, problem)
    rules = api.load_rules(args.rules) if args.rules is not None else None
    computed = args.result is None and args.store is None
    result = _compute(args, rules=rules) if computed else _saved(args)
    known = [s.employee_id for s in result.statements]
    for employee in args.employee or ():
        if employee not in known:
            _error(_unknown_employee(employee, sorted(known), result.period))
            return 1
    chosen = list(dict.fromkeys(args.employee)) if args.employee else known
    deals, rejected = _ledger_views(args.ledger, result, chosen) if computed else (None, None)
    roster = api.read_roster(args.roster) if args.roster is not None else None
    written = write_statements_html(
        result,
        args.html,
        locale=args.locale or _rules_locale(rules, args.rules),
        locales=_roster_locales(roster, warn=not computed),
        deals=deals,
        employees=chosen,
        rejected=rejected,
    )
    pages = len(written) - 1  # and the index
    print(f"wrote {pages} statement page(s) and index.html to {args.html}", file=sys.stderr)
    if result.rejected:
        _error(
            f"{len(result.rejected)} input row(s) were rejected by the run; "
            f"{args.html / 'index.html'} lists them"
        )
    return 0


def _check_options(args: argparse.Namespace) -> str | None:
    """What is wrong with the combination of options (None when nothing)."""
    saved = [name for name, value in (("--result", args.result), ("--store", args.store))
             if value is not None]  # fmt: skip
    if len(saved) == 2:
        return "give --result FILE or --store [URL], not both"
    if saved:
        inputs = [f"--{name}" for name in ("ledger", "fx") if getattr(args, name) is not None]
        if inputs:
            inputs_text = ", ".join(inputs)
            return f"{saved[0]} shows a saved run; leave out {inputs_text} (inputs of a new run)"
        if saved == ["--store"] and args.period is None:
            return "--store needs --period: which period's latest run to show"
        return None
    missing = [f"--{name}" for name in ("rules", "roster", "ledger", "period")
               if getattr(args, name) is None]  # fmt: skip
    if missing:
        return (
            f"computing a run needs {', '.join(missing)} (or give a saved run: "
            "--result FILE or --store [URL] --period P)"
        )
    return None


def _saved(args: argparse.Namespace) -> PeriodResult:
    """The run of ``--result`` (checked against ``--period`` if given) or the store's latest."""
    from compcalc.cli import SHORT_DIGEST, _open_existing_store, _period, _read_result
    from compcalc.statements.model import PeriodResult

    label = None if args.period is None else _period(args.period).label
    if args.result is not None:
        path: Path = args.result
        if path.is_dir():
            path = path / "result.json"
        result = _read_result(path)
        if label is not None and result.period != label:
            raise CompcalcError(f"{path} is the run of {result.period}, not of {label}")
        return result
    with _open_existing_store(args.store) as store:
        runs = [run for run in store.runs() if run.period == label]
        if not runs:
            raise CompcalcError(f"no run of period {label} in the store {store.url}")
        latest = runs[-1]
        data = store.get_run(latest.run_id)
    print(f"run {latest.run_id[:SHORT_DIGEST]} ({latest.status}) of {label}", file=sys.stderr)
    return PeriodResult.from_dict(data)


def _rules_locale(rules: RuleSet | None, path: Path | None) -> str:
    """The rule set's locale (checked with babel), or en_US without rules."""
    from compcalc.statements.localise import canonical_locale

    if rules is None:
        return DEFAULT_LOCALE
    try:
        return canonical_locale(rules.locale)
    except ValueError as error:
        raise CompcalcError([Diagnostic(str(path), None, None, "locale", str(error))]) from None


def _roster_locales(roster: Roster | None, *, warn: bool) -> dict[str, str]:
    """Employee id -> locale from the roster's ``locale`` column (empty cells left out).

    With a saved run (``warn``), roster rows refused for their locale are reported; their
    pages use the run's locale. A computed run already lists them as rejected rows.
    """
    from compcalc.cli import _error
    from compcalc.inputs.roster import LOCALE_COLUMN
    from compcalc.statements.localise import canonical_locale

    if roster is None or LOCALE_COLUMN not in roster.frame.columns:
        return {}
    if warn:
        for row in roster.rejected:
            if row.column == LOCALE_COLUMN:
                _error(f"{row}; that page uses the run's locale")
    pairs = zip(roster.frame["employee_id"], roster.frame[LOCALE_COLUMN], strict=True)
    return {str(employee): canonical_locale(str(locale)) for employee, locale in pairs if locale}


def _ledger_views(
    ledger: list[Path], result: PeriodResult, chosen: list[str]
) -> tuple[Deals, dict[str, tuple[Rejected, ...]]]:
    """The ledger rows the chosen pages cite, and each employee's rows the run rejected.

    Only a computed run has them: a saved run keeps no ledger, so its pages list ids.
    """
    from compcalc.statements.html import read_deals, rejected_by_employee

    deals = read_deals(ledger, wanted=_transactions(result, chosen), rejected=result.rejected)
    return deals, rejected_by_employee(ledger, result.rejected)


def _transactions(result: PeriodResult, employees: list[str]) -> set[str]:
    """Every transaction id the chosen statements cite: their lines' and their notes'."""
    wanted: set[str] = set()
    for employee in employees:
        statement = result.statement(employee)
        for line in statement.lines:
            wanted.update(line.transactions)
        wanted.update(note.transaction_id for note in (*statement.held, *statement.excluded))
    return wanted
