"""Corrections to closed periods arrive as adjustment lines in the next open period.

Each test runs January through the store (SQLite file in ``tmp_path``), closes it, corrects
something that January was paid on, and runs February with January's payments as paid to
date. The February lines that correct January carry pay code ``adjustment``, name the
original period, and say which ledger event or rule change is behind them.

Rule set: the standard example header (plan year = calendar 2026, USD, half_up), a flat
commission of 10 % (5 % in the rule-change test), no base salary.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd

import compcalc
from compcalc.rules.digest import ruleset_digest
from compcalc.store import Store
from test_engine_examples import HEADER, ledger, opened, refund, resolved, roster, sale

D = Decimal
YEAR = dt.date(2026, 1, 1)


def flat(rate: str, version: str = "1") -> compcalc.RuleSet:
    components = f"""\
      - id: comm
        kind: commission
        rate: {rate}
"""
    text = HEADER.format(currency="USD", rounding="half_up", components=components)
    return compcalc.load_rules_text(text.replace('version: "1"', f'version: "{version}"'))


def run_and_close(
    store: Store, rule_set: compcalc.RuleSet, sales: pd.DataFrame, period: str, close: bool
) -> compcalc.PeriodResult:
    start = compcalc.parse_period(period).start
    result = compcalc.run_period(
        rule_set,
        roster(),
        sales,
        period,
        paid_to_date=store.paid_to_date(start, YEAR),
        history=store.prior_runs(start, YEAR),
    )
    store.save_run(result, plan_year_start=YEAR)
    if close:
        store.close_period(period)
    return result


def lines(result: compcalc.PeriodResult) -> dict[str, compcalc.Line]:
    return {line.id: line for line in result.statement("E1").lines}


JANUARY = [sale("T1", "2026-01-10", "1000.00"), sale("T2", "2026-01-20", "3000.00")]


def test_refund_of_a_paid_january_sale(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run_and_close(store, flat("0.10"), ledger(*JANUARY), "2026-01", close=True)
        corrected = ledger(*JANUARY, refund("T1", "2026-02-03", "1000.00"))
        february = lines(run_and_close(store, flat("0.10"), corrected, "2026-02", close=False))
    clawback = february["comm.clawback"]
    # January paid 10 % x 4,000.00 = 400.00; T1 refunded in full: 10 % x 1,000.00 back.
    assert clawback.amount == D("-100.00")
    assert clawback.pay_code == "adjustment"
    assert clawback.transactions == ("T1",)
    details = dict(clawback.details)
    assert details["original_periods"] == "2026-01"
    assert details["events"] == "T1: refund 2026-02-03 of 1,000.00"
    assert "comm.true_up" not in february  # nothing else about January changed


def test_late_dispute_and_its_resolution(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run_and_close(store, flat("0.10"), ledger(*JANUARY), "2026-01", close=True)
        disputed = ledger(*JANUARY, opened("T2", "2026-02-10"))
        held = lines(run_and_close(store, flat("0.10"), disputed, "2026-02", close=True))
        settled = ledger(*JANUARY, opened("T2", "2026-02-10"), resolved("T2", "2026-03-05"))
        released = lines(run_and_close(store, flat("0.10"), settled, "2026-03", close=False))
    assert held["comm.held_back"].amount == D("-300.00")
    assert held["comm.held_back"].pay_code == "adjustment"
    assert dict(held["comm.held_back"].details)["original_periods"] == "2026-01"
    assert released["comm.released"].amount == D("300.00")
    assert released["comm.released"].pay_code == "adjustment"
    release = dict(released["comm.released"].details)
    assert release["original_periods"] == "2026-01"
    assert release["events"] == "T2: dispute resolved 2026-03-05"


def test_late_entered_january_sale_is_a_ledger_correction(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        january = run_and_close(store, flat("0.10"), ledger(*JANUARY), "2026-01", close=True)
        late = ledger(*JANUARY, sale("T3", "2026-01-28", "500.00"))
        february = lines(run_and_close(store, flat("0.10"), late, "2026-02", close=False))
    assert january.statement("E1").total == D("400.00")
    true_up = february["comm.true_up"]
    # Due to 31 January as known now: 10 % x 4,500.00 = 450.00; paid 400.00.
    assert true_up.amount == D("50.00")
    assert true_up.pay_code == "adjustment"
    details = dict(true_up.details)
    assert details["original_periods"] == "2026-01"
    assert details["cause"] == (
        "ledger correction 50.00: sales or events dated in 2026-01 were added or changed after "
        "those periods were paid"
    )
    assert true_up.formula == (
        "due to 2026-01-31 as known now 450.00 - paid to date 400.00 = 50.00"
    )


def test_rule_change_for_a_past_month_names_both_versions(tmp_path: Path) -> None:
    old, new = flat("0.05", version="1"), flat("0.10", version="2")
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run_and_close(store, old, ledger(*JANUARY), "2026-01", close=True)
        february = lines(run_and_close(store, new, ledger(*JANUARY), "2026-02", close=False))
    true_up = february["comm.true_up"]
    # January paid 5 % x 4,000.00 = 200.00; the new rate values it at 400.00.
    assert true_up.amount == D("200.00")
    cause = dict(true_up.details)["cause"]
    old_sha, new_sha = (ruleset_digest(r)[:12] for r in (old, new))
    assert cause == (
        f"rule change 200.00: 2026-01 under version 1 ({old_sha}) closed; "
        f"this run uses version 2 ({new_sha}) (ledger rows dated in closed periods may have "
        "changed too)"
    )


def test_february_pays_only_what_january_did_not(tmp_path: Path) -> None:
    """Total paid over January and February equals February's due to date, whatever changed."""
    corrected = ledger(
        *JANUARY,
        refund("T1", "2026-02-03", "400.00"),
        sale("T3", "2026-01-28", "500.00"),
        sale("T4", "2026-02-14", "800.00"),
    )
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        january = run_and_close(store, flat("0.10"), ledger(*JANUARY), "2026-01", close=True)
        february = run_and_close(store, flat("0.10"), corrected, "2026-02", close=True)
    fresh = compcalc.run_period(flat("0.10"), roster(), corrected, "2026-02")
    due = dict(dict(fresh.statement("E1").to_date)["comm"])["due_to_date"]
    # 10 % x (600.00 + 3,000.00 + 500.00 + 800.00) = 490.00
    assert due == "490.00"
    paid = january.statement("E1").total + february.statement("E1").total
    assert paid == D("490.00")
    codes = {line.id: line.pay_code for line in february.statement("E1").lines}
    assert codes == {
        "comm.true_up": "adjustment",
        "comm.clawback": "adjustment",
        "comm.new_credit": "commission",
    }


