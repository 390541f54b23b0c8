"""The rule language: schema, loading with located errors, checks, parameter resolution."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ..errors import RuleFileError
from .checks import check_ruleset
from .loader import read_rule_text, read_yaml_with_positions, validation_diagnostics
from .schema import RuleSet

__all__ = ["RuleSet", "load_rules", "load_rules_text"]


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rule file; every problem is reported at its file:line:col."""
    return load_rules_text(read_rule_text(path), str(path))


def load_rules_text(text: str, source: str = "<rules>") -> RuleSet:
    """Validate rule-file YAML given as text (``source`` names it in messages)."""
    data, positions = read_yaml_with_positions(text, source)
    try:
        rules = RuleSet.model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(validation_diagnostics(exc, data, positions, RuleSet)) from exc
    problems = [positions.diagnostic(path, message) for path, message in check_ruleset(rules)]
    if problems:
        raise RuleFileError(problems)
    return rules
