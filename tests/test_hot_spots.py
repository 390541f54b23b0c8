"""The faster paths of issue 6's next hot spots agree with what they replace.

``canonical_order`` keeps a frame that is sorted already (a checked ledger and its parts),
``check_ledger`` numbers transactions by comparing neighbours and looks only a split's events
up among its sale rows, and override shares are allocated over whole columns. Each is checked
against the plain definition: sorting the values, ``pd.factorize``, ``money.allocate`` per
manager, and hand-worked ledgers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from compcalc.engine.context import Context, GroupSales
from compcalc.engine.crediting import (
    EmployeeRuns,
    EventsBySale,
    Sales,
    TextCodes,
    _check_totals_fit,
    _positions,
    allocate_shares,
    build_sales,
    state_at,
)
from compcalc.engine.override import _shares
from compcalc.engine.tiers import Groups, Schedule, per_sale_exact, per_transaction
from compcalc.errors import RunError
from compcalc.inputs import check_ledger, read_ledger, read_roster
from compcalc.inputs.ledger import (
    EVENTS,
    FRAME_COLUMNS,
    SHARE_COLUMN,
    SHARE_WHOLE,
    _transaction_codes,
    canonical_order,
    is_sorted,
    ordered_codes,
)
from compcalc.money import Rounding, allocate
from compcalc.periods import parse_period
from compcalc.statements.model import Texts
from generated import generated_tables

KEYS = [
    "transaction_id", "date", "_rank", "amount_minor", "margin_minor", "employee_id",
    "currency", SHARE_COLUMN, "source", "row",
]  # fmt: skip


def _reference_order(frame: pd.DataFrame) -> pd.DataFrame:
    keyed = frame.assign(_rank=pd.Categorical(frame["event"], categories=EVENTS).codes)
    ordered = keyed.sort_values(KEYS, kind="stable", na_position="last", ignore_index=True)
    return ordered.drop(columns="_rank")[[*FRAME_COLUMNS, SHARE_COLUMN]]


rows = st.tuples(
    st.sampled_from(["T1", "T10", "T2", "Ä", "T1 ", "\U0001f600"]),
    st.sampled_from(["E1", "E2", "e1"]),
    st.integers(0, 2),  # days after 2026-10-01
    st.sampled_from(EVENTS),
    st.integers(-3, 3) | st.integers(-(2**62), 2**62),
    st.none() | st.integers(-2, 2),
    st.sampled_from(["USD", "EUR"]),
    st.none() | st.integers(1, 3),
    st.sampled_from(["a.csv", "b.csv"]),
    st.integers(1, 4),  # row number: repeats allowed, as in ties
)


def _frame(cases: list[tuple[object, ...]]) -> pd.DataFrame:
    tid, emp, day, event, amount, margin, currency, share, source, row = zip(*cases, strict=True)
    return pd.DataFrame({
        "source": pd.Series(source, dtype="str"),
        "row": np.array(row, dtype=np.int64),
        "line": pd.array([None] * len(cases), dtype="Int64"),
        "transaction_id": pd.Series(tid, dtype="str"),
        "employee_id": pd.Series(emp, dtype="str"),
        "date": np.datetime64("2026-10-01", "s") + np.array(day) * np.timedelta64(1, "D"),
        "event": pd.Series(event, dtype="str"),
        "amount_minor": np.array(amount, dtype=np.int64),
        "margin_minor": pd.array(margin, dtype="Int64"),
        "currency": pd.Series(currency, dtype="str"),
        SHARE_COLUMN: pd.array(share, dtype="Int64"),
    })  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(rows, min_size=1, max_size=30), st.lists(st.booleans(), min_size=30))
def test_is_sorted_says_whether_sorting_would_change_the_frame(
    cases: list[tuple[object, ...]], kept: list[bool]
) -> None:
    frame = _frame(cases)
    ordered = _reference_order(frame)
    # The sorted frame, a subset of it (rows a check refused), the frame as given, no rows.
    subset = ordered[np.array(kept[: len(ordered)])].reset_index(drop=True)
    for candidate in (ordered, subset, frame, frame.iloc[:0]):
        expected = candidate.equals(_reference_order(candidate))
        assert is_sorted(candidate, KEYS) == expected
        pd.testing.assert_frame_equal(canonical_order(candidate), _reference_order(candidate))


def test_is_sorted_by_hand() -> None:
    frame = _frame([
        ("T1", "E1", 0, "sale", 5, None, "USD", None, "a.csv", 1),
        ("T1", "E1", 0, "refund", 2, 1, "USD", None, "a.csv", 2),
        ("T1", "E1", 0, "refund", 2, None, "USD", None, "a.csv", 3),
        ("T1", "E1", 0, "refund", 2, None, "USD", None, "a.csv", 4),
    ])  # fmt: skip
    # Missing margins sort last, ties fall to the row: in order.
    assert is_sorted(frame, KEYS)
    assert not is_sorted(frame.iloc[[0, 2, 1, 3]], KEYS)
    # Rank before amount: a dispute after a refund on the same day is out of order.
    swapped = frame.assign(event=["sale", "refund", "dispute_opened", "refund"])
    assert not is_sorted(swapped, KEYS)
    assert canonical_order(swapped)["row"].tolist() == [1, 3, 2, 4]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["T1", "T2", "T10", "Ä", ""]), max_size=20), st.booleans())
def test_transaction_codes_are_factorize_codes(ids: list[str], ordered: bool) -> None:
    values = pd.Series(sorted(ids) if ordered else ids, dtype="str", name="transaction_id")
    assert _transaction_codes(values).tolist() == pd.factorize(values)[0].tolist()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-(10**6), 10**6) | st.just(0),  # the manager's due
            st.lists(st.integers(-5, 10**9) | st.just(0), min_size=1, max_size=6),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_override_shares_are_money_allocate_per_manager(
    teams: list[tuple[int, list[int]]],
) -> None:
    due = np.array([d for d, credit in teams for _ in credit], dtype=np.int64)
    credit = np.array([c for _, team in teams for c in team], dtype=np.int64)
    manager = np.array([i for i, (_, team) in enumerate(teams) for _ in team], dtype=np.int64)
    expected: list[int] = []
    for d, team in teams:
        weights = [max(c, 0) for c in team]
        expected += allocate(d, weights) if d and sum(weights) else [0] * len(team)
    assert _shares(due, credit, manager).tolist() == expected


def test_override_shares_by_hand() -> None:
    # 100.00 over credits 1 : 1 : 1 -> 33.34, 33.33, 33.33 (the first remainder wins); a
    # negative credit counts as none; a team without credit shares nothing.
    got = _shares(
        np.array([10000, 10000, 10000, 700, 700, 500]),
        np.array([5, 5, 5, -9, 3, -1]),
        np.array([0, 0, 0, 1, 1, 2]),
    )
    assert got.tolist() == [3334, 3333, 3333, 0, 700, 0]


ROSTER = pd.DataFrame(
    [
        {
            "employee_id": e, "name": f"Employee {e}", "role": "rep", "seniority": "mid",
            "company_size": "mid", "region": "metro", "currency": c,
            "annual_base": "0.00", "quota": "100000.00", "hire_date": "2020-01-01",
            "termination_date": "", "manager_id": "",
        }
        for e, c in (("E1", "USD"), ("E2", "USD"), ("E3", "USD"), ("E4", "EUR"))
    ],
    dtype=str,
)  # fmt: skip


def test_cross_row_checks_by_hand_whatever_the_input_order() -> None:
    """An event under a sharer who is not the first sale row is fine; under anyone else, or
    under the wrong employee of a one-row sale, it is refused, naming the right rows."""
    cells = pd.DataFrame(
        [
            ("T1", "E1", "2026-11-05", "sale", "100.00", "USD", "60"),
            ("T1", "E2", "2026-11-05", "sale", "100.00", "USD", "40"),
            ("T1", "E2", "2026-11-06", "refund", "10.00", "USD", ""),  # a sharer: accepted
            ("T1", "E3", "2026-11-06", "refund", "10.00", "USD", ""),  # no share: refused
            ("T2", "E1", "2026-11-05", "sale", "50.00", "USD", ""),
            ("T2", "E2", "2026-11-07", "dispute_opened", "", "USD", ""),  # not the seller
            ("T3", "E4", "2026-11-05", "sale", "20.00", "USD", ""),  # E4 is paid in EUR
            ("T4", "E9", "2026-11-05", "sale", "20.00", "USD", ""),  # not on the roster
        ],
        columns=["transaction_id", "employee_id", "date", "event", "amount", "currency", "share"],
    )
    roster = read_roster(ROSTER)
    expected = [
        (4, "employee_id", "employee E3 has no share of the sale; its employees are E1, E2 "
         "(rows 1, 2)"),
        (6, "employee_id", "employee E2 differs from the sale's employee E1 (row 5)"),
        (7, "currency", "currency USD differs from employee E4's currency EUR"),
        (8, "employee_id", "employee E9 is not on the roster"),
    ]  # fmt: skip
    for order in (list(range(8)), [7, 3, 5, 0, 6, 2, 4, 1]):
        ledger = read_ledger(cells.iloc[order].reset_index(drop=True))
        # Rows keep the numbers they had before the shuffle: compare by content instead.
        checked = check_ledger(ledger, roster)
        number = {r: cells.index[order[r - 1]] + 1 for r in range(1, 9)}
        got = sorted((number[r.row], r.column, r.reason) for r in checked.rejected)
        if order == list(range(8)):
            assert got == expected
        else:
            assert [(c, why.split(" (")[0]) for _, c, why in got] == [
                (c, why.split(" (")[0]) for _, c, why in expected
            ]
        assert checked.frame["transaction_id"].tolist() == ["T1", "T1", "T1", "T2"]
        assert checked.frame["amount_minor"].tolist() == [10000, 10000, 1000, 5000]
        assert Decimal(int(checked.frame["amount_minor"].sum())).scaleb(-2) == Decimal("260.00")


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.integers(-(10**9), 10**9),
            st.lists(st.integers(0, SHARE_WHOLE), min_size=1, max_size=4),
        ),
        max_size=12,
    )
)
def test_allocate_shares_is_money_allocate_per_group(
    groups: list[tuple[int, list[int]]],
) -> None:
    groups = [(t, w) for t, w in groups if sum(w)]
    total = np.array([t for t, w in groups for _ in w], dtype=np.int64)
    weight = np.array([x for _, w in groups for x in w], dtype=np.int64)
    group = np.array([g for g, (_, w) in enumerate(groups) for _ in w], dtype=np.int64)
    expected: list[int] = []
    for t, w in groups:
        shares = allocate(abs(t), w)
        expected += [-s if t < 0 else s for s in shares]
    assert allocate_shares(total, weight, group).tolist() == expected


def _generated_sales(tmp_path: Path) -> Sales:
    """The engine's sales for a small ledger of benchmarks/generate.py: 60 employees, 6,000
    events with disputes opened and resolved, full and partial refunds, margins."""
    roster_table, ledger_table = generated_tables(60, 6_000)
    pq.write_table(roster_table, tmp_path / "roster.parquet")
    pq.write_table(ledger_table, tmp_path / "ledger.parquet")
    staff = read_roster(tmp_path / "roster.parquet")
    checked = check_ledger(read_ledger(tmp_path / "ledger.parquet"), staff)
    frame = staff.frame
    position = pd.Series(np.arange(len(frame)), index=frame["employee_id"].to_numpy())
    never = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    return build_sales(checked.frame, position, never, never, dt.date(2026, 10, 1))


def test_a_checked_ledger_is_taken_as_ordered_without_a_look_and_gives_the_same_sales(
    tmp_path: Path,
) -> None:
    """The run takes a checked ledger's frame as in canonical order (``ordered=True``: no
    second check of the order, the transaction ids' codes found from neighbours at once);
    whatever order the rows were read in, that frame is in canonical order, and the sales
    built on it are those built after checking."""
    roster_table, ledger_table = generated_tables(60, 6_000)
    pq.write_table(roster_table, tmp_path / "roster.parquet")
    pq.write_table(ledger_table, tmp_path / "ledger.parquet")
    staff = read_roster(tmp_path / "roster.parquet")
    ledger = read_ledger(tmp_path / "ledger.parquet")
    backwards = dataclasses.replace(ledger, frame=ledger.frame.iloc[::-1].reset_index(drop=True))
    frame = staff.frame
    position = pd.Series(np.arange(len(frame)), index=frame["employee_id"].to_numpy())
    never = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    start = dt.date(2026, 10, 1)
    for read in (ledger, backwards):
        checked = check_ledger(read, staff).frame
        keys = [k for k in KEYS if k in checked or k == "_rank"]
        assert len(checked) > 5_000 and is_sorted(checked, keys)
        pd.testing.assert_frame_equal(canonical_order(checked, ordered=True), checked)
        ids = checked["transaction_id"]
        # taken as sorted without a look: the codes a sorted factorization gives
        sorted_codes = pd.factorize(ids, sort=True)[0]
        assert ordered_codes(ids, ordered=True).tolist() == sorted_codes.tolist()
        taken = build_sales(checked, position, never, never, start, None, True)
        found = build_sales(checked, position, never, never, start)
        for name in ("transaction", "employee", "amount", "margin", "refund_sale", "dispute_sale"):
            assert np.array_equal(getattr(taken, name), getattr(found, name)), name
        every = np.arange(len(taken))
        assert taken.transaction_id.take(every) == found.transaction_id.take(every)


def test_a_month_ends_basis_differs_only_where_it_says(tmp_path: Path) -> None:
    """``SaleState.differences`` values only the refunded, disputed and non-positive sales:
    the full figures where sold, with those put in, are the whole basis, on every day, for
    both bases and every rounding; with some sales of zero or negative amount too."""
    sales = _generated_sales(tmp_path)
    amount = sales.amount.copy()
    amount[::7] *= -1
    amount[::11] = 0
    variants = [sales, dataclasses.replace(sales, amount=amount, total=amount)]
    seen = np.zeros(3, dtype=bool)  # some sale differs for a refund, a dispute, its sign
    for some in variants:
        for offset in range(0, 366, 5):
            as_of = dt.date(2026, 10, 1) + dt.timedelta(days=offset)
            earlier = as_of - dt.timedelta(days=30)  # a period's steps: disputes as of then
            for rounding, disputes_as_of in itertools.product(Rounding, (None, earlier)):
                state = state_at(some, as_of, rounding, disputes_as_of)
                everyone = np.arange(len(some))
                assert state.refunded_at(everyone).tolist() == state.refunded.tolist()
                for kind in ("amount", "margin"):
                    whole = state.basis(kind)
                    differ, values = state.differences(kind)
                    figures = some.margin if kind == "margin" else some.amount
                    rebuilt = np.where(state.sold, figures, 0)
                    rebuilt[differ] = values
                    case = (as_of, rounding, disputes_as_of, kind)
                    assert rebuilt.tolist() == whole.tolist(), case
                    assert np.all(np.diff(differ) > 0)
                    seen |= [
                        bool(np.isin(differ, state.refunds[0]).any()),
                        bool(state.disputed[differ].any()),
                        bool((some.amount[differ] <= 0).any()),
                    ]
    assert seen.all(), seen


def test_sold_by_is_dated_and_eligible_by_the_day(tmp_path: Path) -> None:
    sales = _generated_sales(tmp_path)
    date = sales.date.copy()
    date[0] = np.datetime64("NaT")  # a hand-built sale without a date is never sold
    sales = dataclasses.replace(sales, date=date)
    for day in ("1969-12-31", "1970-01-01", "2026-10-01", "2027-03-15", "2027-09-30"):
        cutoff = np.datetime64(day, "D")
        expected = (sales.date <= cutoff) & sales.eligible
        assert sales.sold_by(cutoff).tolist() == expected.tolist(), day


def test_the_run_context_keeps_the_same_bases_in_less_memory(tmp_path: Path) -> None:
    """Context.basis keeps month-end bases as their differences from the full figures, and
    gives back exactly the whole sale state's, for every date, both bases, with and without the
    disputes of an earlier date."""
    sales = _generated_sales(tmp_path)
    period = parse_period("2027-03")
    ctx = Context(
        rules=None, employees=pd.DataFrame(), period=period, year_start=dt.date(2026, 10, 1),
        year_end=dt.date(2027, 9, 30), sales=sales, resolver=None, digits=2,
        rounding=Rounding.HALF_EVEN, paid_to_date=None,
    )  # type: ignore[arg-type]  # fmt: skip
    kept = 0
    pick = np.random.default_rng(7)
    staff = int(sales.employee.max()) + 1
    groups = [  # a plan's employees, from none to all, each with its sales grouped
        GroupSales(sales, np.flatnonzero(pick.random(staff) < share), staff)
        for share in (0.0, 0.01, 0.3, 1.0)
    ]
    groups.append(GroupSales(sales, np.array([sales.employee[-1]]), staff))
    assert len(groups[0]) == 0 and len(groups[3]) == len(sales)
    for offset in range(0, 366, 7):
        as_of = dt.date(2026, 10, 1) + dt.timedelta(days=offset)
        for disputes_as_of in (None, as_of - dt.timedelta(days=30)):
            for kind in ("amount", "margin"):
                expected = state_at(sales, as_of, ctx.rounding, disputes_as_of).basis(kind)
                got = ctx.basis(as_of, kind, disputes_as_of)
                assert got.dtype == np.int64
                assert got.tolist() == expected.tolist(), (as_of, kind, disputes_as_of)
                got[:] = -1  # the caller's own copy: the next call is unchanged
                assert ctx.basis(as_of, kind, disputes_as_of).tolist() == expected.tolist()
                for group in groups:  # a plan's own sales only: the same figures at them
                    part = ctx.basis(as_of, kind, disputes_as_of, at=group)
                    assert part.tolist() == expected[group.positions].tolist(), (as_of, kind)
                if (as_of, disputes_as_of) != (period.end, None):
                    at, _ = ctx._bases[(as_of, kind, disputes_as_of)]
                    kept = max(kept, len(at))
    assert 0 < kept < len(sales) // 4  # some differ (refunds, disputes), most do not


def test_a_groups_credited_basis_per_employee_is_the_sum_of_its_sales_bases(
    tmp_path: Path,
) -> None:
    """Context.measure (full figures summed once for every period end, then the differing
    sales corrected) gives each employee the sum of Context.basis over their sales: at every
    period end of the year, on another day (summed sale by sale), and with figures so large
    that the one float pass could be inexact (summed sale by sale too)."""
    sales = _generated_sales(tmp_path)
    big = sales.amount * 2**33  # sums past 2**53: the one pass would not be exact
    rules = SimpleNamespace(plan_year=SimpleNamespace(start_month=10))
    staff = int(sales.employee.max()) + 1
    pick = np.random.default_rng(11)
    passes = [0, 0]  # one-pass tables made, per variant
    large = dataclasses.replace(sales, amount=big, total=big, margin=sales.margin * 2**33)
    for variant, some in enumerate((sales, large)):
        for period in (parse_period("2026-10"), parse_period("2027-03")):
            ctx = Context(
                rules=rules, employees=pd.DataFrame(), period=period,
                year_start=dt.date(2026, 10, 1), year_end=dt.date(2027, 9, 30), sales=some,
                resolver=None, digits=2, rounding=Rounding.HALF_UP, paid_to_date=None,
            )  # type: ignore[arg-type]  # fmt: skip
            ends = [p.end for p in ctx.earlier()] + [ctx.prior_end, period.end]
            for share in (0.0, 0.3, 1.0):
                group = GroupSales(some, np.flatnonzero(pick.random(staff) < share), staff)
                for as_of in [*ends, period.end - dt.timedelta(days=3)]:
                    for kind in ("amount", "margin"):
                        expected = group.groups.sum(ctx.basis(as_of, kind, at=group))
                        got = ctx.measure(as_of, kind, group)
                        assert got.dtype == np.int64
                        assert got.tolist() == expected.tolist(), (period, as_of, kind, share)
                tables = group._plain_measures.values()
                if len(group):  # a group with no sale sums nothing, whatever its figures
                    passes[variant] += sum(table is not None for table in tables)
    assert passes[0] > 0 and passes[1] == 0  # taken, and refused for the large figures


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 6), max_size=40),
    st.lists(st.integers(0, 8), unique=True, max_size=9),
)
def test_a_groups_sales_are_its_employees_sales_in_its_order(
    employee: list[int], rows: list[int]
) -> None:
    """GroupSales takes its employees' runs of the sales grouped once by employee: the same
    sales, employee by employee in the order of ``rows`` (ascending within one), as picking
    them from the whole ledger and sorting; ``find`` puts any sale in that order, and says
    which are not the group's. Rows in any order, some without sales, some past the last."""
    sale_employee = np.array(employee, dtype=np.int32)
    sales = SimpleNamespace(employee=sale_employee)
    sales.by_employee = EmployeeRuns.of(sale_employee)
    group = GroupSales(sales, np.array(rows, dtype=np.int64), 9)  # type: ignore[arg-type]
    expected = [(k, p) for k, row in enumerate(rows) for p, e in enumerate(employee) if e == row]
    assert group.positions.tolist() == [p for _, p in expected]
    assert group.owner.tolist() == [k for k, _ in expected]
    everyone = np.arange(len(employee))
    slots, hit = group.find(everyone)
    assert hit.tolist() == [e in rows for e in employee]
    assert group.positions[slots].tolist() == everyone[hit].tolist()


