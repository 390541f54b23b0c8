"""Manager overrides (``kind: override``), worked by hand.

Conventions of ``test_engine_examples`` (plan year = calendar 2026, plan ``rep``, period March
2026). Here M manages A, B and C (roster ``manager_id``); everyone is in plan ``rep``, whose
only component is the override ``ovr`` (1 % unless a test says otherwise), so only M, the one
with a team, gets override lines.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compcalc
from compcalc.errors import RuleFileError
from test_engine_examples import emp, ledger, opened, refund, roster, rules, run, sale

D = Decimal

OVR = """
- id: ovr
  kind: override
  rate: 0.01
"""


def team(**manager_fields: str) -> pd.DataFrame:
    return roster(
        emp("M", **manager_fields),
        emp("A", manager_id="M"),
        emp("B", manager_id="M"),
        emp("C", manager_id="M"),
    )


def override_lines(result: compcalc.PeriodResult, employee: str = "M") -> dict[str, Decimal]:
    return {
        line.id: line.amount
        for line in result.statement(employee).lines
        if line.component == "ovr"
    }


def figures(result: compcalc.PeriodResult, employee: str = "M") -> dict[str, str]:
    return dict(dict(result.statement(employee).to_date)["ovr"])


def test_first_dollar_override_line_by_member() -> None:
    sales = ledger(
        sale("TA", "2026-03-02", "10000.00", emp="A"),
        sale("TB", "2026-03-05", "30000.00", emp="B"),
        sale("TM", "2026-03-06", "50000.00", emp="M"),  # the manager's own sale: not counted
    )
    result = run(rules(OVR), team(), sales)
    # team credited 10,000 + 30,000 = 40,000.00; due = 1 % x 40,000.00 = 400.00
    # shared by credit: A 400 x 10/40 = 100.00, B 400 x 30/40 = 300.00; C sold nothing
    assert override_lines(result) == {"ovr.member.A": D("100.00"), "ovr.member.B": D("300.00")}
    a_line = next(li for li in result.statement("M").lines if li.id == "ovr.member.A")
    assert a_line.pay_code == "override"
    assert a_line.transactions == ("TA",)
    assert a_line.label == "Team override: A Employee A"
    assert a_line.formula == (
        "due to date 1% x team credited 40,000.00 = 400.00; A's share 400.00 x 10,000.00 / "
        "40,000.00 = 100.00; less due to 2026-02-28 as known now 1% x team credited 0.00 = "
        "0.00; A's share 0.00 x 0.00 / 0.00 = 0.00; = 100.00"
    )
    assert dict(a_line.details)["member"] == "A"
    assert figures(result)["due_to_date"] == "400.00"
    assert figures(result)["team_members"] == "3"
    # A, B and C have no team: no override lines, no override figures
    assert "ovr" not in dict(result.statement("A").to_date)


def test_threshold_and_largest_remainder_tie_break() -> None:
    sales = ledger(
        sale("TA", "2026-03-02", "5000.00", emp="A"),
        sale("TB", "2026-03-02", "5000.00", emp="B"),
        sale("TC", "2026-03-02", "5000.00", emp="C"),
    )
    result = run(rules(OVR + "  threshold: 5000\n"), team(), sales)
    # team 15,000.00 - threshold 5,000.00 = 10,000.00 x 1 % = 100.00 due
    # equal credit: 10,000 cents / 3 = 3,333 r 1; the spare cent goes to the lowest id (A)
    assert override_lines(result) == {
        "ovr.member.A": D("33.34"),
        "ovr.member.B": D("33.33"),
        "ovr.member.C": D("33.33"),
    }
    first = next(li.formula for li in result.statement("M").lines if li.id == "ovr.member.A")
    assert first.startswith(
        "due to date 1% x (team credited 15,000.00 - threshold 5,000.00) = 100.00;"
    )


def test_below_the_threshold_nothing_is_due_and_no_line_shows() -> None:
    sales = ledger(sale("TA", "2026-03-02", "4000.00", emp="A"))
    result = run(rules(OVR + "  threshold: 5000\n"), team(), sales)
    assert override_lines(result) == {}
    assert figures(result)["team_credited_to_date"] == "4,000.00"
    assert figures(result)["due_to_date"] == "0.00"


def test_crossing_the_threshold_later_shares_the_whole_due() -> None:
    sales = ledger(
        sale("TA", "2026-02-10", "10000.00", emp="A"),
        sale("TB", "2026-03-10", "30000.00", emp="B"),
    )
    rule_set = rules(OVR + "  threshold: 20000\n")
    february = run(rule_set, team(), sales, period="2026-02")
    # February: team 10,000.00 is not above 20,000.00: nothing
    assert override_lines(february) == {}
    march = run(rule_set, team(), sales)
    # March: (40,000.00 - 20,000.00) x 1 % = 200.00; A 200 x 10/40 = 50.00, B 150.00;
    # at February's end nothing was due, so each member's line is their whole share
    assert override_lines(march) == {"ovr.member.A": D("50.00"), "ovr.member.B": D("150.00")}
    a_line = next(li for li in march.statement("M").lines if li.id == "ovr.member.A")
    # A sold nothing new, but their credit to date earns a share: the line cites it
    assert a_line.transactions == ("TA",)


def test_member_lines_and_true_up_add_up_to_due_less_paid() -> None:
    sales = ledger(
        sale("TA", "2026-02-10", "10000.00", emp="A"),
        sale("TB", "2026-03-10", "30000.00", emp="B"),
        sale("TC", "2026-02-11", "20000.00", emp="C"),
        refund("TC", "2026-03-12", "5000.00", emp="C"),
    )
    paid = pd.DataFrame([("M", "ovr", "250.00")], columns=["employee_id", "component", "amount"])
    result = run(rules(OVR), team(), sales, paid_to_date=paid)
    # due at February's end as known now: 1 % x (10,000 + 20,000) = 300.00; paid 250.00:
    # true-up 50.00 (pay code adjustment)
    true_up = next(li for li in result.statement("M").lines if li.id == "ovr.true_up")
    assert true_up.amount == D("50.00")
    assert true_up.pay_code == "adjustment"
    # now: 1 % x (10,000 + 30,000 + 15,000) = 550.00 due
    #   A: 550 x 10/55 = 100.00 (was 300 x 10/30 = 100.00): 0.00, no line
    #   B: 550 x 30/55 = 300.00 (was 0): 300.00
    #   C: 550 x 15/55 = 150.00 (was 300 x 20/30 = 200.00): -50.00 (the refund)
    lines = override_lines(result)
    assert lines == {"ovr.true_up": D("50.00"), "ovr.member.B": D("300.00"),
                     "ovr.member.C": D("-50.00")}  # fmt: skip
    # conservation: 50.00 + 300.00 - 50.00 = 300.00 = 550.00 due - 250.00 paid
    assert sum(lines.values(), D(0)) == D("300.00")
    assert figures(result)["payable_this_period"] == "300.00"


def test_replay_and_paid_to_date_give_the_same_lines() -> None:
    sales = ledger(
        sale("TA", "2026-01-10", "10000.00", emp="A"),
        sale("TB", "2026-02-10", "30000.00", emp="B"),
        sale("TC", "2026-03-11", "20000.00", emp="C"),
        refund("TA", "2026-03-12", "2500.00", emp="A"),
    )
    rule_set = rules(OVR + "  threshold: 12000\n")
    months = [run(rule_set, team(), sales, period=f"2026-{m:02d}") for m in (1, 2, 3)]
    paid_before = sum(
        (sum(override_lines(r).values(), D(0)) for r in months[:2]), D(0)
    )
    # January 0 (10,000 not above 12,000); February 1 % x 28,000 = 280.00
    assert paid_before == D("280.00")
    paid = pd.DataFrame(
        [("M", "ovr", str(paid_before))], columns=["employee_id", "component", "amount"]
    )
    given = run(rule_set, team(), sales, paid_to_date=paid)
    assert given.statement("M").lines == months[2].statement("M").lines


def test_held_excluded_and_out_of_employment_sales_do_not_count() -> None:
    staff = roster(
        emp("M", termination_date="2026-03-20"),
        emp("A", manager_id="M"),
        emp("B", manager_id="M", hire_date="2026-03-10"),
        emp("S", manager_id="S"),  # names themself: not their own team member
    )
    sales = ledger(
        sale("T1", "2026-03-02", "10000.00", emp="A"),
        sale("T2", "2026-03-03", "7000.00", emp="A"),
        opened("T2", "2026-03-04", emp="A"),  # held: does not count
        sale("T3", "2026-03-05", "9000.00", emp="B"),  # before B's hire: excluded
        sale("T4", "2026-03-25", "8000.00", emp="A"),  # after M left: not M's override
        sale("T5", "2026-03-06", "5000.00", emp="S"),
    )
    result = run(rules(OVR), staff, sales)
    # only T1 counts: 1 % x 10,000.00 = 100.00, all A's
    assert override_lines(result) == {"ovr.member.A": D("100.00")}
    assert "ovr" not in dict(result.statement("S").to_date)


def test_override_on_margin() -> None:
    sales = ledger(
        sale("TA", "2026-03-02", "10000.00", emp="A", margin="2500.00"),
        sale("TB", "2026-03-02", "10000.00", emp="B"),  # no margin: counts as 0 margin
    )
    result = run(rules(OVR + "  basis: margin\n"), team(), sales)
    # 1 % x credited margin 2,500.00 = 25.00, all A's
    assert override_lines(result) == {"ovr.member.A": D("25.00")}
    formula = next(li.formula for li in result.statement("M").lines)
    assert formula.startswith("due to date 1% x team credited margin 2,500.00 = 25.00")


def test_unknown_override_field_is_refused() -> None:
    with pytest.raises(RuleFileError) as caught:
        rules(OVR + "  treshold: 100\n")
    assert 'unknown field "treshold" (did you mean "threshold"?)' in str(caught.value)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    amounts=st.lists(
        st.tuples(st.sampled_from("ABC"), st.integers(1, 3), st.integers(1, 90_000)),
        min_size=1,
        max_size=8,
    ),
    threshold=st.integers(0, 60_000),
    rate=st.sampled_from(["0.01", "0.005", "0.0333", "0.07"]),
)
def test_override_lines_add_up_exactly_month_by_month(
    amounts: list[tuple[str, int, int]], threshold: int, rate: str
) -> None:
    sales = ledger(*[
        sale(f"T{n}", f"2026-{month:02d}-1{n % 9}", f"{amount}.{n % 100:02d}", emp=who)
        for n, (who, month, amount) in enumerate(amounts)
    ])  # fmt: skip
    rule_set = rules(f"- {{id: ovr, kind: override, rate: {rate}, threshold: {threshold}}}")
    staff = compcalc.read_roster(team())
    book = compcalc.read_ledger(sales)
    paid = D(0)
    for month in (1, 2, 3):
        result = run(rule_set, staff, book, period=f"2026-{month:02d}")
        lines = override_lines(result)
        due = D(figures(result)["due_to_date"].replace(",", ""))
        # the member lines (and any true-up) add up exactly to due now - paid before
        assert sum(lines.values(), D(0)) == due - paid
        assert "ovr.true_up" not in lines  # replay pays the due each month: nothing to true up
        paid = due


# --------------------------------------------------------------------------------------------
# The shipped example: Olivia Bennett (E001) manages national AMs E002-E007 (0.5 % above
# 1,000,000.00); Natalie Fischer (E017) manages key AMs E018-E026 (0.5 % above 1,500,000.00)

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
LEDGERS = [str(REPO / f"examples/ledger/2026-{m}.csv") for m in ("10", "11", "12")]


def shipped_lines(result: compcalc.PeriodResult, employee: str) -> dict[str, Decimal]:
    return {
        li.id: li.amount
        for li in result.statement(employee).lines
        if li.component == "team_override"
    }


def test_shipped_example_team_override() -> None:
    rule_set = compcalc.load_rules(REPO / "rules/account_managers.yaml")
    staff = compcalc.read_roster(str(REPO / "examples/roster.csv"))
    october, november, december = (
        compcalc.run_period(rule_set, staff, LEDGERS[: k + 1], f"2026-{month}")
        for k, month in enumerate(("10", "11", "12"))
    )
    # October: E002-E007 credited 720,882.60, not above 1,000,000.00: nothing
    assert shipped_lines(october, "E001") == {}
    # November: team 1,546,375.30; 0.5 % x 546,375.30 = 2,731.8765 -> 2,731.88 due, shared by
    # credit to date (cents 273,188 x credit / 154,637,530): floors 43,247 45,340 63,203
    # 63,429 15,433 42,534 leave 2 cents, to the largest remainders, E007 (.906), E006 (.319)
    assert shipped_lines(november, "E001") == {
        "team_override.member.E002": D("432.47"),
        "team_override.member.E003": D("453.40"),
        "team_override.member.E004": D("632.03"),
        "team_override.member.E005": D("634.29"),
        "team_override.member.E006": D("154.34"),
        "team_override.member.E007": D("425.35"),
    }
    # December: team 2,378,942.00: 0.5 % x 1,378,942.00 = 6,894.71; paid 2,731.88: 4,162.83
    assert sum(shipped_lines(december, "E001").values(), D(0)) == D("4162.83")
    # Natalie Fischer: October 1,454,390.00 is under 1,500,000.00; November 3,024,192.00:
    # 0.5 % x 1,524,192.00 = 7,620.96; December 4,725,300.00: 0.5 % x 3,225,300.00 =
    # 16,126.50, less 7,620.96 paid = 8,505.54
    assert shipped_lines(october, "E017") == {}
    assert sum(shipped_lines(november, "E017").values(), D(0)) == D("7620.96")
    assert sum(shipped_lines(december, "E017").values(), D(0)) == D("8505.54")
    assert len(shipped_lines(december, "E017")) == 9
    # Team members have no team: no override lines
    assert shipped_lines(december, "E002") == {}


def test_manager_id_naming_nobody_is_reported_not_dropped() -> None:
    staff = roster(emp("M"), emp("A", manager_id="m"), emp("B", manager_id="M"))
    sales = ledger(
        sale("TA", "2026-03-02", "10000.00", emp="A"),
        sale("TB", "2026-03-05", "30000.00", emp="B"),
    )
    result = run(rules(OVR), staff, sales)
    # Only B's sale reaches M: 1 % x 30,000.00; A is paid as usual but reported.
    assert override_lines(result) == {"ovr.member.B": D("300.00")}
    (reported,) = result.rejected
    assert (reported.row, reported.column, reported.value) == (2, "manager_id", "m")
    assert reported.reason == (
        "manager 'm': no employee has that id on the roster; employee A is paid, but no "
        "manager override is paid on their sales"
    )
    assert "A" in {s.employee_id for s in result.statements}


def test_manager_id_is_not_checked_without_overrides() -> None:
    staff = roster(emp("M"), emp("A", manager_id="nobody"))
    result = run(rules("- {id: base, kind: base_salary}"), staff, ledger())
    assert result.rejected == ()
