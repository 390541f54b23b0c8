"""Specification by example: small rule sets, tiny rosters and ledgers, figures worked by hand.

Every test builds its own rule set inline, runs one pay period with :func:`compcalc.run_period`
and checks exact Decimal amounts of named statement lines. The arithmetic behind each expected
figure is written out in a comment above the assertion, so a reader can check the engine
against the rule language without reading the engine.

Conventions used throughout (unless a test says otherwise):

* plan year = calendar year 2026 (``start_month: 1``), the run period is March 2026;
* one plan, ``rep``; currency USD; rounding ``half_up``;
* employee E1: seniority mid, company_size mid, region metro, annual base 60,000.00,
  quota 100,000.00, hired 2020-01-01, not terminated.

Calendar facts used by hand: 2026-03-01 is a Sunday; March 2026 has 31 days and 22 working
days (Mon-Fri): 2-6, 9-13, 16-20, 23-27, 30-31.

Every run goes through :func:`run`, which also checks that each statement's lines add up
exactly to its total.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pandas as pd
import pytest

import compcalc

D = Decimal

# --------------------------------------------------------------------------------------------
# Helpers: rule sets, rosters and ledgers as text; runs; line look-ups

HEADER = """\
id: spec
version: "1"
currency: {currency}
rounding: {rounding}
effective:
  from: 2026-01-01
plan_year:
  start_month: 1
dimensions:
  seniority: [entry, mid, senior]
  company_size: [small, mid, large]
  region: [metro, non_metro]
plans:
  rep:
    components:
{components}"""


def rules(*components: str, currency: str = "USD", rounding: str = "half_up") -> compcalc.RuleSet:
    """A rule set with the standard header and one plan ``rep`` holding ``components``.

    Each argument is a YAML list of components (indented any way); they are concatenated.
    """
    listed = "".join(textwrap.dedent(part).strip("\n") + "\n" for part in components)
    body = textwrap.indent(listed, " " * 6)
    text = HEADER.format(currency=currency, rounding=rounding, components=body)
    return compcalc.load_rules_text(text)


ROSTER_COLUMNS = [
    "employee_id", "name", "role", "seniority", "company_size", "region", "currency",
    "annual_base", "quota", "hire_date", "termination_date", "manager_id",
]  # fmt: skip
LEDGER_COLUMNS = ["transaction_id", "employee_id", "date", "event", "amount", "currency", "margin"]


def emp(employee_id: str = "E1", **fields: str) -> dict[str, str]:
    """One roster row as text cells; anything not given takes the standard value."""
    row = {
        "employee_id": employee_id, "name": f"Employee {employee_id}", "role": "rep",
        "seniority": "mid", "company_size": "mid", "region": "metro", "currency": "USD",
        "annual_base": "60000.00", "quota": "100000.00", "hire_date": "2020-01-01",
        "termination_date": "", "manager_id": "",
    }  # fmt: skip
    unknown = set(fields) - set(row)
    assert not unknown, f"not a roster column: {unknown}"
    row.update(fields)
    return row


def roster(*rows: dict[str, str]) -> pd.DataFrame:
    """A roster frame (all cells text); with no rows, just the standard employee E1."""
    return pd.DataFrame(list(rows or (emp(),)), columns=ROSTER_COLUMNS, dtype=str)


def event(
    kind: str, tid: str, date: str, amount: str = "", *, emp: str = "E1",
    currency: str = "USD", margin: str = "",
) -> list[str]:
    return [tid, emp, date, kind, amount, currency, margin]


def sale(tid: str, date: str, amount: str, **kw: str) -> list[str]:
    return event("sale", tid, date, amount, **kw)


def refund(tid: str, date: str, amount: str, **kw: str) -> list[str]:
    return event("refund", tid, date, amount, **kw)


def opened(tid: str, date: str, **kw: str) -> list[str]:
    return event("dispute_opened", tid, date, **kw)


def resolved(tid: str, date: str, **kw: str) -> list[str]:
    return event("dispute_resolved", tid, date, **kw)


def ledger(*rows: list[str]) -> pd.DataFrame:
    """A ledger frame (all cells text); no rows is an empty ledger."""
    return pd.DataFrame([list(r) for r in rows], columns=LEDGER_COLUMNS, dtype=str)


def assert_balanced(result: compcalc.PeriodResult) -> None:
    """Every statement's lines add up exactly to its total (no cent lost or invented)."""
    for statement in result.statements:
        lines_sum = sum((line.amount for line in statement.lines), D(0))
        assert lines_sum == statement.total, statement.employee_id
        ids = [line.id for line in statement.lines]
        assert len(ids) == len(set(ids)), f"line ids repeat on {statement.employee_id}: {ids}"


def run(
    rule_set: compcalc.RuleSet,
    staff: pd.DataFrame | compcalc.Roster | None = None,
    sales: pd.DataFrame | compcalc.Ledger | None = None,
    period: str = "2026-03",
    paid_to_date: pd.DataFrame | None = None,
) -> compcalc.PeriodResult:
    """Run one period and check that every statement balances.

    ``staff``/``sales`` may be frames, or a Roster/Ledger read once (loops over many periods
    read their inputs once to stay fast).
    """
    result = compcalc.run_period(
        rule_set,
        roster() if staff is None else staff,
        ledger() if sales is None else sales,
        period,
        paid_to_date,
    )
    assert_balanced(result)
    return result


def monthly_runs(
    rule_set: compcalc.RuleSet, staff: pd.DataFrame, sales: pd.DataFrame | None = None,
    months: int = 12,
) -> list[compcalc.PeriodResult]:
    """Run January .. month ``months`` of 2026 in turn, reading the inputs once."""
    read_staff = compcalc.read_roster(staff)
    read_sales = compcalc.read_ledger(ledger() if sales is None else sales)
    return [run(rule_set, read_staff, read_sales, period=f"2026-{m:02d}")
            for m in range(1, months + 1)]


def line(result: compcalc.PeriodResult, employee: str, line_id: str) -> compcalc.Line:
    statement = result.statement(employee)
    for item in statement.lines:
        if item.id == line_id:
            return item
    raise AssertionError(
        f"{employee} has no line {line_id!r}; lines: {line_ids(result, employee)}; "
        f"held: {statement.held}; excluded: {statement.excluded}; rejected: {result.rejected}"
    )


def amount(result: compcalc.PeriodResult, employee: str, line_id: str) -> Decimal:
    return line(result, employee, line_id).amount


def line_ids(result: compcalc.PeriodResult, employee: str) -> list[str]:
    return [item.id for item in result.statement(employee).lines]


def component_total(result: compcalc.PeriodResult, employee: str, component: str) -> Decimal:
    return sum(
        (item.amount for item in result.statement(employee).lines if item.component == component),
        D(0),
    )


BASE = """
- id: base
  kind: base_salary
"""

FLAT_5 = """
- id: comm
  kind: commission
  rate: 0.05
"""

# --------------------------------------------------------------------------------------------
# 1. Base salary


def test_base_monthly_full_month() -> None:
    result = run(rules(BASE))
    # 60,000.00 / 12 = 5,000.00 (divides evenly, so no cumulative rounding)
    assert amount(result, "E1", "base.installment") == D("5000.00")
    assert result.statement("E1").total == D("5000.00")


def test_base_not_divisible_by_twelve_rounds_cumulatively() -> None:
    results = monthly_runs(rules(BASE), roster(emp(annual_base="55000.00")), months=3)
    paid = {m: amount(r, "E1", "base.installment") for m, r in enumerate(results, start=1)}
    # installment k pays round(55,000 * k / 12) - round(55,000 * (k - 1) / 12):
    #   k=1: round(4,583.333) - 0          = 4,583.33
    #   k=2: round(9,166.667) - 4,583.33   = 9,166.67 - 4,583.33 = 4,583.34
    #   k=3: round(13,750.00) - 9,166.67   = 4,583.33
    assert paid == {1: D("4583.33"), 2: D("4583.34"), 3: D("4583.33")}


