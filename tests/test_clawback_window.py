"""The clawback window: late refunds and disputes do not take back paid commission.

Rule set: the standard example header (plan year = calendar 2026, USD, half_up) with a flat
10 % commission and ``clawback: {window_days: 90}`` unless a test says otherwise. Runs replay
earlier months from the ledger (no paid_to_date), so a month's lines are what it pays on top of
what the earlier months paid.

Calendar: 2026-01-10 + 90 days = 2026-04-10 (Jan has 21 days left, Feb 28, Mar 31: 21 + 28 + 31
= 80, then 10 more). So an event on 2026-04-10 is inside the window, 2026-04-11 is outside.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import compcalc
from test_engine_examples import (
    HEADER,
    amount,
    ledger,
    line_ids,
    opened,
    refund,
    resolved,
    roster,
    run,
    sale,
)

D = Decimal

FLAT_10 = """\
      - id: comm
        kind: commission
        rate: 0.10
"""


def windowed(days: int | None = 90) -> compcalc.RuleSet:
    text = HEADER.format(currency="USD", rounding="half_up", components=FLAT_10)
    if days is not None:
        text = text.replace("plan_year:", f"clawback:\n  window_days: {days}\nplan_year:")
    return compcalc.load_rules_text(text)


def notes(result: compcalc.PeriodResult, status: str) -> list[compcalc.SaleNote]:
    return [n for n in result.statement("E1").excluded if n.status == status]


def test_refund_inside_the_window_claws_back() -> None:
    sales = ledger(sale("T1", "2026-01-10", "1000.00"), refund("T1", "2026-04-10", "1000.00"))
    april = run(windowed(), roster(), sales, "2026-04")
    # Paid in January: 10 % x 1,000.00 = 100.00; refunded on day 90, inside: -100.00.
    assert amount(april, "E1", "comm.clawback") == D("-100.00")
    assert amount(april, "E1", "comm.clawback").is_signed()
    assert not notes(april, "not_clawed_back")


def test_refund_outside_the_window_keeps_the_commission_and_says_why() -> None:
    sales = ledger(sale("T1", "2026-01-10", "1000.00"), refund("T1", "2026-04-11", "1000.00"))
    april = run(windowed(), roster(), sales, "2026-04")
    assert "comm.clawback" not in line_ids(april, "E1")
    assert april.statement("E1").total == D("0.00")
    (note,) = notes(april, "not_clawed_back")
    assert note.transaction_id == "T1"
    assert note.reason == (
        "refund 2026-04-11 of 1,000.00 is 91 days after the sale, outside the 90-day "
        "clawback window: the sale had been paid, so nothing is clawed back"
    )
    # Nothing is said to be forfeited, and the credit stays for the rest of the year.
    assert not notes(april, "forfeited")
    may = run(windowed(), roster(), sales, "2026-05")
    assert may.statement("E1").total == D("0.00")
    assert not notes(may, "not_clawed_back")  # said once, in the refund's own period


def test_without_a_window_every_refund_claws_back() -> None:
    sales = ledger(sale("T1", "2026-01-10", "1000.00"), refund("T1", "2026-11-30", "400.00"))
    november = run(windowed(None), roster(), sales, "2026-11")
    assert amount(november, "E1", "comm.clawback") == D("-40.00")


def test_late_partial_refund_keeps_the_whole_commission() -> None:
    sales = ledger(sale("T1", "2026-01-10", "1000.00"), refund("T1", "2026-06-01", "250.00"))
    june = run(windowed(), roster(), sales, "2026-06")
    assert june.statement("E1").total == D("0.00")
    (note,) = notes(june, "not_clawed_back")
    assert "refund 2026-06-01 of 250.00 is 142 days after the sale" in note.reason


def test_dispute_opened_outside_the_window_does_not_hold_a_paid_sale() -> None:
    sales = ledger(sale("T1", "2026-01-10", "1000.00"), opened("T1", "2026-05-04"))
    may = run(windowed(), roster(), sales, "2026-05")
    assert "comm.held_back" not in line_ids(may, "E1")
    assert not may.statement("E1").held
    (note,) = notes(may, "not_clawed_back")
    assert note.reason == (
        "dispute opened 2026-05-04 is 114 days after the sale, outside the 90-day clawback "
        "window: the paid sale is not held back and keeps earning"
    )
    # Its later resolution changes nothing either.
    later = ledger(
        sale("T1", "2026-01-10", "1000.00"),
        opened("T1", "2026-05-04"),
        resolved("T1", "2026-06-02"),
    )
    assert run(windowed(), roster(), later, "2026-06").statement("E1").total == D("0.00")


def test_late_refund_of_a_sale_still_under_an_inside_dispute_forfeits_it() -> None:
    # Disputed on day 22 (inside): held back in February; refunded on day 100 while still
    # disputed: nothing had been paid then, so the refund counts and the sale is forfeited.
    sales = ledger(
        sale("T1", "2026-01-10", "1000.00"),
        opened("T1", "2026-02-01"),
        refund("T1", "2026-04-20", "1000.00"),
    )
    rule_set = windowed()
    february = run(rule_set, roster(), sales, "2026-02")
    assert amount(february, "E1", "comm.held_back") == D("-100.00")
    april = run(rule_set, roster(), sales, "2026-04")
    assert april.statement("E1").total == D("0.00")
    assert [n.status for n in april.statement("E1").excluded] == ["forfeited"]
    # Over the year: +100.00 (Jan) - 100.00 (Feb) and nothing after.
    december = run(rule_set, roster(), sales, "2026-12")
    to_date = dict(dict(december.statement("E1").to_date)["comm"])
    assert to_date["due_to_date"] == "0.00"


def test_late_refund_after_a_release_is_not_clawed_back() -> None:
    # Disputed inside the window, resolved for the company in March (released, paid again),
    # refunded in May (outside): the sale had been paid at the end of April, so it stays.
    sales = ledger(
        sale("T1", "2026-01-10", "1000.00"),
        opened("T1", "2026-02-01"),
        resolved("T1", "2026-03-15"),
        refund("T1", "2026-05-05", "1000.00"),
    )
    rule_set = windowed()
    assert amount(run(rule_set, roster(), sales, "2026-03"), "E1", "comm.released") == D("100.00")
    may = run(rule_set, roster(), sales, "2026-05")
    assert may.statement("E1").total == D("0.00")
    assert [n.status for n in notes(may, "not_clawed_back")] == ["not_clawed_back"]


def test_late_refund_of_a_sale_never_paid_still_counts() -> None:
    # A 10-day window: sold 2 March, refunded 20 March (18 days, outside the window) but in
    # the month it was sold, before any pay run credited it: the refund counts, nothing paid.
    sales = ledger(sale("T1", "2026-03-02", "1000.00"), refund("T1", "2026-03-20", "1000.00"))
    march = run(windowed(10), roster(), sales, "2026-03")
    assert march.statement("E1").total == D("0.00")
    assert [n.status for n in march.statement("E1").excluded] == ["forfeited"]
    assert not notes(march, "not_clawed_back")


def test_window_counts_for_each_sale_on_its_own() -> None:
    sales = ledger(
        sale("T1", "2026-01-10", "1000.00"),
        sale("T2", "2026-03-01", "2000.00"),
        refund("T1", "2026-05-01", "1000.00"),  # day 111: outside, kept
        refund("T2", "2026-05-01", "500.00"),  # day 61: inside, clawed back 10 % x 500.00
    )
    may = run(windowed(), roster(), sales, "2026-05")
    assert amount(may, "E1", "comm.clawback") == D("-50.00")
    assert line_ids(may, "E1").count("comm.clawback") == 1
    assert line(may, "comm.clawback").transactions == ("T2",)
    assert [n.transaction_id for n in notes(may, "not_clawed_back")] == ["T1"]


def line(result: compcalc.PeriodResult, line_id: str) -> compcalc.Line:
    (found,) = [item for item in result.statement("E1").lines if item.id == line_id]
    return found


def test_window_is_validated() -> None:
    text = HEADER.format(currency="USD", rounding="half_up", components=FLAT_10).replace(
        "plan_year:", "clawback:\n  window_days: -1\nplan_year:"
    )
    with pytest.raises(compcalc.RuleFileError) as error:
        compcalc.load_rules_text(text, source="plan.yaml")
    message = str(error.value)
    assert message.startswith("plan.yaml:8:16: clawback.window_days: expected at least 0"), message


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.booleans()), max_size=12))
@example([(0, 1, False), (0, 1, True)])  # a resolution before the opening on its day
@example([(1, 0, True), (0, 5, True)])  # sales out of order
@example([(0, 2, True), (0, 1, False)])  # days out of order
def test_dispute_events_in_order_keep_it_or_are_sorted(events: list[tuple[int, int, bool]]) -> None:
    """Dispute events already by sale, day and openings first are left as they are (a read
    ledger's), else sorted stably: either way the order a lexsort of the three gives."""
    from compcalc.engine.crediting import _by_sale_date_opened

    sale = np.array([e[0] for e in events], dtype=np.int64)
    date = np.array(["2027-01-01"], dtype="datetime64[D]")[[0] * len(events)]
    date = date + np.array([e[1] for e in events], dtype="timedelta64[D]")
    opens = np.array([e[2] for e in events], dtype=bool)
    expected = np.lexsort((~opens, date, sale))
    order = _by_sale_date_opened(sale, date, opens)
    got = np.arange(len(events)) if order is None else order
    assert got.tolist() == expected.tolist()
