"""``compcalc check``: warnings about valid plans that are probably not what was meant.

Each warning comes from a small inline rule set (components under the standard head below,
so the first component starts on line 13), with its exact text and line. Figures are worked
by hand: with ``quota: roster`` the curves are drawn for a quota of 1,000,000.00.
"""

from __future__ import annotations

import itertools
import textwrap
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compcalc
from cli_run import REPO, cli
from compcalc.rules import check_rules, check_rules_text, plan_warnings
from compcalc.rules.digest import ruleset_digest
from test_properties import RuleCase, commissions, rule_case, rule_cases

HEAD = """\
id: checks
version: "1"
currency: USD
effective:
  from: 2027-01-01
  to: 2027-12-31
dimensions:
  seniority: [entry, mid, senior]
  company_size: [small, large]
plans:
  rep:
    components:
"""
FLAGSHIP = REPO / "rules" / "account_managers.yaml"


def document(components: str) -> str:
    return HEAD + textwrap.indent(textwrap.dedent(components).strip("\n") + "\n", " " * 6)


def check(components: str) -> list[str]:
    """The first line of each finding for a rule set holding ``components``."""
    return [str(f).splitlines()[0] for f in check_rules_text(document(components), "plan.yaml")]


RETRO_DROP = """\
- id: commission
  kind: commission
  tiers:
    method: retroactive
    bands:
      - {id: low, from: 0, to: 0.5, rate: 0.05}
      - {id: high, from: 0.5, rate: 0.04}
"""


# --------------------------------------------------------------------------- pays-less


def test_retroactive_band_with_a_lower_rate_pays_less() -> None:
    # 499,999.99 x 5% = 24,999.9995, paid as 25,000.00 (half up), just below 50 % of quota;
    # 500,000.00 x 4% = 20,000.00 at it.
    assert check(RETRO_DROP) == [
        "plan.yaml:19:15: warning: plans.rep.components[0].tiers.bands[1]: more sales pay less: "
        "reaching band 'high' at 50% of quota, the commission due falls from 25,000.00 to "
        "20,000.00 (at 499,999.99 and 500,000.00 credited, for a quota of 1,000,000.00); if "
        "that is intended, declare 'decelerator: true' on the band [pays-less]"
    ]


def test_the_fall_is_shown_as_paid_with_the_rule_sets_rounding() -> None:
    # A fall of 0.0004 at 999,999.99 credited: 2,499.999975 -> 2,500.00 (half up) and
    # 1,000,000.00 x 0.25% = 2,500.00 at the edge: rounding hides it, so it is shown exactly.
    tiny = RETRO_DROP.replace("0.05}", "0.0025}").replace("rate: 0.04}", "rate: 0.0024999996}")
    tiny = tiny.replace("to: 0.5", "to: 1.0").replace("from: 0.5", "from: 1.0")
    (found,) = check(tiny)
    assert "falls from 2,499.999975 to 2,499.9996 (at 999,999.99 and 1,000,000.00" in found
    # With rounding down, 24,999.9995 is paid as 24,999.99.
    (found,) = check_rules_text(
        document(RETRO_DROP).replace("currency: USD", "currency: USD\nrounding: down"), "p.yaml"
    )
    assert "falls from 24,999.99 to 20,000.00 (at 499,999.99" in str(found)


def test_a_declared_decelerator_is_silent_and_false_changes_nothing() -> None:
    declared = RETRO_DROP.replace("rate: 0.04}", "rate: 0.04, decelerator: true}")
    assert check(declared) == []
    silent = compcalc.load_rules_text(document(declared))
    assert silent.plans["rep"].components[0].tiers.bands[1].decelerator is True  # type: ignore[union-attr]
    # ``decelerator: false`` says what leaving it out says: same warning, same digest.
    undeclared = RETRO_DROP.replace("rate: 0.04}", "rate: 0.04, decelerator: false}")
    assert len(check(undeclared)) == 1
    assert ruleset_digest(compcalc.load_rules_text(document(undeclared))) == ruleset_digest(
        compcalc.load_rules_text(document(RETRO_DROP))
    )


