"""Split credit: one transaction credited to several employees by shares that make 100 %.

A split transaction has one sale row per employee, each with the whole transaction's amount
(and margin, date, currency) and the employee's ``share`` in percent. Each share's amount is
the transaction allocated by the shares, largest remainder first, ties to the lower employee
id, so the shares add up to the transaction exactly. Figures are worked by hand; the
commission rate is 100 % so a line shows the credited amount itself.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import compcalc
from compcalc.engine.crediting import Money, Sales, allocate_shares, build_sales
from compcalc.inputs import check_ledger, read_ledger, read_roster
from compcalc.inputs.ledger import SHARE_WHOLE
from compcalc.money import allocate

D = Decimal

RULES = """\
id: split-spec
version: "1"
currency: USD
rounding: half_up
effective:
  from: 2026-01-01
plan_year:
  start_month: 10
dimensions:
  seniority: [mid]
  company_size: [mid]
  region: [metro]
plans:
  rep:
    components:
      - id: commission
        kind: commission
        rate: 1
"""
EMPLOYEES = ("E1", "E2", "E3", "E4")
ROSTER = pd.DataFrame(
    [
        {
            "employee_id": e, "name": f"Employee {e}", "role": "rep", "seniority": "mid",
            "company_size": "mid", "region": "metro", "currency": "USD",
            "annual_base": "0.00", "quota": "100000.00", "hire_date": "2020-01-01",
            "termination_date": "", "manager_id": "",
        }
        for e in EMPLOYEES
    ],
    dtype=str,
)  # fmt: skip
COLUMNS = ["transaction_id", "employee_id", "date", "event", "amount", "currency", "share"]


def ledger(*rows: tuple[str, ...]) -> pd.DataFrame:
    """Rows of (id, employee, date, event, amount[, share]); currency USD."""
    cells = [(*r[:5], "USD", r[5] if len(r) > 5 else "") for r in rows]
    return pd.DataFrame(cells, columns=COLUMNS, dtype=str)


def run(frame: pd.DataFrame, period: str = "2026-11") -> compcalc.PeriodResult:
    result = compcalc.run_period(compcalc.load_rules_text(RULES), ROSTER, frame, period)
    for statement in result.statements:
        assert sum((line.amount for line in statement.lines), D(0)) == statement.total
    return result


def new_credit(result: compcalc.PeriodResult, employee: str) -> compcalc.Line:
    (line,) = [
        line for line in result.statement(employee).lines
        if line.kind == "commission" and line.item == "new_credit"
    ]  # fmt: skip
    return line


def amounts(result: compcalc.PeriodResult, *employees: str) -> list[Decimal]:
    return [new_credit(result, e).amount for e in employees]


def sales_of(frame: pd.DataFrame) -> Sales:
    """The engine's sale index (one entry per share) for a clean ledger frame."""
    staff = read_roster(ROSTER)
    checked = check_ledger(read_ledger(frame), staff)
    assert checked.rejected == ()
    position = pd.Series(np.arange(len(staff.frame)), index=staff.frame["employee_id"].to_numpy())
    never = np.full(len(staff.frame), np.datetime64("NaT"), dtype="datetime64[D]")
    return build_sales(
        checked.frame, position, never, never, dt.date(2026, 10, 1), Money("USD")
    )


# ---------------------------------------------------------------------------------------------
# Allocation by hand


def test_thirds_add_up_to_the_transaction() -> None:
    # 100.00 at 33.33 / 33.33 / 33.34 %: exactly 33.33, 33.33, 33.34.
    result = run(
        ledger(
            ("T1", "E1", "2026-11-05", "sale", "100.00", "33.33"),
            ("T1", "E2", "2026-11-05", "sale", "100.00", "33.33"),
            ("T1", "E3", "2026-11-05", "sale", "100.00", "33.34"),
        )
    )
    assert amounts(result, "E1", "E2", "E3") == [D("33.33"), D("33.33"), D("33.34")]
    line = new_credit(result, "E3")
    assert line.transactions == ("T1",)
    assert line.formula.endswith("; T1 33.34% share of 100.00 = 33.34")


