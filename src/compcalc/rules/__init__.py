"""The rule language: schema, loading with located errors, checks, parameter resolution."""

from __future__ import annotations

from pathlib import Path

from ..errors import RuleFileError
from .checks import check_ruleset
from .loader import load_model_text_with_positions, read_rule_text
from .schema import RuleSet

__all__ = ["RuleSet", "load_rules", "load_rules_text"]


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