def test_base_full_plan_year_adds_up_to_the_annual_amount() -> None:
    results = monthly_runs(rules(BASE), roster(emp(annual_base="55000.00")))
    monthly = [amount(r, "E1", "base.installment") for r in results]
    # the cumulative amounts to date round to .33, .67, .00 in turn, so the installments
    # go 4,583.33 / 4,583.34 / 4,583.33 and repeat; 4 x (4,583.33 + 4,583.34 + 4,583.33)
    # = 4 x 13,750.00 = 55,000.00 exactly (rounding each month alone would pay 54,999.96)
    assert monthly == [D("4583.33"), D("4583.34"), D("4583.33")] * 4
    assert sum(monthly) == D("55000.00")


def test_base_semi_monthly_pays_two_installments_in_a_month() -> None:
    result = run(rules("""
        - id: base
          kind: base_salary
          pay_frequency: semi_monthly
        """), roster(emp(annual_base="55000.00")))
    # 24 installments a year; March's halves are installments 5 and 6 of the plan year.
    #   k=4: round(55,000 * 4 / 24 = 9,166.667)  = 9,166.67
    #   k=5: round(55,000 * 5 / 24 = 11,458.333) = 11,458.33 -> 11,458.33 - 9,166.67 = 2,291.66
    #   k=6: round(55,000 * 6 / 24 = 13,750.00)  = 13,750.00 -> 13,750.00 - 11,458.33 = 2,291.67
    assert amount(result, "E1", "base.installment.2026-03-1") == D("2291.66")
    assert amount(result, "E1", "base.installment.2026-03-2") == D("2291.67")
    # 2,291.66 + 2,291.67 = 4,583.33
    assert result.statement("E1").total == D("4583.33")


BIWEEKLY = """
- id: base
  kind: base_salary
  pay_frequency: biweekly
  biweekly_anchor: 2026-01-05
"""


def test_base_biweekly_three_installments_in_a_month() -> None:
    result = run(rules(BIWEEKLY), roster(emp(annual_base="50000.00")))
    # 14-day installments from Monday 2026-01-05 end on Sundays: 01-04 (k=1), 01-18, 02-01,
    # 02-15, 03-01 (k=5), 03-15 (k=6), 03-29 (k=7). March holds three of them.
    # cumulative due = round(50,000 * k / 26):
    #   k=4 7,692.31; k=5 9,615.38; k=6 11,538.46; k=7 13,461.54
    #   k=5: 9,615.38 - 7,692.31 = 1,923.07
    #   k=6: 11,538.46 - 9,615.38 = 1,923.08
    #   k=7: 13,461.54 - 11,538.46 = 1,923.08
    assert amount(result, "E1", "base.installment.2026-02-16..2026-03-01") == D("1923.07")
    assert amount(result, "E1", "base.installment.2026-03-02..2026-03-15") == D("1923.08")
    assert amount(result, "E1", "base.installment.2026-03-16..2026-03-29") == D("1923.08")
    # 1,923.07 + 1,923.08 + 1,923.08 = 5,769.23
    assert result.statement("E1").total == D("5769.23")


def test_base_biweekly_two_installments_in_a_month() -> None:
    result = run(rules(BIWEEKLY), roster(emp(annual_base="50000.00")), period="2026-04")
    # April holds installments ending 04-12 (k=8) and 04-26 (k=9):
    #   k=8: round(50,000 * 8 / 26 = 15,384.615) = 15,384.62 - 13,461.54 = 1,923.08
    #   k=9: round(50,000 * 9 / 26 = 17,307.692) = 17,307.69 - 15,384.62 = 1,923.07
    assert amount(result, "E1", "base.installment.2026-03-30..2026-04-12") == D("1923.08")
    assert amount(result, "E1", "base.installment.2026-04-13..2026-04-26") == D("1923.07")
    assert len(result.statement("E1").lines) == 2


def test_base_biweekly_full_plan_year_adds_up() -> None:
    results = monthly_runs(rules(BIWEEKLY), roster(emp(annual_base="50000.00")))
    paid = [item.amount for r in results for item in r.statement("E1").lines]
    # installments end 2026-01-04 + 14 * n for n = 0..25 (the 26th, 2027-01-03, is next year):
    # 26 installments adding up to round(50,000 * 26 / 26) = 50,000.00
    assert len(paid) == 26
    assert sum(paid) == D("50000.00")


# --------------------------------------------------------------------------------------------
# 2. Proration for joiners and leavers


def test_proration_mid_month_hire_by_calendar_days() -> None:
    result = run(rules(BASE), roster(emp(hire_date="2026-03-18")))
    # employed 18..31 March = 14 of 31 calendar days: 5,000.00 * 14 / 31 = 2,258.0645 -> 2,258.06
    assert amount(result, "E1", "base.installment") == D("2258.06")


def test_proration_applies_to_the_cumulatively_rounded_installment() -> None:
    result = run(rules(BASE), roster(emp(annual_base="55000.00", hire_date="2026-03-18")))
    # the full March installment is 4,583.33 (k=3, see above); 4,583.33 * 14 / 31
    # = 458,333 cents * 14 / 31 = 6,416,662 / 31 = 206,989.10 cents -> 2,069.89
    assert amount(result, "E1", "base.installment") == D("2069.89")


def test_proration_by_working_days() -> None:
    result = run(rules("""
        - id: base
          kind: base_salary
          proration: working_days
        """), roster(emp(hire_date="2026-03-18")))
    # March 2026 working days: 2-6, 9-13, 16-20, 23-27, 30-31 = 5+5+5+5+2 = 22.
    # Hired Wednesday 18th: 18, 19, 20, 23-27, 30, 31 = 3 + 5 + 2 = 10 working days.
    # 5,000.00 * 10 / 22 = 2,272.7272... -> 2,272.73
    assert amount(result, "E1", "base.installment") == D("2272.73")


def test_proration_termination_mid_month_by_calendar_days() -> None:
    result = run(rules(BASE), roster(emp(termination_date="2026-03-10")))
    # the termination date is a day employed: 1..10 March = 10 of 31 days
    # 5,000.00 * 10 / 31 = 1,612.9032 -> 1,612.90
    assert amount(result, "E1", "base.installment") == D("1612.90")


def test_proration_termination_mid_month_by_working_days() -> None:
    result = run(rules("""
        - id: base
          kind: base_salary
          proration: working_days
        """), roster(emp(termination_date="2026-03-10")))
    # last day Tuesday 10th: working days 2-6 and 9-10 = 7 of 22
    # 5,000.00 * 7 / 22 = 1,590.909 -> 1,590.91
    assert amount(result, "E1", "base.installment") == D("1590.91")


def test_proration_hired_and_terminated_in_the_same_month() -> None:
    result = run(rules(BASE), roster(emp(hire_date="2026-03-09", termination_date="2026-03-20")))
    # 9..20 March = 12 of 31 days: 5,000.00 * 12 / 31 = 1,935.4839 -> 1,935.48
    assert amount(result, "E1", "base.installment") == D("1935.48")


def test_not_yet_hired_gets_no_statement() -> None:
    result = run(rules(BASE), roster(emp("E1"), emp("E2", hire_date="2026-04-01")))
    assert line_ids(result, "E1") == ["base.installment"]
    # E2 starts in April: no day employed in March, nothing to pay, no statement
    with pytest.raises(KeyError):
        result.statement("E2")


