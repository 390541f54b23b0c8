"""The rule-file loader: exact numbers, safe YAML, and every problem at its file:line:col."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from compcalc.errors import Diagnostic, RuleFileError
from compcalc.rules.loader import (
    Position,
    RuleYamlLoader,
    format_path,
    load_model,
    load_model_text,
    load_model_text_with_positions,
    read_yaml_with_positions,
)

# --------------------------------------------------------------------------- a small rule language


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tier(_Model):
    upto: Decimal | None = None
    rate: Decimal = Field(ge=0)


class Flat(_Model):
    kind: Literal["flat"]
    rate: Decimal


class Tiered(_Model):
    kind: Literal["tiered"]
    tiers: list[Tier] = Field(min_length=1)


Component = Annotated[Flat | Tiered, Field(discriminator="kind")]


class Plan(_Model):
    name: str
    starts: date | None = None
    components: list[Component]


class RuleSet(_Model):
    plans: dict[str, Plan]


GOOD = """\
plans:
  key_account_manager:
    name: Key accounts
    starts: 2024-10-01
    components:
      - kind: flat
        rate: 0.1
      - kind: tiered
        tiers:
          - {upto: 100, rate: 0.02}
          - {upto: 200, rate: 0.03}
          - {rate: 0.05}
"""


def errors(text: str, model: type[BaseModel] = RuleSet) -> list[Diagnostic]:
    """The diagnostics loading ``text`` raises (fails the test if it loads)."""
    with pytest.raises(RuleFileError) as caught:
        load_model_text(text, "rules/am.yaml", model)
    return caught.value.diagnostics


def one_error(text: str, model: type[BaseModel] = RuleSet) -> Diagnostic:
    found = errors(text, model)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def floats_in(value: Any) -> list[Any]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in floats_in(k) + floats_in(v)]
    if isinstance(value, list):
        return [f for item in value for f in floats_in(item)]
    return []


# --------------------------------------------------------------------------- numbers


def test_good_file_loads_with_exact_decimals() -> None:
    rules = load_model_text(GOOD, "rules/am.yaml", RuleSet)
    plan = rules.plans["key_account_manager"]
    flat, tiered = plan.components
    assert isinstance(flat, Flat)
    assert isinstance(tiered, Tiered)
    assert flat.rate == Decimal("0.1")
    assert str(flat.rate) == "0.1"  # the text as written, not 0.1000000000000000055511...
    assert [t.rate for t in tiered.tiers] == [Decimal("0.02"), Decimal("0.03"), Decimal("0.05")]
    assert plan.starts == date(2024, 10, 1)


def test_yaml_floats_become_decimal_never_float() -> None:
    text = "a: 0.1\nb: 1_000.25\nc: -2.50\nd: 1.5e+3\ne: !!float '7'\nf: [0.3, {g: 0.7}]\nh: 3\n"
    data, _ = read_yaml_with_positions(text, "x.yaml")
    assert data["a"] == Decimal("0.1") and str(data["a"]) == "0.1"
    assert data["b"] == Decimal("1000.25")
    assert str(data["c"]) == "-2.50"  # trailing zero kept: it is the written precision
    assert data["d"] == Decimal("1500")
    assert data["e"] == Decimal("7")
    assert data["h"] == 3 and type(data["h"]) is int
    assert floats_in(data) == []
    assert all(type(v) is Decimal for v in (data["a"], data["b"], data["c"], data["d"]))


@pytest.mark.parametrize("written", [".inf", "-.inf", ".nan", ".NaN"])
def test_infinity_and_nan_are_refused(written: str) -> None:
    text = GOOD.replace("rate: 0.1", f"rate: {written}")
    found = one_error(text)
    assert (found.line, found.column) == (7, 15)
    assert found.field == "plans.key_account_manager.components[0].rate"
    assert found.message == f"expected a finite decimal number, got {written}"


# --------------------------------------------------------------------------- located errors


def test_bad_decimal_through_union_and_dict_key_has_exact_place() -> None:
    found = one_error(GOOD.replace("{rate: 0.05}", "{rate: 12%}"))
    assert found.source == "rules/am.yaml"
    assert (found.line, found.column) == (12, 20)
    # The discriminator tag ('tiered') pydantic puts in loc is not part of the user's path.
    assert found.field == "plans.key_account_manager.components[1].tiers[2].rate"
    assert found.message == 'expected a decimal number, got "12%"'
    assert str(found).splitlines()[0] == (
        "rules/am.yaml:12:20: plans.key_account_manager.components[1].tiers[2].rate: "
        'expected a decimal number, got "12%"'
    )


def test_excerpt_shows_the_line_and_a_caret_under_the_column() -> None:
    found = one_error(GOOD.replace("{rate: 0.05}", "{rate: 12%}"))
    assert found.excerpt == (
        "  12 |           - {rate: 12%}\n"
        "     |                    ^"
    )  # fmt: skip
    line, caret = found.excerpt.splitlines()
    assert line.index("12%") == caret.index("^")


def test_missing_field_points_at_its_parent() -> None:
    found = one_error(GOOD.replace("        rate: 0.1\n", ""))
    # The list item that lacks the field: "- kind: flat" on line 6, at "kind".
    assert (found.line, found.column) == (6, 9)
    assert found.field == "plans.key_account_manager.components[0]"
    assert found.message == 'missing required field "rate"'


def test_missing_field_of_a_block_mapping_points_at_its_key() -> None:
    found = one_error(GOOD.replace("    name: Key accounts\n", ""))
    assert (found.line, found.column) == (2, 3)  # the "key_account_manager:" key
    assert found.field == "plans.key_account_manager"
    assert found.message == 'missing required field "name"'


def test_unknown_field_names_it_and_lists_the_allowed_ones() -> None:
    found = one_error(GOOD.replace("        rate: 0.1\n", "        rate: 0.1\n        rat: 2\n"))
    assert (found.line, found.column) == (8, 9)  # at the unknown key itself
    assert found.field == "plans.key_account_manager.components[0]"
    assert found.message == 'unknown field "rat" (did you mean "rate"?); allowed fields: kind, rate'


def test_unknown_kind_points_at_the_tag_and_lists_the_kinds() -> None:
    found = one_error(GOOD.replace("kind: flat", "kind: percent"))
    assert (found.line, found.column) == (6, 15)
    assert found.field == "plans.key_account_manager.components[0].kind"
    assert found.message == 'unknown kind "percent"; expected one of flat, tiered'


def test_bad_dict_key_is_reported_at_the_key() -> None:
    text = GOOD + "  2024:\n    name: x\n    components: []\n"
    found = one_error(text)
    assert (found.line, found.column) == (13, 3)
    assert found.field == "plans[2024]"
    assert found.message == "invalid key: expected text, got 2024"


def test_impossible_date_is_a_field_error_not_a_crash() -> None:
    found = one_error(GOOD.replace("2024-10-01", "2024-02-30"))
    assert (found.line, found.column) == (4, 13)
    assert found.field == "plans.key_account_manager.starts"
    assert found.message == 'expected a date (YYYY-MM-DD), got "2024-02-30"'


def test_limits_and_lists_in_plain_words() -> None:
    text = GOOD.replace("{rate: 0.05}", "{rate: -1}").replace("name: Key accounts", "name: [a]")
    found = errors(text)
    assert [(d.line, d.field, d.message) for d in found] == [
        (3, "plans.key_account_manager.name", "expected text, got a list"),
        (
            12,
            "plans.key_account_manager.components[1].tiers[2].rate",
            "expected at least 0, got -1",
        ),
    ]


def test_several_errors_are_reported_at_once_in_file_order() -> None:
    text = (
        GOOD.replace("{rate: 0.05}", "{rate: 12%}")  # line 12
        .replace("kind: flat", "kind: flat\n        extra: 1")  # line 7, shifts the rest down
        .replace("name: Key accounts", "name: Key accounts\n    name: Twice")  # line 4
    )
    found = errors(text)
    assert [(d.line, d.message) for d in found] == [
        (4, 'duplicate key "name"; first defined on line 3'),
        (8, 'unknown field "extra"; allowed fields: kind, rate'),
        (14, 'expected a decimal number, got "12%"'),
    ]
    text_of_error = str(RuleFileError(found))
    assert text_of_error.index(":4:") < text_of_error.index(":8:") < text_of_error.index(":14:")


def test_empty_file() -> None:
    found = one_error("# nothing yet\n")
    assert found.message == "expected a mapping, got nothing (the file is empty)"


# --------------------------------------------------------------------------- the YAML itself


def test_duplicate_key_names_the_line_of_both() -> None:
    text = GOOD.replace("        rate: 0.1\n", "        rate: 0.1\n        rate: 0.2\n")
    found = one_error(text)
    assert (found.line, found.column) == (8, 9)  # the second "rate"
    assert found.field == "plans.key_account_manager.components[0]"
    assert found.message == 'duplicate key "rate"; first defined on line 7'


def test_duplicate_key_is_refused_by_the_loader_used_directly() -> None:
    with pytest.raises(RuleFileError, match=r'duplicate key "a"; first defined on line 1'):
        yaml.load("a: 1\nb: 2\na: 3\n", Loader=RuleYamlLoader)


def test_merge_keys_and_aliases_still_work() -> None:
    text = """\
