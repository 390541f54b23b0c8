"""Offer modelling: band position, compa-ratio, penetration, OTE, pay mix and payout curves,
hand-computed; the curve is what monthly ``run_period`` pays; expected pay is reproducible.

Rules (tests/offer_rules.py), quota $1,000,000, base $100,000 unless said otherwise:

* ``gated``: gate 50 %, retroactive 3 % below 80 % and 5 % from 80 %; car allowance $500 a
  month ($6,000 a year).
* ``capped``: marginal 10 % up to quota and 15 % above, plan-year cap $120,000; a $5,000
  bonus from 100 %.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import compcalc
from compcalc.errors import CompcalcError
from compcalc.offers import AttainmentSamples, NormalAttainment, Offer, OfferResult
from offer_rules import RULES

D = Decimal
QUOTA = "1000000"


@pytest.fixture(scope="module")
def rules() -> compcalc.RuleSet:
    return compcalc.load_rules_text(RULES, "offers.yaml")


@pytest.fixture(scope="module")
def both(rules: compcalc.RuleSet) -> dict[str, OfferResult]:
    """Both plans' curves in one batch of engine runs (as --compare does)."""
    offers = [
        Offer(role=role, seniority="senior", company_size="large", region="metro",
              base=D(100000), quota=D(QUOTA), label=role)
        for role in ("gated", "capped")
    ]
    results = compcalc.compare_offers(rules, offers)
    return {r.offer.label: r for r in results}


def total(result: OfferResult, attainment: str) -> Decimal:
    return result.at(D(attainment)).total


def test_curve_runs_from_0_to_200_percent_in_5_percent_steps(both: dict[str, OfferResult]) -> None:
    curve = both["gated"].curve
    assert [p.attainment for p in curve] == [D("0.05") * k for k in range(41)]
    for point in curve:
        assert point.total == point.base + point.variable + point.allowances
        assert point.base == D("100000.00") and point.allowances == D("6000.00")


def test_gate_makes_the_curve_jump(both: dict[str, OfferResult]) -> None:
    gated = both["gated"]
    assert total(gated, "0.45") == D("106000.00")  # under the gate: base and car only
    assert total(gated, "0.5") == D("121000.00")  # 500,000 x 3 % = 15,000 at once
    assert total(gated, "0.75") == D("128500.00")  # 750,000 x 3 % = 22,500


def test_retroactive_tier_rerates_every_dollar(both: dict[str, OfferResult]) -> None:
    gated = both["gated"]
    assert total(gated, "0.8") == D("146000.00")  # 800,000 x 5 % = 40,000, not 24,000 + 0
    assert total(gated, "2") == D("206000.00")  # 2,000,000 x 5 % = 100,000


def test_cap_flattens_the_curve(both: dict[str, OfferResult]) -> None:
    capped = both["capped"]
    assert capped.at(D("0.5")).variable == D("50000.00")  # 10 % of 500,000
    assert capped.at(D("0.95")).variable == D("95000.00")  # bonus not reached
    assert capped.at(D("1")).variable == D("105000.00")  # 100,000 + the 5,000 bonus
    assert capped.at(D("1.1")).variable == D("120000.00")  # 100,000 + 15 % x 100,000 + 5,000
    # 100,000 + 15 % x 150,000 = 122,500 > cap 120,000: flat from here on
    for attainment in ("1.15", "1.5", "2"):
        assert capped.at(D(attainment)).variable == D("125000.00")
    assert dict(capped.at(D("2")).components) == {
        "base": D("100000.00"), "commission": D("120000.00"), "club": D("5000.00"),
    }  # fmt: skip


def test_ote_pay_mix_and_allowances(both: dict[str, OfferResult]) -> None:
    gated = both["gated"]
    assert (gated.base, gated.target_variable, gated.ote) == (
        D("100000.00"), D("50000.00"), D("150000.00"))  # fmt: skip
    assert gated.pay_mix == (67, 33)  # 100,000 / 150,000 = 66.67 %
    assert (gated.allowances, gated.total_at_target) == (D("6000.00"), D("156000.00"))
    assert gated.allowance_components == ("car",)
    capped = both["capped"]
    assert (capped.ote, capped.pay_mix, capped.allowances) == (D("205000.00"), (49, 51), 0)


