"""The fast formatters and line helpers give exactly the text of the plain versions.

The statement lines are built column-wise for speed (issue 6); each fast path is checked here
against the obvious per-value implementation it replaced, for any integer or rate.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import itertools
import pickle
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from compcalc.money import (
    HUNDRED,
    format_amount,
    format_amounts,
    format_decimal_amount,
    format_percent_of,
    format_percents_of,
    format_rate,
    from_minor,
    from_minor_all,
)
from compcalc.statements.model import Ids, Line, RuleRef, Texts, read_ids


def plain_format_amount(units: int, digits: int) -> str:
    units = int(units)
    sign = "-" if units < 0 else ""
    whole, part = divmod(abs(units), 10**digits)
    text = f"{whole:,}"
    if digits:
        text += "." + str(part).rjust(digits, "0")
    return sign + text


def plain_from_minor(units: int, digits: int) -> Decimal:
    return Decimal(int(units)).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def plain_percent_of(numerator: int, denominator: int, places: int = 1) -> str:
    if denominator == 0:
        return "n/a"
    value = Decimal(numerator) * HUNDRED / Decimal(denominator)
    quantized = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{quantized:f}%"


def plain_rate(rate: Decimal) -> str:
    return f"{(rate * HUNDRED).normalize():f}%"


amounts = st.integers(min_value=-(10**20), max_value=10**20)
digits = st.integers(min_value=0, max_value=4)


def test_amounts_by_hand() -> None:
    assert format_amount(123456789, 2) == "1,234,567.89"
    assert format_amount(-5, 2) == "-0.05"
    assert format_amount(-1000, 0) == "-1,000"
    assert format_amount(np.int64(1234500), 3) == "1,234.500"
    assert format_amounts(np.array([100, -100, 0], dtype=np.int64), 2) == ["1.00", "-1.00", "0.00"]
    assert format_amounts(np.zeros(0, dtype=np.int64), 2) == []


@given(amounts, digits)
def test_format_amount_matches_plain(units: int, places: int) -> None:
    assert format_amount(units, places) == plain_format_amount(units, places)


@given(
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=40),
    st.integers(min_value=0, max_value=6),  # past any currency's places too
)
def test_format_amounts_is_format_amount_per_value(values: list[int], places: int) -> None:
    column = np.array(values, dtype=np.int64)
    assert format_amounts(column, places) == [plain_format_amount(v, places) for v in values]


@given(st.lists(amounts, max_size=20), digits)
def test_format_amounts_on_python_ints(values: list[int], places: int) -> None:
    column = np.array(values, dtype=object)
    assert format_amounts(column, places) == [plain_format_amount(v, places) for v in values]


@given(st.integers(min_value=-(10**30), max_value=10**30), digits)
def test_from_minor_matches_plain(units: int, places: int) -> None:
    try:
        expected = plain_from_minor(units, places)
    except ArithmeticError:  # beyond 28 digits both refuse
        return
    got = from_minor(units, places)
    assert (str(got), got.as_tuple()) == (str(expected), expected.as_tuple())
    (each,) = from_minor_all([units], places)  # the column form: the same Decimal, digit for digit
    assert (str(each), each.as_tuple()) == (str(expected), expected.as_tuple())


def test_percent_by_hand() -> None:
    assert format_percent_of(2, 3) == "66.7%"
    assert format_percent_of(-1, 3000) == "-0.0%"  # Decimal keeps the sign of a tiny negative
    assert format_percent_of(1, 8, places=0) == "13%"
    assert format_percent_of(5, 0) == "n/a"


@given(
    st.integers(min_value=-(10**18), max_value=10**18),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.integers(min_value=0, max_value=4),
)
def test_percent_of_matches_plain(numerator: int, denominator: int, places: int) -> None:
    assert format_percent_of(numerator, denominator, places) == plain_percent_of(
        numerator, denominator, places
    )


_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(
    st.lists(
        st.tuples(
            st.one_of(_INT64, st.integers(-(10**6), 10**6)),
            st.one_of(_INT64, st.integers(-3, 10**6)),
        ),
        max_size=12,
    ),
    st.integers(min_value=0, max_value=4),  # as format_percent_of's own test
)
@example([(10**13, 7), (-(10**13), 3)], 4)  # past 64 bits once scaled: not the NumPy form
def test_percents_of_columns_match_one_at_a_time(pairs: list[tuple[int, int]], places: int) -> None:
    """Columns (int64, and Python integers past it) give what each pair gives alone: the
    integer form near 64 bits' end, zero and negative denominators, 0 to 4 places."""
    tops, bottoms = [t for t, _ in pairs], [b for _, b in pairs]
    expected = [format_percent_of(t, b, places) for t, b in pairs]
    columns = np.array(tops, dtype=np.int64), np.array(bottoms, dtype=np.int64)
    assert format_percents_of(*columns, places) == expected
    wide = np.array([t * 10 for t in tops], dtype=object), np.array(bottoms, dtype=object)
    assert format_percents_of(*wide, places) == [
        format_percent_of(t * 10, b, places) for t, b in pairs
    ]