def test_the_left_over_cent_goes_to_the_largest_remainder() -> None:
    # 100.00 at 33.3333 / 33.3333 / 33.3334 %: exact parts 33.33333, 33.33333, 33.33334;
    # floors 33.33 each leave 0.01, which goes to the largest remainder: E3's.
    # 0.05 at 33.34 / 33.33 / 33.33 %: exact 1.667, 1.6665, 1.6665 cents; floors 1, 1, 1 leave
    # 2 cents: E1 (0.667) first, then the tie of E2 and E3 goes to the lower id, E2.
    result = run(
        ledger(
            ("T1", "E1", "2026-11-05", "sale", "100.00", "33.3333"),
            ("T1", "E2", "2026-11-05", "sale", "100.00", "33.3333"),
            ("T1", "E3", "2026-11-05", "sale", "100.00", "33.3334"),
            ("T2", "E1", "2026-11-06", "sale", "0.05", "33.34"),
            ("T2", "E2", "2026-11-06", "sale", "0.05", "33.33"),
            ("T2", "E3", "2026-11-06", "sale", "0.05", "33.33"),
        )
    )
    # E1: 33.33 + 0.02; E2: 33.33 + 0.02; E3: 33.34 + 0.01.
    assert amounts(result, "E1", "E2", "E3") == [D("33.35"), D("33.35"), D("33.35")]
    assert new_credit(result, "E3").formula.endswith(
        "; T1 33.3334% share of 100.00 = 33.34; T2 33.33% share of 0.05 = 0.01"
    )


def test_a_tie_goes_to_the_lower_employee_id_whatever_the_row_order() -> None:
    # 0.01 at 50 / 50: one cent, a tie; E1 (the lower id) gets it, though E2's row is first.
    result = run(
        ledger(
            ("T1", "E2", "2026-11-05", "sale", "0.01", "50"),
            ("T1", "E1", "2026-11-05", "sale", "0.01", "50"),
        )
    )
    assert amounts(result, "E1", "E2") == [D("0.01"), D("0.00")]


def test_allocate_shares_agrees_with_money_allocate() -> None:
    total = np.array([10000, 10000, 10000, 1, 1, -7, -7], dtype=np.int64)
    weight = np.array([333333, 333333, 333334, 500000, 500000, 1, 2], dtype=np.int64)
    group = np.array([0, 0, 0, 1, 1, 2, 2], dtype=np.int64)
    assert allocate_shares(total, weight, group).tolist() == [
        *allocate(10000, [333333, 333333, 333334]), *allocate(1, [1, 1]), *allocate(-7, [1, 2])
    ]  # fmt: skip
    assert allocate(-7, [1, 2]) == [-2, -5]


# ---------------------------------------------------------------------------------------------
# Refunds and disputes of a split


def test_a_full_refund_of_a_split_zeroes_every_share() -> None:
    frame = ledger(
        ("T1", "E1", "2026-11-05", "sale", "100.01", "60"),
        ("T1", "E2", "2026-11-05", "sale", "100.01", "40"),
        ("T1", "E2", "2026-11-20", "refund", "30.00"),
        ("T1", "E1", "2026-11-25", "refund", "70.01"),
    )
    # 100.01 x 60 % = 60.006 -> 60.01 (largest remainder), x 40 % = 40.004 -> 40.00.
    # After 30.00 back: 70.01 left -> 42.006 / 28.004 -> 42.01 / 28.00, so the refund took
    # 18.00 and 12.00. After the rest: nothing left, so 42.01 and 28.00.
    sales = sales_of(frame)
    assert sales.amount.tolist() == [6001, 4000]
    assert list(zip(sales.refund_sale.tolist(), sales.refund_amount.tolist(), strict=True)) == [
        (0, 1800), (1, 1200), (0, 4201), (1, 2800)
    ]  # fmt: skip
    assert sales.refund_shown.tolist() == [3000, 3000, 7001, 7001]
    result = run(frame)
    assert amounts(result, "E1", "E2") == [D("0.00"), D("0.00")]
    for employee, share in (("E1", "60.01"), ("E2", "40.00")):
        (note,) = result.statement(employee).excluded
        assert (note.transaction_id, note.status, note.amount) == ("T1", "forfeited", D(share))


