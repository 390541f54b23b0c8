"""The JSON Schema (Draft 2020-12) of the rule language, generated from the pydantic models.

Editors with a YAML language server validate and complete rule files with it. The schema says
what the loader (``loader.py`` + ``schema.py``) really accepts, as an editor sees the YAML:

* a decimal is a YAML number or a quoted decimal (``0.05``, ``"0.05"``); a date is text
  ``YYYY-MM-DD`` (what YAML 1.2 editors read a bare date as);
* a Param, a table cell, a salary-band node and a component are told apart exactly as the
  models' discriminators do (``_param_tag``, ``_table_node_tag``, ``_band_node_tag``,
  ``kind``), written as ``if``/``then``/``else`` so an editor reports the one alternative
  that applies instead of every member of a ``oneOf``;
* a table's ``values`` is as many levels deep as its ``by`` names dimensions.

Cross-field rules (declared dimension values, contiguous bands ...) are the loader's and
``compcalc check``'s job; a schema cannot see them.

>>> schema = rule_set_json_schema()
>>> schema["$schema"]
'https://json-schema.org/draft/2020-12/schema'
>>> sorted(schema["$defs"]["Param"])
['else', 'if', 'then']
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from .schema import RuleSet

__all__ = ["SCHEMA_ID", "rule_set_json_schema", "rule_set_json_schema_text"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:compcalc:rule-set"
TITLE = "compcalc rule set"
DESCRIPTION = (
    "A compcalc rule set: declarative pay rules (base salary, commission, bonuses, "
    "allowances, draws, overrides) for a sales population. Reference: docs/rule-language.md. "
    "`compcalc validate` and `compcalc check` report what a schema cannot see."
)

# A decimal written as text: what Python's Decimal (and so the loader) reads, ASCII digits.
_DIGITS = r"[0-9](?:_?[0-9])*"
DECIMAL_TEXT = (
    rf"^\s*[+-]?(?=\.?[0-9])(?:{_DIGITS})?(?:\.(?:{_DIGITS})?)?(?:[eE][+-]?{_DIGITS})?\s*$"
)
NON_NEGATIVE_DECIMAL_TEXT = DECIMAL_TEXT.replace("[+-]?(?=", "[+]?(?=", 1)
# What YAML 1.1 (the loader's PyYAML) reads as booleans, which YAML 1.2 editors read as text.
YAML11_BOOLEANS = tuple(
    spelling
    for word in ("true", "false", "yes", "no", "on", "off")
    for spelling in (word, word.capitalize(), word.upper())
)

_DEF_MARK = "x-compcalc-def"  # marks a generated sub-schema to be moved to $defs
_FIELD_ANNOTATIONS = ("default", "description", "examples", "title")
# How a value is told apart for each discriminator tag of the models, in the order tried;
# the last tag of a union is its "else".
_TAG_TESTS: dict[str, JsonSchemaValue] = {
    "dated": {"type": "object", "required": ["dated"]},
    "range": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"not": {"type": "object"}},
    },
    "table": {"type": "object"},
    "branch": {"type": "object"},
    "number": {},
}
_MAX_TABLE_DEPTH = 4
_BOUND_WORDS = {
    "ge": "minimum",
    "gt": "exclusiveMinimum",
    "le": "maximum",
    "lt": "exclusiveMaximum",
}


class RuleSetJsonSchema(GenerateJsonSchema):
    """pydantic's generator, shaped for YAML rule files and editors (see the module doc)."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        bounds: dict[str, Any] = {k: v for k, v in schema.items() if k in ("ge", "gt", "le", "lt")}
        if not bounds:
            return {
                _DEF_MARK: "Decimal",
                "anyOf": [
                    {"type": "number"},
                    {"type": "string", "pattern": DECIMAL_TEXT},
                ],
            }
        number: JsonSchemaValue = {"type": "number"}
        number.update({_BOUND_WORDS[key]: _whole(value) for key, value in bounds.items()})
        non_negative = any(key in bounds and bounds[key] >= 0 for key in ("ge", "gt"))
        text = NON_NEGATIVE_DECIMAL_TEXT if non_negative else DECIMAL_TEXT
        return {"anyOf": [number, {"type": "string", "pattern": text}]}

    def bool_schema(self, schema: core_schema.BoolSchema) -> JsonSchemaValue:
        return {"anyOf": [{"type": "boolean"}, {"enum": list(YAML11_BOOLEANS)}]}

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        generated = super().dict_schema(schema)
        patterned = generated.pop("patternProperties", None)
        if patterned:
            # patternProperties alone lets a key that misses the pattern through unchecked.
            ((pattern, values),) = patterned.items()
            generated["propertyNames"] = {**generated.get("propertyNames", {}), "pattern": pattern}
            generated["additionalProperties"] = values
        return generated

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        choices = {str(tag): self.generate_inner(inner) for tag, inner in schema["choices"].items()}
        discriminator = schema["discriminator"]
        if isinstance(discriminator, str):
            return _switch_on_field(discriminator, choices)
        ordered = sorted(choices, key=list(_TAG_TESTS).index)
        chain: JsonSchemaValue = choices[ordered[-1]]
        for tag in reversed(ordered[:-1]):
            chain = {"if": _TAG_TESTS[tag], "then": choices[tag], "else": chain}
        if ordered == ["dated", "table", "number"]:
            chain = {**chain, _DEF_MARK: "Param"}
        return chain

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # "Rate" over "rate" says nothing; descriptions say what a field is

    def generate(self, schema: core_schema.CoreSchema, mode: Any = "validation") -> JsonSchemaValue:
        hoisted: dict[str, JsonSchemaValue] = {}
        generated = _hoist(super().generate(schema, mode), hoisted)
        definitions: dict[str, JsonSchemaValue] = generated.setdefault("$defs", {})
        definitions.update(hoisted)
        _require_table_depth(definitions["Table"], {"$ref": "#/$defs/Decimal"})
        _require_table_depth(definitions["SalaryBands"], {"$ref": "#/$defs/SalaryRange"})
        head = {
            "$schema": DIALECT,
            "$id": SCHEMA_ID,
            "title": TITLE,
            "description": DESCRIPTION,
        }
        return {**generated, **head}