@pytest.mark.parametrize("kind", [np.int8, np.int16, np.int32, np.int64])
def test_percents_of_a_narrow_types_least_value(kind: type[np.signedinteger[Any]]) -> None:
    """The least value of a signed type has no positive twin in it: taken in 64 bits."""
    least = int(np.iinfo(kind).min)
    tops, bottoms = np.array([least, 5], dtype=kind), np.array([7, 3], dtype=kind)
    assert format_percents_of(tops, bottoms, 2) == [
        format_percent_of(least, 7, 2), format_percent_of(5, 3, 2)
    ]


def test_sale_months_of_sales_without_a_date_are_said_as_before() -> None:
    """A sale with no date (never in a checked ledger) is a month of its own, 'NaT', as the
    one-group form said it, not an overflow."""
    from compcalc.engine.context import Context

    ctx = Context.__new__(Context)
    dates = np.array(["2026-10-05", "NaT", "2026-11-01", "2026-10-20"], dtype="datetime64[D]")
    ctx.sales = SimpleNamespace(date=dates)  # type: ignore[assignment]
    groups = [np.array([0, 1, 3]), np.array([2, 3]), np.array([1])]
    assert ctx.sale_periods_all(groups) == ["2026-10, NaT", "2026-10, 2026-11", "NaT"]
    assert ctx.sale_periods_all(groups[1:2]) == ["2026-10, 2026-11"]


def plain_format_decimal_amount(amount: Decimal, digits: int) -> str:
    """format_decimal_amount as it was written first: quantize, then group the whole part."""
    exponent = amount.as_tuple().exponent
    places = max(digits, -exponent if isinstance(exponent, int) else digits)
    quantized = amount.quantize(Decimal(1).scaleb(-places))
    sign = "-" if quantized < 0 else ""
    whole, _, part = f"{abs(quantized):f}".partition(".")
    return sign + f"{int(whole):,}" + (("." + part) if part else "")


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=-(10**15),
                max_value=10**15).filter(lambda d: d.as_tuple().exponent >= -8)
    | st.sampled_from([Decimal("-0"), Decimal("-0.000"), Decimal("0E+3"), Decimal("1E+5")]),
    st.integers(min_value=0, max_value=4),
)  # fmt: skip
def test_format_decimal_amount_matches_plain(amount: Decimal, places: int) -> None:
    assert format_decimal_amount(amount, places) == plain_format_decimal_amount(amount, places)


def test_percents_of_columns_by_hand() -> None:
    assert format_percents_of(np.array([2, -1, 5, 1, 999]), np.array([3, 3000, 0, 8, 1000])) == [
        "66.7%", "-0.0%", "n/a", "12.5%", "99.9%"
    ]  # fmt: skip


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10, max_value=10))
def test_format_rate_matches_plain(rate: Decimal) -> None:
    assert format_rate(rate) == plain_rate(rate)


