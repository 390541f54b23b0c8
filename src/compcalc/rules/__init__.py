"""The rule language: schema, loading with located errors, checks, parameter resolution.

Beyond loading: :func:`check_rules` (``compcalc check``) warns about valid plans that are
probably not what was meant, and :func:`rule_set_json_schema` (``compcalc schema``) is the
JSON Schema editors validate rule files with.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import RuleFileError
from .checks import check_ruleset
from .json_schema import rule_set_json_schema, rule_set_json_schema_text
from .loader import load_model_text_with_positions, read_rule_text
from .plan_checks import Finding, check_rules, check_rules_text, plan_warnings
from .schema import RuleSet

__all__ = [
    "Finding",
    "RuleSet",
    "check_rules",
    "check_rules_text",
    "load_rules",
    "load_rules_text",
    "plan_warnings",
    "rule_set_json_schema",
    "rule_set_json_schema_text",
]


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rule file; every problem is reported at its file:line:col."""
    return load_rules_text(read_rule_text(path), str(path))


def load_rules_text(text: str, source: str = "<rules>") -> RuleSet:
    """Validate rule-file YAML given as text (``source`` names it in messages)."""
    rules, positions = load_model_text_with_positions(text, source, RuleSet)
    rules._source, rules._positions = source, positions
    problems = [positions.diagnostic(path, message) for path, message in check_ruleset(rules)]
    if problems:
        raise RuleFileError(problems)
    return rules