POSITIONS = [  # base, position, outside by, compa-ratio, range penetration
    ("95000", "inside", "0", "0.9500", "0.2500"),
    ("85000", "below", "5000", "0.8500", "-0.2500"),
    ("112000", "above", "2000", "1.1200", "1.1000"),
    ("103333.33", "inside", "0", "1.0333", "0.6667"),  # rounded half up from 0.66666...
]


def test_band_position_compa_ratio_and_penetration(rules: compcalc.RuleSet) -> None:
    # Band metro: 90,000 / 100,000 / 110,000; (base - 90,000) / 20,000 is the penetration.
    offers = [
        Offer(role="gated", seniority="senior", company_size="large", region="metro",
              base=D(base), quota=D(QUOTA))
        for base, *_ in POSITIONS
    ]
    for result, (_, position, outside, compa, penetration) in zip(
        compcalc.compare_offers(rules, offers), POSITIONS, strict=True
    ):
        band = result.band
        assert (band.min, band.mid, band.max) == (D(90000), D(100000), D(110000))
        assert (band.position, band.outside_by) == (position, D(outside))
        assert (band.compa_ratio, band.range_penetration) == (D(compa), D(penetration))


CHECKED = [("gated", "0.45"), ("gated", "0.5"), ("gated", "0.8"), ("capped", "0"),
           ("capped", "1.1"), ("capped", "1.35")]  # fmt: skip