def test_a_negative_marginal_rate_pays_less_within_its_band() -> None:
    # 1,000,000.00 x 5% = 50,000.00; twice that credited: 50,000.00 - 1,000,000.00 x 1%.
    found = check("""\
        - id: commission
          kind: commission
          tiers:
            method: marginal
            bands:
              - {id: standard, from: 0, to: 1.0, rate: 0.05}
              - {id: above, from: 1.0, rate: -0.01}
    """)
    assert found == [
        "plan.yaml:19:15: warning: plans.rep.components[0].tiers.bands[1]: more sales pay less: "
        "within band 'above' the commission due falls from 50,000.00 to 40,000.00 (at "
        "1,000,000.00 and 2,000,000.00 credited, for a quota of 1,000,000.00); if that is "
        "intended, declare 'decelerator: true' on the band [pays-less]"
    ]


def test_a_negative_flat_rate_names_the_combinations_it_has() -> None:
    found = check("""\
        - id: commission
          kind: commission
          rate:
            by: [seniority, company_size]
            values:
              entry: {small: 0.03, large: 0.03}
              mid: {small: 0.03, large: -0.01}
              senior: {small: -0.02, large: 0.02}
    """)
    # With no band edge the curve is drawn up to the quota: 1,000,000.00 x -1% = -10,000.00.
    assert found == [
        "plan.yaml:15:9: warning: plans.rep.components[0].rate: more sales pay less: the "
        "commission due falls from 0.00 to -10,000.00 (at 0.00 and 1,000,000.00 credited), "
        "for seniority=mid, company_size=large and 1 more [pays-less]"
    ]


def test_a_negative_override_rate_pays_the_manager_less() -> None:
    assert check("""\
        - id: team
          kind: override
          rate: {by: [seniority], values: {entry: 0.005, mid: 0.005, senior: -0.005}}
    """) == [
        "plan.yaml:15:9: warning: plans.rep.components[0].rate: more team sales pay the manager "
        "less: the rate is negative (-0.5%), for seniority=senior [pays-less]"
    ]


def test_per_transaction_speaks_of_deals() -> None:
    # A deal of 10,000.00 pays 400.00; one of 20,000.00 pays 400.00 - 10,000.00 x 1% = 300.00.
    found = check("""\
        - id: deals
          kind: commission
          tiers:
            method: per_transaction
            measure: amount
            bands:
              - {id: first, from: 0, to: 10000, rate: 0.04}
              - {id: rest, from: 10000, rate: -0.01}
    """)
    assert found == [
        "plan.yaml:20:15: warning: plans.rep.components[0].tiers.bands[1]: more sales pay less: "
        "within band 'rest' the commission due falls from 400.00 to 300.00 (for a deal of "
        "10,000.00 and one of 20,000.00); if that is intended, declare 'decelerator: true' on "
        "the band [pays-less]"
    ]


def test_a_fall_below_the_gate_is_not_felt() -> None:
    # Nothing is due below 60 %: the drop at 50 % pays nobody less (band 'low' is reported as
    # never paid at, instead).
    found = check(RETRO_DROP.replace("  tiers:", "  gate: 0.6\n  tiers:"))
    assert [line.rsplit(" [", 1)[1] for line in found] == ["unreachable-band]"]


def test_a_fall_above_a_plan_year_cap_is_not_felt() -> None:
    # Money bands: 9,999.99 x 5% = 499.9995 and 10,000.00 x 4% = 400.00 are both above 300.00.
    capped = """\
        - id: commission
          kind: commission
          cap: {amount: 300}
          tiers:
            method: retroactive
            measure: amount
            bands:
              - {id: low, from: 0, to: 10000, rate: 0.05}
              - {id: high, from: 10000, rate: 0.04}
    """
    assert check(capped) == []
    assert len(check(capped.replace("300", "450"))) == 1  # 400.00 < 450.00 < 499.9995


def test_a_dated_rate_names_the_date_it_starts_paying_less() -> None:
    found = check("""\
        - id: commission
          kind: commission
          tiers:
            method: retroactive
            bands:
              - {id: low, from: 0, to: 0.5, rate: 0.05}
              - id: high
                from: 0.5
                rate:
                  dated:
                    - {from: 2027-01-01, value: 0.06}
                    - {from: 2027-07-01, value: 0.04}
    """)
    # From 2027-07-01: 499,999.99 x 5% = 24,999.9995 -> 25,000.00, then 500,000.00 x 4%.
    assert found == [
        "plan.yaml:19:15: warning: plans.rep.components[0].tiers.bands[1]: more sales pay less: "
        "reaching band 'high' at 50% of quota, the commission due falls from 25,000.00 to "
        "20,000.00 (at 499,999.99 and 500,000.00 credited, for a quota of 1,000,000.00), from "
        "2027-07-01; if that is intended, declare 'decelerator: true' on the band [pays-less]"
    ]