# --------------------------------------------------------------------------------------------
# 3. Commission


def test_commission_flat_rate() -> None:
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-03-02", "1000.00"),
        sale("T2", "2026-03-20", "2500.50"),
    ))
    # (1,000.00 + 2,500.50) * 5% = 3,500.50 * 0.05 = 175.025 -> 175.03 (half_up)
    comm = line(result, "E1", "comm.new_credit")
    assert comm.amount == D("175.03")
    assert comm.transactions == ("T1", "T2")


def test_rows_dated_after_the_period_are_counted_from_the_next_day() -> None:
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-03-31", "1000.00"),  # the period's last day: paid
        sale("T2", "2026-04-01", "2500.50"),  # the next day: later, counted, not paid
        sale("T3", "2026-05-20", "10.00"),
    ))
    assert dict(result.summary)["events_after_period_end"] == "2"
    assert line(result, "E1", "comm.new_credit").transactions == ("T1",)


def test_commission_marginal_tiers_on_money() -> None:
    rule_set = rules("""
        - id: comm
          kind: commission
          tiers:
            method: marginal
            measure: amount
            bands:
              - {id: low, from: 0, to: 10000, rate: 0.02}
              - {id: mid, from: 10000, to: 50000, rate: 0.05}
              - {id: high, from: 50000, rate: 0.08}
        """)
    sales = ledger(sale("T1", "2026-01-15", "20000.00"), sale("T2", "2026-03-10", "40000.00"))
    january = run(rule_set, sales=sales, period="2026-01")
    # January: 10,000 x 2% + 10,000 x 5% = 200 + 500 = 700.00
    assert amount(january, "E1", "comm.new_credit") == D("700.00")
    march = run(rule_set, sales=sales)
    # To date 60,000: 10,000 x 2% + 40,000 x 5% + 10,000 x 8% = 200 + 2,000 + 800 = 3,000.00
    # March pays 3,000.00 - 700.00 = 2,300.00 (= 30,000 x 5% + 10,000 x 8%)
    assert amount(march, "E1", "comm.new_credit") == D("2300.00")
    assert "comm.true_up" not in line_ids(march, "E1")


def test_commission_marginal_tiers_on_attainment() -> None:
    result = run(rules("""
        - id: comm
          kind: commission
          tiers:
            method: marginal
            measure: attainment
            bands:
              - {id: b1, from: 0, to: 0.5, rate: 0.02}
              - {id: b2, from: 0.5, to: 1.0, rate: 0.04}
              - {id: b3, from: 1.0, rate: 0.06}
        """), sales=ledger(sale("T1", "2026-03-10", "120000.00")))
    # quota 100,000; 120,000 credited = 120 %:
    #   first 50 % = 50,000 x 2% = 1,000; next 50 % = 50,000 x 4% = 2,000;
    #   last 20 % = 20,000 x 6% = 1,200;  total 4,200.00
    comm = line(result, "E1", "comm.new_credit")
    assert comm.amount == D("4200.00")
    assert dict(comm.details)["highest_band"] == "b3"


RETRO = """
- id: comm
  kind: commission
  tiers:
    method: retroactive
    measure: attainment
    bands:
      - {id: building, from: 0, to: 0.8, rate: 0.03}
      - {id: on_target, from: 0.8, to: 1.0, rate: 0.04}
      - {id: over, from: 1.0, rate: 0.05}
"""


def test_commission_retroactive_tiers_rerate_everything_when_crossing_a_band() -> None:
    sales = ledger(sale("T1", "2026-02-10", "70000.00"), sale("T2", "2026-03-10", "15000.00"))
    february = run(rules(RETRO), sales=sales, period="2026-02")
    # February: 70,000 = 70 % of quota -> band building: 70,000 x 3% = 2,100.00
    assert amount(february, "E1", "comm.new_credit") == D("2100.00")
    march = run(rules(RETRO), sales=sales)
    # March: 85,000 = 85 % -> band on_target, the WHOLE 85,000 x 4% = 3,400.00 due to date.
    # Paid before 2,100.00, so March pays 1,300.00:
    #   15,000 x 4% = 600 on the new sale + 70,000 x (4% - 3%) = 700 re-rating February,
    # each on its own line: the re-rating is the tier true-up and names the February sale.
    comm = line(march, "E1", "comm.new_credit")
    assert comm.amount == D("600.00")
    assert comm.transactions == ("T2",)
    rerate = line(march, "E1", "comm.tier_true_up")
    assert rerate.amount == D("700.00")
    assert rerate.transactions == ("T1",)
    assert "70,000.00 x 4% [on_target]" in rerate.formula
    assert "70,000.00 x 3% [building]" in rerate.formula
    assert "comm.true_up" not in line_ids(march, "E1")


def test_commission_retroactive_band_reached_exactly_at_its_edge() -> None:
    result = run(rules(RETRO), roster(emp("E1"), emp("E2")), ledger(
        sale("T1", "2026-03-10", "80000.00", emp="E1"),
        sale("T2", "2026-03-10", "79999.99", emp="E2"),
    ))
    # E1: exactly 80 % reaches on_target: 80,000 x 4% = 3,200.00
    assert amount(result, "E1", "comm.new_credit") == D("3200.00")
    # E2: one cent short stays in building: 79,999.99 x 3% = 2,399.9997 -> 2,400.00
    assert amount(result, "E2", "comm.new_credit") == D("2400.00")


def test_commission_per_transaction_bands_restart_for_each_sale() -> None:
    result = run(rules("""
        - id: comm
          kind: commission
          tiers:
            method: per_transaction
            measure: amount
            bands:
              - {id: first_10k, from: 0, to: 10000, rate: 0.04}
              - {id: above_10k, from: 10000, rate: 0.06}
        """), sales=ledger(
        sale("T1", "2026-03-03", "15000.00"), sale("T2", "2026-03-04", "5000.00"),
    ))
    # T1: 10,000 x 4% + 5,000 x 6% = 400 + 300 = 700.00
    # T2: bands restart: 5,000 x 4% = 200.00 (marginal on 20,000 would have paid 1,000.00)
    # total 700 + 200 = 900.00
    assert amount(result, "E1", "comm.new_credit") == D("900.00")


def test_commission_per_transaction_single_sale() -> None:
    result = run(rules("""
        - id: comm
          kind: commission
          tiers:
            method: per_transaction
            measure: amount
            bands:
              - {id: first_10k, from: 0, to: 10000, rate: 0.04}
              - {id: above_10k, from: 10000, rate: 0.06}
        """), sales=ledger(sale("T1", "2026-03-03", "15000.00")))
    # 10,000 x 4% + 5,000 x 6% = 400 + 300 = 700.00
    assert amount(result, "E1", "comm.new_credit") == D("700.00")


GATED = """
- id: comm
  kind: commission
  gate: 0.5
  rate: 0.05
"""


def test_commission_gate_met_exactly_at_its_threshold() -> None:
    result = run(rules(GATED), roster(emp("E1"), emp("E2")), ledger(
        sale("T1", "2026-03-10", "50000.00", emp="E1"),
        sale("T2", "2026-03-10", "49999.99", emp="E2"),
    ))
    # E1: 50,000.00 / 100,000.00 = 50.00 % -> at the gate qualifies: 50,000 x 5% = 2,500.00
    assert amount(result, "E1", "comm.new_credit") == D("2500.00")
    # E2: one cent below 50 % -> below the gate, nothing due
    gated = line(result, "E2", "comm.new_credit")
    assert gated.amount == D("0.00")
    assert "below the 50% gate" in gated.formula