def test_a_refund_next_month_claws_back_each_share_and_names_the_whole_refund() -> None:
    frame = ledger(
        ("T1", "E1", "2026-11-05", "sale", "100.00", "60"),
        ("T1", "E2", "2026-11-05", "sale", "100.00", "40"),
        ("T1", "E1", "2026-12-03", "refund", "50.00"),
    )
    result = run(frame, "2026-12")
    # 50.00 left: 30.00 / 20.00, so E1 loses 30.00 and E2 20.00 of the 60.00 / 40.00 paid.
    for employee, amount, share in (("E1", "-30.00", "60"), ("E2", "-20.00", "40")):
        (clawback,) = [
            line for line in result.statement(employee).lines if line.item == "clawback"
        ]
        assert clawback.amount == D(amount)
        assert dict(clawback.details)["events"] == "T1: refund 2026-12-03 of 50.00"
        assert f"T1 {share}% share of 100.00" in clawback.formula


def test_a_dispute_holds_every_share() -> None:
    frame = ledger(
        ("T1", "E1", "2026-11-05", "sale", "100.00", "75"),
        ("T1", "E2", "2026-11-05", "sale", "100.00", "25"),
        ("T1", "E2", "2026-11-07", "dispute_opened", ""),
    )
    result = run(frame)
    assert [(n.transaction_id, n.amount) for n in result.statement("E1").held] == [
        ("T1", D("75.00"))
    ]
    assert [(n.transaction_id, n.amount) for n in result.statement("E2").held] == [
        ("T1", D("25.00"))
    ]


# ---------------------------------------------------------------------------------------------
# Rejected splits


def test_shares_that_do_not_make_100_reject_the_transaction_with_its_shares() -> None:
    frame = ledger(
        ("T1", "E1", "2026-11-05", "sale", "100.00", "60"),
        ("T1", "E2", "2026-11-05", "sale", "100.00", "30"),
        ("T1", "E1", "2026-11-06", "refund", "10.00"),
        ("T2", "E3", "2026-11-05", "sale", "100.00", "60"),  # a lone share
        ("T3", "E1", "2026-11-05", "sale", "100.00", "60"),  # one share left empty: 100
        ("T3", "E2", "2026-11-05", "sale", "100.00", ""),
        ("T4", "E4", "2026-11-05", "sale", "5.00"),
    )
    result = run(frame)
    why = {(r.row, r.column, r.value): r.reason for r in result.rejected}
    t1 = (
        "the shares of transaction T1 add up to 90% (E1 60%, E2 30%), not 100%; "
        "all its events are rejected"
    )
    t3 = (
        "the shares of transaction T3 add up to 160% (E1 60%, E2 100%), not 100%; "
        "all its events are rejected"
    )
    assert why == {
        (1, "share", "60"): t1,
        (2, "share", "30"): t1,
        (3, "transaction_id", "T1"): t1,
        (4, "share", "60"): (
            "the shares of transaction T2 add up to 60% (E3 60%), not 100%; "
            "all its events are rejected"
        ),
        (5, "share", "60"): t3,
        (6, "share", ""): t3,
    }
    assert amounts(result, "E4") == [D("5.00")]