defaults: &flat {kind: flat, rate: 0.1}
plans:
  kam:
    name: &name Key accounts
    components:
      - *flat
      - <<: *flat
        rate: 0.2
  ram:
    name: *name
    components: [*flat]
"""
    data, positions = read_yaml_with_positions(text, "r.yaml")
    del data["defaults"]
    rules = RuleSet.model_validate(data)
    kam = rules.plans["kam"].components
    assert kam == [Flat(kind="flat", rate=Decimal("0.1")), Flat(kind="flat", rate=Decimal("0.2"))]
    assert rules.plans["ram"].name == "Key accounts"
    # A merged value is found where it is written: in the anchored mapping on line 1.
    assert positions.at(("plans", "kam", "components", 1, "kind")) == Position(1, 24)
    assert positions.at(("plans", "kam", "components", 1, "rate")) == Position(8, 15)


def test_alias_bomb_is_refused_fast() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):  # 10**10 strings once expanded, from 90 aliases
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    started = time.perf_counter()
    found = one_error("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0
    assert found.message == (
        "aliases expand this file to more than 1,000,000 values; refusing to load it"
    )


def test_merge_key_bomb_is_refused_fast() -> None:
    # Each merge copies the pairs of the mappings it merges: 10**8 pairs from 70 aliases.
    lines = ["a: &a {" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}"]
    for level in range(1, 8):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} {{<<: [{', '.join([f'*{previous}'] * 10)}]}}")
    started = time.perf_counter()
    found = one_error("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0
    assert found.message.startswith("aliases expand this file to more than 1,000,000 values")


def test_inf_inside_an_inline_merge_is_refused() -> None:
    found = one_error(GOOD.replace("rate: 0.1", "<<: {rate: .inf}"))
    assert (found.line, found.field) == (7, "plans.key_account_manager.components[0].rate")
    assert found.message == "expected a finite decimal number, got .inf"


def test_too_many_aliases_are_refused() -> None:
    text = "one: &one 1\n" + "".join(f"k{i}: *one\n" for i in range(201))
    found = one_error(text)
    assert (found.line, found.column) == (202, 7)  # the 201st alias
    assert found.message == "this file uses more than 200 aliases (*name); refusing to load it"


def test_recursive_alias_is_refused() -> None:
    found = one_error("plans: &p {x: *p}\n")
    assert found.message == "a value contains itself through an alias; refusing to load it"


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['echo owned']",
        "!!python/object:builtins.dict {}",
        "!!python/name:os.system",
        "!custom 1",
    ],
)
def test_python_and_custom_tags_are_refused(tagged: str) -> None:
    found = one_error(f"plans: {tagged}\n")
    assert (found.line, found.column, found.field) == (1, 8, "plans")
    tag = tagged.split()[0]
    assert found.message.startswith(f'unsupported tag "{tag}"; rule files hold only plain values')


def test_yaml_syntax_error_has_line_and_column() -> None:
    found = one_error(GOOD.replace("{upto: 200, rate: 0.03}", "{upto: 200, rate: 0.03"))
    assert found.line == 12
    assert found.column == 13
    assert found.message.startswith("invalid YAML: ")
    assert found.excerpt.endswith("^")


def test_bad_indentation_is_a_syntax_error_at_its_line() -> None:
    found = one_error("plans:\n  kam:\n    name: x\n   components: []\n")
    assert (found.line, found.column) == (4, 4)
    assert found.message.startswith("invalid YAML: expected <block end>")


def test_tab_indentation_message() -> None:
    found = one_error("plans:\n\tkam: {}\n")
    assert (found.line, found.column) == (2, 1)
    assert found.message == "invalid YAML: a tab character; YAML indents and separates with spaces"


def test_control_character_is_located() -> None:
    found = one_error("plans:\n  kam: \x07\n")
    assert (found.line, found.column) == (2, 8)
    assert found.message == "invalid character U+0007: special characters are not allowed"


# --------------------------------------------------------------------------- helpers


def test_positions_by_path() -> None:
    _, positions = read_yaml_with_positions(GOOD, "rules/am.yaml")
    path = ("plans", "key_account_manager", "components", 1, "tiers", 2, "rate")
    assert positions.at(path) == Position(12, 20)
    assert positions.key_at(path) == Position(12, 14)
    assert positions.at(("plans", "nobody")) is None
    # A missing path reports at the deepest part that exists.
    assert positions.nearest(("plans", "key_account_manager", "nope")) == Position(2, 3)
    diagnostic = positions.diagnostic(path, "too generous")
    assert str(diagnostic).splitlines()[0] == (
        "rules/am.yaml:12:20: plans.key_account_manager.components[1].tiers[2].rate: too generous"
    )


def test_load_model_text_with_positions() -> None:
    rules, positions = load_model_text_with_positions(GOOD, "am.yaml", RuleSet)
    assert rules.plans["key_account_manager"].name == "Key accounts"
    assert positions.at(("plans", "key_account_manager", "name")) == Position(3, 11)


def test_format_path() -> None:
    assert format_path(("plans", "kam", "components", 1, "rate")) == "plans.kam.components[1].rate"
    assert format_path(()) == ""
    assert format_path(("quotas", "Q1 2024", 2024, True)) == 'quotas["Q1 2024"][2024][true]'


def test_load_model_reads_a_file_and_names_it(tmp_path: Path) -> None:
    rule_file = tmp_path / "am.yaml"
    rule_file.write_text(GOOD.replace("rate: 0.1", "rate: ten"), encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_model(rule_file, RuleSet)
    (found,) = caught.value.diagnostics
    assert found.source == str(rule_file)
    assert (found.line, found.column) == (7, 15)
    rule_file.write_text(GOOD, encoding="utf-8")
    assert load_model(str(rule_file), RuleSet).plans["key_account_manager"].name == "Key accounts"


def test_load_model_refuses_non_utf8_and_missing_files(tmp_path: Path) -> None:
    rule_file = tmp_path / "am.yaml"
    rule_file.write_bytes(b"plans:\n  kam: caf\xe9\n")
    with pytest.raises(RuleFileError) as caught:
        load_model(rule_file, RuleSet)
    (found,) = caught.value.diagnostics
    assert (found.line, found.column) == (2, 11)
    assert found.message == "the file is not UTF-8 text (byte 0xE9)"
    with pytest.raises(RuleFileError, match="cannot read the file"):
        load_model(tmp_path / "missing.yaml", RuleSet)