# --------------------------------------------------------------------------- bands, gates, caps


BANDS_BY_SENIORITY = """\
- id: commission
  kind: commission
  tiers:
    method: marginal
    bands:
      - id: low
        from: 0
        to:
          by: [seniority]
          values: {entry: 0.5, mid: 0.5, senior: SENIOR_END}
        rate: 0.02
      - {id: high, from: 0.5, rate: 0.04}
"""


def test_band_edges_in_a_table_that_overlap_or_leave_a_gap() -> None:
    assert check(BANDS_BY_SENIORITY.replace("SENIOR_END", "0.6")) == [
        "plan.yaml:24:32: warning: plans.rep.components[0].tiers.bands[1].from: an overlap: "
        "band 'high' starts at 0.5, before 'low' ends (0.6), for seniority=senior: a run stops "
        "for such employees [band-gap]"
    ]
    assert check(BANDS_BY_SENIORITY.replace("SENIOR_END", "0.4")) == [
        "plan.yaml:24:32: warning: plans.rep.components[0].tiers.bands[1].from: a gap: band "
        "'high' starts at 0.5, after 'low' ends (0.4), for seniority=senior: a run stops for "
        "such employees [band-gap]"
    ]
    assert check(BANDS_BY_SENIORITY.replace("SENIOR_END", "0.5")) == []


def test_band_edges_as_plain_numbers_stay_validate_errors() -> None:
    broken = RETRO_DROP.replace("from: 0.5, rate: 0.04", "from: 0.6, rate: 0.04")
    found = check_rules_text(document(broken), "plan.yaml")
    assert [(f.severity, f.code, f.diagnostic.line) for f in found] == [("error", "invalid", 19)]
    assert str(found[0]).startswith(
        "plan.yaml:19:32: error: plans.rep.components[0].tiers.bands[1].from: band 'high' must "
        "start where band 'low' ends (0.5)"
    )


def test_a_retroactive_band_below_the_gate_is_never_paid_at() -> None:
    assert check(RETRO_DROP.replace("  tiers:", "  gate: 0.6\n  tiers:")) == [
        "plan.yaml:19:15: warning: plans.rep.components[0].tiers.bands[0]: band 'low' is never "
        "paid at: it ends at or below the gate (60% of quota), so nothing is due while "
        "attainment is in it, and from the gate on a higher band's rate applies to everything "
        "[unreachable-band]"
    ]
    # Marginal bands below the gate still pay their slice once the gate is met.
    gated = RETRO_DROP.replace("  tiers:", "  gate: 0.6\n  tiers:")
    assert check(gated.replace("retroactive", "marginal")) == []


CAPPED = """\
- id: commission
  kind: commission
  quota: 100000
  gate: 0.5
  rate: 0.1
  cap: {amount: CAP}
"""


def test_a_plan_year_cap_no_more_than_the_gate_pays() -> None:
    # At the gate: 50 % of 100,000.00 = 50,000.00 credited x 10% = 5,000.00 due.
    assert check(CAPPED.replace("CAP", "4000")) == [
        "plan.yaml:18:23: warning: plans.rep.components[0].cap.amount: the plan-year cap "
        "(4,000.00) is no more than the 5,000.00 already due at the gate (50,000.00 credited): "
        "from the gate on the commission is the cap, whatever is sold [cap-below-gate]"
    ]
    assert len(check(CAPPED.replace("CAP", "5000"))) == 1
    assert check(CAPPED.replace("CAP", "5000.01")) == []
    # A per-period cap defers rather than forfeits: not reported.
    assert check(CAPPED.replace("CAP", "4000, per: period")) == []


def test_a_linear_bonus_capped_at_or_below_its_floor() -> None:
    assert check("""\
        - id: bonus
          kind: bonus
          method: linear
          target: {amount: 1000}
          floor: 1.0
          cap: 0.8
    """) == [
        "plan.yaml:18:14: warning: plans.rep.components[0].cap: the cap (80%) is not above the "
        "floor (100%): nothing is paid below the floor and from it on the bonus stays at the "
        "target x 80%, whatever is sold [cap-below-gate]"
    ]