def test_split_rows_that_disagree_on_the_sale_are_a_conflict() -> None:
    frame = ledger(
        ("T1", "E1", "2026-11-05", "sale", "100.00", "50"),
        ("T1", "E2", "2026-11-05", "sale", "90.00", "50"),
        ("T2", "E1", "2026-11-05", "sale", "10.00", "50"),  # one employee twice
        ("T2", "E1", "2026-11-05", "sale", "10.00", "40"),
        ("T2", "E2", "2026-11-05", "sale", "10.00", "10"),
        ("T3", "E1", "2026-11-05", "sale", "10.00"),  # no shares: a plain conflict, as ever
        ("T3", "E2", "2026-11-05", "sale", "10.00"),
    )
    reasons = {r.row: r.reason for r in run(frame).rejected}
    hint = (
        "; the rows of a split must agree on date, amount, margin and currency, one row per "
        "employee, each with a share; all its events are rejected"
    )
    t1 = "transaction T1 has conflicting sale events (rows 1, 2)" + hint
    assert reasons[1] == reasons[2] == t1
    assert reasons[3] == "transaction T2 has conflicting sale events (rows 3, 4, 5)" + hint
    assert reasons[6] == (
        "transaction T3 has conflicting sale events (rows 6, 7); all its events are rejected"
    )


def test_an_identical_repeat_of_a_share_collapses() -> None:
    frame = ledger(
        ("T1", "E1", "2026-11-05", "sale", "100.00", "60"),
        ("T1", "E2", "2026-11-05", "sale", "100.00", "40"),
        ("T1", "E1", "2026-11-05", "sale", "100.00", "60"),
    )
    result = run(frame)
    assert [(r.row, r.reason) for r in result.rejected] == [(3, "duplicate of row 1")]
    assert amounts(result, "E1", "E2") == [D("60.00"), D("40.00")]


def test_events_must_name_an_employee_with_a_share() -> None:
    frame = ledger(
        ("T1", "E1", "2026-11-05", "sale", "100.00", "60"),
        ("T1", "E2", "2026-11-05", "sale", "100.00", "40"),
        ("T1", "E3", "2026-11-06", "refund", "10.00"),
    )
    (rejected,) = run(frame).rejected
    assert (rejected.row, rejected.column) == (3, "employee_id")
    assert rejected.reason == (
        "employee E3 has no share of the sale; its employees are E1, E2 (rows 1, 2)"
    )


@pytest.mark.parametrize(
    ("event", "share", "reason"),
    [
        ("sale", "0", "share must be greater than 0: a percentage of the transaction such as "
                      "60 or 33.34"),
        ("sale", "100.01", "share must be at most 100 (a percentage)"),
        ("sale", "60%", "is not a plain decimal number; write digits with an optional "
                        "leading minus sign and a decimal point, e.g. 1234.50"),
        ("sale", "33.33333", "has 5 decimal places; at most 4 allowed"),
        ("refund", "50", "share is only allowed on sale events; a refund or dispute applies "
                         "to every share of its transaction"),
    ],
)  # fmt: skip
def test_bad_share_cells(event: str, share: str, reason: str) -> None:
    ledger_read = read_ledger(ledger(("T1", "E1", "2026-11-05", event, "1.00", share)))
    assert [(r.column, r.value, r.reason) for r in ledger_read.rejected] == [
        ("share", share, reason)
    ]


def test_share_column_absent_or_empty_changes_nothing(tmp_path: Path) -> None:
    plain = pd.DataFrame(
        [("T1", "E1", "2026-11-05", "sale", "100.00", "USD")], columns=COLUMNS[:-1], dtype=str
    )
    with_column = ledger(("T1", "E1", "2026-11-05", "sale", "100.00"))
    assert list(read_ledger(plain).frame.columns)[-1] == "currency"
    assert read_ledger(with_column).frame["share"].isna().all()
    assert run(plain).statements == run(with_column).statements
    # Files with and without the column read as one ledger: the sales without it are whole.
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    plain.to_csv(first, index=False)
    ledger(
        ("T2", "E1", "2026-11-06", "sale", "10.00", "50"),
        ("T2", "E2", "2026-11-06", "sale", "10.00", "50"),
    ).to_csv(second, index=False)
    both = read_ledger([first, second])
    assert both.frame["share"].tolist() == [pd.NA, 500000, 500000]
    result = compcalc.run_period(compcalc.load_rules_text(RULES), ROSTER, both, "2026-11")
    assert amounts(result, "E1", "E2") == [D("105.00"), D("5.00")]


# ---------------------------------------------------------------------------------------------
# Properties


