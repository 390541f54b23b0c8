"""Plan documents written from the rule file itself, with worked examples from the engine.

``plan_document(rules)`` gives the human plan document of a rule set: who it covers, its
dates, each plan's components in plain sentences with their tables (rates by seniority and
company size, tier bands and their method, gates, caps, draws, overrides), the dispute and
clawback policy, rounding, salary bands, and a worked example per component whose figures are
quoted from real pay runs of example employees. Markdown or one self-contained HTML page.

>>> import compcalc
>>> from compcalc.plandoc import plan_document
>>> rules = compcalc.load_rules("rules/account_managers.yaml")             # doctest: +SKIP
>>> print(plan_document(rules, role="key_account_manager", fmt="md"))     # doctest: +SKIP
# Account and business development managers, ...: key account manager
"""

from __future__ import annotations

from typing import Literal

from ..rules.schema import RuleSet
from .document import build_document
from .example import ExampleInputs, ExampleRuns, example_inputs, run_examples
from .model import Document
from .render import render_html, render_markdown

__all__ = [
    "Document",
    "ExampleInputs",
    "ExampleRuns",
    "build_document",
    "example_inputs",
    "plan_document",
    "render_html",
    "render_markdown",
    "run_examples",
]

FORMATS = ("md", "html")


def plan_document(
    rules: RuleSet, *, role: str | None = None, fmt: Literal["md", "html"] = "md"
) -> str:
    """The plan document of ``rules`` (only the plan ``role`` if given) as Markdown or HTML.

    Deterministic: the same rule set gives the same text. An unknown role is a
    :class:`~compcalc.errors.CompcalcError` listing the roles the rules define.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    document = build_document(rules, role=role)
    return render_markdown(document) if fmt == "md" else render_html(document)