def test_commission_gate_reached_later_pays_everything_to_date() -> None:
    sales = ledger(sale("T1", "2026-02-10", "30000.00"), sale("T2", "2026-03-10", "25000.00"))
    february = run(rules(GATED), sales=sales, period="2026-02")
    # February: 30 % < 50 % gate -> 0.00
    assert amount(february, "E1", "comm.new_credit") == D("0.00")
    march = run(rules(GATED), sales=sales)
    # March: 55,000 = 55 % -> 55,000 x 5% = 2,750.00 due, nothing paid before -> 2,750.00:
    # 25,000 x 5% = 1,250.00 on the March sale, and 30,000 x 5% = 1,500.00 on the February
    # sale that the gate now lets earn (the tier true-up).
    assert amount(march, "E1", "comm.new_credit") == D("1250.00")
    assert amount(march, "E1", "comm.tier_true_up") == D("1500.00")


def test_commission_plan_year_cap_forfeits_the_excess() -> None:
    rule_set = rules("""
        - id: comm
          kind: commission
          rate: 0.10
          cap: {amount: 1000, per: plan_year}
        """)
    sales = ledger(sale("T1", "2026-02-10", "8000.00"), sale("T2", "2026-03-10", "5000.00"),
                   sale("T3", "2026-04-10", "1000.00"))
    # February: 8,000 x 10% = 800.00 (under the cap)
    february = run(rule_set, sales=sales, period="2026-02")
    assert amount(february, "E1", "comm.new_credit") == D("800.00")
    march = run(rule_set, sales=sales)
    # March: 13,000 x 10% = 1,300.00, capped at 1,000.00 for the year; paid 800 -> 200.00
    comm = line(march, "E1", "comm.new_credit")
    assert comm.amount == D("200.00")
    assert "capped at 1,000.00" in comm.formula
    # April: 14,000 x 10% = 1,400 -> still 1,000 capped; paid 1,000 -> 0.00 (the excess is lost)
    april = run(rule_set, sales=sales, period="2026-04")
    assert amount(april, "E1", "comm.new_credit") == D("0.00")


PERIOD_CAP = """
- id: comm
  kind: commission
  rate: 0.10
  cap: {amount: 500, per: period}
"""


def test_commission_per_period_cap_defers_the_excess_to_the_next_period() -> None:
    sales = ledger(sale("T1", "2026-02-10", "8000.00"))
    february = run(rules(PERIOD_CAP), sales=sales, period="2026-02")
    # February: 8,000 x 10% = 800.00 due; the period may pay at most 500.00:
    #   new_credit 800.00, cap -300.00 (deferred) -> 500.00 paid
    assert amount(february, "E1", "comm.new_credit") == D("800.00")
    assert amount(february, "E1", "comm.cap") == D("-300.00")
    assert component_total(february, "E1", "comm") == D("500.00")
    march = run(rules(PERIOD_CAP), sales=sales)
    # March: due to date still 800.00, paid 500.00 -> the deferred 300.00 comes as a true-up;
    # 300.00 is under the 500.00 cap, so no cap line
    assert amount(march, "E1", "comm.true_up") == D("300.00")
    assert amount(march, "E1", "comm.new_credit") == D("0.00")
    assert "comm.cap" not in line_ids(march, "E1")
    assert component_total(march, "E1", "comm") == D("300.00")


def test_commission_per_period_cap_with_new_sales_in_the_next_period() -> None:
    sales = ledger(sale("T1", "2026-02-10", "8000.00"), sale("T2", "2026-03-10", "3000.00"))
    march = run(rules(PERIOD_CAP), sales=sales)
    # paid in February 500.00 (800.00 capped). March: due 11,000 x 10% = 1,100.00:
    #   true_up 800 - 500 = 300.00; new_credit 3,000 x 10% = 300.00;
    #   payable 1,100 - 500 = 600.00 > 500.00 cap -> cap -100.00; March pays 500.00
    assert amount(march, "E1", "comm.true_up") == D("300.00")
    assert amount(march, "E1", "comm.new_credit") == D("300.00")
    assert amount(march, "E1", "comm.cap") == D("-100.00")
    assert component_total(march, "E1", "comm") == D("500.00")
    april = run(rules(PERIOD_CAP), sales=sales, period="2026-04")
    # April: due 1,100.00, paid 500 + 500 = 1,000.00 -> the last 100.00 as a true-up
    assert amount(april, "E1", "comm.true_up") == D("100.00")
    assert component_total(april, "E1", "comm") == D("100.00")


def test_commission_per_period_cap_clawback_recovers_only_what_was_paid() -> None:
    sales = ledger(sale("T1", "2026-02-10", "8000.00"), refund("T1", "2026-03-10", "8000.00"))
    march = run(rules(PERIOD_CAP), sales=sales)
    # February paid 500.00 of the 800.00 due (300.00 deferred). March, fully refunded:
    #   true_up: due at 28 Feb 800.00 - paid 500.00 = +300.00 (the deferred part)
    #   clawback: due 800.00 -> 0.00 = -800.00
    #   net -500.00: exactly what was paid, no more
    assert amount(march, "E1", "comm.true_up") == D("300.00")
    assert amount(march, "E1", "comm.clawback") == D("-800.00")
    assert component_total(march, "E1", "comm") == D("-500.00")


PLAN_YEAR_CAP = """
- id: comm
  kind: commission
  rate: 0.10
  cap: {amount: 1000, per: plan_year}
"""


def test_commission_plan_year_cap_absorbs_a_refund_of_forfeited_excess() -> None:
    small = run(rules(PLAN_YEAR_CAP), sales=ledger(
        sale("T1", "2026-02-10", "13000.00"), refund("T1", "2026-03-10", "2000.00"),
    ))
    # paid in February: 13,000 x 10% = 1,300 capped -> 1,000.00
    # March: 11,000 x 10% = 1,100 -> still capped at 1,000.00 -> clawback 0.00
    # (the refund only eats into the forfeited excess; the line still names T1)
    clawback = line(small, "E1", "comm.clawback")
    assert clawback.amount == D("0.00")
    assert clawback.transactions == ("T1",)
    large = run(rules(PLAN_YEAR_CAP), sales=ledger(
        sale("T1", "2026-02-10", "13000.00"), refund("T1", "2026-03-10", "4000.00"),
    ))
    # March: 9,000 x 10% = 900.00 (under the cap) -> clawback 900.00 - 1,000.00 = -100.00
    assert amount(large, "E1", "comm.clawback") == D("-100.00")


def test_commission_per_transaction_partial_refund_recuts_that_sale() -> None:
    result = run(rules("""
        - id: comm
          kind: commission
          tiers:
            method: per_transaction
            measure: amount
            bands:
              - {id: first_10k, from: 0, to: 10000, rate: 0.04}
              - {id: above_10k, from: 10000, rate: 0.06}
        """), sales=ledger(
        sale("T1", "2026-02-10", "25000.00"), refund("T1", "2026-03-10", "10000.00"),
    ))
    # February: 10,000 x 4% + 15,000 x 6% = 400 + 900 = 1,300.00
    # March: T1 is now 15,000: 10,000 x 4% + 5,000 x 6% = 400 + 300 = 700.00
    # clawback 700.00 - 1,300.00 = -600.00 (all of it from the 6% band)
    assert amount(result, "E1", "comm.clawback") == D("-600.00")


