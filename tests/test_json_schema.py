"""The JSON Schema of the rule language (``compcalc schema``) says what the loader accepts.

Rule files are validated as an editor's YAML language server sees them (YAML 1.2: a date is
text): every shipped rule file, every rule set in these tests and in the docs that loads, and
generated ones, validate; documents the loader refuses are refused by the schema at the same
place. The shipped ``schema/compcalc-rules.schema.json`` is the one compcalc generates.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

import compcalc
from cli_run import REPO, cli
from compcalc.errors import RuleFileError
from compcalc.rules import rule_set_json_schema, rule_set_json_schema_text
from compcalc.rules.json_schema import DECIMAL_TEXT
from compcalc.rules.loader import format_path, read_yaml_with_positions
from compcalc.rules.schema import Number
from test_properties import RuleCase, rule_cases

SCHEMA_FILE = REPO / "schema" / "compcalc-rules.schema.json"
REGENERATE = "compcalc schema --out schema/compcalc-rules.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(
    rule_set_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
# Component lists in the tests are placed under this head to make whole rule sets.
HEAD = """\
id: fragments
version: "1"
currency: USD
effective:
  from: 2026-01-01
dimensions:
  seniority: [entry, mid, senior]
  company_size: [small, mid, large]
  region: [metro, non_metro]
plans:
  rep:
    components:
