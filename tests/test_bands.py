"""Salary bands in the rule language: validation at file:line, lookups, the flagship's table."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pandas as pd
import pytest

import compcalc
from compcalc.errors import CompcalcError, RuleFileError
from compcalc.offers import band_for, band_rows

FLAGSHIP = "rules/account_managers.yaml"

HEAD = """\
id: bands-test
version: "1"
currency: USD
effective: {from: 2026-01-01}
dimensions:
  seniority: [entry, mid]
  region: [metro, non_metro]
plans:
  kam:
    components:
      - {id: base, kind: base_salary}
  nam:
    components:
      - {id: base, kind: base_salary}
"""


def _load(bands: str) -> compcalc.RuleSet:
    return compcalc.load_rules_text(HEAD + bands, "bands.yaml")


def _errors(bands: str) -> list[str]:
    with pytest.raises(RuleFileError) as caught:
        _load(bands)
    return [str(d).splitlines()[0] for d in caught.value.diagnostics]


GOOD = """\
bands:
  - from: 2026-01-01
    by: [seniority, region]
    values:
      entry:
        metro:     {min: 40000, mid: 45000, max: 50000}
        non_metro: {min: 38000, mid: 42000, max: 46000}
      mid:
        metro:     {min: 55000, mid: 60000, max: 65000}
        non_metro: {min: 50000, mid: 55000, max: 60000}
"""


def test_a_complete_table_loads_and_looks_up() -> None:
    rules = _load(GOOD)
    band = band_for(rules, "kam", {"seniority": "mid", "region": "metro"}, dt.date(2030, 1, 1))
    assert (band.min, band.mid, band.max) == (Decimal(55000), Decimal(60000), Decimal(65000))
    assert len(band_rows(rules)) == 2 * 2 * 2  # two plans x two seniorities x two regions


def test_min_mid_max_out_of_order_is_located() -> None:
    errors = _errors(GOOD.replace("{min: 55000, mid: 60000, max: 65000}",
                                  "{min: 55000, mid: 70000, max: 65000}"))  # fmt: skip
    assert errors == [
        "bands.yaml:23:9: bands[0].values.mid.metro: a band needs min <= mid <= max, "
        "got min 55000, mid 70000, max 65000"
    ]


def test_a_missing_combination_is_named() -> None:
    errors = _errors(GOOD.replace("        non_metro: {min: 50000, mid: 55000, max: 60000}\n", ""))
    assert len(errors) == 1
    assert errors[0].startswith("bands.yaml:18:5: bands[0].values: no band for seniority=mid, "
                                "region=non_metro: add them, or a 'default' band")  # fmt: skip


def test_a_default_covers_missing_combinations() -> None:
    text = GOOD.replace("        non_metro: {min: 50000, mid: 55000, max: 60000}\n", "")
    rules = _load(text + "    default: {min: 1000, mid: 2000, max: 3000}\n")
    band = band_for(rules, "nam", {"seniority": "mid", "region": "non_metro"}, dt.date(2026, 5, 1))
    assert (band.mid, band.default) == (Decimal(2000), True)


def test_unknown_dimension_values_and_roles_are_refused() -> None:
    errors = _errors(GOOD.replace("      mid:\n", "      senior:\n").replace(
        "    by: [seniority, region]", "    roles: [kam, sales_rep]\n    by: [seniority, region]"))
    assert any("bands[0].roles[1]: no plan 'sales_rep'; plans: kam, nam" in e for e in errors)
    assert any("bands[0].values.senior: seniority 'senior' is not one of the declared values"
               in e for e in errors)  # fmt: skip


def test_overlapping_dates_are_refused_for_the_same_plan() -> None:
    second = GOOD.split("bands:\n")[1].replace("from: 2026-01-01", "from: 2026-06-01")
    errors = _errors(GOOD.replace("from: 2026-01-01", "from: 2026-01-01\n    to: 2026-06-30")
                     + second)  # fmt: skip
    assert len(errors) == 1
    assert "overlaps bands[0] (from 2026-01-01 to 2026-06-30) for plan(s) kam, nam" in errors[0]
    # Back to back is fine, and so are overlapping entries for different plans.
    _load(GOOD.replace("from: 2026-01-01", "from: 2026-01-01\n    to: 2026-05-31") + second)
    apart = GOOD.replace("    by:", "    roles: [kam]\n    by:") + second.replace(
        "    by:", "    roles: [nam]\n    by:").replace("2026-06-01", "2026-01-01")
    _load(apart)


def test_money_with_too_many_decimals_and_unbanded_plans() -> None:
    errors = _errors(GOOD.replace("max: 50000}", "max: 50000.005}"))
    assert any("bands[0].values.entry.metro.max: 50000.005 has more than 2 decimal places" in e
               for e in errors)  # fmt: skip
    errors = _errors(GOOD.replace("from: 2026-01-01", "from: 2026-02-01"))
    assert errors == [
        "bands.yaml:15:1: bands: no salary band is in force on 2026-01-01 (the day the rules "
        "take effect) for plan(s) kam, nam; add them to an entry's roles or values"
    ]


def test_undefined_lookups_say_what_exists() -> None:
    rules = _load(GOOD.replace("from: 2026-01-01", "from: 2026-01-01\n    to: 2026-12-31"))
    with pytest.raises(CompcalcError, match="no salary band for kam is in force on 2027-01-01; "
                       "bands for kam exist 2026-01-01 to 2026-12-31"):  # fmt: skip
        band_for(rules, "kam", {"seniority": "mid", "region": "metro"}, dt.date(2027, 1, 1))
    with pytest.raises(CompcalcError, match="region 'rural' is not one the rules define; "
                       "they define metro, non_metro"):  # fmt: skip
        band_for(rules, "kam", {"seniority": "mid", "region": "rural"}, dt.date(2026, 1, 1))
    with pytest.raises(
        CompcalcError, match=re.escape("no plan for role 'sdr'. Roles they define: kam, nam")
    ):
        band_for(rules, "sdr", {"seniority": "mid", "region": "metro"}, dt.date(2026, 1, 1))


def test_flagship_bands_follow_the_seeds() -> None:
    rules = compcalc.load_rules(FLAGSHIP)
    rows = band_rows(rules, "key_account_manager")
    table = {tuple(v for _, v in row.dimensions): row for row in rows}
    assert len(table) == 18
    top = table[("senior", "large", "metro")]
    assert (top.min, top.mid, top.max) == (Decimal(100000), Decimal(105500), Decimal(111000))
    assert min(r.min for r in rows if dict(r.dimensions)["seniority"] == "entry") == 38000
    assert max(r.max for r in rows if dict(r.dimensions)["seniority"] == "entry") == 55000
    for (seniority, size, region), row in table.items():
        assert row.mid == (row.min + row.max) / 2
        if region == "metro":
            other = table[(seniority, size, "non_metro")]
            assert (row.min, row.mid, row.max) > (other.min, other.mid, other.max)


def test_every_example_employee_sits_inside_their_band() -> None:
    rules = compcalc.load_rules(FLAGSHIP)
    roster = pd.read_csv("examples/roster.csv", dtype=str)
    for row in roster.itertuples():
        dims = {"seniority": row.seniority, "company_size": row.company_size,
                "region": row.region}  # fmt: skip
        band = band_for(rules, str(row.role), dims, dt.date(2026, 10, 1))
        assert band.min <= Decimal(str(row.annual_base)) <= band.max, row.employee_id