def test_format_rate_keeps_equal_rates_apart_by_sign() -> None:
    assert format_rate(Decimal("0.050")) == format_rate(Decimal("0.05")) == "5%"
    assert (format_rate(Decimal("0")), format_rate(Decimal("-0"))) == ("0%", "-0%")


def test_margin_left_divides_only_refunded_sales_and_matches_dividing_all() -> None:
    from compcalc.engine.crediting import _margin_left
    from compcalc.money import Rounding, round_div

    amount = np.array([1000, 1000, 0, -50, 333, 10], dtype=np.int64)
    margin = np.array([300, 301, 7, 9, 100, 0], dtype=np.int64)
    refunded = np.array([0, 500, 0, 0, 111, 10], dtype=np.int64)
    remaining = np.maximum(amount - refunded, 0)
    got = _margin_left(amount, margin, refunded, remaining, Rounding.HALF_UP)
    every = round_div(margin * remaining, np.where(amount > 0, amount, 1), Rounding.HALF_UP)
    assert got.tolist() == every.tolist() == [300, 151, 0, 0, 67, 0]


@given(
    st.lists(st.text("T12ab\u00e9", min_size=1), max_size=12),
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=0, max_value=12),
    st.sampled_from(["numpy", "arrow"]),
    st.booleans(),
)
def test_ids_behave_as_the_tuple_of_their_window(
    values: list[str], a: int, b: int, backing: str, positions: bool
) -> None:
    # Over Python str objects or Arrow text (the run's transaction ids), read straight or
    # through positions (a window on ids grouped by employee).
    start, stop = sorted((min(a, len(values)), min(b, len(values))))
    shared = np.array(values, dtype=object) if backing == "numpy" else Texts(pa.array(values))
    at = np.arange(len(values), dtype=np.int64)[::-1].copy() if positions else None
    ids = Ids(shared, start, stop, at)
    plain = tuple(values[::-1][start:stop] if positions else values[start:stop])
    expected = at[start:stop].tolist() if at is not None else list(range(start, stop))
    assert ids.positions().tolist() == expected
    assert ids == plain and plain == ids and tuple(ids) == plain and list(ids) == list(plain)
    assert hash(ids) == hash(plain) and repr(ids) == repr(plain) and len(ids) == len(plain)
    assert bool(ids) == bool(plain) and ids[1:] == plain[1:]
    for k in range(-len(plain), len(plain)):
        assert ids[k] == plain[k]
    for k in (len(plain), -len(plain) - 1):
        with pytest.raises(IndexError):
            ids[k]
    # A pickled or copied window is a plain tuple: it never carries the run's whole array.
    unpickled = pickle.loads(pickle.dumps(ids))
    assert type(unpickled) is tuple and unpickled == plain
    assert copy.deepcopy(ids) == plain
    assert ids != list(plain) and (ids == object()) is False


@given(
    st.lists(st.text("T12", min_size=1), min_size=1, max_size=10),
    st.lists(
        st.tuples(st.sampled_from(["arrow", "other arrow", "numpy", "tuple"]),
                  st.integers(0, 10), st.integers(0, 10), st.booleans()),
        max_size=8,
    ),
)  # fmt: skip
def test_ids_read_together_are_each_window(
    values: list[str], specs: list[tuple[str, int, int, bool]]
) -> None:
    # What the JSON writer reads per statement: windows on one or two Arrow arrays (one take
    # each), on an object array, and plain tuples, each the list of its own ids.
    arrays = {"arrow": Texts(pa.array(values)), "other arrow": Texts(pa.array(values[::-1]))}
    windows: list[Sequence[str]] = []
    for kind, a, b, by_position in specs:
        start, stop = sorted((min(a, len(values)), min(b, len(values))))
        at = np.arange(len(values), dtype=np.int64)[::-1].copy() if by_position else None
        if kind == "tuple":
            windows.append(tuple(values[start:stop]))
        else:
            shared = arrays.get(kind, np.array(values, dtype=object))
            windows.append(Ids(shared, start, stop, at))
    assert read_ids(windows) == [list(window) for window in windows]