@st.composite
def splits(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A transaction amount in minor units and 1-6 positive shares making SHARE_WHOLE."""
    total = draw(st.integers(min_value=1, max_value=10**15))
    k = draw(st.integers(min_value=1, max_value=6))
    cuts = sorted(draw(st.sets(st.integers(1, SHARE_WHOLE - 1), min_size=k - 1, max_size=k - 1)))
    return total, [b - a for a, b in zip([0, *cuts], [*cuts, SHARE_WHOLE], strict=True)]


@settings(max_examples=300, deadline=None)
@given(st.lists(splits(), min_size=1, max_size=8))
def test_shares_add_up_exactly_and_each_is_within_a_unit_of_its_part(
    cases: list[tuple[int, list[int]]],
) -> None:
    total = np.array([t for t, shares in cases for _ in shares], dtype=np.int64)
    weight = np.array([w for _, shares in cases for w in shares], dtype=np.int64)
    group = np.array([g for g, (_, shares) in enumerate(cases) for _ in shares], dtype=np.int64)
    got = allocate_shares(total, weight, group)
    for g, (amount, shares) in enumerate(cases):
        mine = got[group == g].tolist()
        assert sum(mine) == amount
        assert mine == allocate(amount, shares)
        for part, w in zip(mine, shares, strict=True):
            assert amount * w // SHARE_WHOLE <= part <= -(-amount * w // SHARE_WHOLE)


@st.composite
def refunded_splits(draw: st.DrawFn) -> tuple[int, list[int], list[int]]:
    """A sale (minor units) split 1-4 ways, and 1-5 refunds that give all of it back."""
    amount = draw(st.integers(min_value=2, max_value=10**9))
    k = draw(st.integers(min_value=1, max_value=4))
    cuts = sorted(draw(st.sets(st.integers(1, SHARE_WHOLE - 1), min_size=k - 1, max_size=k - 1)))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, SHARE_WHOLE], strict=True)]
    n = draw(st.integers(min_value=1, max_value=min(5, amount)))
    steps = sorted(draw(st.sets(st.integers(1, amount - 1), min_size=n - 1, max_size=n - 1)))
    refunds = [b - a for a, b in zip([0, *steps], [*steps, amount], strict=True)]
    return amount, shares, refunds


def _money(units: int) -> str:
    return f"{units // 100}.{units % 100:02d}"


@settings(max_examples=60, deadline=None)  # each example reads and checks a ledger
@given(refunded_splits())
def test_refunds_of_a_split_conserve_every_cent(case: tuple[int, list[int], list[int]]) -> None:
    amount, shares, refunds = case
    employees = EMPLOYEES[: len(shares)]
    percents = [f"{w // 10000}.{w % 10000:04d}" for w in shares]
    rows = [
        ("T1", e, "2026-11-05", "sale", _money(amount), p)
        for e, p in zip(employees, percents, strict=True)
    ]
    rows += [
        ("T1", employees[-1], f"2026-11-{10 + k:02d}", "refund", _money(r))
        for k, r in enumerate(refunds)
    ]
    sales = sales_of(ledger(*rows))
    assert int(sales.amount.sum()) == amount
    # Per refund, the shares' parts add up to the refund; what is left of each share is the
    # allocation of what is left of the sale (never below zero); in the end nothing is left.
    parts = sales.refund_amount.reshape(len(refunds), len(shares))
    assert parts.sum(axis=1).tolist() == refunds
    left = sales.amount - np.cumsum(parts, axis=0)
    weight = np.array(shares, dtype=np.int64)
    group = np.zeros(len(shares), dtype=np.int64)
    for k, remaining in enumerate(amount - np.cumsum(refunds)):
        remains = np.full(len(shares), remaining, dtype=np.int64)
        assert left[k].tolist() == allocate_shares(remains, weight, group).tolist()
        assert (left[k] >= 0).all()
    assert left[-1].tolist() == [0] * len(shares)


@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rng: random.Random) -> None:
    rows = [
        ("T1", "E1", "2026-10-05", "sale", "100.01", "33.33"),
        ("T1", "E2", "2026-10-05", "sale", "100.01", "33.33"),
        ("T1", "E3", "2026-10-05", "sale", "100.01", "33.34"),
        ("T1", "E3", "2026-11-03", "refund", "0.02"),
        ("T1", "E2", "2026-11-03", "refund", "0.01"),
        ("T2", "E2", "2026-11-05", "sale", "0.01", "50"),
        ("T2", "E1", "2026-11-05", "sale", "0.01", "50"),
        ("T2", "E1", "2026-11-06", "dispute_opened", ""),
        ("T3", "E4", "2026-11-07", "sale", "7.00"),
        ("T4", "E1", "2026-11-07", "sale", "9.00", "70"),  # rejected: 70 + 20
        ("T4", "E4", "2026-11-07", "sale", "9.00", "20"),
    ]
    base = run(ledger(*rows))
    rng.shuffle(rows)
    shuffled = run(ledger(*rows))
    assert shuffled.statements == base.statements
    assert shuffled.summary == base.summary
    assert shuffled.ledger_sha256 == base.ledger_sha256
    assert sorted((r.column, r.value, r.reason) for r in shuffled.rejected) == sorted(
        (r.column, r.value, r.reason) for r in base.rejected
    )


@st.composite
def whole_sales(draw: st.DrawFn) -> list[tuple[str, ...]]:
    """Transactions T00-T39 sold whole, some refunded, disputed or resolved after the sale."""
    rows: list[tuple[str, ...]] = []
    for k in range(draw(st.integers(1, 12))):
        tid, who = f"T{draw(st.integers(0, 39)):02d}", draw(st.sampled_from(EMPLOYEES))
        if any(row[0] == tid for row in rows):
            continue
        cents = draw(st.integers(1, 10**9))
        rows.append((tid, who, f"2026-10-{1 + k:02d}", "sale", _money(cents)))
        events = draw(st.lists(st.sampled_from(("refund", "dispute")), max_size=2, unique=True))
        for day, event in enumerate(events):
            date = f"2026-11-{1 + day:02d}"
            if event == "refund":
                rows.append((tid, who, date, "refund", _money(draw(st.integers(1, cents)))))
            else:
                rows.append((tid, who, date, "dispute_opened", ""))
    return rows


@settings(max_examples=40, deadline=None)  # each example reads and checks two ledgers
@given(whole_sales())
def test_whole_sales_are_indexed_alike_with_and_without_a_split_in_the_ledger(
    rows: list[tuple[str, ...]],
) -> None:
    """A ledger of sales each credited whole to one employee takes a quicker path (a
    transaction is a sale: no groups of shares made); a split anywhere in it takes the
    general one. Adding a split transaction that sorts last changes nothing for the others:
    their shares, refunds and disputes are indexed the same, position for position."""
    split = [
        ("Z9", "E1", "2026-10-20", "sale", "10.01", "50"),
        ("Z9", "E2", "2026-10-20", "sale", "10.01", "50"),
        ("Z9", "E2", "2026-11-20", "refund", "3.00"),
        ("Z9", "E1", "2026-11-21", "dispute_opened", ""),
    ]
    quick, general = sales_of(ledger(*rows)), sales_of(ledger(*rows, *split))
    n = len(quick)
    assert len(general) == n + 2 and general.transaction.tolist()[n:] == [n, n]
    assert general.amount.tolist()[n:] == [501, 500] and general.split.tolist()[n:] == [True] * 2
    for name in ("transaction", "employee", "date", "amount", "margin", "split", "total"):
        assert np.array_equal(getattr(quick, name), getattr(general, name)[:n]), name
    for kind in ("refund", "dispute"):
        mine = getattr(general, f"{kind}_sale") < n
        for field in (f"{kind}_sale", f"{kind}_date"):
            assert np.array_equal(getattr(quick, field), getattr(general, field)[mine]), field
    assert np.array_equal(quick.refund_amount, general.refund_amount[general.refund_sale < n])
    assert np.array_equal(quick.dispute_opens, general.dispute_opens[general.dispute_sale < n])
