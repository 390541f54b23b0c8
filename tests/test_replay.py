"""The replay of earlier periods (no ``paid_to_date``), walked once per run and shared.

Conventions of ``test_engine_examples``: plan year = calendar 2026, plan ``rep``, employee E1
(quota 100,000.00, hired 2020). The commission, its true-up causes and the draw read one walk
of the earlier months; a plan is resolved once per state of its dated values. These tests pin
the figures that sharing must keep, worked by hand.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import compcalc
from compcalc.engine.commission import CommissionPlan, _dated_state
from compcalc.engine.run import _context, _rows, check_part, prepare
from compcalc.errors import RunError
from compcalc.inputs import read_ledger, read_roster
from compcalc.periods import parse_period
from compcalc.rules import load_rules
from compcalc.rules.schema import Commission, Dated
from generated import REPO, generated_tables
from test_draws import draw_amounts
from test_engine_examples import BASE, amount, emp, ledger, line, roster, rules, run, sale

D = Decimal

DATED_COMMISSION = """
- id: comm
  kind: commission
  rate:
    dated:
      - {from: 2026-01-01, value: 0.05}
      - {from: 2026-03-01, value: 0.08}
"""
SENIOR_DRAW = """
- id: draw
  kind: draw
  amount: 1000
  recoverable: true
  when:
    seniority: [senior]