def test_a_cap_of_zero_never_pays() -> None:
    assert check("""\
        - id: commission
          kind: commission
          rate: 0.1
          cap: {amount: 0, per: period}
    """) == [
        "plan.yaml:16:23: warning: plans.rep.components[0].cap.amount: the cap is 0.00: this "
        "commission never pays anything [never-pays]"
    ]


def test_a_step_that_never_changes_the_bonus() -> None:
    assert check("""\
        - id: bonus
          kind: bonus
          method: step
          target: {amount: 1000}
          steps:
            - {id: s1, at: 1.0, payout: 0.5}
            - {id: s2, at: 1.2, payout: 0.4}
    """) == [
        "plan.yaml:19:13: warning: plans.rep.components[0].steps[1]: step 's2' (at 120%, payout "
        "40%) never changes the bonus: step 's1' is reached at 100% and pays 50%; a step bonus "
        "pays the largest payout reached [dead-step]"
    ]


# --------------------------------------------------------------------------- tables, money, dates


MISSING = """\
- id: commission
  kind: commission
  rate:
    by: [seniority, company_size]
    values:
      entry: {small: 0.03, large: 0.03}
      mid: {small: 0.03}
"""


def test_a_table_that_misses_combinations() -> None:
    assert check(MISSING) == [
        "plan.yaml:15:9: warning: plans.rep.components[0].rate: the table has no value for "
        "seniority=mid, company_size=large; seniority=senior, company_size=small; "
        "seniority=senior, company_size=large and no default: a run stops for any employee "
        "with these values (add them, or a 'default') [missing-combination]"
    ]


def test_missing_combinations_count_only_what_the_component_can_meet() -> None:
    narrowed = MISSING.replace("  rate:", "  when: {seniority: [entry, mid]}\n  rate:")
    assert check(narrowed) == [
        "plan.yaml:16:9: warning: plans.rep.components[0].rate: the table has no value for "
        "seniority=mid, company_size=large and no default: a run stops for any employee with "
        "these values (add them, or a 'default') [missing-combination]"
    ]
    assert check(MISSING + "    default: 0.02\n") == []


def test_money_with_more_decimals_than_the_currency() -> None:
    assert check("""\
        - id: bonus
          kind: bonus
          method: fixed
          target: {amount: 1000.005}
    """) == [
        "plan.yaml:16:26: warning: plans.rep.components[0].target.amount: 1000.005 has more "
        "than 2 decimal places for USD: a run that needs it stops [money-decimals]"
    ]


def test_dated_entries_never_in_force_and_a_start_with_no_value() -> None:
    assert check("""\
        - id: car
          kind: allowance
          amount:
            dated:
              - {from: 2026-01-01, value: 100}
              - {from: 2026-06-01, value: 200}
              - {from: 2027-01-01, value: 300}
              - {from: 2028-01-01, value: 400}
        - id: phone
          kind: allowance
          amount:
            dated:
              - {from: 2027-02-01, value: 50}
    """) == [
        "plan.yaml:17:15: warning: plans.rep.components[0].amount.dated[0]: this entry is never "
        "in force: the entry from 2026-06-01 replaces it by the time the rules take effect "
        "(2027-01-01) [dated-unused]",
        "plan.yaml:18:15: warning: plans.rep.components[0].amount.dated[1]: this entry is never "
        "in force: the entry from 2027-01-01 replaces it by the time the rules take effect "
        "(2027-01-01) [dated-unused]",
        "plan.yaml:20:15: warning: plans.rep.components[0].amount.dated[3]: this entry is never "
        "in force: it starts after the rules end (2027-12-31) [dated-unused]",
        "plan.yaml:25:22: warning: plans.rep.components[1].amount.dated[0].from: no value is in "
        "force from 2027-01-01 (when the rules take effect) until 2027-02-01: a run of a period "
        "ending before then stops [no-value]",
    ]


def test_a_component_reused_through_an_alias_is_reported_once() -> None:
    text = HEAD.replace("plans:\n  rep:\n    components:\n", "") + textwrap.dedent("""\
        plans:
          rep:
            components:
              - &club
                id: club
                kind: bonus
                method: step
                target: {amount: 1000}
                steps:
                  - {id: s1, at: 1.0, payout: 0.5}
                  - {id: s2, at: 1.2, payout: 0.5}
          lead:
            components:
              - *club
    """)
    found = [str(f).splitlines()[0] for f in check_rules_text(text, "plan.yaml")]
    assert found == [
        "plan.yaml:20:13: warning: plans.rep.components[0].steps[1]: step 's2' (at 120%, payout "
        "50%) never changes the bonus: step 's1' is reached at 100% and pays 50%; a step bonus "
        "pays the largest payout reached [dead-step]"
    ]