def test_commission_decelerator_band_lowers_the_rate_above_150_percent() -> None:
    result = run(rules("""
        - id: comm
          kind: commission
          tiers:
            method: marginal
            measure: attainment
            bands:
              - {id: standard, from: 0, to: 1.0, rate: 0.05}
              - {id: accelerator, from: 1.0, to: 1.5, rate: 0.08}
              - {id: decelerator, from: 1.5, rate: 0.02}
        """), roster(emp("E1"), emp("E2")), ledger(
        sale("T1", "2026-03-10", "200000.00", emp="E1"),
        sale("T2", "2026-03-10", "150000.00", emp="E2"),
    ))
    # E1 200 %: 100,000 x 5% + 50,000 x 8% + 50,000 x 2% = 5,000 + 4,000 + 1,000 = 10,000.00
    assert amount(result, "E1", "comm.new_credit") == D("10000.00")
    # E2 150 %: 5,000 + 4,000 = 9,000.00; E1's last 50,000 earned only 1,000.00 more
    assert amount(result, "E2", "comm.new_credit") == D("9000.00")


# --------------------------------------------------------------------------------------------
# 4. Dispute-free crediting: held, released, held back, clawed back, excluded


def test_sale_disputed_at_period_end_is_held() -> None:
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-03-05", "5000.00"), opened("T1", "2026-03-20"),
    ))
    statement = result.statement("E1")
    # T1 is not dispute-free at 31 March: it earns nothing yet
    assert amount(result, "E1", "comm.new_credit") == D("0.00")
    assert [(n.transaction_id, n.status, n.amount) for n in statement.held] == [
        ("T1", "held", D("5000.00"))]


def test_held_note_names_the_opening_of_the_dispute_still_open() -> None:
    # T1: opened, resolved, opened again (then a partial refund); T2: opened once, an opening
    # after the period end not counted. Each note dates the opening that is open at the end.
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-03-02", "5000.00"), opened("T1", "2026-03-05"),
        resolved("T1", "2026-03-09"), opened("T1", "2026-03-20"),
        refund("T1", "2026-03-25", "1000.00"),
        sale("T2", "2026-03-03", "800.00"), opened("T2", "2026-03-04"),
        resolved("T2", "2026-04-02"), opened("T2", "2026-04-03"),
    ))
    held = {n.transaction_id: (n.amount, n.reason) for n in result.statement("E1").held}
    assert held == {
        "T1": (D("4000.00"), "dispute opened 2026-03-20, not resolved by 2026-03-31"),
        "T2": (D("800.00"), "dispute opened 2026-03-04, not resolved by 2026-03-31"),
    }


def test_dispute_resolved_next_period_is_released() -> None:
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-03-05", "5000.00"), opened("T1", "2026-03-20"),
        resolved("T1", "2026-04-10"),
    ), period="2026-04")
    # April: T1 dispute-free again; 5,000 x 5% = 250.00 released (sold in March, not new)
    released = line(result, "E1", "comm.released")
    assert released.amount == D("250.00")
    assert released.transactions == ("T1",)
    assert amount(result, "E1", "comm.new_credit") == D("0.00")
    assert result.statement("E1").held == ()


def test_paid_sale_disputed_later_is_held_back() -> None:
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-02-10", "5000.00"), opened("T1", "2026-03-20"),
    ))
    # paid 5,000 x 5% = 250.00 in February; disputed in March -> -250.00 held back
    held_back = line(result, "E1", "comm.held_back")
    assert held_back.amount == D("-250.00")
    assert held_back.transactions == ("T1",)
    assert [n.transaction_id for n in result.statement("E1").held] == ["T1"]


def test_full_refund_after_payment_is_clawed_back() -> None:
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-02-10", "5000.00"), refund("T1", "2026-03-15", "5000.00"),
    ))
    # paid 250.00 in February; fully refunded in March: due falls to 0 -> clawback -250.00
    clawback = line(result, "E1", "comm.clawback")
    assert clawback.amount == D("-250.00")
    assert "T1" in clawback.transactions
    assert [(n.transaction_id, n.status) for n in result.statement("E1").excluded] == [
        ("T1", "forfeited")]


def test_partial_refund_claws_back_the_refunded_share() -> None:
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-02-10", "10000.00"), refund("T1", "2026-03-15", "4000.00"),
    ))
    # paid 10,000 x 5% = 500.00; credited now 10,000 - 4,000 = 6,000 x 5% = 300.00
    # -> clawback 300.00 - 500.00 = -200.00
    clawback = line(result, "E1", "comm.clawback")
    assert clawback.amount == D("-200.00")
    assert clawback.transactions == ("T1",)


def test_partial_refund_shrinks_margin_in_proportion() -> None:
    result = run(rules("""
        - id: comm
          kind: commission
          basis: margin
          rate: 0.10
        """), sales=ledger(
        sale("T1", "2026-02-10", "10000.00", margin="3000.00"),
        refund("T1", "2026-03-15", "4000.00"),
    ))
    # paid 3,000 x 10% = 300.00; 6,000 of 10,000 remains, so margin 3,000 x 6/10 = 1,800
    # -> due 180.00; clawback 180.00 - 300.00 = -120.00
    assert amount(result, "E1", "comm.clawback") == D("-120.00")


def test_clawback_reaches_an_employee_who_has_left() -> None:
    result = run(rules(BASE, FLAT_5), roster(emp(termination_date="2026-02-28")), ledger(
        sale("T1", "2026-02-10", "5000.00"), refund("T1", "2026-03-15", "5000.00"),
    ))
    # left in February: no base in March, but the refund claws back the 250.00 paid
    assert line_ids(result, "E1") == ["comm.clawback", "comm.new_credit"]
    assert amount(result, "E1", "comm.clawback") == D("-250.00")
    assert result.statement("E1").total == D("-250.00")


def test_sale_after_termination_is_excluded() -> None:
    result = run(rules(FLAT_5), roster(emp(termination_date="2026-03-10")), ledger(
        sale("T1", "2026-03-10", "2000.00"), sale("T2", "2026-03-20", "5000.00"),
    ))
    # T1 on the last day employed counts: 2,000 x 5% = 100.00; T2 after leaving earns nothing
    comm = line(result, "E1", "comm.new_credit")
    assert comm.amount == D("100.00")
    assert comm.transactions == ("T1",)
    excluded = result.statement("E1").excluded
    assert [(n.transaction_id, n.status) for n in excluded] == [("T2", "excluded")]
    assert "after the employee's termination date" in excluded[0].reason


def test_sale_before_hire_is_excluded() -> None:
    result = run(rules(FLAT_5), roster(emp(hire_date="2026-03-18")), ledger(
        sale("T1", "2026-03-05", "5000.00"), sale("T2", "2026-03-18", "1000.00"),
    ))
    # T2 on the hire date counts: 1,000 x 5% = 50.00; T1 before hire earns nothing
    assert amount(result, "E1", "comm.new_credit") == D("50.00")
    excluded = result.statement("E1").excluded
    assert [(n.transaction_id, n.status) for n in excluded] == [("T1", "excluded")]
    assert "before the employee's hire date" in excluded[0].reason


# --------------------------------------------------------------------------------------------
# 5. Bonuses


def test_bonus_linear_with_floor_and_cap() -> None:
    result = run(rules("""
        - id: bonus
          kind: bonus
          method: linear
          target: {amount: 10000}
          floor: 0.5
          cap: 1.5
        """), roster(emp("E1"), emp("E2"), emp("E3"), emp("E4")), ledger(
        sale("T1", "2026-03-10", "80000.00", emp="E1"),
        sale("T2", "2026-03-10", "40000.00", emp="E2"),
        sale("T3", "2026-03-10", "170000.00", emp="E3"),
        sale("T4", "2026-03-10", "50000.00", emp="E4"),
    ))
    # target 10,000 x attainment:
    #   E1 80 %  -> 8,000.00
    #   E2 40 %  -> below the 50 % floor -> 0.00
    #   E3 170 % -> counted as the 150 % cap -> 15,000.00
    #   E4 50 %  -> exactly at the floor -> 5,000.00
    assert amount(result, "E1", "bonus.to_date") == D("8000.00")
    assert amount(result, "E2", "bonus.to_date") == D("0.00")
    assert amount(result, "E3", "bonus.to_date") == D("15000.00")
    assert amount(result, "E4", "bonus.to_date") == D("5000.00")