@pytest.fixture(scope="module")
def monthly_runs(rules: compcalc.RuleSet) -> dict[tuple[str, str], Decimal]:
    """A plan year paid month by month by run_period (replaying earlier months itself) for one
    employee per (plan, attainment) whose ledger reaches it: twelve sales on the 15th, cut so
    they add up to attainment x quota exactly. The employees are independent of each other."""
    roster = pd.DataFrame([{
        "employee_id": f"E{k}", "name": "Candidate", "role": role, "seniority": "senior",
        "company_size": "large", "region": "metro", "currency": "USD",
        "annual_base": "100000.00", "quota": "1000000.00", "hire_date": "2026-01-01",
    } for k, (role, _) in enumerate(CHECKED)])  # fmt: skip
    rows = []
    for k, (_, attainment) in enumerate(CHECKED):
        cents = int(D(attainment) * 100_000_000)
        sales = [cents * (m + 1) // 12 - cents * m // 12 for m in range(12)]
        rows += [(f"T{k}-{m}", f"E{k}", f"2026-{m + 1:02d}-15", "sale",
                  f"{Decimal(c) / 100:.2f}", "USD") for m, c in enumerate(sales) if c]  # fmt: skip
    ledger = pd.DataFrame(
        rows, columns=["transaction_id", "employee_id", "date", "event", "amount", "currency"]
    )
    paid = dict.fromkeys(CHECKED, Decimal(0))
    for month in range(1, 13):
        result = compcalc.run_period(rules, roster, ledger, f"2026-{month:02d}")
        for k, key in enumerate(CHECKED):
            paid[key] += result.statement(f"E{k}").total
    return paid


@pytest.mark.parametrize(("role", "attainment"), CHECKED)
def test_curve_equals_what_run_period_pays(
    both: dict[str, OfferResult],
    monthly_runs: dict[tuple[str, str], Decimal],
    role: str,
    attainment: str,
) -> None:
    assert both[role].at(D(attainment)).total == monthly_runs[(role, attainment)]


def test_flagship_curve_equals_run_period_for_a_senior_key_account_manager() -> None:
    rules = compcalc.load_rules(Path(__file__).parent.parent / "rules" / "account_managers.yaml")
    result = compcalc.model_offer(
        rules, role="key_account_manager", seniority="senior", company_size="large",
        region="metro", base="104000", quota="1200000",
    )  # fmt: skip
    # marginal: 600,000 x 2 % + 600,000 x 4.5 % = 39,000; 1.2 M x 125 % hits the 60,000 cap
    assert (result.target_variable, result.ote) == (D("39000.00"), D("143000.00"))
    assert result.at(D("1.25")).variable == result.at(D("2")).variable == D("60000.00")
    # health 3 x 600 + 9 x 625 (dated from January) + housing 15,000
    assert result.allowances == D("22425.00")
    assert (result.band.compa_ratio, result.band.range_penetration) == (D("0.9858"), D("0.3636"))
    roster = pd.DataFrame([{
        "employee_id": "E1", "name": "Candidate", "role": "key_account_manager",
        "seniority": "senior", "company_size": "large", "region": "metro", "currency": "USD",
        "annual_base": "104000.00", "quota": "1200000.00", "hire_date": "2026-10-01",
    }])  # fmt: skip
    ledger = pd.DataFrame(
        [(f"T{m}", "E1", f"{2026 + (m + 9) // 12}-{(m + 9) % 12 + 1:02d}-15", "sale",
          "90000.00", "USD") for m in range(12)],
        columns=["transaction_id", "employee_id", "date", "event", "amount", "currency"],
    )  # fmt: skip  (12 x 90,000 = 1,080,000 = 90 % of quota)
    months = [f"{2026 + (m + 9) // 12}-{(m + 9) % 12 + 1:02d}" for m in range(12)]
    paid = sum(
        (compcalc.run_period(rules, roster, ledger, month).statement("E1").total
         for month in months), Decimal(0),
    )  # fmt: skip
    assert result.at(D("0.9")).total == paid


def test_expected_pay_from_given_attainments(rules: compcalc.RuleSet) -> None:
    given = ("0.4", "0.5", "0.8", "0.9", "1.0", "1.2", "0.3", "0.6", "0.7", "1.5")
    samples = AttainmentSamples(values=tuple(D(v) for v in given))
    result = compcalc.model_offer(
        rules, role="gated", seniority="senior", company_size="large", region="metro",
        base="100000", quota=QUOTA, distribution=samples,
    )  # fmt: skip
    expected = result.expected
    assert expected is not None and expected.samples == 10
    # sorted pay: 0.3, 0.4 -> 106,000; 0.5 -> 121,000; 0.6 -> 124,000; 0.7 -> 127,000;
    # 0.8 -> 146,000; 0.9 -> 151,000; 1.0 -> 156,000; 1.2 -> 166,000; 1.5 -> 181,000.
    # Nearest rank: p10 is the 1st, the median the 5th, p90 the 9th of ten.
    assert (expected.p10, expected.median, expected.p90) == (
        D("106000.00"), D("127000.00"), D("166000.00"))  # fmt: skip
    assert expected.mean == D("138400.00")  # 1,384,000 / 10
    assert expected.attainment_median == D("0.70")


def test_normal_distribution_is_seeded_and_reproducible(rules: compcalc.RuleSet) -> None:
    normal = NormalAttainment(mean=D("1.0"), sd=D("0.3"), samples=60, seed=7)
    assert normal.draw() == normal.draw()
    assert normal.draw() != NormalAttainment(mean=D("1.0"), sd=D("0.3"), samples=60,
                                             seed=8).draw()  # fmt: skip
    kwargs = dict(role="capped", seniority="senior", company_size="large", region="metro",
                  base="100000", quota=QUOTA, distribution=normal)  # fmt: skip
    first = compcalc.model_offer(rules, **kwargs)
    assert first.expected is not None
    assert first.expected.p10 <= first.expected.median <= first.expected.p90
    assert "60 samples, seed 7" in first.expected.source


def test_json_has_exact_decimals_and_a_verdict(both: dict[str, OfferResult]) -> None:
    data = json.loads(both["gated"].to_json(), parse_float=lambda text: pytest.fail(text))
    assert data["ote"] == "150000.00" and data["band"]["compa_ratio"] == "1.0000"
    assert data["curve"][10]["total"] == "121000.00"
    assert data["verdict"].startswith("Inside the band: $100,000.00 base is between")


def test_undefined_offers_are_explained(rules: compcalc.RuleSet) -> None:
    base = dict(seniority="senior", company_size="large", region="metro", base="100000",
                quota=QUOTA)  # fmt: skip
    with pytest.raises(
        CompcalcError, match=re.escape("no plan for role 'sdr'. Roles they define: capped")
    ):
        compcalc.model_offer(rules, role="sdr", **base)
    with pytest.raises(CompcalcError, match="region 'rural' is not one the rules define"):
        compcalc.model_offer(rules, role="gated", **{**base, "region": "rural"})
    with pytest.raises(CompcalcError, match="give the quota of the offer"):
        compcalc.model_offer(rules, role="gated", **{**base, "quota": None})
    with pytest.raises(CompcalcError, match=re.escape("5 % (0.05) or finer")):
        compcalc.model_offer(rules, role="gated", step="0.1", **base)
    with pytest.raises(ValueError, match="not a float"):
        Offer(role="gated", seniority="senior", company_size="large", region="metro",
              base=100000.0)  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(CompcalcError, match="not wholly inside the rules' effective dates"):
        compcalc.model_offer(rules, role="gated", as_of=dt.date(2027, 3, 1), **base)
