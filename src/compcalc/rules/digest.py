"""The rule set's digest: sha256 of its canonical JSON, independent of comments and layout."""

from __future__ import annotations

import hashlib
import json

from .schema import RuleSet


def canonical_json(rules: RuleSet) -> str:
    """The validated rule set as canonical JSON (sorted keys, decimals as text, aliases used)."""
    data = rules.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ruleset_digest(rules: RuleSet) -> str:
    """Hex sha256 of :func:`canonical_json`: equal for files that say the same thing."""
    return hashlib.sha256(canonical_json(rules).encode("utf-8")).hexdigest()