def test_a_plans_ids_in_its_own_order_are_the_general_grouping(tmp_path: Path) -> None:
    """GroupSales.ids (a mask over the plan's own sales, no sort) names per employee exactly
    the sorted ids of the sales the mask picks, for plans of none to all employees and masks
    that pick none, some or all of their sales."""
    sales = _generated_sales(tmp_path)
    every_id = sales.transaction_id.take(np.arange(len(sales)))
    staff = int(sales.employee.max()) + 1
    pick = np.random.default_rng(11)
    for share in (0.0, 0.02, 0.5, 1.0):
        rows = np.flatnonzero(pick.random(staff) < share)
        group = GroupSales(sales, rows, staff)
        local = np.full(staff, -1, dtype=np.int64)
        local[rows] = np.arange(len(rows))
        owner = local[sales.employee]
        for chance in (0.0, 0.1, 0.9, 1.0):
            mask = pick.random(len(group)) < chance
            full = np.zeros(len(sales), dtype=bool)
            full[group.positions[mask]] = True
            expected: list[list[str]] = [[] for _ in rows]
            for k in np.flatnonzero(full).tolist():
                expected[int(owner[k])].append(every_id[k])
            got = group.ids(mask, sales.transaction_id)
            assert [tuple(g) for g in got] == [tuple(sorted(e)) for e in expected], (share, chance)
            assert sum(len(g) for g in got) == int(mask.sum())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(-(2**40), 2**40)), max_size=40),
    st.booleans(),
)
def test_groups_sum_exactly_per_owner_in_any_order(
    pairs: list[tuple[int, int]], grouped: bool
) -> None:
    """tiers.Groups: one pass over owners found once (sorted) or np.add.at (any order), the
    same exact sums either way, for every column summed over the same owners."""
    from compcalc.engine.tiers import Groups

    if grouped:
        pairs = sorted(pairs, key=lambda pair: pair[0])
    owner = np.array([o for o, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.int64)
    groups = Groups(owner, 6)
    for column in (values, -values, values * 3):
        expected = [
            sum(int(v) for o, v in zip(owner, column, strict=True) if o == k) for k in range(6)
        ]
        assert groups.sum(column).tolist() == expected


def test_sales_are_the_same_from_rows_in_any_order(tmp_path: Path) -> None:
    """build_sales takes the sale rows by position in (transaction, employee) order, whatever
    order the frame's rows come in: the same sales from the canonical frame and from it
    reversed, with split sales (several employees' rows of one transaction) among them."""
    roster_table, ledger_table = generated_tables(40, 3_000)
    pq.write_table(roster_table, tmp_path / "roster.parquet")
    pq.write_table(ledger_table, tmp_path / "ledger.parquet")
    staff = read_roster(tmp_path / "roster.parquet")
    frame = check_ledger(read_ledger(tmp_path / "ledger.parquet"), staff).frame
    sales = frame[frame["event"] == "sale"]
    tid = sales["transaction_id"].iloc[0]
    others = staff.frame["employee_id"][staff.frame["employee_id"] > sales["employee_id"].iloc[0]]
    split = sales.iloc[[0]].assign(employee_id=others.iloc[0], **{SHARE_COLUMN: 4_000})
    frame = pd.concat([frame, split], ignore_index=True)  # a second share of the first sale
    frame.loc[frame.index[0], SHARE_COLUMN] = SHARE_WHOLE - 4_000
    frame = canonical_order(
        check_ledger(
            dataclasses.replace(read_ledger(tmp_path / "ledger.parquet"), frame=frame, rejected=()),
            staff,
        ).frame
    )
    assert (frame["transaction_id"] == tid).sum() >= 2
    position = pd.Series(np.arange(len(staff.frame)), index=staff.frame["employee_id"].to_numpy())
    never = np.full(len(staff.frame), np.datetime64("NaT"), dtype="datetime64[D]")
    year = dt.date(2026, 10, 1)
    straight = build_sales(frame, position, never, never, year)
    reverse = build_sales(frame.iloc[::-1].reset_index(drop=True), position, never, never, year)
    assert straight.split.any() and len(straight.refund_sale) and len(straight.dispute_sale)

    def values(column: object) -> list[object]:
        if isinstance(column, Texts):
            return column.window(0, len(column))
        return list(column.tolist())  # type: ignore[attr-defined]

    disputes = ("dispute_sale", "dispute_date", "dispute_opens")  # events in frame order
    for field in dataclasses.fields(Sales):  # every column of the sales, the same
        name = field.name
        if name not in disputes:
            assert values(getattr(reverse, name)) == values(getattr(straight, name)), name
    events = [sorted(zip(*(values(getattr(s, n)) for n in disputes), strict=True))
              for s in (straight, reverse)]  # fmt: skip
    assert events[0] == events[1]


def test_exclusion_reasons_by_hand() -> None:
    """Before the plan year wins over the employment dates; after leaving over before hire
    (a termination before the hire date, as a roster may have by mistake)."""
    from compcalc.engine.crediting import _exclusions

    day = np.datetime64
    dates = np.array(["2026-09-30", "2026-10-05", "2026-10-20", "2026-11-10", "2026-10-02"],
                     dtype="datetime64[D]")  # fmt: skip
    hire = np.array(
        [day("2026-10-10")] * 3 + [day("NaT"), day("2026-10-03")], dtype="datetime64[D]"
    )
    left = np.array(["NaT", "NaT", "2026-10-15", "2026-11-01", "2026-10-01"], dtype="datetime64[D]")
    got = _exclusions(dates, np.arange(5), hire, left, dt.date(2026, 10, 1))
    assert got.tolist() == [
        "sold before this plan year began (2026-10-01)",
        "sold before the employee's hire date",
        "sold after the employee's termination date",
        "sold after the employee's termination date",
        "sold after the employee's termination date",  # both: after leaving, as before
    ]
    assert got.codes.dtype == np.int8 and got[1] == "sold before the employee's hire date"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 60), min_size=0, max_size=30),
    st.lists(st.tuples(st.integers(-1, 60), st.integers(-1, 60)), min_size=1, max_size=6),
    st.data(),
)
def test_exclusions_compare_only_the_employees_whose_dates_can_matter(
    days: list[int], employment: list[tuple[int, int]], data: st.DataObject
) -> None:
    """Sales of the employees hired after the first sale or gone before the last are the
    only ones compared with those dates: the codes are those of comparing every sale."""
    from compcalc.engine.crediting import _exclusions

    start = np.datetime64("2026-10-01", "D")
    dates = start + np.array(days, dtype=np.int64).astype("timedelta64[D]")
    who = np.array(
        data.draw(st.lists(st.integers(0, len(employment) - 1), min_size=len(days),
                           max_size=len(days))), dtype=np.int64,
    )  # fmt: skip

    def on(offset: int) -> np.datetime64:
        return np.datetime64("NaT", "D") if offset < 0 else start + np.timedelta64(offset, "D")

    hire = np.array([on(h) for h, _ in employment], dtype="datetime64[D]")
    left = np.array([on(t) for _, t in employment], dtype="datetime64[D]")
    expected = np.zeros(len(days), dtype=np.int8)
    expected[~np.isnat(hire[who]) & (dates < hire[who])] = 2
    expected[~np.isnat(left[who]) & (dates > left[who])] = 3
    expected[dates < start + np.timedelta64(10, "D")] = 1
    got = _exclusions(dates, who, hire, left, dt.date(2026, 10, 11))
    assert got.codes.tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 20), st.integers(-50, 50)), max_size=30),
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 20), st.booleans()), max_size=30),
    st.integers(-1, 21),
)
def test_events_by_sale_count_refunds_and_open_disputes_by_a_date(
    refunds: list[tuple[int, int, int]], disputes: list[tuple[int, int, bool]], cutoff: int
) -> None:
    """Grouped once by sale, then masked by date: the refunded sales and their totals, and
    the sales still under dispute, as counting each sale's events by hand gives them."""
    epoch = np.datetime64("2026-01-01", "D")

    def dates(days: list[int]) -> Any:
        return epoch + np.array(days, dtype=np.int64).astype("timedelta64[D]")

    by_then = epoch + np.timedelta64(cutoff, "D")
    sale = np.array([k for k, _, _ in refunds], dtype=np.int64)
    amount = np.array([a for _, _, a in refunds], dtype=np.int64)
    events = EventsBySale.of(sale, dates([d for _, d, _ in refunds]), amount)
    flags = events.date <= by_then
    got = dict(zip(events.sale[events.any(flags)].tolist(),
                   events.sums(np.where(flags, events.values, 0))[events.any(flags)].tolist(),
                   strict=True))  # fmt: skip
    expected: dict[int, int] = {}
    for k, d, a in refunds:
        if d <= cutoff:
            expected[k] = expected.get(k, 0) + a
    assert got == expected
    sale = np.array([k for k, _, _ in disputes], dtype=np.int64)
    sign = np.array([1 if o else -1 for _, _, o in disputes], dtype=np.int64)
    events = EventsBySale.of(sale, dates([d for _, d, _ in disputes]), sign)
    open_now = events.sums(np.where(events.date <= by_then, events.values, 0)) > 0
    balance = {k: sum(1 if o else -1 for s, d, o in disputes if s == k and d <= cutoff)
               for k, _, _ in disputes}  # fmt: skip
    assert set(events.sale[open_now].tolist()) == {k for k, n in balance.items() if n > 0}