def test_a_line_is_made_as_its_dataclass_would_make_it() -> None:
    """Line's own __init__ (the slots set directly, for speed) takes the fields in their
    order, by position or name, with their defaults, and sets each to its own value; a field
    added to Line without it fails here."""
    names = [f.name for f in dataclasses.fields(Line)]
    assert list(inspect.signature(Line.__init__).parameters)[1:] == names
    values = [f"v{k}" for k in range(len(names))]
    by_position, by_name = Line(*values), Line(**dict(zip(names, values, strict=True)))
    assert [getattr(by_position, n) for n in names] == values
    assert by_position == by_name and hash(by_position) == hash(by_name)
    short = Line(*values[:-2])
    assert (short.transactions, short.details) == ((), ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_position.id = "other"  # type: ignore[misc]


def test_a_line_with_ids_equals_the_line_with_the_tuple() -> None:
    shared = np.array(["T1", "T2", "T3"], dtype=object)
    rule = RuleRef("rs", "1", "comm", "abc")
    a = Line("c.x", "comm", "commission", "commission", "x", "X", Decimal("1.00"), rule, "f",
             Ids(shared, 1, 3))  # fmt: skip
    b = dataclasses.replace(a, transactions=("T2", "T3"))
    assert a == b and hash(a) == hash(b)
    assert pickle.loads(pickle.dumps(a)).transactions == ("T2", "T3")
    assert a != dataclasses.replace(a, transactions=("T2",))




_texts = st.text(alphabet="abc.- 0123", max_size=6)


@st.composite
def line_columns(draw: st.DrawFn) -> dict[str, object]:
    """Columns of lines for make_lines: constants or one value per line, as callers give."""
    n = draw(st.integers(0, 6))

    def text_or_column() -> object:
        return draw(st.one_of(_texts, st.lists(_texts, min_size=n, max_size=n)))

    keys = draw(st.lists(st.sampled_from(["rate", "annual", "band", "zeta", "a"]), unique=True))
    return {
        "item": draw(st.sampled_from(["installment", "true_up", "member", "clawback"])),
        "rows": draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)),
        # past 10**27 the exact path gives way to from_minor (28 digits: its limit)
        "amounts": draw(st.lists(st.integers(1 - 10**28, 10**28 - 1), min_size=n, max_size=n)),
        "formulas": draw(st.lists(_texts, min_size=n, max_size=n)),
        "label": text_or_column(),
        "details": {key: text_or_column() for key in keys},
        "transactions": draw(
            st.none() | st.lists(st.lists(_texts, max_size=2).map(tuple), min_size=n, max_size=n)
        ),
        "suffix": text_or_column(),
    }


@given(line_columns(), st.integers(0, 3), st.sampled_from(["allowance", "commission"]))
def test_make_lines_is_make_line_per_line(
    columns: dict[str, Any], places: int, kind: str
) -> None:
    """The column-wise line builder gives exactly the lines make_line gives one by one:
    constants and per-line values alike, details in key order, huge amounts exact."""
    from compcalc.engine.context import make_line, make_lines

    rules = SimpleNamespace(id="plan", version="3")
    ctx: Any = SimpleNamespace(digits=places, rules=rules, rules_sha256="ab12")
    component = SimpleNamespace(id="car", kind=kind)
    n = len(columns["rows"])

    def at(value: object, k: int) -> Any:
        return value if isinstance(value, str) else value[k]  # type: ignore[index]

    one_by_one = [
        make_line(
            ctx, component, columns["rows"][k], columns["item"], at(columns["label"], k),
            columns["amounts"][k], columns["formulas"][k],
            () if columns["transactions"] is None else columns["transactions"][k],
            {key: at(value, k) for key, value in columns["details"].items()},
            suffix=at(columns["suffix"], k),
        )
        for k in range(n)
    ]  # fmt: skip
    together = make_lines(ctx, component, **columns)
    assert [(d.row, d.line) for d in together] == [(d.row, d.line) for d in one_by_one]
    for fast, plain in zip(together, one_by_one, strict=True):  # the same text to the digit
        assert str(fast.line.amount) == str(plain.line.amount)
        assert fast.line.details == plain.line.details


