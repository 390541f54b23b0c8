"""Exact money: currency minor units, explicit rounding, remainder-safe allocation.

Amounts travel through compcalc as integers of the currency's minor unit (cents for USD,
yen for JPY, fils for KWD) or as :class:`~decimal.Decimal`. A float never holds money.
Rounding is its own explicit step with a named mode; formatting for people is another.

>>> minor_digits("KWD")
3
>>> to_minor(D("10.005"), 2, Rounding.HALF_EVEN)
1000
>>> allocate(100, [1, 1, 1])
[34, 33, 33]
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from functools import cache, lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from babel.numbers import get_currency_precision, list_currencies

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

# int64 products above this are computed with Python integers instead (exact, slower).
_INT64_SAFE = 2**62
# Integers below this in magnitude fit the default decimal context's 28 digits.
_DECIMAL_EXACT = 10**27
# Percentages of operands below this (with at most 8 places) are formatted in integers: there
# Decimal's 28 digits are exact too, so both give the same text (see format_percent_of).
_PERCENT_EXACT = 10**15


class Rounding(enum.StrEnum):
    """How an exact amount becomes a whole number of minor units."""

    HALF_UP = "half_up"  # 0.5 goes away from zero: 2.345 -> 2.35, -2.345 -> -2.35
    HALF_EVEN = "half_even"  # 0.5 goes to the even neighbour (banker's): 2.345 -> 2.34
    DOWN = "down"  # toward zero, drops the remainder: 2.349 -> 2.34, -2.349 -> -2.34

    @property
    def decimal_mode(self) -> str:
        return {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}[
            self.value
        ]


def D(value: str | int | Decimal) -> Decimal:
    """Build a Decimal from text or an int; refuses floats, which cannot hold money exactly."""
    if isinstance(value, float):
        raise TypeError("money and rates are never floats; pass the text, e.g. D('12.50')")
    return Decimal(value)


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: str) -> str:
    """Return the ISO 4217 code if babel knows it, else raise ValueError in plain words."""
    if code not in known_currencies():
        raise ValueError(f"unknown currency {code!r}: expected an ISO 4217 code such as USD")
    return code


@cache
def minor_digits(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(check_currency(currency)))


def to_minor(amount: Decimal, digits: int, rounding: Rounding) -> int:
    """Round an exact Decimal amount once to a whole number of minor units."""
    with localcontext() as ctx:
        ctx.prec = 60
        scaled = (amount * (10**digits)).quantize(ONE, rounding=rounding.decimal_mode)
    return int(scaled)


def from_minor(units: int, digits: int) -> Decimal:
    """Minor units back to a Decimal in major units, with exactly ``digits`` places.

    >>> from_minor(-123456, 2)
    Decimal('-1234.56')
    """
    units = int(units)
    if -_DECIMAL_EXACT < units < _DECIMAL_EXACT:
        # scaleb only moves the exponent: exactly ``digits`` places, no rounding at this size
        return Decimal(units).scaleb(-digits)
    return Decimal(units).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def from_minor_all(units: Iterable[int], digits: int) -> list[Decimal]:
    """:func:`from_minor` of each of ``units`` (Python ints), its check and call inlined.

    >>> from_minor_all([-123456, 5, 10**27], 2)
    [Decimal('-1234.56'), Decimal('0.05'), Decimal('10000000000000000000000000.00')]
    """
    exact = _DECIMAL_EXACT
    return [
        Decimal(u).scaleb(-digits) if -exact < u < exact else from_minor(u, digits) for u in units
    ]


def as_fraction(value: Decimal) -> tuple[int, int]:
    """A finite Decimal as (numerator, 10**k) with no loss: D('0.075') -> (75, 1000)."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {value}")
    numerator = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    if exponent >= 0:
        return numerator * 10**exponent, 1
    return numerator, 10**-exponent


IntArray = npt.NDArray[Any]  # int64, or object holding Python ints when int64 could overflow


def safe_ints(values: IntArray, bound: int) -> IntArray:
    """Use Python-int (object) arrays when |values| times ``bound`` could overflow int64."""
    if values.dtype == object or values.size == 0:
        return values
    # The largest magnitude without an array of them (the values may be the sales' length)
    peak = max(int(values.max()), -int(values.min()))
    if peak * max(abs(bound), 1) >= _INT64_SAFE:
        return values.astype(object)
    return values


