"""Rate schedules: flat rates and tiers (marginal, retroactive, per transaction), exactly.

A schedule is resolved once per plan group into integer arrays: band edges in minor units
times ``edge_scale`` (attainment edges are fractions of each employee's quota) and rates times
``rate_scale``. Commission then is a sum of integer products, rounded once per employee by the
rule set's rounding mode. Nothing passes through a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import Diagnostic
from ..money import (
    format_amount,
    format_amounts,
    format_decimal_amount,
    format_rate,
    format_scaled,
    safe_ints,
)
from ..rules.resolve import Resolver, decimal_places, scaled_ints
from ..rules.schema import Band, TierMethod, Tiers

IntArray = npt.NDArray[Any]
ObjectArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Schedule:
    """Rates and band edges for a group of employees, as exact scaled integers."""

    method: str  # "flat", or a TierMethod value
    band_ids: tuple[str, ...]
    lower: tuple[IntArray, ...]  # per band: per employee, minor units * edge_scale
    upper: tuple[IntArray | None, ...]  # None: open-ended
    rates: tuple[IntArray, ...]  # per band: per employee, rate * rate_scale
    shown_rates: tuple[ObjectArray, ...]  # per band: Decimal rates for formulas
    edge_scale: int
    rate_scale: int

    @property
    def scale(self) -> int:
        return self.edge_scale * self.rate_scale


def flat_schedule(rates: ObjectArray) -> Schedule:
    places = decimal_places(rates)
    zero = np.zeros(len(rates), dtype=np.int64)
    return Schedule(
        "flat", ("rate",), (zero,), (None,), (scaled_ints(rates, places),), (rates,), 1, 10**places
    )


def tier_schedule(
    tiers: Tiers,
    resolver: Resolver,
    path: str,
    rows: npt.NDArray[np.int64],
    quota_minor: IntArray,
    digits: int,
) -> Schedule:
    """Resolve a tier table for the employees in ``rows`` (quota per row, minor units)."""
    bands = tiers.bands
    edges = [resolver.values(b.from_, f"{path}.bands[{i}].from", rows) for i, b in enumerate(bands)]
    tops = [
        None if b.to is None else resolver.values(b.to, f"{path}.bands[{i}].to", rows)
        for i, b in enumerate(bands)
    ]
    rates = [resolver.values(b.rate, f"{path}.bands[{i}].rate", rows) for i, b in enumerate(bands)]
    _check_contiguous(bands, edges, tops, resolver, path)
    if tiers.measure == "attainment":
        places = max(decimal_places(e) for e in [*edges, *[t for t in tops if t is not None]])

        def to_edge(values: ObjectArray) -> IntArray:
            return (
                safe_ints(scaled_ints(values, places), int(np.max(np.abs(quota_minor), initial=1)))
                * quota_minor
            )

        edge_scale = 10**places
    else:

        def to_edge(values: ObjectArray) -> IntArray:
            return _money_edges(values, digits, resolver, path)

        edge_scale = 1
    rate_places = max(decimal_places(r) for r in rates)
    return Schedule(
        method=tiers.method.value,
        band_ids=tuple(b.id for b in bands),
        lower=tuple(to_edge(e) for e in edges),
        upper=tuple(None if t is None else to_edge(t) for t in tops),
        rates=tuple(scaled_ints(r, rate_places) for r in rates),
        shown_rates=tuple(rates),
        edge_scale=edge_scale,
        rate_scale=10**rate_places,
    )


def _money_edges(values: ObjectArray, digits: int, resolver: Resolver, path: str) -> IntArray:
    # Once per distinct value (resolved per dimension combination), not per employee.
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    scaled = [v.scaleb(digits) for v in uniques.tolist()]
    if any(s != s.to_integral_value() for s in scaled):
        resolver.problems.append(
            Diagnostic(
                resolver.source,
                None,
                None,
                path,
                f"a band edge has more than {digits} decimal places for this currency",
            )
        )
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.array([int(s) for s in scaled], dtype=np.int64)[codes]


def _check_contiguous(
    bands: list[Band],
    edges: list[ObjectArray],
    tops: list[ObjectArray | None],
    resolver: Resolver,
    path: str,
) -> None:
    if len(edges[0]) and any(v != 0 for v in edges[0].tolist()):
        resolver.problems.append(
            Diagnostic(
                resolver.source,
                None,
                None,
                f"{path}.bands[0].from",
                "the first band must start at 0",
            )
        )
    for i in range(len(bands) - 1):
        top = tops[i]
        if top is not None and any(
            a != b for a, b in zip(top.tolist(), edges[i + 1].tolist(), strict=True)
        ):
            resolver.problems.append(
                Diagnostic(
                    resolver.source,
                    None,
                    None,
                    f"{path}.bands[{i + 1}].from",
                    f"band {bands[i + 1].id!r} must start where band {bands[i].id!r} ends "
                    "(bands leave no gaps and do not overlap)",
                )
            )
        if top is not None and any(
            t <= f for t, f in zip(top.tolist(), edges[i].tolist(), strict=True)
        ):
            resolver.problems.append(
                Diagnostic(
                    resolver.source,
                    None,
                    None,
                    f"{path}.bands[{i}].to",
                    f"band {bands[i].id!r} must end above where it starts",
                )
            )


@dataclass(frozen=True)
class Outcome:
    """Exact result of a schedule on one measure per employee, before gates and caps."""

    exact: IntArray  # commission * scale
    slices: tuple[IntArray, ...]  # per band: the part of the measure in that band (* edge_scale)


def cumulative(schedule: Schedule, measure: IntArray) -> Outcome:
    """Apply the schedule to one cumulative measure per employee (minor units)."""
    x = safe_ints(np.asarray(measure), schedule.edge_scale) * schedule.edge_scale
    if schedule.method == TierMethod.RETROACTIVE.value:
        return _retroactive(schedule, x)
    return _marginal(schedule, x, lambda band: band)


def per_transaction(schedule: Schedule, sale_measure: IntArray, groups: Groups) -> Outcome:
    """Bands restart for each sale; sums per employee (``groups``: each sale's local employee
    index, :class:`Groups`)."""
    x = safe_ints(np.asarray(sale_measure), schedule.edge_scale) * schedule.edge_scale
    per_sale = _marginal(schedule, x, lambda band: _per_sale(band, groups.owner), groups.sum)
    return Outcome(groups.sum(per_sale.exact), per_sale.slices)


def per_sale_exact(schedule: Schedule, sale_measure: IntArray, owner: IntArray) -> IntArray:
    """Each sale's exact commission (``* scale``) when bands restart for each sale, ``owner``
    giving each sale's local employee index: what :func:`per_transaction` sums per employee.
    An object array of Python ints when int64 could overflow."""
    x = safe_ints(np.asarray(sale_measure), schedule.edge_scale) * schedule.edge_scale
    return _marginal(schedule, x, lambda band: _per_sale(band, owner)).exact


def _per_sale(band: IntArray, owner: IntArray) -> Any:
    """A band's edge or rate for each sale from its employee's (``owner``), or the one value
    when every employee has the same: no array as long as the sales for it."""
    if len(band) and bool((band == band[0]).all()):
        return band[0]
    return band[owner]


def _marginal(
    schedule: Schedule, x: IntArray, pick: Any, keep: Any = lambda part: part
) -> Outcome:
    """Each band's part of ``x`` (as ``keep`` returns it: say, summed per employee) and the
    commission on all of them (per value of ``x``). ``pick`` turns a band's per-employee
    edges or rates into ``x``'s (a value or an array). Worked out in place in int64, in one
    buffer for every band when ``keep`` makes something new of each part (sales-long
    temporaries are fresh memory each)."""
    exact: IntArray = np.zeros(len(x), dtype=x.dtype)
    spare: IntArray | None = None
    slices = []
    for low, high, rate in zip(schedule.lower, schedule.upper, schedule.rates, strict=True):
        floor = pick(low)
        part = np.subtract(x, floor) if spare is None else np.subtract(x, floor, out=spare)
        np.maximum(part, 0, out=part)
        if high is not None:  # the band's width, per employee before it is picked
            np.minimum(part, pick(high - low), out=part)
        kept = keep(part)
        slices.append(kept)
        scaled = safe_ints(part, int(np.max(np.abs(rate), initial=1)))
        if scaled.dtype == object or exact.dtype == object:  # Python ints: no overflow
            exact = exact + scaled * pick(rate)
        elif kept is part:  # the part itself is kept: its commission in a new array
            exact += part * pick(rate)
        else:  # the part is used up: its commission in its place, then its buffer reused
            np.multiply(part, pick(rate), out=part)
            exact += part
            spare = part
    return Outcome(exact, tuple(slices))


def _retroactive(schedule: Schedule, x: IntArray) -> Outcome:
    band = np.zeros(len(x), dtype=np.int64)
    for index, low in enumerate(schedule.lower):
        band = np.where(x >= low, index, band)
    rate = np.choose(band, schedule.rates) if len(schedule.rates) > 1 else schedule.rates[0]
    exact = safe_ints(x, int(np.max(np.abs(rate), initial=1))) * rate
    slices = tuple(np.where(band == i, x, 0) for i in range(len(schedule.rates)))
    return Outcome(exact, slices)


class Groups:
    """Exact sums per owner of many value columns over the same ``owner`` (local employee
    index per value, ``0 .. size-1``): where each owner's run starts is found once, so each
    sum is one ``np.add.reduceat`` when ``owner`` is sorted (``np.add.at`` otherwise).

    >>> Groups(np.array([0, 0, 2]), 4).sum(np.array([5, 7, 1])).tolist()
    [12, 0, 1, 0]
    """

    __slots__ = ("_firsts", "_starts", "owner", "size")

    def __init__(self, owner: IntArray, size: int) -> None:
        self.owner, self.size = owner, size
        self._starts: IntArray | None = None
        self._firsts: IntArray | None = None
        if len(owner) and bool(np.all(owner[1:] >= owner[:-1])):
            self._starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            self._firsts = owner[self._starts]

    def sum(self, values: IntArray) -> IntArray:
        out: IntArray = np.zeros(self.size, dtype=values.dtype)
        if self._starts is not None:
            out[self._firsts] = np.add.reduceat(values, self._starts)
        elif len(self.owner):
            np.add.at(out, self.owner, values)
        return out


def describe(
    schedule: Schedule,
    outcome: Outcome,
    i: int,
    digits: int,
    due: int,
    rate_texts: Sequence[Sequence[str]] = (),
) -> str:
    """``50,000.00 x 5% [t1] + 30,000.00 x 8% [t2] = 4,900.00`` for employee ``i``.

    ``rate_texts``: per band, every employee's rate already as text (``format_rate``), when
    the caller describes many employees.
    """
    amounts = [int(slice_[i]) for slice_ in outcome.slices]
    if rate_texts:
        rates = [texts[i] for texts in rate_texts]
    else:
        rates = [format_rate(rate[i]) for rate in schedule.shown_rates]
    return describe_amounts(schedule, amounts, rates, digits, format_amount(due, digits))


def describe_amounts(
    schedule: Schedule, amounts: Sequence[int], rates: Sequence[str], digits: int, due: str
) -> str:
    """:func:`describe` from one employee's band slices (``* edge_scale``), rates and due,
    all already plain Python values and text.

    >>> flat = flat_schedule(np.array([Decimal("0.05")], dtype=object))
    >>> describe_amounts(flat, [1234500], ["5%"], 2, "617.25")
    '12,345.00 x 5% = 617.25'
    """
    places = _scale_places(schedule.edge_scale)
    flat = schedule.method == "flat"
    parts = []
    for band, amount, rate in zip(schedule.band_ids, amounts, rates, strict=True):
        if amount == 0:
            continue
        if places is None or not -_EXACT < amount < _EXACT:
            shown = format_decimal_amount(
                Decimal(amount) / schedule.edge_scale / (10**digits), digits
            )
        else:  # the same text in integers: the edge scale is a power of ten
            shown = format_scaled(amount, places + digits, digits)
        tag = "" if flat else f" [{band}]"
        parts.append(f"{shown} x {rate}{tag}")
    text = " + ".join(parts) if parts else "nothing credited"
    return f"{text} = {due}"


_EXACT = 10**26  # below this the Decimal quotients above are exact (28 digits)


def describe_columns(
    schedule: Schedule,
    slices: Sequence[npt.NDArray[Any]],
    rates: Sequence[Sequence[str]],
    digits: int,
    due: Sequence[str],
) -> list[str]:
    """:func:`describe_amounts` for many employees at once: ``slices`` per band (one value a
    employee, ``* edge_scale``), ``rates`` per band as text, ``due`` as text; each band's
    amounts formatted as a column (a whole number of minor units, as nearly every one is,
    through :func:`format_amounts`, each distinct value once).

    >>> flat = flat_schedule(np.array([Decimal("0.05")] * 2, dtype=object))
    >>> describe_columns(flat, [np.array([1234500, 0])], [["5%", "5%"]], 2, ["617.25", "0.00"])
    ['12,345.00 x 5% = 617.25', 'nothing credited = 0.00']
    """
    places = _scale_places(schedule.edge_scale)
    flat = schedule.method == "flat"
    columns: list[list[str | None]] = []
    for band, amounts, rate in zip(schedule.band_ids, slices, rates, strict=True):
        values = np.asarray(amounts)
        shown = _scaled_column(values, places, digits, schedule.edge_scale)
        tag = "" if flat else f" [{band}]"
        columns.append([
            f"{text} x {r}{tag}" if a else None
            for a, text, r in zip(values.tolist(), shown, rate, strict=True)
        ])  # fmt: skip
    out = []
    for k, due_text in enumerate(due):
        parts = [part for column in columns if (part := column[k]) is not None]
        text = " + ".join(parts) if parts else "nothing credited"
        out.append(f"{text} = {due_text}")
    return out


def _scaled_column(
    values: npt.NDArray[Any], places: int | None, digits: int, scale: int
) -> list[str]:
    """Each of ``values / scale`` (minor units) as :func:`describe_amounts` shows it."""
    if places is not None and values.dtype.kind == "i":  # int64: far below _EXACT
        units, rest = np.divmod(values, 10**places)
        if not rest.any():  # no fraction of a minor unit: the amount's own text
            return format_amounts(units, digits)
    out = []
    for amount in values.tolist():
        if places is None or not -_EXACT < amount < _EXACT:
            out.append(format_decimal_amount(Decimal(amount) / scale / (10**digits), digits))
        else:
            out.append(format_scaled(amount, places + digits, digits))
    return out


@lru_cache(maxsize=64)
def _scale_places(scale: int) -> int | None:
    """``k`` when ``scale`` is ``10**k`` (exponents of ten as small as Decimal keeps exact)."""
    places = len(str(scale)) - 1
    return places if scale == 10**places and places <= 12 else None


def reached_band(outcome: Outcome) -> IntArray:
    """Per employee, the highest band with anything in it (band 0 when nothing is)."""
    band = np.zeros(len(outcome.exact), dtype=np.int64)
    for index, part in enumerate(outcome.slices):
        band = np.where(np.asarray(part) != 0, index, band)
    return band


def at_band(schedule: Schedule, measure: IntArray, band: IntArray) -> Outcome:
    """A cumulative measure valued wholly at the rate of ``band`` (retroactive re-rating)."""
    x = safe_ints(np.asarray(measure), schedule.edge_scale) * schedule.edge_scale
    rate = np.choose(band, schedule.rates) if len(schedule.rates) > 1 else schedule.rates[0]
    exact = safe_ints(x, int(np.max(np.abs(rate), initial=1))) * rate
    slices = tuple(np.where(band == i, x, 0) for i in range(len(schedule.rates)))
    return Outcome(exact, slices)