band_edges = st.lists(st.integers(0, 5_000), min_size=2, max_size=2).map(sorted)
rates = st.lists(st.integers(0, 300), min_size=3, max_size=3)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(band_edges, rates), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 3), st.integers(-1_000, 9_000)), max_size=30),
    st.booleans(),
)
def test_per_transaction_tiers_are_each_sales_own_bands(
    employees: list[tuple[list[int], list[int]]], sales: list[tuple[int, int]], same: bool
) -> None:
    """Each sale through its own employee's three bands (edges and rates differ by employee,
    or are one for all: a value instead of a sales-long array), summed per employee."""
    if same:
        employees = [employees[0]] * len(employees)
    size = len(employees)
    sales = sorted((owner % size, x) for owner, x in sales)
    owner = np.array([o for o, _ in sales], dtype=np.int64)
    x = np.array([v for _, v in sales], dtype=np.int64)

    def column(pick: Any) -> Any:
        return np.array([pick(*e) for e in employees], dtype=np.int64)

    schedule = Schedule(
        "marginal", ("low", "middle", "high"),
        (np.zeros(size, dtype=np.int64), column(lambda e, r: e[0]), column(lambda e, r: e[1])),
        (column(lambda e, r: e[0]), column(lambda e, r: e[1]), None),
        tuple(column(lambda e, r, k=k: r[k]) for k in range(3)),
        tuple(np.zeros(size, dtype=object) for _ in range(3)), 1, 1,
    )  # fmt: skip
    outcome = per_transaction(schedule, x, Groups(owner, size))
    expected = [0] * size
    parts = [[0] * size for _ in range(3)]
    for o, v in sales:
        (a, b), r = employees[o]
        each = [min(max(v, 0), a), min(max(v - a, 0), b - a), max(v - b, 0)]
        for k in range(3):
            parts[k][o] += each[k]
            expected[o] += each[k] * r[k]
    assert outcome.exact.tolist() == expected
    assert [s.tolist() for s in outcome.slices] == parts
    # each sale's own commission, as the replays sum it per period end
    each_sale = per_sale_exact(schedule, x, owner)
    assert Groups(owner, size).sum(each_sale).tolist() == expected
    rest = np.arange(len(sales)) % 2 == 1  # a subset of the sales (the ones that differ)
    assert Groups(owner[rest], size).sum(per_sale_exact(schedule, x[rest], owner[rest])).tolist() \
        == Groups(owner[rest], size).sum(each_sale[rest]).tolist()