def round_div(numerator: IntArray, denominator: int | IntArray, rounding: Rounding) -> IntArray:
    """Integer division ``numerator / denominator`` rounded by ``rounding``, elementwise.

    ``denominator`` is a positive int or an array of them. Works on int64 arrays and on object
    arrays of Python ints alike.
    """
    if np.any(np.asarray(denominator) <= 0):
        raise ValueError("denominator must be positive")
    numerator = np.asarray(numerator)
    if numerator.dtype != object and np.max(np.asarray(denominator), initial=0) >= _INT64_SAFE:
        numerator = numerator.astype(object)  # 2 * remainder would overflow int64
    negative = numerator < 0
    magnitude = np.where(negative, -numerator, numerator)
    quotient = magnitude // denominator
    remainder = magnitude - quotient * denominator
    if rounding is Rounding.HALF_UP:
        quotient = quotient + (2 * remainder >= denominator)
    elif rounding is Rounding.HALF_EVEN:
        twice = 2 * remainder
        odd = (quotient % 2) == 1
        quotient = quotient + ((twice > denominator) | ((twice == denominator) & odd))
    result = np.where(negative, -quotient, quotient)
    if result.dtype == object:
        return result
    return result.astype(np.int64)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights`` with no unit lost.

    Largest remainder method; ties go to the earlier weight, so the result depends only on
    the order the caller gives (callers sort by a stable key first).
    """
    if not weights:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    magnitude = abs(total)
    shares = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w - s * weight_sum for w, s in zip(weights, shares, strict=True)]
    left = magnitude - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        shares[i] += 1
    return [s if total >= 0 else -s for s in shares]


def format_amount(units: int, digits: int) -> str:
    """Minor units as ``1,234.50`` (or ``-1,234.50``): fixed, locale-free, for formulas.

    >>> format_amount(-123450, 2), format_amount(5, 3), format_amount(1234567, 0)
    ('-1,234.50', '0.005', '1,234,567')
    """
    units = int(units)
    if not digits:
        return f"{units:,}"
    if units < 0:
        whole, part = divmod(-units, 10**digits)
        return f"-{whole:,}.{part:0{digits}d}"
    whole, part = divmod(units, 10**digits)
    return f"{whole:,}.{part:0{digits}d}"


def format_amounts(units: IntArray, digits: int) -> list[str]:
    """:func:`format_amount` over a whole column, each distinct amount formatted once.

    Works on int64 arrays and on object arrays of Python ints alike.

    >>> format_amounts(np.array([150, -5, 150, 0]), 2)
    ['1.50', '-0.05', '1.50', '0.00']
    """
    values = np.asarray(units)
    if values.size == 0:
        return []
    distinct, where = np.unique(values, return_inverse=True)
    if distinct.dtype.kind == "i" and distinct[0] != np.iinfo(distinct.dtype).min:
        # the sign, the whole units and the places split off in NumPy, one f-string each
        whole, part = np.divmod(np.abs(distinct), 10**digits)
        sign, wholes = np.where(distinct < 0, "-", "").tolist(), whole.tolist()
        parts = zip(sign, wholes, part.tolist(), strict=True)
        if 0 < digits <= 4:  # every currency's: ISO 4217 has none with more places
            places = _places(digits)  # the places' texts, padded once ("05")
            texts = [f"{s}{w:,}.{places[p]}" for s, w, p in parts]
        elif digits:
            texts = [f"{s}{w:,}.{p:0{digits}d}" for s, w, p in parts]
        else:
            texts = [f"{s}{w:,}" for s, w in zip(sign, wholes, strict=True)]
    else:  # Python integers (beyond int64), or int64's least value (no positive twin)
        texts = [format_amount(value, digits) for value in distinct.tolist()]
    # Spread back over the column in NumPy (an object array's take), not by a Python loop
    spread: list[str] = np.array(texts, dtype=object)[where.reshape(-1)].tolist()
    return spread


@functools.lru_cache(maxsize=8)
def _places(digits: int) -> tuple[str, ...]:
    """The ``10**digits`` texts of a currency's places, zero-padded: ``"00"`` to ``"99"``."""
    return tuple(f"{p:0{digits}d}" for p in range(10**digits))


def format_scaled(units: int, scale_places: int, digits: int) -> str:
    """``units / 10**scale_places`` (major units) in the fixed style, with at least ``digits``
    places and as many more as the exact value needs: what :func:`format_decimal_amount`
    shows for that quotient, in integers.

    >>> format_scaled(1234500, 3, 2), format_scaled(-1234567, 4, 2), format_scaled(0, 3, 2)
    ('1,234.50', '-123.4567', '0.00')
    """
    units = int(units)
    magnitude = -units if units < 0 else units
    needed = scale_places
    while needed > digits and magnitude % 10 == 0:  # drop the trailing zeros beyond digits
        magnitude //= 10
        needed -= 1
    if needed < digits:  # only when scale_places < digits: pad up to the currency's places
        magnitude *= 10 ** (digits - needed)
        needed = digits
    if not needed:
        return f"-{magnitude:,}" if units < 0 else f"{magnitude:,}"
    whole, part = divmod(magnitude, 10**needed)
    return f"{'-' if units < 0 else ''}{whole:,}.{part:0{needed}d}"


