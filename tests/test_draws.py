"""Draws against commission (``kind: draw``), worked by hand.

Conventions of ``test_engine_examples``: plan year = calendar 2026, plan ``rep``, employee E1
(quota 100,000.00, hired 2020). Commission is a flat 5 % (``comm``) unless a test says
otherwise, so a month's commission ``c`` is 5 % of its new sales; the draw ``D`` is 1,000.00
a month. Per month: ``c < D`` pays an advance ``D - c``; ``c > D`` recovers
``min(balance, c - D, limit)``; the balance is the advances not yet recovered.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compcalc
from compcalc.errors import RuleFileError
from test_engine_examples import (
    FLAT_5,
    emp,
    ledger,
    line_ids,
    monthly_runs,
    opened,
    refund,
    resolved,
    roster,
    rules,
    run,
    sale,
)

D = Decimal

DRAW = """
- id: draw
  kind: draw
  amount: 1000
  recoverable: true
"""
DRAW_LIMIT_200 = DRAW + "  recovery_limit: 200\n"
DRAW_FORGIVEN = """
- id: draw
  kind: draw
  amount: 1000
  recoverable: false
"""


def draw_amounts(result: compcalc.PeriodResult, employee: str = "E1") -> dict[str, Decimal]:
    return {
        line.item: line.amount
        for line in result.statement(employee).lines
        if line.component == "draw"
    }


def to_date(
    result: compcalc.PeriodResult, component: str = "draw", employee: str = "E1"
) -> dict[str, str]:
    return dict(dict(result.statement(employee).to_date)[component])


def comm_total(result: compcalc.PeriodResult, employee: str = "E1") -> Decimal:
    return sum(
        (line.amount for line in result.statement(employee).lines if line.component == "comm"),
        D(0),
    )


# 5 % commission: 10,000 -> 500.00, 30,000 -> 1,500.00, 50,000 -> 2,500.00
THREE_MONTHS = ledger(
    sale("T1", "2026-01-15", "10000.00"),
    sale("T2", "2026-02-15", "30000.00"),
    sale("T3", "2026-03-15", "50000.00"),
)


def test_recoverable_draw_advances_then_recovers_without_a_limit() -> None:
    jan, feb, mar = monthly_runs(rules(FLAT_5, DRAW), roster(), THREE_MONTHS, months=3)
    # January: c = 500.00 < D = 1,000.00 -> advance 500.00, balance 500.00
    assert draw_amounts(jan) == {"advance": D("500.00")}
    assert to_date(jan)["draw_balance"] == "500.00"
    advance = next(li for li in jan.statement("E1").lines if li.id == "draw.advance")
    assert advance.pay_code == "draw"
    assert advance.formula == (
        "draw 1,000.00 - commission this period 500.00 (comm) = advance 500.00; "
        "balance 0.00 + 500.00 = 500.00, recovered from later commission above the draw"
    )
    assert dict(advance.details)["draw_balance"] == "500.00"
    # January pays exactly the draw: 500.00 commission + 500.00 advance
    assert jan.statement("E1").total == D("1000.00")
    # February: c = 1,500.00, 500.00 above the draw -> recover min(500.00, 500.00) = 500.00
    assert draw_amounts(feb) == {"recovery": D("-500.00")}
    assert to_date(feb)["draw_balance"] == "0.00"
    assert feb.statement("E1").total == D("1000.00")
    # March: c = 2,500.00 above the draw, nothing left to recover: no draw line at all
    assert draw_amounts(mar) == {}
    assert to_date(mar)["draw_balance"] == "0.00"
    assert to_date(mar)["balance_before"] == "0.00"


def test_recoverable_draw_with_a_recovery_limit() -> None:
    jan, feb, mar = monthly_runs(rules(FLAT_5, DRAW_LIMIT_200), roster(), THREE_MONTHS, months=3)
    # January: advance 500.00, balance 500.00
    assert draw_amounts(jan) == {"advance": D("500.00")}
    # February: 500.00 above the draw, limit 200.00: recover 200.00, balance 300.00
    assert draw_amounts(feb) == {"recovery": D("-200.00")}
    recovery = next(li for li in feb.statement("E1").lines if li.id == "draw.recovery")
    assert recovery.formula == (
        "commission this period 1,500.00 (comm) - draw 1,000.00 = 500.00 above the draw; "
        "recovered min(balance 500.00, 500.00, limit 200.00) = 200.00; "
        "balance 500.00 - 200.00 = 300.00"
    )
    assert to_date(feb)["draw_balance"] == "300.00"
    # March: 1,500.00 above, limit 200.00: recover 200.00, balance 100.00
    assert draw_amounts(mar) == {"recovery": D("-200.00")}
    assert to_date(mar)["draw_balance"] == "100.00"


def test_non_recoverable_draw_forgives_the_advance() -> None:
    jan, feb, _ = monthly_runs(rules(FLAT_5, DRAW_FORGIVEN), roster(), THREE_MONTHS, months=3)
    # January: advance 500.00, forgiven: the balance stays 0
    assert draw_amounts(jan) == {"advance": D("500.00")}
    formula = next(li.formula for li in jan.statement("E1").lines if li.id == "draw.advance")
    assert formula.endswith("non-recoverable: forgiven, never recovered")
    assert to_date(jan)["draw_balance"] == "0.00"
    # February: 1,500.00 is above the draw, but nothing is recovered
    assert draw_amounts(feb) == {}
    assert feb.statement("E1").total == D("1500.00")
    assert to_date(feb)["advances_forgiven_to_date"] == "500.00"


def test_a_negative_commission_month_is_covered_by_the_draw_and_recovered_later() -> None:
    sales = ledger(
        sale("T1", "2026-01-15", "30000.00"),
        refund("T1", "2026-02-10", "30000.00"),
        sale("T2", "2026-03-15", "100000.00"),
    )
    jan, feb, mar = monthly_runs(rules(FLAT_5, DRAW), roster(), sales, months=3)
    # January: c = 1,500.00 > D, nothing to recover
    assert draw_amounts(jan) == {}
    # February: T1 refunded in full: clawback -1,500.00 = c; advance = 1,000.00 - (-1,500.00)
    # = 2,500.00, so the month still pays the draw: -1,500.00 + 2,500.00 = 1,000.00
    assert comm_total(feb) == D("-1500.00")
    assert draw_amounts(feb) == {"advance": D("2500.00")}
    assert feb.statement("E1").total == D("1000.00")
    # March: c = 5,000.00, 4,000.00 above: recover the whole 2,500.00 balance
    assert draw_amounts(mar) == {"recovery": D("-2500.00")}
    assert to_date(mar)["draw_balance"] == "0.00"


def test_replay_and_paid_to_date_give_the_same_lines() -> None:
    rule_set = rules(FLAT_5, DRAW_LIMIT_200)
    jan, feb, mar = monthly_runs(rule_set, roster(), THREE_MONTHS, months=3)
    paid: dict[tuple[str, str], Decimal] = {}
    for result in (jan, feb):
        for li in result.statement("E1").lines:
            if li.component in ("comm", "draw"):
                paid[("E1", li.component)] = paid.get(("E1", li.component), D(0)) + li.amount
    # paid on the draw to date = 500.00 - 200.00 = 300.00: exactly the outstanding balance
    assert paid[("E1", "draw")] == D("300.00")
    frame = pd.DataFrame(
        [(e, c, str(a)) for (e, c), a in sorted(paid.items())],
        columns=["employee_id", "component", "amount"],
    )
    given = run(rule_set, sales=THREE_MONTHS, period="2026-03", paid_to_date=frame)
    replayed = [(li.id, li.amount, li.formula) for li in mar.statement("E1").lines]
    assert [(li.id, li.amount, li.formula) for li in given.statement("E1").lines] == replayed


def test_first_month_is_prorated_like_base_salary() -> None:
    result = run(rules(FLAT_5, DRAW), roster(emp(hire_date="2026-03-18")))
    # employed 18..31 March = 14 of 31 days: 1,000.00 x 14 / 31 = 451.6129 -> 451.61;
    # no sales, so the whole prorated draw is advanced
    assert draw_amounts(result) == {"advance": D("451.61")}
    assert to_date(result)["draw_this_period"] == "451.61"


def test_working_days_proration() -> None:
    draw = DRAW + "  proration: working_days\n"
    result = run(rules(FLAT_5, draw), roster(emp(hire_date="2026-03-18")))
    # 10 of March's 22 working days: 1,000.00 x 10 / 22 = 454.5454 -> 454.55
    assert draw_amounts(result) == {"advance": D("454.55")}


def test_a_leaver_gets_no_advance_once_gone_but_later_commission_still_recovers() -> None:
    staff = roster(emp(termination_date="2026-02-10"))
    sales = ledger(
        sale("T1", "2026-02-05", "40000.00"),
        opened("T1", "2026-02-06"),
        resolved("T1", "2026-03-03"),
    )
    jan, feb, mar = monthly_runs(rules(FLAT_5, DRAW), staff, sales, months=3)
    # January: no commission: advance 1,000.00
    assert draw_amounts(jan) == {"advance": D("1000.00")}
    # February: employed 1..10 = 10 of 28 days: 1,000.00 x 10 / 28 = 357.1428 -> 357.14;
    # T1 is held (disputed), c = 0: advance 357.14, balance 1,357.14
    assert draw_amounts(feb) == {"advance": D("357.14")}
    assert to_date(feb)["draw_balance"] == "1,357.14"
    assert to_date(feb)["left_with_balance"] == "1,357.14"
    # March: not employed, D = 0: no advance. T1 released: c = 2,000.00, all of it above the
    # draw of 0: recover min(1,357.14, 2,000.00) = 1,357.14
    assert draw_amounts(mar) == {"recovery": D("-1357.14")}
    assert to_date(mar)["draw_balance"] == "0.00"


def test_balance_is_written_off_at_plan_year_end_and_not_carried() -> None:
    rule_set = rules(FLAT_5, DRAW)
    december = run(rule_set, period="2026-12")
    # no sales all year: 12 advances of 1,000.00; the balance at the year's end is written off
    assert draw_amounts(december) == {"advance": D("1000.00")}
    assert to_date(december)["draw_balance"] == "12,000.00"
    assert to_date(december)["written_off_at_plan_year_end"] == "12,000.00"
    january = run(rule_set, period="2027-01")
    # the next plan year starts from a zero balance
    assert to_date(january)["balance_before"] == "0.00"
    assert to_date(january)["draw_balance"] == "1,000.00"


def test_against_names_the_commissions_a_draw_nets() -> None:
    second = """
    - id: spiff
      kind: commission
      rate: 0.01
    - id: draw
      kind: draw
      amount: 1000
      recoverable: true
      against: [comm]
    """
    result = run(rules(FLAT_5, second), sales=ledger(sale("T1", "2026-03-02", "10000.00")))
    # only comm counts: c = 500.00 (not 500.00 + 100.00): advance 500.00
    assert draw_amounts(result) == {"advance": D("500.00")}
    # without `against`, every commission of the plan counts: c = 600.00 -> advance 400.00
    both = run(rules(FLAT_5, second.replace("      against: [comm]\n", "")),
               sales=ledger(sale("T1", "2026-03-02", "10000.00")))  # fmt: skip
    assert draw_amounts(both) == {"advance": D("400.00")}


def test_draw_lines_follow_the_plan_order_and_use_their_own_pay_code() -> None:
    result = run(rules(DRAW, FLAT_5), sales=ledger(sale("T1", "2026-03-02", "10000.00")))
    # the draw is computed after the commission it nets, but listed where the plan puts it
    assert line_ids(result, "E1") == ["draw.advance", "comm.new_credit"]
    assert dict(result.summary)["total_draw"] == "500.00"


def test_draw_on_paid_to_date_rejects_nothing_and_reads_the_balance() -> None:
    paid = pd.DataFrame(
        [("E1", "draw", "700.00")], columns=["employee_id", "component", "amount"]
    )
    result = run(rules(FLAT_5, DRAW), sales=ledger(sale("T1", "2026-03-02", "50000.00")),
                 paid_to_date=paid)  # fmt: skip
    # balance before = net paid on the draw = 700.00; c = 2,500.00, 1,500.00 above the draw:
    # recover 700.00
    assert draw_amounts(result) == {"recovery": D("-700.00")}


# --------------------------------------------------------------------------------------------
# The rule language


def _problems(*components: str) -> str:
    with pytest.raises(RuleFileError) as caught:
        rules(*components)
    return str(caught.value)


def test_unknown_draw_field_is_refused_at_its_line() -> None:
    text = _problems(FLAT_5, DRAW + "  recovery_limt: 100\n")
    assert 'unknown field "recovery_limt" (did you mean "recovery_limit"?)' in text
    assert "<rules>:23:9: plans.rep.components[1]" in text


def test_recovery_limit_needs_a_recoverable_draw() -> None:
    text = _problems(FLAT_5, DRAW_FORGIVEN + "  recovery_limit: 100\n")
    assert "'recovery_limit' only applies to a recoverable draw" in text


def test_against_must_name_commissions_of_the_plan() -> None:
    text = _problems(FLAT_5, DRAW + "  against: [base, nope]\n", "- {id: base, kind: base_salary}")
    assert "'base' is a base_salary, not a commission" in text
    assert "no commission 'nope' in this plan (commissions: comm)" in text
    assert "plans.rep.components[1].against[0]" in text


def test_a_draw_needs_a_commission_and_one_draw_per_commission() -> None:
    assert "draw 'draw' needs a commission in its plan" in _problems(DRAW)
    twice = DRAW.replace("id: draw", "id: draw2")
    text = _problems(FLAT_5, DRAW, twice)
    assert "commission 'comm' is already drawn against by draw 'draw'" in text


def test_recoverable_is_required() -> None:
    text = _problems(FLAT_5, "- {id: draw, kind: draw, amount: 1000}")
    assert 'missing required field "recoverable"' in text


def test_a_negative_draw_is_a_run_problem() -> None:
    with pytest.raises(compcalc.RunError) as caught:
        run(rules(FLAT_5, DRAW.replace("amount: 1000", "amount: -5")))
    assert "plans.rep.components[1].amount: the amount must not be negative" in str(caught.value)


# --------------------------------------------------------------------------------------------
# Properties


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    monthly=st.lists(st.integers(0, 60_000), min_size=2, max_size=4),
    draw=st.integers(1, 3000),
    limit=st.one_of(st.none(), st.integers(1, 2000)),
)
def test_paying_month_by_month_follows_the_draw_identity(
    monthly: list[int], draw: int, limit: int | None
) -> None:
    component = f"- {{id: draw, kind: draw, amount: {draw}, recoverable: true"
    component += f", recovery_limit: {limit}}}" if limit is not None else "}"
    sales = ledger(*[
        sale(f"T{m}", f"2026-{m:02d}-10", f"{amount}.00")
        for m, amount in enumerate(monthly, start=1) if amount
    ])  # fmt: skip
    results = monthly_runs(rules(FLAT_5, component), roster(), sales, months=len(monthly))
    balance = D(0)
    paid_on_draw = D(0)
    cap = D(limit) if limit is not None else None
    for result in results:
        c = comm_total(result)
        lines = draw_amounts(result)
        paid_on_draw += sum(lines.values(), D(0))
        # the balance recursion, by hand: advance D - c below the draw, else recover
        expected_advance = max(D(draw) - c, D(0))
        expected_recovery = min(balance, max(c - D(draw), D(0)), *([cap] if cap else []))
        assert lines.get("advance", D(0)) == expected_advance
        assert lines.get("recovery", D(0)) == -expected_recovery
        balance += expected_advance - expected_recovery
        if cap is None:
            assert balance == max(D(0), balance - expected_advance + expected_recovery
                                  + D(draw) - c)  # fmt: skip
        # the draw is a floor: commission + draw >= D every month
        assert c + sum(lines.values(), D(0)) >= D(draw)
        # the net paid on the draw to date is the balance on the statement
        assert to_date(result)["draw_balance"] == f"{balance:,.2f}"
        assert paid_on_draw == balance


# --------------------------------------------------------------------------------------------
# The shipped example: rules/account_managers.yaml, business development managers' draw
# (recoverable; entry 2,000.00, mid 2,500.00, senior 4,000.00 a month; at most 300.00
# recovered a month; prorated by working days; against deal_commission only)

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
LEDGERS = [str(REPO / f"examples/ledger/2026-{m}.csv") for m in ("10", "11", "12")]


@pytest.fixture(scope="module")
def shipped() -> list[compcalc.PeriodResult]:
    rule_set = compcalc.load_rules(REPO / "rules/account_managers.yaml")
    staff = compcalc.read_roster(str(REPO / "examples/roster.csv"))
    return [
        compcalc.run_period(rule_set, staff, LEDGERS[: k + 1], f"2026-{month}")
        for k, month in enumerate(("10", "11", "12"))
    ]


def test_shipped_example_draw_advance_then_recovery(shipped: list[compcalc.PeriodResult]) -> None:
    october, november, december = shipped
    # Zoe Adams (E035, mid): October deal commission 2,080.40 < 2,500.00:
    # advance 2,500.00 - 2,080.40 = 419.60, balance 419.60
    assert draw_amounts(october, "E035") == {"advance": D("419.60")}
    # November: 904.00 released + 2,411.12 new = 3,315.12, 815.12 above the draw:
    # recover min(419.60, 815.12, limit 300.00) = 300.00, balance 119.60
    assert draw_amounts(november, "E035") == {"recovery": D("-300.00")}
    assert to_date(november, employee="E035")["draw_balance"] == "119.60"
    # December: 2,576.48, 76.48 above: recover min(119.60, 76.48, 300.00) = 76.48, balance 43.12
    assert draw_amounts(december, "E035") == {"recovery": D("-76.48")}
    assert to_date(december, employee="E035")["draw_balance"] == "43.12"
    # Elena Petrova (E040, mid, hired Monday 2026-11-16): 11 of November's 21 working days:
    # 2,500.00 x 11/21 = 1,309.5238 -> 1,309.52; commission 947.80: advance 361.72
    assert draw_amounts(november, "E040") == {"advance": D("361.72")}
    # December: full draw 2,500.00 - 824.80 = 1,675.20; balance 361.72 + 1,675.20 = 2,036.92
    assert draw_amounts(december, "E040") == {"advance": D("1675.20")}
    assert to_date(december, employee="E040")["draw_balance"] == "2,036.92"
    # Lucas Schmidt (E034, senior): 8,000.00 and 6,462.00 in October and November, well above
    # 4,000.00 (nothing owed, nothing banked); December 1,528.00: advance 2,472.00
    assert draw_amounts(october, "E034") == {} and draw_amounts(november, "E034") == {}
    assert draw_amounts(december, "E034") == {"advance": D("2472.00")}
    # the draw lines carry pay code "draw"
    assert dict(november.summary)["total_draw"] == "61.72"  # 361.72 - 300.00


def test_shipped_example_paid_to_date_matches_replay(shipped: list[compcalc.PeriodResult]) -> None:
    october, november, december = shipped
    paid: dict[tuple[str, str], Decimal] = {}
    for result in (october, november):
        for statement in result.statements:
            for li in statement.lines:
                if li.kind in ("commission", "bonus", "draw", "override"):
                    key = (statement.employee_id, li.component)
                    paid[key] = paid.get(key, D(0)) + li.amount
    frame = pd.DataFrame(
        [(e, c, str(a)) for (e, c), a in sorted(paid.items())],
        columns=["employee_id", "component", "amount"],
    )
    rule_set = compcalc.load_rules(REPO / "rules/account_managers.yaml")
    given = compcalc.run_period(
        rule_set, str(REPO / "examples/roster.csv"), LEDGERS, "2026-12", frame
    )
    for employee in ("E034", "E035", "E040", "E001", "E017"):
        assert given.statement(employee).lines == december.statement(employee).lines