@st.composite
def band_columns(draw: st.DrawFn) -> tuple[Any, list[Any], list[list[str]], int, list[str]]:
    """A schedule of 1-3 bands (flat or tiered; edge scale 1, 10**k or not a power of ten),
    and per band every employee's slice and rate text: whole minor units, fractions of one,
    zero and negative slices."""
    from compcalc.engine.tiers import Schedule

    n, bands = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    scale = draw(st.sampled_from([1, 10, 1000, 10**6, 3]))
    whole = draw(st.booleans())  # every slice a whole number of minor units, or any
    values = st.integers(-(10**12), 10**12).map(lambda v: v * scale if whole else v)
    slices = [
        np.array(draw(st.lists(values | st.just(0), min_size=n, max_size=n)), dtype=np.int64)
        for _ in range(bands)
    ]
    rates = [draw(st.lists(st.sampled_from(["5%", "7.5%", "0%"]), min_size=n, max_size=n))
             for _ in range(bands)]  # fmt: skip
    method = "flat" if bands == 1 and draw(st.booleans()) else "marginal"
    ids = tuple(f"t{b + 1}" for b in range(bands))
    schedule = Schedule(method, ids, (), (), (), (), scale, 1)
    due = draw(st.lists(_texts, min_size=n, max_size=n))
    return schedule, slices, rates, draw(st.integers(0, 3)), due


@given(band_columns())
def test_describe_columns_is_describe_amounts_per_employee(
    case: tuple[Any, list[Any], list[list[str]], int, list[str]],
) -> None:
    """The band descriptions of a commission's formulas, built a band at a time for all
    employees, read exactly as the per-employee describe_amounts: fractions of a minor
    unit, scales that are no power of ten, zero and negative slices included."""
    from compcalc.engine.tiers import describe_amounts, describe_columns

    schedule, slices, rates, places, due = case
    together = describe_columns(schedule, slices, rates, places, due)
    one_by_one = [
        describe_amounts(
            schedule, [int(s[k]) for s in slices], [r[k] for r in rates], places, due[k]
        )
        for k in range(len(due))
    ]
    assert together == one_by_one


@pytest.mark.parametrize(
    ("cap", "sale", "payable", "items"),
    [
        ("", "1000.00", "92,233,720,368,547,808.00",
         [("true_up", "92233720368547758.00"), ("new_credit", "50.00")]),
        ("  cap:\n    per: period\n    amount: 10.00\n", "20000000.00", "10.00",
         [("true_up", "92233720368547758.00"), ("new_credit", "1000000.00"),
          ("cap", "-92233720369547748.00")]),
    ],
)  # fmt: skip
def test_commission_to_date_figures_are_exact_past_64_bits(
    cap: str, sale: str, payable: str, items: list[tuple[str, str]]
) -> None:
    """Paid to date near the least 64-bit integer (in minor units): the payable figure and
    a cap's deferral are worked out in Python integers, exactly (found in review: 64-bit
    columns wrapped the payable figure round and made the deferral overflow)."""
    import pandas as pd

    from test_engine_examples import emp, ledger, roster, rules, run
    from test_engine_examples import sale as sold

    commission = "- id: comm\n  kind: commission\n  rate: 0.05\n" + cap
    staff = roster(emp("E1", annual_base="0.00", quota="1000.00"))
    paid = pd.DataFrame(
        [["E1", "comm", "-92233720368547758.00"]], columns=["employee_id", "component", "amount"]
    )
    result = run(rules(commission), staff, ledger(sold("T1", "2026-11-05", sale)), "2026-11", paid)
    (statement,) = result.statements
    assert dict(dict(statement.to_date)["comm"])["payable_this_period"] == payable
    assert [(line.item, str(line.amount)) for line in statement.lines] == items