"""


def as_an_editor_sees(value: Any) -> Any:
    """The loader's data as YAML 1.2 reads it: dates are text (numbers stay numbers)."""
    if isinstance(value, dict):
        return {str(key): as_an_editor_sees(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_an_editor_sees(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def schema_errors(text: str) -> list[jsonschema.ValidationError]:
    data, _ = read_yaml_with_positions(text, "<rules>")
    return list(VALIDATOR.iter_errors(as_an_editor_sees(data)))


def leaf_paths(errors: list[jsonschema.ValidationError]) -> set[str]:
    """Where each error and each error inside an ``anyOf``/``if`` alternative points."""
    found: set[str] = set()
    for error in errors:
        found.add(format_path(error.absolute_path))
        found |= leaf_paths(list(error.context or []))
    return found


# --------------------------------------------------------------------------- the schema itself


def test_the_schema_is_draft_2020_12_with_an_id_and_title() -> None:
    schema = rule_set_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (schema["$id"], schema["title"]) == ("urn:compcalc:rule-set", "compcalc rule set")
    # Field docstrings become descriptions editors show.
    band = schema["$defs"]["Band"]["properties"]
    assert band["rate"] == {
        "$ref": "#/$defs/Param",
        "description": "The band's rate, a decimal fraction (0.05 is 5 %).",
    }
    assert "decelerator" in band


def test_the_shipped_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == rule_set_json_schema_text(), (
        f"schema/compcalc-rules.schema.json is out of date: run `{REGENERATE}`"
    )


def test_cli_schema_prints_it_and_writes_it(tmp_path: Path) -> None:
    printed = cli(["schema"])
    assert (printed.code, printed.err) == (0, "")
    assert printed.out == rule_set_json_schema_text()
    assert json.loads(printed.out)["title"] == "compcalc rule set"
    target = tmp_path / "out" / "rules.schema.json"
    written = cli(["schema", "--out", str(target)])
    assert (written.code, written.out, written.err) == (0, "", f"wrote {target}\n")
    assert target.read_text(encoding="utf-8") == printed.out


def test_the_flagship_points_editors_at_the_shipped_schema() -> None:
    first = (REPO / "rules" / "account_managers.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schema/compcalc-rules.schema.json"
    assert (REPO / "rules" / first.split("$schema=")[1]).resolve() == SCHEMA_FILE


# --------------------------------------------------------------------------- valid documents


def shipped_rule_files() -> list[Path]:
    return sorted((REPO / "rules").glob("*.yaml"))  # not rules/tests/: plan test cases


@pytest.mark.parametrize("path", shipped_rule_files(), ids=lambda p: p.name)
def test_every_shipped_rule_file_validates(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    compcalc.load_rules_text(text, str(path))
    assert [e.message for e in schema_errors(text)] == []


def test_the_flagship_is_among_the_shipped_rule_files() -> None:
    assert REPO / "rules" / "account_managers.yaml" in shipped_rule_files()


def rule_sets_in_the_tests() -> list[tuple[str, str]]:
    """Rule sets written in tests/*.py that the loader accepts, whole or as component lists."""
    found = []
    for path in [*sorted((REPO / "tests").glob("test_*.py")), REPO / "tests" / "offer_rules.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = _as_rule_set(node.value)
            if text is None:
                continue
            try:
                compcalc.load_rules_text(text)
            except RuleFileError:
                continue  # meant to be refused, or only part of a rule set
            found.append((f"{path.name}:{node.lineno}", text))
    return found


def _as_rule_set(text: str) -> str | None:
    if "kind:" not in text:
        return None
    if re.search(r"^plans:", text, re.MULTILINE):
        return text
    listed = textwrap.dedent(text).strip("\n")
    try:
        data = yaml.safe_load(listed)
    except yaml.YAMLError:
        return None
    if isinstance(data, list) and data and all(isinstance(d, dict) and "kind" in d for d in data):
        return HEAD + textwrap.indent(listed + "\n", " " * 6)
    return None


def test_every_rule_set_in_the_tests_validates() -> None:
    found = rule_sets_in_the_tests()
    assert len(found) >= 40, [name for name, _ in found]  # 49 when this test was written
    failures = {name: [e.message for e in schema_errors(text)] for name, text in found}
    assert {name: errors for name, errors in failures.items() if errors} == {}


def test_every_complete_example_in_the_rule_language_doc_validates() -> None:
    doc = (REPO / "docs" / "rule-language.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)
    complete = [b for b in blocks if re.search(r"^id:", b, re.M) and re.search(r"^plans:", b, re.M)]
    assert len(complete) >= 5
    for block in complete:
        compcalc.load_rules_text(block)
        assert [e.message for e in schema_errors(block)] == [], block


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(case=rule_cases())
def test_generated_rule_sets_validate(case: RuleCase) -> None:
    assert [e.message for e in schema_errors(case.text)] == []


def test_yaml_11_booleans_are_what_an_editor_sees_as_text() -> None:
    # PyYAML reads `recoverable: yes` as true; a YAML 1.2 editor reads the text "yes".
    text = HEAD + textwrap.indent(
        "- {id: commission, kind: commission, rate: 0.05}\n"
        "- {id: draw, kind: draw, amount: 100, recoverable: yes}\n",
        " " * 6,
    )
    draw = compcalc.load_rules_text(text).plans["rep"].components[1]
    assert draw.recoverable is True  # type: ignore[union-attr]
    data, _ = read_yaml_with_positions(text, "<rules>")
    data["plans"]["rep"]["components"][1]["recoverable"] = "yes"
    assert list(VALIDATOR.iter_errors(as_an_editor_sees(data))) == []


# --------------------------------------------------------------------------- decimals as text


@settings(database=None)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_every_decimal_written_as_text_matches_the_schema(number: Decimal) -> None:
    for text in {str(number), format(number, "f"), f" {number} "}:
        assert re.fullmatch(DECIMAL_TEXT, text), text


@settings(database=None)
@given(st.text(alphabet="0123456789.+-eE_ %x", max_size=12))
def test_text_the_schema_takes_for_a_decimal_the_loader_takes_too(text: str) -> None:
    if re.fullmatch(DECIMAL_TEXT, text):
        assert isinstance(TypeAdapter(Number).validate_python(text), Decimal)


@pytest.mark.parametrize("text", ["12%", "1,000", "$5", "5.5.5", "NaN", "Infinity", "0x10", ""])
def test_text_that_is_no_decimal_is_refused_by_both(text: str) -> None:
    assert not re.fullmatch(DECIMAL_TEXT, text)
    with pytest.raises(ValidationError):
        TypeAdapter(Number).validate_python(text)


# --------------------------------------------------------------------------- invalid documents


REFUSED = {
    "unknown component kind": (
        "- {id: c, kind: comission, rate: 0.05}",
        "plans.rep.components[0].kind",
        "plans.rep.components[0].kind",
    ),
    "misspelled field": (
        "- {id: c, kind: commission, rate: 0.05, qouta: 100}",
        "plans.rep.components[0]",
        "plans.rep.components[0]",
    ),
    "bad tier method": (
        "- {id: c, kind: commission, tiers: {method: marginally, bands: [{id: a, from: 0, "
        "rate: 0.05}]}}",
        "plans.rep.components[0].tiers.method",
        "plans.rep.components[0].tiers.method",
    ),
    "bad pay frequency": (
        "- {id: b, kind: base_salary, pay_frequency: weekly}",
        "plans.rep.components[0].pay_frequency",
        "plans.rep.components[0].pay_frequency",
    ),
    "percent sign": (
        "- {id: c, kind: commission, rate: 12%}",
        "plans.rep.components[0].rate",
        "plans.rep.components[0].rate",
    ),
    "table too shallow": (
        "- {id: c, kind: commission, rate: {by: [seniority, company_size], "
        "values: {entry: 0.03}}}",
        "plans.rep.components[0].rate",
        "plans.rep.components[0].rate.values.entry",
    ),
    "table too deep": (
        "- {id: c, kind: commission, rate: {by: [seniority], values: {entry: {small: 0.03}}}}",
        "plans.rep.components[0].rate",
        "plans.rep.components[0].rate.values.entry",
    ),
    "not a boolean": (
        "- {id: d, kind: draw, amount: 100, recoverable: maybe}",
        "plans.rep.components[0].recoverable",
        "plans.rep.components[0].recoverable",
    ),
    "dated inside dated": (
        "- {id: c, kind: allowance, amount: {dated: [{from: 2027-01-01, "
        "value: {dated: []}}]}}",
        "plans.rep.components[0].amount.dated[0].value",
        "plans.rep.components[0].amount.dated[0].value",
    ),
}
HEAD_REFUSED = {
    "plan key not a slug": (("  rep:", "  Sales Rep:"), 'plans["Sales Rep"]', "plans"),
    "version as a number": (('version: "1"', "version: 2027.1"), "version", "version"),
    "impossible date": (("2026-01-01", "2026-02-30"), "effective.from", "effective.from"),
    "bad rounding": (("currency: USD", "currency: USD\nrounding: up"), "rounding", "rounding"),
}


def _refused_documents() -> list[Any]:
    cases = [
        pytest.param(HEAD + textwrap.indent(component + "\n", " " * 6), field, where, id=name)
        for name, (component, field, where) in REFUSED.items()
    ]
    valid = "      - {id: b, kind: base_salary}\n"
    cases += [
        pytest.param(HEAD.replace(*change) + valid, field, where, id=name)
        for name, (change, field, where) in HEAD_REFUSED.items()
    ]
    return cases


@pytest.mark.parametrize(("text", "field", "where"), _refused_documents())
def test_refused_by_the_loader_and_the_schema_at_the_same_place(
    text: str, field: str, where: str
) -> None:
    with pytest.raises(RuleFileError) as refused:
        compcalc.load_rules_text(text)
    assert field in {d.field for d in refused.value.diagnostics}
    errors = schema_errors(text)
    assert errors, "the schema accepts what the loader refuses"
    assert where in leaf_paths(errors)