def test_bonus_step_pays_the_highest_step_reached() -> None:
    result = run(rules("""
        - id: bonus
          kind: bonus
          method: step
          target: {amount: 6000}
          steps:
            - {id: at_quota, at: 1.0, payout: 0.5}
            - {id: stretch, at: 1.2, payout: 1.0}
        """), roster(emp("E1"), emp("E2"), emp("E3"), emp("E4")), ledger(
        sale("T1", "2026-03-10", "125000.00", emp="E1"),
        sale("T2", "2026-03-10", "110000.00", emp="E2"),
        sale("T3", "2026-03-10", "90000.00", emp="E3"),
        sale("T4", "2026-03-10", "120000.00", emp="E4"),
    ))
    # E1 125 %: stretch reached -> 100 % of 6,000 = 6,000.00 (steps do not add: not 9,000)
    assert amount(result, "E1", "bonus.to_date") == D("6000.00")
    # E2 110 %: at_quota only -> 50 % of 6,000 = 3,000.00
    assert amount(result, "E2", "bonus.to_date") == D("3000.00")
    # E3 90 %: no step -> 0.00
    assert amount(result, "E3", "bonus.to_date") == D("0.00")
    # E4 exactly 120 %: stretch ("at or above") -> 6,000.00
    assert amount(result, "E4", "bonus.to_date") == D("6000.00")


def test_bonus_fixed_paid_on_reaching_the_floor() -> None:
    result = run(rules("""
        - id: bonus
          kind: bonus
          method: fixed
          target: {amount: 3000}
          floor: 1.0
        """), roster(emp("E1"), emp("E2")), ledger(
        sale("T1", "2026-03-10", "100000.00", emp="E1"),
        sale("T2", "2026-03-10", "99999.99", emp="E2"),
    ))
    # E1 exactly 100 % -> the fixed 3,000.00; E2 a cent short -> 0.00
    assert amount(result, "E1", "bonus.to_date") == D("3000.00")
    assert amount(result, "E2", "bonus.to_date") == D("0.00")


def test_bonus_target_as_percent_of_base() -> None:
    result = run(rules("""
        - id: bonus
          kind: bonus
          method: linear
          target: {percent_of_base: 0.15}
        """), roster(emp(annual_base="55555.55")), ledger(sale("T1", "2026-03-10", "60000.00")))
    # target = 55,555.55 x 15% = 8,333.3325 -> rounded once: 8,333.33
    # attainment 60,000 / 100,000 = 60 % -> 8,333.33 x 0.6 = 4,999.998 -> 5,000.00
    bonus = line(result, "E1", "bonus.to_date")
    assert dict(bonus.details)["target"] == "8,333.33"
    assert bonus.amount == D("5000.00")


def test_bonus_to_date_pays_the_increase_each_period() -> None:
    rule_set = rules("""
        - id: bonus
          kind: bonus
          method: linear
          target: {amount: 10000}
        """)
    sales = ledger(sale("T1", "2026-02-10", "60000.00"), sale("T2", "2026-03-10", "20000.00"))
    # February: 60 % of 10,000 = 6,000.00
    february = run(rule_set, sales=sales, period="2026-02")
    assert amount(february, "E1", "bonus.to_date") == D("6000.00")
    # March: 80 % -> 8,000.00 due to date, less 6,000.00 paid = 2,000.00
    assert amount(run(rule_set, sales=sales), "E1", "bonus.to_date") == D("2000.00")


def test_bonus_year_end_pays_only_in_the_last_period_of_the_plan_year() -> None:
    rule_set = rules("""
        - id: bonus
          kind: bonus
          method: fixed
          target: {amount: 1000}
          floor: 1.0
          pay: year_end
        """)
    sales = ledger(sale("T1", "2026-03-10", "100000.00"))
    # March: the floor is already reached, but a year_end bonus waits: no bonus line
    march = run(rule_set, sales=sales)
    assert "bonus.to_date" not in [item.id for s in march.statements for item in s.lines]
    # December holds the plan year's last day: 100 % >= floor -> 1,000.00
    december = run(rule_set, sales=sales, period="2026-12")
    assert amount(december, "E1", "bonus.to_date") == D("1000.00")


def test_bonus_instead_of_commission() -> None:
    result = run(rules(BASE, """
        - id: bonus
          kind: bonus
          method: linear
          target: {amount: 9000}
          floor: 0.5
        """), sales=ledger(sale("T1", "2026-03-10", "80000.00")))
    # the plan has no commission: the sale only drives the bonus
    # base 60,000 / 12 = 5,000.00; bonus 80 % of 9,000 = 7,200.00; total 12,200.00
    assert line_ids(result, "E1") == ["base.installment", "bonus.to_date"]
    assert all(item.kind != "commission" for item in result.statement("E1").lines)
    assert amount(result, "E1", "bonus.to_date") == D("7200.00")
    assert result.statement("E1").total == D("12200.00")


# --------------------------------------------------------------------------------------------
# 6. Allowances


def test_allowance_per_month_and_per_year() -> None:
    result = run(rules("""
        - id: car
          kind: allowance
          per: month
          amount: 500
        - id: housing
          kind: allowance
          per: year
          amount: 9000
        """))
    # car: 500.00 a month; housing: 9,000.00 a year / 12 = 750.00
    assert amount(result, "E1", "car.installment") == D("500.00")
    assert amount(result, "E1", "housing.installment") == D("750.00")


def test_allowance_when_filter() -> None:
    result = run(rules("""
        - id: housing
          kind: allowance
          when: {seniority: [senior]}
          amount: 1000
        - id: health
          kind: allowance
          amount: 100
        """), roster(emp("E1", seniority="senior"), emp("E2", seniority="mid")))
    # only the senior employee gets housing; both get health
    assert amount(result, "E1", "housing.installment") == D("1000.00")
    assert line_ids(result, "E2") == ["health.installment"]


def test_allowance_table_by_company_size() -> None:
    result = run(rules("""
        - id: health
          kind: allowance
          amount:
            by: [company_size]
            values: {small: 450.00, mid: 525.00, large: 600.00}
        """), roster(emp("E1", company_size="small"), emp("E2", company_size="large")))
    assert amount(result, "E1", "health.installment") == D("450.00")
    assert amount(result, "E2", "health.installment") == D("600.00")


def test_allowance_dated_value_changes_mid_year() -> None:
    rule_set = rules("""
        - id: health
          kind: allowance
          amount:
            dated:
              - {from: 2026-01-01, value: 450}
              - {from: 2026-03-01, value: 500}
        """)
    assert amount(run(rule_set, period="2026-02"), "E1", "health.installment") == D("450.00")
    assert amount(run(rule_set, period="2026-03"), "E1", "health.installment") == D("500.00")


def test_allowance_dated_value_from_mid_period_applies_to_the_whole_period() -> None:
    # documented: "the run's period end picks the entry" -- a change dated 15 March applies
    # to all of March (no split of the month)
    rule_set = rules("""
        - id: health
          kind: allowance
          amount:
            dated:
              - {from: 2026-01-01, value: 450}
              - {from: 2026-03-15, value: 500}
        """)
    assert amount(run(rule_set), "E1", "health.installment") == D("500.00")


# --------------------------------------------------------------------------------------------
# 7. Rounding and currencies