def capped(amount: str) -> compcalc.RuleSet:
    components = f"""\
      - id: comm
        kind: commission
        rate: 0.05
        cap: {{per: period, amount: {amount}}}
"""
    text = HEADER.format(currency="USD", rounding="half_up", components=components)
    return compcalc.load_rules_text(text)


def test_an_unreached_cap_does_not_hide_a_ledger_correction(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run_and_close(store, capped("100000"), ledger(sale("T1", "2026-01-05", "10000.00")),
                      "2026-01", close=True)  # fmt: skip
        late = ledger(sale("T1", "2026-01-05", "10000.00"), sale("T0", "2026-01-20", "2000.00"))
        february = lines(run_and_close(store, capped("100000"), late, "2026-02", close=False))
    true_up = february["comm.true_up"]
    assert true_up.amount == D("100.00")  # 5 % x 2,000.00, entered after January closed
    assert dict(true_up.details)["cause"] == (
        "ledger correction 100.00: sales or events dated in 2026-01 were added or changed "
        "after those periods were paid"
    )


def test_true_up_names_each_cause_with_its_amount(tmp_path: Path) -> None:
    # Cap 550.00 a month. January pays 5 % x 10,000.00 = 500.00. A 2,000.00 sale dated in
    # January is entered after January closed: on today's ledger January was due 600.00, of
    # which the cap lets 550.00 through. February's true-up 100.00 = 50.00 that January should
    # have paid (ledger correction) + 50.00 the cap defers either way.
    rule_set = capped("550")
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        january = run_and_close(store, rule_set, ledger(sale("T1", "2026-01-05", "10000.00")),
                                "2026-01", close=True)  # fmt: skip
        late = ledger(sale("T1", "2026-01-05", "10000.00"), sale("T0", "2026-01-20", "2000.00"))
        february = lines(run_and_close(store, rule_set, late, "2026-02", close=False))
    assert january.statement("E1").total == D("500.00")
    true_up = february["comm.true_up"]
    assert true_up.amount == D("100.00")
    assert dict(true_up.details)["cause"] == (
        "ledger correction 50.00: sales or events dated in 2026-01 were added or changed after "
        "those periods were paid; per-period cap 50.00: commission deferred by the cap, paid "
        "as it fits"
    )
