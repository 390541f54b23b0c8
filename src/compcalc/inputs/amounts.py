"""Exact money text -> integer minor units, whole columns at a time, never through float.

Only plain decimal text is accepted: an optional minus, digits, and optionally a point with
digits after it (``-1234.50``), with no more decimals than the row's currency has. Everything
else is refused with a reason a person can act on. Conversion splits the text into its
integer and fraction parts with string operations, pads the fraction on the right and builds
the int64 with integer arithmetic, so ``0.1`` is exactly 10 cents.

>>> import pandas as pd
>>> units, reasons = parse_minor_units(pd.Series(["12.5", "1e3", "0.125"]), 2)
>>> units.tolist()
[1250, 0, 0]
>>> reasons.tolist()[1:]
['scientific notation is not accepted', 'has 3 decimal places; at most 2 allowed']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

IntArray = npt.NDArray[np.int64]

MAX_INTEGER_DIGITS = 15
# 10**18 < 2**63: integer digits plus minor digits must stay within 18 to fit int64 exactly.
_MAX_TOTAL_DIGITS = 18

_PLAIN = r"-?[0-9]+(?:\.[0-9]+)?"  # [0-9], not \d: \d also matches Arabic-Indic digits
_SCIENTIFIC = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+"
_SYMBOLS = r"[$€£¥₹₩₽₺₪₫฿¢₦₱₴₸₵₡₲₮]"
_OTHER = (
    "is not a plain decimal number; write digits with an optional leading minus sign "
    "and a decimal point, e.g. 1234.50"
)


def parse_minor_units(
    text: pd.Series,
    digits: npt.NDArray[np.integer] | int,
    *,
    currency: pd.Series | str | None = None,
    column: str = "amount",
) -> tuple[IntArray, pd.Series]:
    """Parse money text exactly into minor units.

    ``digits`` is the number of minor digits per row (or one int for all rows); a negative
    entry means the row's currency is unusable, so only the text's form is checked and the
    value is 0. ``currency`` (per row or one code) only words the decimal-places reason;
    ``column`` words the empty reason. Returns ``(units, reasons)``: int64 minor units (0 where
    rejected) and an object Series holding a plain-words reason or None, aligned with ``text``.
    """
    clean = text.astype("str").fillna("").str.strip()
    n = len(clean)
    d = np.broadcast_to(np.asarray(digits, dtype=np.int64), (n,)).copy()
    # Whole columns in Arrow kernels: no per-cell Python objects, no pandas round trips.
    cells = _arrow(clean)
    plain = _numpy(pc.match_substring_regex(cells, f"^(?:{_PLAIN})$"))
    negative = plain & _numpy(pc.starts_with(cells, "-"))
    zero = pa.scalar("0", cells.type)
    body = pc.utf8_ltrim(pc.if_else(pa.array(plain), cells, zero), characters="-")
    length = _numpy(pc.binary_length(body))  # plain text is ASCII: bytes are characters
    dot = _numpy(pc.find_substring(body, "."))
    # Leading zeros carry no size: 000123 has 3 integer digits (trimming stops at the point).
    zeros = length - _numpy(pc.binary_length(pc.utf8_ltrim(body, characters="0")))
    whole_len = np.where(dot >= 0, dot, length) - zeros
    frac_len = np.where(dot >= 0, length - dot - 1, 0)
    limit = np.minimum(MAX_INTEGER_DIGITS, _MAX_TOTAL_DIGITS - np.maximum(d, 0))
    too_precise = plain & (d >= 0) & (frac_len > d)
    too_big = plain & (whole_len > limit)
    ok = plain & ~too_precise & ~too_big & (d >= 0)
    units = _to_units(body, frac_len, d, ok)
    units = np.where(ok & negative, -units, units)
    reasons = _reasons(
        clean, plain, too_precise, too_big, frac_len, whole_len, limit, d, currency, column
    )
    return units.astype(np.int64), reasons


def _arrow(text: pd.Series) -> pa.Array:
    cells = pa.array(text.array)  # Arrow-backed already: no copy
    return cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells


def _numpy(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    return np.asarray(values.to_numpy(zero_copy_only=False))


def _to_units(
    body: pa.Array, frac_len: IntArray, d: IntArray, ok: npt.NDArray[np.bool_]
) -> IntArray:
    """The digits without the point as one integer, scaled up by the missing decimals.

    ``12.5`` with 2 minor digits is 125 x 10**(2 - 1). Only ``ok`` rows are converted: at most
    18 significant digits there, so text -> int64 is exact; a "0" in front keeps "0.00" (all
    zeros trimmed) a number.
    """
    if not ok.any():
        return np.zeros(len(frac_len), dtype=np.int64)
    digits_only = pc.utf8_ltrim(pc.replace_substring(body, ".", ""), characters="0")
    kept = pc.if_else(pa.array(ok), digits_only, pa.scalar("", body.type))
    text = pc.binary_join_element_wise(pa.scalar("0", body.type), kept, pa.scalar("", body.type))
    integer = _numpy(pc.cast(text, pa.int64()))
    scale = np.power(np.int64(10), np.clip(d - frac_len, 0, _MAX_TOTAL_DIGITS))
    return np.where(ok, integer * scale, 0).astype(np.int64)


def _reasons(
    clean: pd.Series,
    plain: npt.NDArray[np.bool_],
    too_precise: npt.NDArray[np.bool_],
    too_big: npt.NDArray[np.bool_],
    frac_len: IntArray,
    whole_len: IntArray,
    limit: IntArray,
    d: IntArray,
    currency: pd.Series | str | None,
    column: str,
) -> pd.Series:
    """Reasons per row (None when fine); texts are built only for the rows that need one."""
    picked = np.full(len(clean), None, dtype=object)
    empty = (clean == "").to_numpy(dtype=bool)
    picked[empty] = f"{column} is empty"
    odd = ~plain & ~empty
    picked[odd] = _form_reasons(clean[odd])
    if too_precise.any():
        if currency is None:
            allows = "; at most " + _num(d[too_precise]) + " allowed"
        else:
            code = currency[too_precise] if isinstance(currency, pd.Series) else currency
            allows = "; " + pd.Series(code, dtype="str").fillna("").to_numpy(dtype=object)
            allows = allows + " allows " + _num(d[too_precise])
        picked[too_precise] = "has " + _num(frac_len[too_precise]) + " decimal places" + allows
    if too_big.any():
        picked[too_big] = (
            "is too large: " + _num(whole_len[too_big])
            + " digits before the decimal point, at most " + _num(limit[too_big]) + " allowed"
        )  # fmt: skip
    return pd.Series(picked, index=clean.index, dtype=object)


def _form_reasons(text: pd.Series) -> npt.NDArray[np.object_]:
    """Why non-empty text that is not a plain decimal number was refused; first match wins."""
    conditions = [
        text.str.fullmatch(_SCIENTIFIC).to_numpy(dtype=bool),
        text.str.contains(_SYMBOLS, regex=True).to_numpy(dtype=bool),
        text.str.contains(",", regex=False).to_numpy(dtype=bool),
    ]
    choices = [
        "scientific notation is not accepted",
        "currency symbols are not accepted",
        "commas are not accepted: write a decimal point and no thousands separators, e.g. 1250.00",
    ]
    return np.asarray(np.select(conditions, choices, default=_OTHER), dtype=object)


def _num(values: IntArray) -> npt.NDArray[np.object_]:
    return np.asarray(values.astype(str), dtype=object)


def format_minor_units(
    units: npt.NDArray[np.integer], digits: npt.NDArray[np.integer] | int
) -> pd.Series:
    """Minor units back to plain text (``-1234.50``) per row, vectorised; digits < 0 -> 0."""
    units = np.asarray(units, dtype=np.int64)
    d = np.broadcast_to(np.clip(np.asarray(digits, dtype=np.int64), 0, None), units.shape)
    scale = np.power(np.int64(10), d)
    magnitude = np.abs(units)
    whole = pd.Series(magnitude // scale).astype("str")
    # frac + scale has a leading 1 followed by exactly d digits: drop the 1 to zero-pad.
    tail = pd.Series(magnitude % scale + scale).astype("str").str.slice(1)
    sign = pd.Series(np.where(units < 0, "-", ""), dtype="str")
    dot = pd.Series(np.where(d > 0, ".", ""), dtype="str")
    return sign + whole + dot + tail