def _whole(bound: Any) -> int:
    """A model's bound as a JSON number: the rule models only bound decimals by whole numbers."""
    if int(bound) != bound:
        raise ValueError(f"a fractional bound {bound} needs an exact JSON form")
    return int(bound)


def _switch_on_field(field: str, choices: dict[str, JsonSchemaValue]) -> JsonSchemaValue:
    """``kind: commission`` selects the Commission schema, as the loader's discriminator does."""
    return {
        "type": "object",
        "required": [field],
        "properties": {field: {"enum": list(choices)}},
        "allOf": [
            {
                "if": {"required": [field], "properties": {field: {"const": tag}}},
                "then": choice,
            }
            for tag, choice in choices.items()
        ],
    }


def _hoist(node: Any, definitions: dict[str, JsonSchemaValue]) -> Any:
    """Move every marked sub-schema to ``$defs`` once and refer to it by ``$ref``."""
    if isinstance(node, list):
        return [_hoist(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    inner = {key: _hoist(value, definitions) for key, value in node.items() if key != _DEF_MARK}
    name = node.get(_DEF_MARK)
    if name is None:
        return inner
    # A field's own description and default stay with the field, beside the reference.
    annotations = {key: inner.pop(key) for key in _FIELD_ANNOTATIONS if key in inner}
    definitions.setdefault(name, inner)
    return {"$ref": f"#/$defs/{name}", **annotations}


def _require_table_depth(model: JsonSchemaValue, leaf: JsonSchemaValue) -> None:
    """``values`` holds exactly ``len(by)`` levels of keys before each leaf."""
    rules = []
    for depth in range(1, _MAX_TABLE_DEPTH + 1):
        nested = leaf
        for _ in range(depth):
            nested = {"type": "object", "additionalProperties": nested}
        rules.append(
            {
                "if": {
                    "required": ["by"],
                    "properties": {"by": {"type": "array", "minItems": depth, "maxItems": depth}},
                },
                "then": {"properties": {"values": nested}},
            }
        )
    model["allOf"] = rules


def rule_set_json_schema() -> dict[str, Any]:
    """The JSON Schema of a rule file, as a dict (Draft 2020-12).

    >>> rule_set_json_schema()["title"]
    'compcalc rule set'
    """
    return RuleSet.model_json_schema(schema_generator=RuleSetJsonSchema)


def rule_set_json_schema_text() -> str:
    """The schema as the text ``compcalc schema`` prints and ships: sorted keys, 2-space indent.

    Deterministic: the same compcalc gives the same bytes.

    >>> rule_set_json_schema_text().startswith('{\\n  "$defs": {')
    True
    """
    return json.dumps(rule_set_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