@pytest.mark.parametrize(
    ("mode", "on_2_50", "on_7_50"),
    [
        # 2.50 x 5% = 0.125 (exact half cent, 2 below it); 7.50 x 5% = 0.375 (7 below it)
        ("half_up", "0.13", "0.38"),  # halves go up
        ("half_even", "0.12", "0.38"),  # halves go to the even cent: 0.12, 0.38
        ("down", "0.12", "0.37"),  # remainder dropped
    ],
)
def test_rounding_of_an_exact_half_cent(mode: str, on_2_50: str, on_7_50: str) -> None:
    result = run(rules(FLAT_5, rounding=mode), roster(emp("E1"), emp("E2")), ledger(
        sale("T1", "2026-03-10", "2.50", emp="E1"),
        sale("T2", "2026-03-10", "7.50", emp="E2"),
    ))
    assert amount(result, "E1", "comm.new_credit") == D(on_2_50)
    assert amount(result, "E2", "comm.new_credit") == D(on_7_50)


def test_zero_decimal_currency_jpy() -> None:
    result = run(
        rules(BASE, FLAT_5, currency="JPY"),
        roster(emp(currency="JPY", annual_base="1000000", quota="10000000")),
        ledger(sale("T1", "2026-03-10", "1010", currency="JPY"),
               sale("T2", "2026-03-11", "1000.5", currency="JPY")),
    )
    # base: round(1,000,000 x 3 / 12) - round(1,000,000 x 2 / 12) = 250,000 - 166,667 = 83,333
    assert amount(result, "E1", "base.installment") == D("83333")
    # commission: 1,010 x 5% = 50.5 -> whole yen, half_up: 51
    assert amount(result, "E1", "comm.new_credit") == D("51")
    # 1000.5 has a decimal place JPY does not have: the row is refused
    assert [(r.row, r.column) for r in result.rejected] == [(2, "amount")]
    assert "decimal places" in result.rejected[0].reason
    assert result.statement("E1").total == D("83384")


def test_three_decimal_currency_kwd() -> None:
    result = run(
        rules(BASE, """
            - id: comm
              kind: commission
              rate: 0.10
            """, currency="KWD"),
        roster(emp(currency="KWD", annual_base="12000.000", quota="100000.000")),
        ledger(sale("T1", "2026-03-10", "12.345", currency="KWD")),
    )
    # base 12,000.000 / 12 = 1,000.000
    assert amount(result, "E1", "base.installment") == D("1000.000")
    # 12.345 x 10% = 1.2345 -> to the fils (3 places), half_up: 1.235
    assert amount(result, "E1", "comm.new_credit") == D("1.235")
    assert result.statement("E1").total == D("1001.235")


def test_roster_rows_the_rules_cannot_pay_are_refused_in_full_words() -> None:
    """Each refused roster row names its first problem, its cell as written, and what the
    rule set allows; the rows around it are paid."""
    result = run(rules(FLAT_5), roster(
        emp("E1"), emp("E2", role="manager"), emp("E3", seniority="expert"),
        emp("E4", region="metro", company_size="huge", currency="EUR"), emp("E5", currency="EUR"),
    ))  # fmt: skip
    reasons = {(r.row, r.column): (r.value, r.reason) for r in result.rejected}
    assert reasons == {
        (2, "role"): ("manager", "role 'manager' has no plan in rule set 'spec' (plans: rep)"),
        (3, "seniority"): ("expert", "seniority 'expert' is not one of entry, mid, senior"),
        (4, "company_size"): ("huge", "company_size 'huge' is not one of small, mid, large"),
        (5, "currency"): ("EUR", "paid in EUR; rule set 'spec' pays in USD"),
    }
    assert [s.employee_id for s in result.statements] == ["E1"]


def test_roster_and_ledger_currency_must_match_the_rule_set() -> None:
    result = run(rules(FLAT_5), roster(emp("E1"), emp("E2", currency="EUR")), ledger(
        sale("T1", "2026-03-10", "1000.00"),
        sale("T2", "2026-03-10", "1000.00", currency="EUR"),
    ))
    reasons = {(r.source, r.row, r.column): r.reason for r in result.rejected}
    # roster row 2 (E2) is paid in EUR, the rules pay in USD
    assert "pays in USD" in reasons[("<roster>", 2, "currency")]
    # ledger row 2 is in EUR for a USD employee
    assert "differs from employee E1's currency USD" in reasons[("<ledger>", 2, "currency")]
    # the rest is paid: 1,000 x 5% = 50.00
    assert amount(result, "E1", "comm.new_credit") == D("50.00")
    assert [s.employee_id for s in result.statements] == ["E1"]


# --------------------------------------------------------------------------------------------
# 8. Dimension tables

RATE_TABLE = """
- id: comm
  kind: commission
  rate:
    by: [seniority, company_size]
    values:
      senior: {{large: 0.04}}
      mid: {{small: 0.03}}
{default}"""


def test_rate_table_by_seniority_and_company_size() -> None:
    result = run(rules(RATE_TABLE.format(default="")), roster(
        emp("E1", seniority="senior", company_size="large"),
        emp("E2", seniority="mid", company_size="small"),
    ), ledger(
        sale("T1", "2026-03-10", "10000.00", emp="E1"),
        sale("T2", "2026-03-10", "10000.00", emp="E2"),
    ))
    # senior x large 4%: 10,000 x 4% = 400.00; mid x small 3%: 10,000 x 3% = 300.00
    assert amount(result, "E1", "comm.new_credit") == D("400.00")
    assert amount(result, "E2", "comm.new_credit") == D("300.00")


def test_rate_table_missing_combination_without_default_is_a_run_error() -> None:
    staff = roster(emp("E1", seniority="senior", company_size="large"),
                   emp("E3", seniority="entry", company_size="small"))
    with pytest.raises(compcalc.RunError) as caught:
        run(rules(RATE_TABLE.format(default="")), staff)
    assert "seniority=entry, company_size=small" in str(caught.value)


def test_rate_table_missing_combination_uses_the_default() -> None:
    result = run(rules(RATE_TABLE.format(default="    default: 0.02\n")), roster(
        emp("E1", seniority="senior", company_size="large"),
        emp("E3", seniority="entry", company_size="small"),
    ), ledger(
        sale("T1", "2026-03-10", "10000.00", emp="E1"),
        sale("T3", "2026-03-10", "10000.00", emp="E3"),
    ))
    # E1 from its cell: 400.00; E3 has no cell -> default 2%: 10,000 x 2% = 200.00
    assert amount(result, "E1", "comm.new_credit") == D("400.00")
    assert amount(result, "E3", "comm.new_credit") == D("200.00")


# --------------------------------------------------------------------------------------------
# 9. Rejected input rows


def test_rejected_ledger_rows_are_reported_and_the_rest_is_paid() -> None:
    result = run(rules(FLAT_5), sales=ledger(
        sale("T1", "2026-03-10", "1000.00"),  # row 1: fine
        sale("T2", "2026-03-10", "1000.00", emp="E9"),  # row 2: unknown employee
        refund("T99", "2026-03-12", "10.00"),  # row 3: no sale T99
        sale("T3", "2026-03-10", "1e3"),  # row 4: not a plain decimal
    ))
    rejected = {(r.row, r.column): r.reason for r in result.rejected}
    assert set(rejected) == {(2, "employee_id"), (3, "transaction_id"), (4, "amount")}
    assert "E9 is not on the roster" in rejected[(2, "employee_id")]
    assert "no sale event for transaction T99" in rejected[(3, "transaction_id")]
    assert "scientific notation" in rejected[(4, "amount")]
    assert all(r.source == "<ledger>" for r in result.rejected)
    # only T1 earns: 1,000 x 5% = 50.00
    comm = line(result, "E1", "comm.new_credit")
    assert comm.amount == D("50.00")
    assert comm.transactions == ("T1",)