def format_decimal_amount(amount: Decimal, digits: int) -> str:
    """A Decimal money amount in the same fixed style, keeping extra places if it has them
    (zero is never signed).

    >>> [format_decimal_amount(D(t), 2) for t in ("-1234567.5", "0.125", "7", "-0.00")]
    ['-1,234,567.50', '0.125', '7.00', '0.00']
    """
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or -exponent < digits:  # too few places: pad them
        amount = amount.quantize(_unit(digits))
    text = f"{amount:,f}"  # Decimal's own formatting: its places as they are, grouped
    return text[1:] if not amount and text.startswith("-") else text


@lru_cache(maxsize=8)
def _unit(digits: int) -> Decimal:
    return Decimal(1).scaleb(-digits)


def format_rate(rate: Decimal) -> str:
    """A rate as a percentage with no trailing zeros: 0.05 -> 5%, 0.075 -> 7.5%.

    >>> format_rate(D("0.0750")), format_rate(D("1.25"))
    ('7.5%', '125%')
    """
    # Rates repeat across employees: each distinct one (and sign, for -0) is formatted once
    return _rate_text(rate, rate.is_signed())


@lru_cache(maxsize=4096)
def _rate_text(rate: Decimal, signed: bool) -> str:
    percent = (rate * HUNDRED).normalize()
    return f"{percent:f}%"


def format_percents_of(
    numerators: npt.ArrayLike, denominators: npt.ArrayLike, places: int = 1
) -> list[str]:
    """:func:`format_percent_of` of each pair of two columns: where both fit the integer
    form in 64 bits (nearly all), its division in NumPy and one f-string a pair.

    >>> format_percents_of(np.array([1, -1, 5, 7]), np.array([3, 8, 0, -2]))
    ['33.3%', '-12.5%', 'n/a', '-350.0%']
    """
    top, bottom = np.asarray(numerators), np.asarray(denominators)
    out = [""] * len(top)
    fast = np.zeros(len(top), dtype=bool)
    if top.dtype.kind == "i" and bottom.dtype.kind == "i" and 0 < places <= 8:
        # |numerator| * 100 * 10**places stays below 2**63
        bound = min(_PERCENT_EXACT, (2**63 - 1) // (100 * 10**places))
        fast = (top > -bound) & (top < bound) & (bottom > 0) & (bottom < _PERCENT_EXACT)
        at = np.flatnonzero(fast)
        denominator = bottom[at].astype(np.int64)
        # in 64 bits before the absolute value: a narrower type's least value has no twin
        scaled = np.abs(top[at].astype(np.int64)) * (100 * 10**places)
        quotient, remainder = np.divmod(scaled, denominator)
        quotient += 2 * remainder >= denominator  # half up: ties away from zero
        whole, part = np.divmod(quotient, 10**places)
        signs = np.where(top[at] < 0, "-", "").tolist()
        for k, sign, w, f in zip(at.tolist(), signs, whole.tolist(), part.tolist(), strict=True):
            out[k] = f"{sign}{w}.{f:0{places}d}%"
    for k in np.flatnonzero(~fast).tolist():
        out[k] = format_percent_of(top[k], bottom[k], places)
    return out


def format_percent_of(numerator: int, denominator: int, places: int = 1) -> str:
    """``numerator / denominator`` as a percentage with ``places`` decimals, rounded half up.

    >>> format_percent_of(1, 3), format_percent_of(-1, 8), format_percent_of(-1, 3000)
    ('33.3%', '-12.5%', '-0.0%')
    """
    if denominator == 0:
        return "n/a"
    numerator, denominator = int(numerator), int(denominator)
    small = -_PERCENT_EXACT < numerator < _PERCENT_EXACT and 0 < denominator < _PERCENT_EXACT
    if small and 0 <= places <= 8:
        # The same figure in integers: exact here, where Decimal's 28 digits are too
        quotient, remainder = divmod(abs(numerator) * 100 * 10**places, denominator)
        quotient += 2 * remainder >= denominator  # half up: ties away from zero
        sign = "-" if numerator < 0 else ""
        whole, part = divmod(quotient, 10**places)
        return f"{sign}{whole}.{part:0{places}d}%" if places > 0 else f"{sign}{whole}%"
    value = Decimal(numerator) * HUNDRED / Decimal(denominator)
    quantized = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{quantized:f}%"
