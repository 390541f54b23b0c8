"""``compcalc check`` (plan warnings) and ``compcalc schema`` (the rule language's JSON Schema).

    compcalc check rules/account_managers.yaml      warnings and errors as file:line:col
    compcalc schema --out schema/compcalc-rules.schema.json

The logic is in :mod:`compcalc.rules.plan_checks` and :mod:`compcalc.rules.json_schema`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compcalc.rules.plan_checks import Finding

CHECK_HELP = "warn about plans that are valid but probably not what was meant"
CHECK_DESCRIPTION = """\
Check rule files: every error `compcalc validate` reports, and warnings about plans that are
valid but probably not what their author meant (more sales paying less, band gaps or
overlaps, a cap below a gate, a table missing a combination ...). Each is printed as
file:line:col: warning: field: message [code]. A tier band meant to pay less is declared with
`decelerator: true` and not reported. See docs/rule-language.md, "Plan checks".
"""
CHECK_EPILOG = """\
exit status: 0 when no file has a warning or an error; 1 when any has (there is no --strict:
a warning is always worth a look); 2 when the command line is wrong.
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``check`` and ``schema`` to the ``compcalc`` command line."""
    check = commands.add_parser(
        "check",
        help=CHECK_HELP,
        description=CHECK_DESCRIPTION,
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("rules", nargs="+", type=Path, metavar="RULES", help="rule file(s)")
    check.set_defaults(command=_check)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of the rule language (for editors)",
        description="Print the JSON Schema (Draft 2020-12) of compcalc rule files, generated "
        "from the rule models. Point an editor's YAML language server at it (see "
        "docs/rule-language.md, 'Editor support').",
    )
    schema.add_argument(
        "--out", type=Path, metavar="FILE", help="write FILE atomically instead of stdout"
    )
    schema.set_defaults(command=_schema)


def _check(args: argparse.Namespace) -> int:
    from compcalc.cli import _error
    from compcalc.rules.plan_checks import check_rules

    warnings = errors = flagged = 0
    for path in args.rules:
        findings = _plan_test_file(path) or check_rules(path)
        for finding in findings:
            print(finding)
        if not findings:
            print(f"ok  {path}  (no warnings)")
            continue
        flagged += 1
        errors += sum(f.severity == "error" for f in findings)
        warnings += sum(f.severity == "warning" for f in findings)
    sys.stdout.flush()
    if flagged:
        _error(
            f"{_count(warnings, 'warning')} and {_count(errors, 'error')} in {flagged} of "
            f"{len(args.rules)} rule file(s)"
        )
    return 1 if flagged else 0


def _plan_test_file(path: Path) -> list[Finding]:
    """One plain error for a plan-test file given as a rule file, instead of a dozen about
    missing rule-set fields."""
    from compcalc.errors import Diagnostic, RuleFileError
    from compcalc.rules.loader import read_rule_text, read_yaml_with_positions
    from compcalc.rules.plan_checks import Finding

    try:
        data, _ = read_yaml_with_positions(read_rule_text(path), str(path))
    except RuleFileError:
        return []  # check_rules reports it
    if not (isinstance(data, dict) and "cases" in data and "plans" not in data):
        return []
    named = f" (it tests {data['rules']})" if isinstance(data.get("rules"), str) else ""
    message = (
        f"this is a plan-test file{named}, not a rule file: run `compcalc test {path}` for its "
        "cases, and `compcalc check` on the rule file"
    )
    return [Finding("error", "invalid", Diagnostic(str(path), None, None, "", message))]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _schema(args: argparse.Namespace) -> int:
    from compcalc.cli import _emit
    from compcalc.rules.json_schema import rule_set_json_schema_text

    return _emit(rule_set_json_schema_text(), args.out)