def test_findings_show_the_line_with_a_caret() -> None:
    (finding,) = check_rules_text(document(CAPPED.replace("CAP", "4000")), "plan.yaml")
    assert str(finding).splitlines()[1:] == [
        "  18 |         cap: {amount: 4000}",
        "     |                       ^",
    ]


# --------------------------------------------------------------------------- the flagship, CLI


def test_the_flagship_checks_clean() -> None:
    assert check_rules(FLAGSHIP) == []
    assert plan_warnings(compcalc.load_rules(FLAGSHIP)) == []


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    clean = cli(["check", "rules/account_managers.yaml"])
    assert (clean.code, clean.out, clean.err) == (
        0, "ok  rules/account_managers.yaml  (no warnings)\n", ""
    )  # fmt: skip

    warned = tmp_path / "warned.yaml"
    warned.write_text(document(CAPPED.replace("CAP", "4000")))
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(document("- {id: commission, kind: commission, rate: 12%}"))
    done = cli(["check", str(warned), "rules/account_managers.yaml", str(invalid)])
    assert done.code == 1
    lines = done.out.splitlines()
    assert lines[0].startswith(f"{warned}:18:23: warning: plans.rep.components[0].cap.amount: ")
    assert lines[0].endswith(" [cap-below-gate]")
    assert "ok  rules/account_managers.yaml  (no warnings)" in lines
    assert any(
        line.startswith(f"{invalid}:13:50: error: plans.rep.components[0].rate: expected a decimal")
        for line in lines
    )
    assert done.err == "compcalc: 1 warning and 1 error in 2 of 3 rule file(s)\n"

    missing = cli(["check", str(tmp_path / "absent.yaml")])
    assert missing.code == 1
    assert missing.out.startswith(f"{tmp_path / 'absent.yaml'}: error: cannot read the file")


def test_cli_check_says_a_plan_test_file_is_for_compcalc_test() -> None:
    done = cli(["check", "rules/tests/offers.yaml"])
    assert (done.code, done.out) == (
        1,
        "rules/tests/offers.yaml: error: this is a plan-test file (it tests "
        "../account_managers.yaml), not a rule file: run `compcalc test rules/tests/offers.yaml` "
        "for its cases, and `compcalc check` on the rule file\n",
    )
    assert done.err == "compcalc: 0 warnings and 1 error in 1 of 1 rule file(s)\n"


def test_cli_check_usage_and_help() -> None:
    assert cli(["check"]).code == 2
    shown = cli(["check", "--help"])
    assert shown.code == 0
    assert "exit status: 0 when no file has a warning or an error; 1 when any has" in shown.out


# --------------------------------------------------------------------------- properties


PROPERTY = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@settings(PROPERTY, max_examples=60)
@given(case=rule_cases(nondecreasing=True))
def test_nondecreasing_rates_never_pay_less(case: RuleCase) -> None:
    """Rates that never fall, with or without gates and caps: no ``pays-less``."""
    codes = {f.code for f in plan_warnings(case.rules)}
    assert "pays-less" not in codes


@settings(PROPERTY, max_examples=80)
@given(
    component=commissions(nondecreasing=False, caps=(None,), gates=False, margin=False),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_pays_less_exactly_when_a_retroactive_rate_falls(
    component: dict[str, object], currency: str
) -> None:
    """Without gate or cap, rates at or above 0: a fall needs a retroactive band whose rate is
    below the band before it (its edge is far above a minor unit, so the drop shows)."""
    base = {"id": "base", "kind": "base_salary"}
    case = rule_case(currency, "half_up", [base, component], [base])
    tiers = component.get("tiers")
    rates = [Decimal(b["rate"]) for b in tiers["bands"]] if isinstance(tiers, dict) else []
    falls = isinstance(tiers, dict) and tiers["method"] == "retroactive" and any(
        later < earlier for earlier, later in itertools.pairwise(rates)
    )
    codes = [f.code for f in plan_warnings(case.rules)]
    assert ("pays-less" in codes) == falls, codes