# --------------------------------------------------------------------------------------------
# 10. Paid to date given by the caller


def test_paid_to_date_from_the_caller_produces_a_true_up() -> None:
    sales = ledger(sale("T1", "2026-02-10", "5000.00"), sale("T2", "2026-03-10", "2000.00"))
    paid = pd.DataFrame([["E1", "comm", "100.00"]],
                        columns=["employee_id", "component", "amount"], dtype=str)
    result = run(rules(FLAT_5), sales=sales, paid_to_date=paid)
    # due at 28 February: 5,000 x 5% = 250.00; the caller says 100.00 was paid -> true_up 150.00
    assert amount(result, "E1", "comm.true_up") == D("150.00")
    # March's own sale: 2,000 x 5% = 100.00
    assert amount(result, "E1", "comm.new_credit") == D("100.00")
    # total commission 150 + 100 = 250.00 = due now 350.00 - paid 100.00
    assert component_total(result, "E1", "comm") == D("250.00")


def test_paid_to_date_matching_the_replay_needs_no_true_up() -> None:
    sales = ledger(sale("T1", "2026-02-10", "5000.00"))
    paid = pd.DataFrame([["E1", "comm", "250.00"]],
                        columns=["employee_id", "component", "amount"], dtype=str)
    result = run(rules(FLAT_5), sales=sales, paid_to_date=paid)
    # due at 28 February 250.00 = paid 250.00: no true-up, nothing new
    assert line_ids(result, "E1") == ["comm.new_credit"]
    assert amount(result, "E1", "comm.new_credit") == D("0.00")


def test_paid_to_date_for_a_bonus_is_subtracted() -> None:
    paid = pd.DataFrame([["E1", "bonus", "1500.00"]],
                        columns=["employee_id", "component", "amount"], dtype=str)
    result = run(rules("""
        - id: bonus
          kind: bonus
          method: linear
          target: {amount: 10000}
        """), sales=ledger(sale("T1", "2026-02-10", "30000.00")), paid_to_date=paid)
    # due to date 30 % of 10,000 = 3,000.00, less 1,500.00 paid = 1,500.00
    assert amount(result, "E1", "bonus.to_date") == D("1500.00")


# --------------------------------------------------------------------------------------------
# Regressions: defects found while writing these tests, fixed in the engine


def test_replayed_paid_to_date_matches_what_earlier_periods_paid_after_a_rate_change() -> None:
    rule_set = rules("""
        - id: comm
          kind: commission
          rate:
            dated:
              - {from: 2026-01-01, value: 0.05}
              - {from: 2026-03-01, value: 0.06}
        """)
    sales = ledger(sale("T1", "2026-02-10", "10000.00"))
    february = run(rule_set, sales=sales, period="2026-02")
    # February: 10,000 x 5% = 500.00 paid
    assert amount(february, "E1", "comm.new_credit") == D("500.00")
    paid = pd.DataFrame([["E1", "comm", "500.00"]],
                        columns=["employee_id", "component", "amount"], dtype=str)
    explicit = run(rule_set, sales=sales, paid_to_date=paid)
    # March with the truth given: due 10,000 x 6% = 600.00 - paid 500.00 = true_up 100.00
    assert amount(explicit, "E1", "comm.true_up") == D("100.00")
    replayed = run(rule_set, sales=sales)
    # replaying February from the same ledger must find the same 500.00 paid -> same 100.00
    # (actual: the replay assumes 600.00 was paid, so March pays 0.00)
    assert component_total(replayed, "E1", "comm") == component_total(explicit, "E1", "comm")


def test_replayed_bonus_paid_matches_what_earlier_periods_paid_after_a_target_change() -> None:
    rule_set = rules("""
        - id: bonus
          kind: bonus
          method: linear
          target:
            amount:
              dated:
                - {from: 2026-01-01, value: 10000}
                - {from: 2026-03-01, value: 12000}
        """)
    sales = ledger(sale("T1", "2026-02-10", "50000.00"))
    # February: 50 % of 10,000 = 5,000.00 paid
    assert amount(run(rule_set, sales=sales, period="2026-02"), "E1", "bonus.to_date") == D(
        "5000.00")
    # March: 50 % of 12,000 = 6,000.00 due to date, less the 5,000.00 February paid = 1,000.00
    # (actual: 0.00, the replay assumes February paid 6,000.00)
    assert amount(run(rule_set, sales=sales), "E1", "bonus.to_date") == D("1000.00")


def test_new_sale_with_negative_margin_is_new_credit_not_held_back() -> None:
    result = run(rules("""
        - id: comm
          kind: commission
          basis: margin
          rate: 0.10
        """), sales=ledger(
        sale("T1", "2026-02-10", "10000.00", margin="2000.00"),
        sale("T2", "2026-03-10", "5000.00", margin="-1000.00"),
    ))
    # February paid 2,000 x 10% = 200.00. March: margin to date 2,000 - 1,000 = 1,000
    # -> due 100.00; the change -100.00 comes from T2, a new, undisputed sale
    assert "comm.held_back" not in line_ids(result, "E1")
    new_credit = line(result, "E1", "comm.new_credit")
    assert new_credit.amount == D("-100.00")
    assert new_credit.transactions == ("T2",)


def test_base_biweekly_year_with_27_pay_dates_adds_up_to_the_annual_amount() -> None:
    rule_set = rules("""
        - id: base
          kind: base_salary
          pay_frequency: biweekly
          biweekly_anchor: 2026-01-02
        """)
    results = monthly_runs(rule_set, roster(emp(annual_base="52000.00")))
    paid = [item.amount for r in results for item in r.statement("E1").lines]
    # installments end 2026-01-01 + 14 * n for n = 0..26: 27 pay dates in the plan year
    assert len(paid) == 27
    # promised: the plan year pays the annual amount exactly (actual: 27 x 2,000.00 = 54,000.00)
    assert sum(paid) == D("52000.00")


def test_ledger_row_of_a_roster_rejected_employee_says_why() -> None:
    result = run(rules(FLAT_5), roster(emp("E1"), emp("E2", currency="EUR")), ledger(
        sale("T1", "2026-03-10", "1000.00", emp="E2", currency="EUR"),
    ))
    reasons = [r.reason for r in result.rejected if r.source == "<ledger>"]
    assert len(reasons) == 1
    assert "not on the roster" not in reasons[0]


def test_negative_margin_sale_disputed_is_held_back_not_released() -> None:
    # Margin basis, 10 %. January: T1 at a margin of -100.00 and T2 at +1,000.00: 10 % x 900.00
    # = 90.00. T1 disputed in February: 10 % x 1,000.00 = 100.00, so holding it back pays
    # +10.00, and it is listed as held; released in March: back to 90.00, -10.00.
    margin = """
- id: comm
  kind: commission
  basis: margin
  rate: 0.10
"""
    sales = ledger(
        sale("T1", "2026-01-10", "500.00", margin="-100.00"),
        sale("T2", "2026-01-12", "5000.00", margin="1000.00"),
        opened("T1", "2026-02-03"),
        resolved("T1", "2026-03-04"),
    )
    february = run(rules(margin), roster(), sales, "2026-02")
    assert amount(february, "E1", "comm.held_back") == D("10.00")
    assert "comm.released" not in line_ids(february, "E1")
    assert [n.transaction_id for n in february.statement("E1").held] == ["T1"]
    march = run(rules(margin), roster(), sales, "2026-03")
    assert amount(march, "E1", "comm.released") == D("-10.00")
    assert "comm.held_back" not in line_ids(march, "E1")
