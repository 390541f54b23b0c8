"""Exact money text -> integer minor units, whole columns at a time, never through float.

Only plain decimal text is accepted: an optional minus, digits, and optionally a point with
digits after it (``-1234.50``), with no more decimals than the row's currency has. Everything
else is refused with a reason a person can act on. Conversion splits the text into its
digits and the point's place (in numpy, from the text's bytes), pads the fraction on the right
and builds the int64 with integer arithmetic, so ``0.1`` is exactly 10 cents.

>>> import pandas as pd
>>> units, reasons = parse_minor_units(pd.Series(["12.5", "1e3", "0.125"]), 2)
>>> units.tolist()
[1250, 0, 0]
>>> reasons.tolist()[1:]
['scientific notation is not accepted', 'has 3 decimal places; at most 2 allowed']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from compcalc.inputs.common import in_two_threads, strip_text, text_offsets

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
    units, reasons = minor_units_and_reasons(text, digits, currency=currency, column=column)
    if isinstance(reasons.dtype, pd.CategoricalDtype):
        said = reasons.to_numpy(dtype=object)
        said[reasons.isna().to_numpy()] = None
        reasons = pd.Series(said, index=reasons.index, dtype=object, copy=False)
    return units, reasons


def minor_units_and_reasons(
    text: pd.Series,
    digits: npt.NDArray[np.integer] | int,
    *,
    currency: pd.Series | str | None = None,
    column: str = "amount",
) -> tuple[IntArray, pd.Series]:
    """:func:`parse_minor_units`, its reasons missing (not None) where there is none: as
    categories where every text is plain or empty (a byte a row, not ten million Python
    objects to make and look at), else as objects."""
    # Read text is stripped already: no copy of the column unless a cell can need it
    clean = strip_text(text.astype("str"))
    if clean.hasnans:
        clean = clean.fillna("")
    n = len(clean)
    # Small integers in small types: ten million rows of int64 are 80 MB per temporary.
    d = np.broadcast_to(np.asarray(digits).astype(np.int8), (n,))
    cells = _arrow(clean)
    same = int(d[0]) if n and d.min() == d.max() else -1
    quick = _all_plain(cells, same) if 0 <= same <= _QUICK_DIGITS else None
    if quick is not None:  # every text plain and within the limits: only the empty ones said
        units, empty = quick
        # One reason or none: categories (a byte a row), not a Python object a row
        said = empty.view(np.int8) - np.int8(1)  # code 0 where empty, -1 (none) elsewhere
        reason = pd.Categorical.from_codes(
            said, categories=pd.Index([f"{column} is empty"], dtype=object), validate=False
        )
        return units, pd.Series(reason, index=clean.index, copy=False)
    scan = _scan(cells)
    del cells
    plain, whole_len, frac_len = scan.plain, scan.whole_len, scan.frac_len
    limit = np.minimum(MAX_INTEGER_DIGITS, _MAX_TOTAL_DIGITS - np.maximum(d, 0))
    too_precise = plain & (d >= 0) & (frac_len > d)
    too_big = plain & (whole_len > limit)
    ok = plain & ~too_precise & ~too_big & (d >= 0)
    # 12.5 with 2 minor digits is 125 x 10**(2 - 1); at most 18 significant digits where ok.
    shift = np.clip(d.astype(np.int32) - frac_len, 0, _MAX_TOTAL_DIGITS)
    units = np.power(np.int64(10), shift, dtype=np.int64)
    del shift
    units *= scan.value
    units[~ok] = 0
    np.negative(units, out=units, where=ok & scan.negative)
    reasons = _reasons(
        clean, plain, too_precise, too_big, frac_len, whole_len, limit, d, currency, column
    )
    return units, reasons


_QUICK_DIGITS = 3  # currencies with up to this many decimals may go quick (JPY 0 ... KWD 3)


def _all_plain(cells: pa.Array, digits: int) -> tuple[IntArray, npt.NDArray[np.bool_]] | None:
    """Minor units and emptiness of every text, when each is empty or plain decimal text
    with at most ``digits`` decimals and :data:`MAX_INTEGER_DIGITS` integer digits (leading
    zeros aside); None when any is not (the scan then finds which and why).

    Arrow's kernels do it: a regular expression for the form (its cast also takes ``.5``,
    ``5.`` and ``+5``, which plain text is not, and ``1.230`` at two decimals), then the cast
    to a decimal of ``MAX_INTEGER_DIGITS + digits`` digits, which refuses larger values.
    Where nothing is wrong, as in nearly every ledger, this is the quicker way (ten million
    texts: 1.0-1.2 s against the scan's 1.1-1.7 s, each a whole parse, interleaved).

    >>> units, empty = _all_plain(pa.array(["12.5", "", "-0.07", "007"]), 2)
    >>> units.tolist(), empty.tolist()
    ([1250, 0, -7, 700], [False, True, False, False])
    >>> [_all_plain(pa.array([text]), 2) for text in (".5", "1.230", "1" * 16, "+5")]
    [None, None, None, None]
    """
    limit = min(MAX_INTEGER_DIGITS, _MAX_TOTAL_DIGITS - digits)
    fraction = rf"(\.[0-9]{{1,{digits}}})?" if digits else ""
    form = rf"^(-?[0-9]+{fraction})?$"
    exact = pa.decimal128(limit + digits, digits)
    units = np.empty(len(cells), dtype=np.int64)
    empty = np.empty(len(cells), dtype=bool)
    not_plain: list[int] = []  # the batches found not plain (any one settles it)

    def batch(k: int) -> None:  # small temporaries, as the scan's
        if not_plain:
            return
        begin = k * _SCAN_BATCH
        part = cells.slice(begin, _SCAN_BATCH)
        blank = _surely_plain(part, digits, limit)
        if blank is None:  # the regular expression says (leading zeros, say, or not plain)
            if not pc.all(pc.match_substring_regex(part, form)).as_py():
                not_plain.append(k)
                return
            blank = _numpy(pc.equal(part, ""))
        try:
            value = pc.cast(pc.if_else(pa.array(blank), "0", part) if blank.any() else part, exact)
        except pa.ArrowInvalid:  # too many integer digits
            not_plain.append(k)
            return
        # Each value is 16 little-endian bytes; below 10**18 its low 8 are the int64 itself.
        words = np.frombuffer(value.buffers()[1], dtype=np.int64)
        low = 2 * value.offset
        units[begin : begin + len(part)] = words[low : low + 2 * len(part) : 2]
        empty[begin : begin + len(part)] = blank

    # Arrow's kernels and NumPy's copies let go of the interpreter: two batches at a time
    in_two_threads(batch, -(-len(cells) // _SCAN_BATCH))
    return None if not_plain else (units, empty)


def _surely_plain(cells: pa.Array, digits: int, limit: int) -> npt.NDArray[np.bool_] | None:
    """Which texts are empty, when every text is empty or plain with at most ``digits``
    decimals and ``limit`` integer digits, leading zeros counted (most money text: found from
    the bytes in NumPy, a few passes over a byte a character); None when that is not sure
    (leading zeros past the limit, say, or text that is not plain: the regular expression
    then says).

    Every byte is a digit, a point or a minus; as many minus signs as texts opening with
    one, as many points as texts with one (Arrow finds each text's first): so a minus only
    opens a text and no text has two points. Then digits before the point and after it.

    >>> _surely_plain(pa.array(["12.5", "", "-0.07", "007"]), 2, 15).tolist()
    [False, True, False, False]
    >>> [_surely_plain(pa.array([t]), 2, 15) for t in (".5", "5.", "1.230", "-", "1-2", "+5")]
    [None, None, None, None, None, None]
    """
    data = cells.buffers()[2]
    if cells.null_count or not len(cells) or data is None:
        return None
    at = text_offsets(cells)
    raw = np.frombuffer(data, dtype=np.uint8)[int(at[0]) : int(at[-1])]
    length = np.diff(at)
    blank: npt.NDArray[np.bool_] = length == 0
    if not len(raw):
        return blank
    # "-" (45), "." (46), "/" (47) and the digits (48-57) are 45 + 0 ... 12 (uint8 wraps)
    if not np.all(raw - np.uint8(ord("-")) <= 12) or np.any(raw == ord("/")):
        return None
    first = raw[np.minimum(at[:-1] - at[0], len(raw) - 1)]  # a blank text's is not used
    negative = (first == ord("-")) & ~blank
    if np.count_nonzero(raw == ord("-")) != np.count_nonzero(negative):  # a minus inside
        return None
    found = np.asarray(pc.find_substring(cells, ".")).astype(length.dtype, copy=False)
    dotted = found >= 0
    points = np.count_nonzero(raw == ord("."))
    if points != np.count_nonzero(dotted) or (points and not digits):
        return None  # two points in a text, or decimals where the currency has none
    decimals = np.where(dotted, length - found - 1, 0)
    whole = np.where(dotted, found, length) - negative
    fine = (whole >= 1) & (whole <= limit) & (decimals <= digits) & (decimals >= dotted)
    return blank if np.all(fine | blank) else None


@dataclass(frozen=True)
class _Scan:
    """What each text is, per row: plain decimal text (``-?[0-9]+(\\.[0-9]+)?``), negative,
    its integer digits (leading zeros not counted) and decimals, and its digits without the
    point as an integer (exact where plain with at most 18 of them; 0 where not plain)."""

    plain: npt.NDArray[np.bool_]
    negative: npt.NDArray[np.bool_]
    whole_len: npt.NDArray[np.int32]
    frac_len: npt.NDArray[np.int32]
    value: IntArray


_BYTE_WIDTH = 24  # texts up to this many bytes are scanned as rows of a byte matrix


def _scan(cells: pa.Array) -> _Scan:
    """:func:`_scan_bytes` for texts of up to :data:`_BYTE_WIDTH` bytes (money is short),
    :func:`_scan_text` in Arrow kernels for the few longer ones."""
    length = _numpy(pc.binary_length(cells)).astype(np.int64, copy=False)
    short = length <= _BYTE_WIDTH
    if short.all():
        # A batch at a time: its temporaries stay small enough for the allocator to reuse
        # (fresh pages for each full-length temporary cost more than the arithmetic).
        batches = [
            _scan_bytes(cells.slice(begin, _SCAN_BATCH), length[begin : begin + _SCAN_BATCH])
            for begin in range(0, max(len(cells), 1), _SCAN_BATCH)  # one batch when empty
        ]
        if len(batches) == 1:
            return batches[0]
        columns = zip(*map(_fields, batches), strict=True)
        return _Scan(*(np.concatenate(column) for column in columns))
    if not short.any():
        return _scan_text(cells)
    fast = _scan(cells.filter(pa.array(short)))
    slow = _scan_text(cells.filter(pa.array(~short)))
    fields = []
    for quick, long in zip(_fields(fast), _fields(slow), strict=True):
        out = np.empty(len(cells), dtype=quick.dtype)
        out[short], out[~short] = quick, long
        fields.append(out)
    return _Scan(*fields)


_SCAN_BATCH = 1 << 18  # texts scanned per batch


def _fields(scan: _Scan) -> tuple[npt.NDArray[Any], ...]:
    return (scan.plain, scan.negative, scan.whole_len, scan.frac_len, scan.value)


def _scan_bytes(cells: pa.Array, length: IntArray) -> _Scan:
    """:class:`_Scan` in numpy, one byte position at a time over all texts: the k-th UTF-8
    byte of every text is one gather from Arrow's buffer (NUL past a text's end), no Python
    strings. A byte of a non-ASCII character is neither a digit nor a point, so such text is
    not plain. Texts of at most 127 bytes (places are counted in one byte)."""
    n = len(cells)
    cells = cells.cast(pa.large_string())
    offsets = np.frombuffer(cells.buffers()[1], dtype=np.int64)[cells.offset : cells.offset + n + 1]
    width = int(length.max(initial=0))
    data = cells.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    raw = np.concatenate([raw[offsets[0] : offsets[-1]], np.zeros(width + 1, dtype=np.uint8)])
    first = offsets[:-1] - offsets[0]
    # Places and counts in one byte each (texts here are at most _BYTE_WIDTH bytes): the
    # loop's passes over the batch move an eighth of the memory 64-bit ones would.
    size = length.astype(np.int8)
    negative = (length > 0) & (raw[first] == ord("-"))
    sign = negative.astype(np.int8)
    bad = np.zeros(n, dtype=bool)  # a byte other than a digit or a point after the sign
    points = np.zeros(n, dtype=np.int8)
    at = np.full(n, -1, dtype=np.int8)  # the first point's place
    zeros = np.zeros(n, dtype=np.int8)  # leading zeros (they carry no size)
    leading = np.ones(n, dtype=bool)  # still among the leading zeros
    value = np.zeros(n, dtype=np.int64)  # past 18 digits this wraps: only "ok" rows are used
    index = first.copy()  # each text's k-th byte
    byte = np.empty(n, dtype=np.uint8)
    for k in range(width):
        np.take(raw, index, out=byte)
        index += 1
        body = (size > k) & (sign <= k)
        digit = body & (byte - np.uint8(ord("0")) < 10)  # uint8 wraps below "0"
        point = body & (byte == ord("."))
        bad |= body & ~digit & ~point
        points += point
        at[point & (at < 0)] = k
        zero = body & (byte == ord("0"))
        zeros += leading & zero
        leading &= zero | ~body
        value *= np.where(digit, 10, 1)
        value += np.where(digit, byte - np.uint8(ord("0")), 0)
    dotted = at >= 0
    whole, place, signed = length.astype(np.int32), at.astype(np.int32), sign.astype(np.int32)
    plain = (
        (whole > signed) & ~bad & (points <= 1)
        & (~dotted | ((place > signed) & (place < whole - 1)))
    )  # fmt: skip
    whole_len = np.where(plain, np.where(dotted, place, whole) - signed - zeros, 0)
    frac_len = np.where(plain & dotted, whole - place - 1, 0)
    return _Scan(
        plain, negative & plain, whole_len.astype(np.int32), frac_len.astype(np.int32),
        np.where(plain, value, 0),
    )  # fmt: skip


def _scan_text(cells: pa.Array) -> _Scan:
    """:class:`_Scan` in Arrow's string kernels, for texts of any length."""
    plain = _numpy(pc.match_substring_regex(cells, f"^(?:{_PLAIN})$"))
    negative = plain & _numpy(pc.starts_with(cells, "-"))
    zero = pa.scalar("0", cells.type)
    body = pc.utf8_ltrim(pc.if_else(pa.array(plain), cells, zero), characters="-")
    length = _numpy(pc.binary_length(body))  # plain text is ASCII: bytes are characters
    dot = _numpy(pc.find_substring(body, "."))
    # Leading zeros carry no size: 000123 has 3 integer digits (trimming stops at the point).
    zeros = length - _numpy(pc.binary_length(pc.utf8_ltrim(body, characters="0")))
    whole_len = np.where(plain, np.where(dot >= 0, dot, length) - zeros, 0).astype(np.int32)
    frac_len = np.where(plain & (dot >= 0), length - dot - 1, 0).astype(np.int32)
    exact = plain & (whole_len + frac_len <= _MAX_TOTAL_DIGITS)
    value = np.zeros(len(plain), dtype=np.int64)
    if exact.any():  # a "0" in front keeps "0.00" (all zeros trimmed) a number
        digits_only = pc.utf8_ltrim(pc.replace_substring(body, ".", ""), characters="0")
        kept = pc.if_else(pa.array(exact), digits_only, pa.scalar("", body.type))
        text = pc.binary_join_element_wise(zero, kept, pa.scalar("", body.type))
        value = np.where(exact, _numpy(pc.cast(text, pa.int64())), 0).astype(np.int64, copy=False)
    return _Scan(plain, negative, whole_len, frac_len, value)


def _arrow(text: pd.Series) -> pa.Array:
    cells = pa.array(text.array)  # Arrow-backed already: no copy
    return cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells


def _numpy(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    return np.asarray(values.to_numpy(zero_copy_only=False))


def _reasons(
    clean: pd.Series,
    plain: npt.NDArray[np.bool_],
    too_precise: npt.NDArray[np.bool_],
    too_big: npt.NDArray[np.bool_],
    frac_len: npt.NDArray[np.integer[Any]],
    whole_len: npt.NDArray[np.integer[Any]],
    limit: npt.NDArray[np.integer[Any]],
    d: npt.NDArray[np.integer[Any]],
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
    return pd.Series(picked, index=clean.index, dtype=object, copy=False)


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


def _num(values: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.object_]:
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