def test_text_codes_of_a_categorical_column_are_its_own_when_they_serve() -> None:
    """The read ledger's categorical ids give their own codes (no factorization) when the
    categories are in text order; otherwise the codes are factorized in text order. A
    category no row uses (an employee whose rows were all refused) may be off the roster."""
    ids = pd.Series(pd.Categorical(["E2", "E1", "E2"], categories=["E1", "E2", "E9"]))
    codes = TextCodes.of(ids, ordered=True)
    assert codes.codes.tolist() == [1, 0, 1] and codes.distinct.tolist() == ["E1", "E2", "E9"]
    roster_rows = pd.Series([0, 1], index=["E1", "E2"])
    assert _positions(roster_rows, codes).tolist() == [1, 0, 1]
    shuffled = pd.Series(pd.Categorical(["b", "a", "b"], categories=["b", "a"]))
    again = TextCodes.of(shuffled, ordered=True)  # categories not in text order: factorized
    assert again.codes.tolist() == [1, 0, 1] and again.distinct.tolist() == ["a", "b"]
    assert TextCodes.of(shuffled).tolist() == ["b", "a", "b"]


@settings(max_examples=300, deadline=None)
@example([(2**61 - 1) // 24] * 24, [])  # a float sum rounds it up to 2**61: it fits
@example([2**61 - 1, 1], [])  # exactly the limit
@example([-(2**63), 0], [0])  # the one int64 whose absolute value is not an int64
@given(
    st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-5, 5), max_size=12),
    st.lists(st.integers(0, 11), max_size=12),
)
def test_the_totals_guard_refuses_exactly_the_sums_past_the_limit(
    amounts: list[int], picks: list[int]
) -> None:
    """Whether settled by the quick bound (count x largest) or by the sum, sale totals whose
    sizes add up to 2**61 or more are refused and the others pass, exactly (``at``: the
    transactions' first shares; None: all of them)."""
    amount = np.array(amounts, dtype=np.int64)
    for at in (None, np.array([p for p in picks if p < len(amounts)], dtype=np.int64)):
        chosen = amounts if at is None else [amounts[k] for k in at]
        if sum(abs(a) for a in chosen) >= 2**61:  # exactly: no band where rounding decides
            with pytest.raises(RunError, match="more than 64-bit integers hold exactly"):
                _check_totals_fit(amount, at)
        else:
            _check_totals_fit(amount, at)