def plain_step_details(
    plan: Any, due: Any, i: int, cited: Any, events: dict[int, str], item: str, dates: Any
) -> tuple[tuple[str, str], ...]:
    """A step line's details as a dict per employee, then sorted (the engine's earlier form)."""
    credited, attainment = plan.figures(due, i)
    details = {"method": plan.schedule.method, "credited_to_date": credited}
    if attainment:
        details["quota"] = plan.quota_text(i)
        details["attainment"] = attainment
    if plan.schedule.method != "flat":
        bands = zip(plan.schedule.band_ids, due.outcome.slices, strict=True)
        reached = [b for b, s in bands if s[i] > 0]
        if reached:
            details["highest_band"] = reached[-1]
    details["rates"] = plan.rates_text(i)
    if item != "new_credit" and cited[i]:
        said = [events[p] for p in cited[i].positions().tolist() if p in events]
        if said:
            details["events"] = "; ".join(said)
        months = sorted({str(dates[p])[:7] for p in cited[i].positions().tolist()})
        details["original_periods"] = ", ".join(months)
    return tuple(sorted(details.items()))


@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.lists(st.integers(-5, 5), min_size=n, max_size=n), min_size=1, max_size=3),
            st.lists(st.booleans(), min_size=n, max_size=n),  # a quota above zero
            st.lists(st.lists(st.integers(0, 9), max_size=4), min_size=n, max_size=n),
        )
    ),
    st.sampled_from(["new_credit", "clawback", "held_back", "released"]),
    st.booleans(),
    st.data(),
)
def test_step_details_column_by_column_are_each_lines_sorted_dict(
    shape: Any, item: str, flat: bool, data: st.DataObject
) -> None:
    """The step lines' details built in key order column by column equal each line's dict
    of details sorted, as the engine built them before: optional keys (attainment and quota,
    highest band, events, the sales' months over several years) present exactly when due."""
    from compcalc.engine.commission import _step_details
    from compcalc.engine.context import Context

    n, slices, quota_above_zero, sales = shape
    if flat:
        slices = slices[:1]
    dates = np.array(
        ["2026-11-03", "2026-11-30", "2027-01-02", "2025-12-31", "2027-01-15",
         "2026-02-01", "2026-11-03", "2027-09-30", "2024-06-06", "2026-12-01"],
        dtype="datetime64[D]",
    )  # fmt: skip
    ids = np.array([f"T{k}" for k in range(len(dates))], dtype=object)
    flat_ids = np.array([p for own in sales for p in own], dtype=np.int64)
    bounds = np.cumsum([0] + [len(own) for own in sales]).tolist()
    cited = [Ids(ids, a, b, at=flat_ids) for a, b in itertools.pairwise(bounds)]
    events = {p: f"T{p}: refund" for p in range(0, len(dates), 3)}
    ctx = Context.__new__(Context)
    ctx.sales = SimpleNamespace(date=dates)  # type: ignore[assignment]
    bands = tuple(f"t{b + 1}" for b in range(len(slices)))
    plan: Any = SimpleNamespace(
        ctx=ctx,
        schedule=SimpleNamespace(method="flat" if flat else "marginal", band_ids=bands),
        figures=lambda due, i: (f"{i}00.00", f"{i}0.0%" if quota_above_zero[i] else ""),
        quota_text=lambda i: f"{i}000.00",
        rates_text=lambda i: ", ".join(f"{b} {i}%" for b in bands),
    )
    due: Any = SimpleNamespace(outcome=SimpleNamespace(slices=[np.array(s) for s in slices]))
    at = data.draw(st.lists(st.integers(0, n - 1), unique=True).map(sorted))
    got = _step_details(plan, due, at, cited, events, item)
    assert got == [plain_step_details(plan, due, i, cited, events, item, dates) for i in at]
