"""``compcalc plan-doc``: the human plan document, written from the rule file itself.

    compcalc plan-doc --rules rules/account_managers.yaml --format md
    compcalc plan-doc --rules R --role key_account_manager --format html --out kam.html

Thin: load the rules, call :func:`compcalc.plandoc.plan_document`, print or write the file
atomically. An unknown role is one plain line listing the roles (exit 1).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``plan-doc`` to the ``compcalc`` command line."""
    doc = commands.add_parser(
        "plan-doc",
        help="write the plan document (Markdown or HTML) from a rule file",
        description=(
            "Write the human plan document from the rule file itself: who each plan covers, "
            "dates, base and bands, every component in plain sentences with its tables, gates, "
            "caps, draws, the clawback window, dispute policy and rounding, and a worked "
            "example per component computed by the engine."
        ),
    )
    doc.add_argument("--rules", required=True, type=Path, help="rule file")
    doc.add_argument("--role", help="only this plan (role)")
    doc.add_argument(
        "--format", choices=("md", "html"), default="md", help="Markdown (default) or HTML"
    )
    doc.add_argument(
        "--out", type=Path, metavar="FILE", help="write FILE atomically instead of stdout"
    )
    doc.set_defaults(command=_plan_doc)


def _plan_doc(args: argparse.Namespace) -> int:
    from compcalc import api
    from compcalc.cli import _emit, _progress
    from compcalc.plandoc import plan_document

    with _progress() as bar:
        bar.total = 2
        bar.note(f"reading rules {args.rules}")
        rules = api.load_rules(args.rules)
        bar.advance()
        bar.note("running the worked examples")
        text = plan_document(rules, role=args.role, fmt=args.format)
        bar.advance()
    return _emit(text, args.out)