"""
MONTHLY_SALES = [
    sale(f"T{m}", f"2026-{m:02d}-10", "10000.00") for m in range(1, 5)
]


def test_dated_state_counts_the_entries_in_force() -> None:
    rate = Dated.model_validate(
        {"dated": [{"from": "2026-01-01", "value": 1}, {"from": "2026-03-01", "value": 2}]}
    )
    assert _dated_state(rate, dt.date(2026, 2, 28)) == (1,)
    assert _dated_state(rate, dt.date(2026, 3, 1)) == (2,)
    assert _dated_state(rate, dt.date(2025, 12, 31)) is None  # nothing in force yet
    assert _dated_state([rate, {"x": rate}], dt.date(2026, 1, 31)) == (1, 1)


def test_draw_reads_the_commission_replay_under_the_rules_of_each_month() -> None:
    # Commission 5 % in January and February, 8 % from March; 10,000.00 sold each month.
    # Replay: Jan due 500.00 paid 500.00; Feb due 1,000.00 pays 500.00; Mar due 2,400.00
    # pays 1,400.00. April: due 3,200.00 - paid 2,400.00 = 800.00 new credit, no true-up.
    # Draw 1,000.00: Jan advance 500 (balance 500), Feb advance 500 (1,000), Mar recovers
    # min(1,000, 400) = 400 (600), Apr advance 1,000 - 800 = 200 (800).
    result = run(
        rules(DATED_COMMISSION, SENIOR_DRAW),
        roster(emp("E1", seniority="senior"), emp("E2")),
        ledger(*MONTHLY_SALES, sale("T9", "2026-02-10", "50000.00", emp="E2")),
        period="2026-04",
    )
    assert amount(result, "E1", "comm.new_credit") == D("800.00")
    assert "comm.true_up" not in [item.id for item in result.statement("E1").lines]
    assert draw_amounts(result) == {"advance": D("200.00")}
    details = dict(line(result, "E1", "draw.advance").details)
    assert details["balance_before"] == "600.00"
    assert details["draw_balance"] == "800.00"
    # E2 (no draw: mid) shares the commission's replay: Feb 50,000 x 5 % = 2,500.00 paid,
    # March re-rates it at 8 %: due 4,000.00, pays 1,500.00. April: 4,000.00 paid before,
    # nothing new, no true-up.
    assert [item.id for item in result.statement("E2").lines] == ["comm.new_credit"]
    assert amount(result, "E2", "comm.new_credit") == D("0.00")
    figures = dict(dict(result.statement("E2").to_date)["comm"])
    assert figures["paid_before"] == "4,000.00"
    assert figures["due_to_date"] == "4,000.00"
    assert draw_amounts(result, "E2") == {}


def test_a_month_before_a_dated_value_starts_is_still_reported() -> None:
    # The rate is dated from February only: replaying January finds no rate in force.
    rule_set = rules("""
        - id: comm
          kind: commission
          rate:
            dated:
              - {from: 2026-02-01, value: 0.05}
        """)
    with pytest.raises(RunError, match="2026-01-31"):
        run(rule_set, sales=ledger(*MONTHLY_SALES), period="2026-03")


@pytest.mark.parametrize("period", ["2027-03", "2027-09"])
def test_due_at_a_period_end_is_the_due_of_every_sales_basis(tmp_path: Path, period: str) -> None:
    """CommissionPlan.due_at (credited bases summed once for every period end, the sales that
    differ corrected; per-sale schedules too) gives what the due of each sale's basis gives,
    at every period end of the year and on another day, for every commission of the flagship
    plan, on a generated ledger with disputes, refunds and margins."""
    roster_table, ledger_table = generated_tables(80, 8_000)
    pq.write_table(roster_table, tmp_path / "roster.parquet")
    pq.write_table(ledger_table, tmp_path / "ledger.parquet")
    flagship = load_rules(REPO / "rules" / "account_managers.yaml")
    setup = prepare(flagship, read_roster(tmp_path / "roster.parquet"), parse_period(period))
    checked, _ = check_part(setup, read_ledger(tmp_path / "ledger.parquet"))
    ctx = _context(setup, setup.employees, checked.frame)
    checked_methods = set()
    for role, plan in sorted(flagship.plans.items()):
        for index, component in enumerate(plan.components):
            rows = _rows(ctx.employees, role, component)
            if not isinstance(component, Commission) or not len(rows):
                continue
            path = f"plans.{role}.components[{index}]"
            commission = CommissionPlan(component, path, rows, ctx, ctx.resolver)
            checked_methods.add(commission.schedule.method)
            ends = [dt.date(1970, 1, 1) + dt.timedelta(days=d) for d in ctx.period_ends()]
            for as_of in [*ends, ctx.period.end - dt.timedelta(days=9)]:
                basis = ctx.basis(as_of, component.basis, at=commission.own_sales)
                expected = commission.due_of(basis).due
                assert commission.due_at(as_of).tolist() == expected.tolist(), (path, as_of)
            if commission.schedule.method == "per_transaction":  # summed in the one pass
                assert commission._per_sale_table is not None
                assert commission._per_sale_table[1] is not None
    assert {"per_transaction", "marginal"} <= checked_methods


def test_a_per_sale_schedule_that_pays_on_nothing_is_replayed_sale_by_sale() -> None:
    """Bands under a negative quota (attainment bands) reverse, so a sale not yet sold (a
    basis of 0) earns something: the month ends' one-pass sums, which leave unsold sales
    out, are not taken, and every sale is rated as before (due_at = due_of)."""
    reversed_bands = rules(BASE, """
        - id: comm
          kind: commission
          quota: -1000
          tiers:
            method: per_transaction
            measure: attainment
            bands:
              - {id: a, from: 0, to: 1, rate: 0.05}
              - {id: b, from: 1, rate: 0.10}
        """)  # fmt: skip
    staff = compcalc.read_roster(roster())
    sales = compcalc.read_ledger(
        ledger(sale("T1", "2026-01-10", "500.00"), sale("T2", "2026-02-10", "700.00"))
    )
    setup = prepare(reversed_bands, staff, parse_period("2026-02"))
    checked, _ = check_part(setup, sales)
    ctx = _context(setup, setup.employees, checked.frame)
    component = reversed_bands.plans["rep"].components[1]
    assert isinstance(component, Commission)
    plan = CommissionPlan(component, "plans.rep.components[1]", np.arange(1), ctx, ctx.resolver)
    for as_of in (dt.date(2026, 1, 31), dt.date(2026, 2, 28)):
        expected = plan.due_of(ctx.basis(as_of, "amount", at=plan.own_sales)).due
        assert plan.due_at(as_of).tolist() == expected.tolist()
    assert plan._per_sale_table is not None and plan._per_sale_table[1] is None
