"""``compcalc test``: run the plan tests a rule set carries and show what changed.

    compcalc test rules/account_managers.yaml          the tests in rules/tests/ naming it
    compcalc test rules/tests/                         every test file in the folder
    compcalc test rules/tests/account_managers.yaml    that test file
    compcalc test rules/account_managers.yaml --rules my-copy.yaml
                                                       the same cases against an edited copy

Prints ``PASS name`` or ``FAIL name`` with a diff of expected (``-``) and actual (``+``)
figures, then a summary line. Exit code 0 when every case passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``compcalc test`` to the ``compcalc`` command line."""
    test = commands.add_parser(
        "test",
        help="run a rule set's plan tests (YAML cases with exact expected pay)",
        description=(
            "Run plan tests: YAML cases with a small roster and ledger (or an offer profile "
            "and attainment) and the exact pay they must produce. RULES_OR_DIR is a rule file "
            "(its tests in the tests/ folder beside it), a folder of test files, or a test "
            "file. Exit code 0 when every case passes, 1 when any fails or cannot run."
        ),
    )
    test.add_argument(
        "targets", nargs="+", type=Path, metavar="RULES_OR_DIR",
        help="rule file, folder of plan-test files, or plan-test file",
    )  # fmt: skip
    test.add_argument(
        "--rules", type=Path, metavar="FILE",
        help="run every case against this rule file instead (what would my edit change?)",
    )  # fmt: skip
    test.set_defaults(command=_test)


def _test(args: argparse.Namespace) -> int:
    from compcalc.plantests import find_plan_tests, run_plan_tests

    files = find_plan_tests(args.targets)
    report = run_plan_tests(files, rules_override=args.rules)
    sys.stdout.write(report.render())
    sys.stdout.flush()
    return 0 if report.ok else 1
