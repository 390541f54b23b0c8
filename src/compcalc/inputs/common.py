"""Shared input plumbing: every source becomes text columns, problems become RejectedRows.

A roster or ledger may arrive as a CSV file, a Parquet file or a pandas DataFrame. All three
are turned into the same thing first: a table of stripped text cells with canonical (lower
case) column names, 1-based data row numbers and, for CSV, the file line of each row. The
validators in :mod:`.roster` and :mod:`.ledger` then work on whole columns of text, so a
value is interpreted in exactly one place whatever the source was. A Parquet column the
caller codes anyway (``read_text_table(coded=...)``) comes as categories of its stripped
texts (the file's dictionary): the same cells, a code a row instead of a string a row.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import threading
import traceback
import warnings
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from compcalc.errors import Diagnostic, InputError
from compcalc.money import known_currencies, minor_digits

Source: TypeAlias = str | os.PathLike[str] | pd.DataFrame
BoolArray: TypeAlias = npt.NDArray[np.bool_]
IntArray: TypeAlias = npt.NDArray[np.int64]

# Columns the typed frames add themselves; an input column with one of these names would clash.
RESERVED_COLUMNS = frozenset({"row", "line"})


@dataclass(frozen=True)
class RejectedRow:
    """One unusable input row: where it is, which cell, what it held and why it was refused."""

    source: str  # file path as given, or "<roster>" / "<ledger>" for a DataFrame
    row: int  # 1-based data row (the header is not a row)
    line: int | None  # 1-based file line for CSV input, else None
    column: str  # canonical column name the problem is about
    value: str  # the cell's text after stripping surrounding whitespace
    reason: str  # plain words

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for JSON reports)."""
        return asdict(self)

    def __str__(self) -> str:
        # file:line first, the form editors jump to; frames have no lines, so name the row.
        where = (
            f"{self.source}:{self.line}"
            if self.line is not None
            else f"{self.source}: row {self.row}"
        )
        value = json.dumps(self.value, ensure_ascii=False)
        return f"{where}: column {self.column}: {value}: {self.reason}"


@dataclass(frozen=True)
class TextTable:
    """An input as stripped text: ``cells`` has canonical column names and a 0..n-1 index."""

    cells: pd.DataFrame
    row: IntArray
    line: pd.Series  # Int64, <NA> when the source has no lines (Parquet, DataFrame)
    source: str
    digest: Future[str]  # :func:`canonical_digest`, made beside the caller's checks
    # When the table was read with a key: :func:`text_order` of the key column (its texts as
    # integers in code point order, equal exactly for equal texts, and their stable argsort),
    # the digest's first sort key, made beside the caller's checks with the digest and
    # reusable by the caller (:attr:`key_rank`, :attr:`key_order`).
    key_sorted: Future[tuple[IntArray, IntArray]] | None = None
    # The source's columns left unread (names as written, in its order): read with ``columns``.
    unread: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        """The digest (waiting for it, when it is still being made)."""
        return self.digest.result()

    @property
    def key_rank(self) -> IntArray | None:
        """The key's texts as integers in their order (waiting for them), None without a key."""
        return None if self.key_sorted is None else self.key_sorted.result()[0]

    @property
    def key_order(self) -> IntArray | None:
        """``np.argsort(key_rank, kind="stable")`` (waiting for it), None without a key."""
        return None if self.key_sorted is None else self.key_sorted.result()[1]


# ---------------------------------------------------------------------------------------------
# Reading


def read_text_table(
    source: Source,
    *,
    name: str | None,
    default_name: str,
    required: Sequence[str],
    money: Iterable[str],
    key: str | None = None,
    columns: Collection[str] | None = None,
    coded: Collection[str] = (),
) -> TextTable:
    """Read a CSV/Parquet path or a DataFrame as stripped text columns, checking the header.

    ``key`` (a required column) orders the digest's rows first (see :func:`canonical_digest`).
    ``columns`` (canonical names) are the only columns read when given: the others are
    neither parsed nor digested, and are named in ``TextTable.unread``.
    ``coded`` (canonical names): text columns of a Parquet file that come as categories (the
    file's own dictionary: a code a row, each distinct text once) rather than a text a row,
    for a caller that codes them anyway. Their cells are the same stripped texts; the digest
    is the same.
    Raises :class:`InputError` for an unreadable file, a missing required column, two columns
    with the same canonical name, or a money column stored as floating point.
    """
    if isinstance(source, pd.DataFrame):
        label = name or default_name
        names = [str(c) for c in source.columns]
        chosen = _chosen(names, columns)
        picked = source if chosen is None else source.iloc[:, chosen]
        table = _frame_to_arrow(picked, label, set(money))
        cells = _arrow_to_text(table.schema, table.columns, set(money), label)
        lines = _no_lines(len(cells))
    else:
        path = Path(source)
        label = name or str(source)
        cells, lines, names = _read_path(path, label, set(money), columns, set(coded))
    cells = _canonical_columns(cells, label, required, names)
    cells = cells.reset_index(drop=True)
    for name in cells.columns:  # one column at a time: each old column freed as it goes
        cells[name] = one_chunk(strip_text(cells[name]))
    row = np.arange(1, len(cells) + 1, dtype=np.int64)
    digest, key_sorted = _beside(cells, key, None, None)
    unread = tuple(n for n in names if canonical_name(n) not in cells.columns)
    line = lines.reset_index(drop=True)
    return TextTable(cells, row, line, label, digest, key_sorted, unread)


def _chosen(names: Sequence[str], columns: Collection[str] | None) -> list[int] | None:
    """Positions of the ``names`` (as written) that are among ``columns`` (canonical names),
    or None to read them all: no ``columns`` given, none of them found (the header check
    says which are missing, naming what is there), or a chosen name written twice (say
    ``Amount`` and ``amount``, an error the whole header reports)."""
    if columns is None:
        return None
    canonical = [canonical_name(n) for n in names]
    chosen = [i for i, c in enumerate(canonical) if c in columns]
    picked = [canonical[i] for i in chosen]
    return None if not chosen or len(set(picked)) < len(picked) else chosen


def strip_text(column: pd.Series) -> pd.Series:
    """``column.str.strip()``, without the copy when no cell can start or end with white
    space: every cell's first and last bytes are printable ASCII (a cell beginning or ending
    with a control character, a space or any non-ASCII character is stripped as usual).

    >>> strip_text(pd.Series([" a ", "b"], dtype="str")).tolist(), strip_text(pd.Series(["a"]))
    (['a', 'b'], 0    a
    dtype: str)

    A column of categories (:func:`coded_text`) has its categories stripped; two that
    strip to the same text become one:

    >>> coded = strip_text(pd.Series(pd.Categorical(["a ", "a", " b"])))
    >>> coded.tolist(), coded.cat.categories.tolist()
    (['a', 'a', 'b'], ['b', 'a'])
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = pd.Series(column.cat.categories, dtype=_STR)
        stripped = strip_text(categories)
        if stripped.equals(categories):
            return column
        first, kept = pd.factorize(stripped)
        codes = category_codes(column)
        moved = np.append(first.astype(np.int32), np.int32(-1))[codes]  # -1 stays missing
        return pd.Series(
            pd.Categorical.from_codes(moved, categories=pd.Index(kept, dtype=_STR)),
            index=column.index,
            name=column.name,
            copy=False,
        )
    text = pa.array(column.array) if isinstance(column.dtype, pd.StringDtype) else None
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    if text is None or any(chunk is None or not _ends_printable(chunk) for chunk in chunks):
        return column.str.strip()
    return column


def category_codes(column: pd.Series) -> npt.NDArray[np.signedinteger[Any]]:
    """A categorical column's codes as they are stored (read-only, -1 where missing):
    ``column.cat.codes`` makes a Series of a copy of them, ten million rows' worth.

    >>> codes = category_codes(pd.Series(pd.Categorical(["b", None, "a"])))
    >>> codes.tolist(), codes.flags.writeable
    ([1, -1, 0], False)
    """
    return np.asarray(column.array.codes)


def one_chunk(column: pd.Series) -> pd.Series:
    """An Arrow-backed text column in one contiguous chunk (other columns as they are).

    A file is read in chunks (Parquet row groups, CSV blocks); Arrow's ``take`` on a column
    of many chunks resolves each index's chunk and is some 30 times slower for sorted indices
    than on one chunk, and the digest, the canonical order and the sale table all take rows.

    >>> parts = pa.chunked_array([pa.array(["a"]), pa.array(["b"])]).to_pandas().astype("str")
    >>> type(pa.array(parts.array)).__name__, type(pa.array(one_chunk(parts).array)).__name__
    ('ChunkedArray', 'LargeStringArray')
    """
    if not isinstance(column.dtype, pd.StringDtype) or column.dtype.storage != "pyarrow":
        return column
    text = pa.array(column.array)
    if not isinstance(text, pa.ChunkedArray) or text.num_chunks <= 1:
        return column
    joined = text.cast(pa.large_string()).combine_chunks()  # 64-bit offsets: no overflow
    array = column.dtype.__from_arrow__(joined)  # type: ignore[attr-defined]  # no copy
    return pd.Series(array, index=column.index, name=column.name)


def _ends_printable(chunk: pa.Array) -> bool:
    """Whether every value of a string chunk (no nulls) starts and ends with a byte of
    printable ASCII, ``!`` to ``~``, or is empty."""
    large = pa.types.is_large_string(chunk.type)
    if chunk.null_count or not (large or pa.types.is_string(chunk.type)):
        return False
    data = chunk.buffers()[2]
    if data is None or len(chunk) == 0:
        return True
    offsets = text_offsets(chunk)
    raw = np.frombuffer(data, dtype=np.uint8)
    not_printable: list[int] = []

    def batch(k: int) -> None:  # small temporaries, reused memory
        if not_printable:
            return
        begin = k * _ENDS_BATCH
        start = offsets[begin : begin + min(_ENDS_BATCH, len(chunk) - begin)]
        stop = offsets[begin + 1 : begin + len(start) + 1]
        filled = start < stop
        ends = np.concatenate([raw[start[filled]], raw[stop[filled] - 1]])
        if not np.all((ends >= 0x21) & (ends <= 0x7E)):
            not_printable.append(k)

    in_two_threads(batch, -(-len(chunk) // _ENDS_BATCH))  # NumPy lets go of the interpreter
    return not not_printable


_ENDS_BATCH = 1 << 20  # texts whose ends are looked at per batch


def _read_path(
    path: Path, label: str, money: set[str], columns: Collection[str] | None, coded: set[str]
) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """The file's chosen columns (see :func:`_chosen`) as text (``coded`` ones of a Parquet
    file as categories, see :func:`read_text_table`), each row's file line, and the names of
    all its columns as written."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            data = path.read_bytes()
            _check_csv_utf8(data, label)
            header = _csv_header(data)
            chosen = _chosen(header, columns)
            cells = _read_csv_text(data, header, chosen)
            wanted = header if chosen is None else [header[i] for i in chosen]
            if len(wanted) == len(cells.columns):
                cells.columns = pd.Index(wanted)
            return cells, pd.Series(_csv_lines(data, len(cells)), dtype="Int64"), header
        if suffix in (".parquet", ".pq"):
            # A file, or a folder of part files (as Spark, Hive or Dask write a dataset)
            schema = pq.ParquetDataset(path).schema if path.is_dir() else pq.read_schema(path)
            names = schema.names
            chosen = _chosen(names, columns)
            picked = None if chosen is None else [names[i] for i in chosen]
            # Parquet stores such a column's distinct texts once per row group: read as
            # codes into them, ten million rows of a few thousand employees are never text
            dictionary = [
                field.name
                for field in schema
                if canonical_name(field.name) in coded
                and (picked is None or field.name in picked)
                and _is_text(field.type)
            ]
            table = pq.read_table(path, columns=picked, read_dictionary=dictionary or None)
            schema, decoded = table.schema, table.columns
            del table  # the list alone holds the decoded columns: each freed once converted
            cells = _arrow_to_text(schema, decoded, money, label, coded)
            return cells, _no_lines(len(cells)), names
    except (OSError, ValueError, pa.ArrowException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise input_error(label, f"cannot read the file: {reason}") from exc
    raise input_error(label, f"unsupported file type {suffix!r}: expected .csv or .parquet")


def _no_lines(n: int) -> pd.Series:
    """File lines of ``n`` rows that have none (Parquet, DataFrames): all missing, as Int64
    (taken as made: a copy would write the zeroed values the system has not yet given)."""
    return pd.Series(all_missing(n), copy=False)


def all_missing(n: int) -> pd.arrays.IntegerArray:
    """``n`` missing Int64 values, their values zeroed by the system as first read (a column
    as long as the ledger that takes no memory but its one-byte mask)."""
    return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))


def _csv_header(data: bytes) -> list[str]:
    """The header record as written (the parsers rename a repeated name to ``name.1``): the
    first record that is not blank, as the parsers skip blank lines before it."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    return next((record for record in csv.reader(stream) if record), [])


def _read_csv_text(data: bytes, header: Sequence[str], chosen: list[int] | None) -> pd.DataFrame:
    """The cells of the columns at positions ``chosen`` of ``header`` (all when None) as text,
    in file order."""
    # Every cell as text, nothing turned into NaN: "NA" may be a region, "007" an employee id.
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False}
    frame: pd.DataFrame
    try:
        usecols = None if chosen is None else [header[i] for i in chosen]
        # Text as parsed, by name: pandas hands a dtype per column to pyarrow's parser, where
        # one dtype for all is applied after pyarrow has inferred numbers with pyarrow before
        # 25 ("007" read as 7, 17 digits rounded through a float); the default (str) for a
        # name pyarrow would see otherwise, which pyarrow 25 and later also parse as text
        frame = pd.read_csv(
            io.BytesIO(data),
            engine="pyarrow",
            usecols=usecols,
            **{**options, "dtype": defaultdict(lambda: str, dict.fromkeys(header, str))},
        )
    except (ValueError, pa.ArrowException):
        # The pyarrow engine refuses some inputs the C engine reads (line breaks inside quoted
        # cells); the C engine's error, if it fails too, is the one reported. A row with more
        # cells than the header must never shift the columns: index_col=False, and pandas'
        # warning that it would drop cells is an error here. It reads every column: with
        # usecols it would drop a row's extra cells without a word.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                frame = pd.read_csv(io.BytesIO(data), engine="c", index_col=False, **options)
            except pd.errors.ParserWarning:
                raise ValueError("a row has more cells than the header has columns") from None
            except pd.errors.ParserError as exc:
                raise ValueError(str(exc).replace("Error tokenizing data. C error: ", "")) from None
        if chosen is not None and len(frame.columns) == len(header):
            frame = frame.iloc[:, chosen]
    return frame


def _csv_lines(data: bytes, n_rows: int) -> IntArray:
    """The 1-based file line on which each data row starts, computed on the raw bytes.

    A newline ends a record only outside quotes (an even number of ``"`` before it; an escaped
    ``""`` keeps the parity), and blank records are skipped like the parser skips them, so rows
    after blank lines or quoted line breaks still point at the right line.
    """
    fallback = np.arange(2, n_rows + 2, dtype=np.int64)
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size == 0:
        return fallback
    newlines = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == 34)
    ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [buf.size]))
    length = stops - starts
    first = buf[np.minimum(starts, buf.size - 1)]
    blank = (length == 0) | ((length == 1) & (first == 13))
    record_lines = np.searchsorted(newlines, starts[~blank]) + 1
    data_lines = record_lines[1:].astype(np.int64)  # the first record is the header
    # Unbalanced quotes inside unquoted fields can fool the parity rule; then trust the parser.
    return data_lines if data_lines.size == n_rows else fallback


def _frame_to_arrow(frame: pd.DataFrame, label: str, money: set[str]) -> pa.Table:
    names = [str(c) for c in frame.columns]
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for i, name in enumerate(names):  # one step per column, by position: names may repeat
        series = frame.iloc[:, i]
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowException, TypeError, ValueError):
            # Mixed Python objects (say str and Decimal) have no Arrow type: use their text,
            # except in money columns, where a float among them would be an approximation.
            kind = pd.api.types.infer_dtype(series, skipna=True)
            if canonical_name(name) in money:
                raise input_error(
                    label, f"column {name} mixes kinds of values ({kind}); write money as text"
                ) from None
            arrays.append(pa.array(series.astype(str).where(series.notna(), None)))
    return pa.Table.from_arrays(arrays, names=names)


def _arrow_to_text(
    schema: pa.Schema,
    columns: list[pa.ChunkedArray],
    money: set[str],
    label: str,
    coded: Collection[str] = (),
) -> pd.DataFrame:
    """Each Arrow column as exact text (nulls become empty cells), in one chunk; a
    dictionary-encoded text column among ``coded`` (canonical names) as categories
    (:func:`coded_text`).

    ``columns`` is emptied as it goes: each column is let go once its text is made, so a
    caller holding no other reference to them never holds the whole input twice.
    """
    texts: list[pd.Series] = []
    rows = len(columns[0]) if columns else 0
    for field in schema:
        column = columns.pop(0)
        kind = field.type
        floating = pa.types.is_floating(kind) and column.null_count < len(column)
        if floating and canonical_name(field.name) in money:
            raise input_error(
                label,
                f"column {field.name} is floating point; money must be stored as text or decimal",
            )
        if (
            pa.types.is_dictionary(kind)
            and _is_text(kind.value_type)
            and canonical_name(field.name) in coded
        ):
            for chunk in column.chunks:
                _check_utf8(chunk.dictionary, field.name, label, among_distinct=True)
            texts.append(coded_text(column))
            continue
        text = joined_text(_arrow_column_text(column, kind))
        del column
        _check_utf8(text, field.name, label)
        texts.append(pd.Series(_STR.__from_arrow__(text), copy=False))  # type: ignore[attr-defined]
    out = pd.DataFrame(dict(enumerate(texts)), index=pd.RangeIndex(rows), copy=False)
    out.columns = pd.Index(schema.names)  # positional: duplicates survive to be reported
    return out


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' ``str``, on large_string


def _check_csv_utf8(data: bytes, label: str) -> None:
    """Refuse a CSV file that is not UTF-8, naming the line of the first byte that is not
    (the parsers would say only a byte's position, in a block of their own).

    >>> _check_csv_utf8(b"id,amount\\nT\\xff1,5\\n", "ledger.csv")
    Traceback (most recent call last):
    compcalc.errors.InputError: ledger.csv:2: the text is not valid UTF-8 ...
    """
    if not data or np.frombuffer(data, dtype=np.uint8).max() < 0x80:  # ASCII, as most are
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        why = "the text is not valid UTF-8 (the file may be damaged, or saved in another encoding: "
        raise InputError([Diagnostic(label, line, None, "", why + "save it as UTF-8)")]) from None


def _check_utf8(text: pa.Array, name: str, label: str, *, among_distinct: bool = False) -> None:
    """Refuse a text column whose bytes are not UTF-8 (Parquet's readers take them as
    they are; written out, they would make the canonical JSON invalid): the first such row
    named, or the text when ``text`` is a column's distinct texts.

    >>> bad = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(
    ...     np.array([0, 2, 5], dtype=np.int32).tobytes()), pa.py_buffer(b"okA\\xffB")])
    >>> _check_utf8(bad, "transaction_id", "ledger.parquet")
    Traceback (most recent call last):
    compcalc.errors.InputError: ledger.parquet: column transaction_id, row 2: the text is not ...
    """
    if not _is_text(text.type) or utf8_valid(text):
        return
    low, high = 0, len(text)  # the first invalid text: the shortest invalid prefix's last
    while high - low > 1:
        middle = (low + high) // 2
        if utf8_valid(text.slice(0, middle)):
            low = middle
        else:
            high = middle
    where = "a text" if among_distinct else f"row {low + 1}"
    raise input_error(
        label,
        f"column {name}, {where}: the text is not valid UTF-8 (the file may be damaged, or "
        "written in another encoding: write text columns as UTF-8)",
    )


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def coded_text(column: pa.ChunkedArray) -> pd.Series:
    """A dictionary-encoded text column as categories of its distinct texts (a missing
    text is an empty one, as in every other text column): each chunk's codes moved into one
    dictionary for the whole column, straight into one array of the smallest type.

    The categories are as the file has them (not sorted, possibly some unused, not yet
    stripped: :func:`strip_text` strips them). A file's row group has a dictionary of its
    own, which its chunks share: only the distinct dictionaries are joined.

    >>> parts = pa.chunked_array([pa.array(["b", None]).dictionary_encode(),
    ...                           pa.array(["a", "b"]).dictionary_encode()])
    >>> column = coded_text(parts)
    >>> column.tolist(), column.cat.categories.tolist()
    (['b', '', 'a', 'b'], ['b', 'a', ''])
    """
    chunks = [chunk for chunk in column.chunks if len(chunk)]
    n = len(column)
    del column
    kinds: list[pa.Array] = []  # the distinct dictionaries, in order
    kind_of: list[int] = []  # each chunk's
    for chunk in chunks:
        if not kinds or not (chunk.dictionary is kinds[-1] or chunk.dictionary.equals(kinds[-1])):
            kinds.append(chunk.dictionary)
        kind_of.append(len(kinds) - 1)
    if len(kinds) <= 1:  # one dictionary: the chunks' codes are the column's
        texts = kinds[0].cast(pa.large_string()) if kinds else pa.array([], pa.large_string())
        moves: list[npt.NDArray[np.int64] | None] = [None] * len(kinds)
    else:  # each dictionary's texts moved to their place among all of them
        joined = pc.fill_null(pa.concat_arrays([k.cast(pa.large_string()) for k in kinds]), "")
        encoded = pc.dictionary_encode(joined)
        texts, place = encoded.dictionary, np.asarray(encoded.indices, dtype=np.int64)
        cuts = np.cumsum([0] + [len(k) for k in kinds]).tolist()
        moves = [place[a:b] for a, b in pairwise(cuts)]
    missing = len(texts)  # a missing cell's code: an empty text past the others
    codes = np.empty(n, dtype=_code_type(missing + 1))
    at = 0
    for chunk, kind in zip(chunks, kind_of, strict=True):
        indices, move = chunk.indices, moves[kind]
        if move is not None and indices.null_count:  # a null reads the move's trailing code
            move = np.append(move, missing)
        if indices.null_count:
            past = len(kinds[kind]) if move is not None else missing
            indices = indices.fill_null(pa.scalar(past, indices.type))
        raw = np.asarray(indices)
        codes[at : at + len(chunk)] = raw if move is None else move[raw]
        at += len(chunk)
    if any(chunk.null_count for chunk in chunks):
        texts = pa.concat_arrays([texts, pa.array([""], pa.large_string())])
    del chunks
    categories = pd.Index(_STR.__from_arrow__(texts), dtype=_STR)  # type: ignore[attr-defined]
    if categories.has_duplicates:  # an empty text in the file's dictionary and a missing one
        first, kept = pd.factorize(categories)
        codes, categories = first.astype(codes.dtype)[codes], pd.Index(kept, dtype=_STR)
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=categories, validate=False), copy=False
    )


def _code_type(size: int) -> type[np.signedinteger[Any]]:
    """The smallest signed integer type for codes 0 to ``size - 1`` and -1 (as pandas'
    categories take them, without a copy)."""
    for kind in (np.int8, np.int16, np.int32):
        if size <= np.iinfo(kind).max:
            return kind
    return np.int64


def joined_text(column: pa.ChunkedArray) -> pa.LargeStringArray:
    """A text column without nulls (string or large_string chunks) as one large_string chunk.

    Each chunk's bytes are copied once into the joined column and its offsets shifted into
    place; pandas' conversion and then joining the chunks would write the 64-bit offsets
    twice and the bytes once more, in Arrow's pool, whose freed pages go back to the system
    only after a delay (the read's highest point moved by up to 250 MiB from run to run).
    Each decoded chunk is let go once copied.

    The copy is in two threads (:func:`in_two_threads`), half the chunks each: its time is
    the kernel giving the new column its pages, which two cores do in about half the time.

    >>> parts = pa.chunked_array([pa.array(["ab", ""]), pa.array([], pa.string()), pa.array(["c"])])
    >>> joined_text(parts).to_pylist(), joined_text(parts[1:]).to_pylist()
    (['ab', '', 'c'], ['', 'c'])
    """
    if column.null_count:
        raise ValueError("joined_text needs a column without nulls")
    chunks: list[pa.Array | None] = [chunk for chunk in column.chunks if len(chunk)]
    del column
    spans = [text_offsets(c) for c in chunks if c is not None]
    sizes = [(len(span) - 1, int(span[-1] - span[0])) for span in spans]
    del spans
    # where each chunk's rows and bytes go in the joined column
    rows = np.cumsum([0] + [n for n, _ in sizes]).tolist()
    ats = np.cumsum([0] + [size for _, size in sizes]).tolist()
    offsets = np.empty(rows[-1] + 1, dtype=np.int64)
    offsets[0] = 0
    data = np.empty(ats[-1], dtype=np.uint8)

    def copy(i: int) -> None:
        chunk, chunks[i] = chunks[i], None  # this list's hold on it ends once copied
        assert chunk is not None
        span = text_offsets(chunk)
        low, at, size = int(span[0]), ats[i], ats[i + 1] - ats[i]
        if size:
            data[at : at + size] = np.frombuffer(chunk.buffers()[2], np.uint8)[low : low + size]
        shifted = offsets[rows[i] + 1 : rows[i + 1] + 1]
        shifted[:] = span[1:]
        shifted += at - low

    in_two_threads(copy, len(sizes))
    return pa.LargeStringArray.from_buffers(rows[-1], pa.py_buffer(offsets), pa.py_buffer(data))


def in_two_threads(task: Callable[[int], None], n: int) -> None:
    """``task(0)`` to ``task(n - 1)``, the even ones here and the odd ones in a second thread
    when the process may use two cores (each task writing its own part of the output).

    For work whose time is new memory's first touch (NumPy releases the interpreter while
    it copies): the kernel fills two threads' page faults side by side. A task's exception
    is raised here once both threads are done.
    """
    if n < 2 or len(os.sched_getaffinity(0)) < 2:
        for i in range(n):
            task(i)
        return

    def odd_ones() -> None:
        for i in range(1, n, 2):
            task(i)

    with ThreadPoolExecutor(1, thread_name_prefix="compcalc-copy") as pool:
        odd = pool.submit(odd_ones)
        try:
            for i in range(0, n, 2):
                task(i)
        finally:
            odd.result()


def _arrow_column_text(column: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column
    elif pa.types.is_decimal(kind):
        # The scale belongs to the column type, not the value: 12.500 in a decimal(9,3) column
        # is the amount 12.5, so drop trailing fraction zeros before the decimal-places check.
        text = pc.replace_substring_regex(pc.cast(column, pa.string()), r"(\.[0-9]*?)0+$", r"\1")
        text = pc.replace_substring_regex(text, r"\.$", "")
    elif pa.types.is_timestamp(kind):
        midnight = pc.equal(column, pc.floor_temporal(column, unit="day"))
        text = pc.if_else(
            midnight,
            pc.strftime(column, format="%Y-%m-%d"),
            pc.strftime(column, format="%Y-%m-%dT%H:%M:%S"),
        )
    else:
        text = pc.cast(column, pa.string())
    return pc.fill_null(text, "")


def canonical_name(name: object) -> str:
    """A column's name as compcalc knows it: stripped (a byte-order mark too), lower case."""
    return str(name).strip().lstrip("\ufeff").strip().lower()


def _canonical_columns(
    cells: pd.DataFrame, label: str, required: Sequence[str], header: Sequence[str]
) -> pd.DataFrame:
    """``cells`` with canonical column names; ``header`` is every column of the source as
    written (read or not), for the message when a required one is missing."""
    names = [canonical_name(c) for c in cells.columns]
    seen: dict[str, str] = {}
    for original, canonical in zip(cells.columns, names, strict=True):
        if canonical in seen:
            message = (
                f"column {original!r} appears more than once"
                if seen[canonical] == str(original)
                else f"columns {seen[canonical]!r} and {original!r} are the same column "
                "(names are matched ignoring case and surrounding spaces)"
            )
            raise input_error(label, message)
        seen[canonical] = str(original)
    clash = sorted(RESERVED_COLUMNS & set(names))
    if clash:
        raise input_error(label, f"column name(s) {', '.join(clash)} are reserved; rename them")
    missing = [c for c in required if c not in seen]
    if missing:
        found = ", ".join(str(c) for c in header) or "none"
        raise input_error(
            label, f"missing required column(s) {', '.join(missing)}; columns found: {found}"
        )
    out = cells.copy(deep=False)  # new names on the same columns (copy-on-write keeps the
    out.columns = pd.Index(names)  # caller's frame as it is): no ledger-long copies
    return out


def input_error(label: str, message: str) -> InputError:
    """An InputError about the whole input ``label`` (no line: the header or file is at fault)."""
    return InputError([Diagnostic(label, None, None, "", message)])


def text_column(cells: pd.DataFrame, column: str) -> pd.Series:
    """A canonical column of ``cells``, or empty cells when the (optional) column is absent."""
    if column in cells.columns:
        return cells[column]
    return pd.Series([""] * len(cells), index=cells.index, dtype="str")


# ---------------------------------------------------------------------------------------------
# Digest


def canonical_digest(
    cells: pd.DataFrame,
    *,
    key: str | None = None,
    key_rank: IntArray | None = None,
    key_order: IntArray | None = None,
) -> str:
    """SHA-256 of the table's text cells, independent of row order and column order.

    The rows are put in an order of their content: by the ``key`` column's text first when
    there is one (the ledger's transaction id: mostly distinct, so one sort settles almost
    every row), then by each column's text in column-name order (code point order, as Python
    compares tuples of str). Hashed are the row count and the column names (as a header),
    then each column in name order: its cells' UTF-8 byte lengths (unsigned 64-bit, little
    endian) in that row order, then their bytes in that order. The lengths make it
    unambiguous whatever the cells hold. Row numbers are not part of it, so shuffling a file
    keeps the digest while changing any cell changes it. ``key_rank`` and ``key_order`` are
    :func:`text_order` of the key when the caller has them already.
    """
    return _beside(cells, key, key_rank, key_order, here=True)[0].result()


_Sorted: TypeAlias = tuple[IntArray, IntArray]  # :func:`text_order`: ranks and their argsort


def _beside(
    cells: pd.DataFrame,
    key: str | None,
    key_rank: IntArray | None,
    key_order: IntArray | None,
    *,
    here: bool = False,
) -> tuple[Future[str], Future[_Sorted] | None]:
    """The digest and the key's :func:`text_order` (None without a key; the one given when
    ``key_rank`` is), made in a thread of their own for a large table (see
    :func:`digest_beside`), else (or ``here``) here and now: the key's order first, then the
    rows' order, then the hashing."""
    names = sorted(str(c) for c in cells.columns)
    columns = [_digest_text(cells[name]) for name in names]
    # The key's text as Arrow (no copy): the thread never touches a pandas object
    key_text = _arrow_text(cells[key]) if key is not None and key_rank is None else None
    key_sorted: Future[_Sorted] | None = None if key is None else Future()
    if key_sorted is not None and key_rank is not None and key_order is not None:
        key_sorted.set_result((key_rank, key_order))
    n = len(cells)

    def digest(handed: _Handed) -> str:
        """The digest of what ``handed`` holds, taken out of it as it goes: the columns freed
        once hashed, the key's text once sorted, the key's order once the rows' is made (the
        executor's work item holds ``handed`` until the task ends: what the caller no longer
        holds goes as the digest goes, not when it ends)."""
        columns, key_text, out = handed.columns, handed.key_text, handed.out
        handed.key_text = handed.out = None
        rank, order = key_rank, key_order
        if key_text is not None and out is not None:
            try:
                rank, order = text_order(key_text)
            except BaseException as exc:  # the caller waiting for the key hears of it too
                out.set_exception(_again(exc))  # its own: this one goes on to the digest
                raise
            out.set_result((rank, order))
        del key_text, out
        row_order = None
        if names and n and rank is None:
            row_order = _row_order(columns)
        elif names and n:  # among rows of one key its own cells are equal: not compared
            others = [c for name, c in zip(names, columns, strict=True) if name != key]
            row_order = _row_order(others, rank, order)
            del others
        del rank, order
        return _hashed(n, names, columns, row_order)

    handed = _Handed(columns, key_text, key_sorted)
    del columns, key_text  # ``handed``'s are the only ones now: each freed once used

    def kept(handed: _Handed, exc: BaseException, where: str) -> BaseException:
        # Raised where the digest is read, maybe after a whole run: the frames of its
        # traceback (and of its causes') would hold the unhashed columns and the rows' order
        # until then. Told in a note, not kept.
        handed.columns[:] = []
        exc.add_note(f"in compcalc's digest, made {where}:\n" + _told(exc))
        return exc

    if here or n < _DIGEST_BESIDE:
        done: Future[str] = Future()
        try:
            done.set_result(digest(handed))
        except Exception as exc:  # raised by result(), as from the thread
            done.set_exception(kept(handed, exc, "here"))
        return done, key_sorted

    def beside(handed: _Handed) -> str:
        try:
            return digest(handed)
        except BaseException as exc:
            kept(handed, exc, "in its thread")
            raise

    pool = ThreadPoolExecutor(1, thread_name_prefix="compcalc-digest")
    future = pool.submit(beside, handed)
    pool.shutdown(wait=False)  # its thread ends with its one task, not waited for here
    _in_flight(future)
    del handed
    return future, key_sorted


def _told(exc: BaseException) -> str:
    """``exc``'s traceback and those of its causes and contexts, as text; the tracebacks
    themselves dropped (their frames let go)."""
    try:
        text = "".join(traceback.format_exception(exc))
    except Exception:  # no room to word it: the frames go all the same
        text = f"{type(exc).__name__} (its traceback could not be formatted)\n"
    seen: set[int] = set()
    chain: list[BaseException | None] = [exc]
    while chain:
        one = chain.pop()
        if one is None or id(one) in seen:
            continue
        seen.add(id(one))
        one.__traceback__ = None
        chain += [one.__cause__, one.__context__]
    return text


def _again(error: BaseException) -> BaseException:
    """A fresh raise of ``error``: a copy of it (its type, arguments and notes) caused by it,
    so each raise builds its own traceback and the one kept (in a future) never grows with
    its readers' frames; ``error`` itself where it cannot be copied."""
    try:
        fresh = copy.copy(error)  # its type's own way (OSError's errno, SystemExit's code)
    except Exception:  # an __init__ that does not take back its own args
        try:
            fresh = type(error).__new__(type(error), *error.args)
            fresh.__dict__.update(error.__dict__)
        except Exception:
            return error.with_traceback(None)
    if fresh.__dict__ is error.__dict__:  # a copier that shares it (tblib's, which Dask's
        fresh.__dict__ = dict(error.__dict__)  # distributed installs for every exception)
    if "__notes__" in error.__dict__:  # its own list: a reader's note is not every reader's
        fresh.__notes__ = list(error.__notes__)
    fresh.__traceback__ = None
    fresh.__cause__, fresh.__context__ = error, None
    return fresh


class PendingDigest:
    """A digest its thread is still making (see :func:`digest_beside`): :meth:`result` waits
    for it and raises the thread's error. Pickled and copied as the digest's text (waiting
    for it), so whatever holds one travels as if it held the text.

    >>> done: Future[str] = Future()
    >>> done.set_result("ab12")
    >>> import pickle; pickle.loads(pickle.dumps(PendingDigest(done)))
    'ab12'
    """

    __slots__ = ("_future",)

    def __init__(self, future: Future[str]) -> None:
        self._future = future

    def result(self) -> str:
        error = self._future.exception()  # waits for the thread
        if error is not None:
            raise _again(error)
        return self._future.result()

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (self.result(),))

    def __deepcopy__(self, memo: dict[int, object]) -> str:
        return self.result()

    def __repr__(self) -> str:
        future = self._future
        state = "in the making" if not future.done() else "failed" if future.exception() else "made"
        return f"PendingDigest({state})"


def made_or_pending(digest: Future[str]) -> str | PendingDigest:
    """A digest made in a thread: its text when made, else (or when making it failed, whose
    error is for whoever reads it) a :class:`PendingDigest`. Never raises: where an error
    shows does not depend on how far the thread has got."""
    if digest.done() and digest.exception() is None:
        return digest.result()
    return PendingDigest(digest)


# Digests being made in threads. A process forked meanwhile (multiprocessing's default on
# Linux) would copy their futures but not the threads that complete them, and wait on them
# for ever: a fork waits for them first (a few seconds of ten million rows; a digest another
# thread starts while the fork waits is not waited for). The child starts with none.
_IN_FLIGHT: set[Future[str]] = set()
_IN_FLIGHT_LOCK = threading.Lock()


def _in_flight(future: Future[str]) -> None:
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT.add(future)
    future.add_done_callback(_landed)


def _landed(future: Future[str]) -> None:
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT.discard(future)


def _before_fork() -> None:
    with _IN_FLIGHT_LOCK:
        making = list(_IN_FLIGHT)
    wait(making)  # their errors stay in them, for whoever reads them


def _in_the_child() -> None:
    """A forked child's own bookkeeping: a lock another thread held at the fork stays held in
    the child for ever, and the parent's digests are not the child's to wait for."""
    global _IN_FLIGHT_LOCK
    _IN_FLIGHT_LOCK = threading.Lock()
    _IN_FLIGHT.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_in_the_child)


@dataclass
class _Handed:
    """What a digest is made of (:func:`_beside`), handed over to be taken out as used."""

    columns: list[pa.ChunkedArray]  # emptied as they are hashed
    key_text: pa.ChunkedArray | None
    out: Future[_Sorted] | None  # the key's order, for the caller


def digest_beside(
    cells: pd.DataFrame,
    *,
    key: str | None = None,
    key_rank: IntArray | None = None,
    key_order: IntArray | None = None,
) -> Future[str]:
    """:func:`canonical_digest`, made in a thread of its own while the caller goes on to check
    and convert the cells (a large table's: 3 s of reading ten million ledger rows, in Arrow
    and hashlib code that leaves the interpreter free, so on a second core).

    The thread holds the columns' Arrow arrays, never ``cells`` (the caller takes columns out
    of it as it goes), and lets go of each column once hashed. Arrow arrays are immutable and
    ``key_rank``/``key_order`` are only read, by both sides. The rows' order is found in the
    thread too (a second of ten million rows: the key's ties compared column by column;
    its temporaries sit beside the caller's checks, which a coded read left room for). A
    small table's digest is made here and now. An error in the thread is raised by
    ``Future.result()``.
    """
    return _beside(cells, key, key_rank, key_order)[0]


_DIGEST_BESIDE = 1 << 16  # rows from which the digest is made in a thread


def _hashed(
    n: int, names: list[str], columns: list[pa.ChunkedArray], order: IntArray | None
) -> str:
    """:func:`canonical_digest` of ``n`` rows: ``columns`` in ``names`` order, their rows in
    ``order``. Empties ``columns`` as it hashes them (each column freed once hashed)."""
    header = "\x1f".join(_escape_text(name) for name in names)
    digest = hashlib.sha256(f"{n}\x1e{header}\x1e".encode())
    if order is None or not names or not n:
        return digest.hexdigest()
    while columns:
        column = columns.pop(0)
        for lengths in _lengths(column, order):
            digest.update(lengths.data)
        # The bytes a batch of rows at a time: the sorted copy never exists whole.
        for begin in range(0, len(order), _DIGEST_BATCH):
            for part in _taken(column, order[begin : begin + _DIGEST_BATCH]).chunks:
                data, at = part.buffers()[2], text_offsets(part)
                if data is not None and at[-1] > at[0]:
                    digest.update(memoryview(data)[int(at[0]) : int(at[-1])])
    return digest.hexdigest()


def _lengths(column: pa.ChunkedArray, order: IntArray) -> Iterator[npt.NDArray[np.uint64]]:
    """The UTF-8 byte lengths of ``column``'s texts in ``order``, as little-endian unsigned
    64-bit integers, a batch of rows at a time (one chunk: gathered from its offsets)."""
    if pa.types.is_dictionary(column.type):  # one chunk (:func:`_digest_text`)
        coded = column.chunk(0)
        per_text = np.diff(text_offsets(coded.dictionary)).astype(np.int64, copy=False)
        codes = np.asarray(coded.indices)
        for begin in range(0, len(order), _DIGEST_BATCH):
            yield _as_le_u8(per_text[codes[order[begin : begin + _DIGEST_BATCH]]])
        return
    if column.num_chunks == 1:
        # the lengths in the column's order once, then one gather per batch (not five
        # temporaries of a batch each); non-negative int64 read as little-endian uint64
        lengths = np.diff(text_offsets(column.chunk(0))).astype(np.int64, copy=False)
        for begin in range(0, len(order), _DIGEST_BATCH):
            yield _as_le_u8(lengths[order[begin : begin + _DIGEST_BATCH]])
        return
    lengths = np.concatenate([np.diff(text_offsets(chunk)) for chunk in column.chunks])
    yield _as_le_u8(lengths[order].astype(np.int64, copy=False))


def _as_le_u8(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """Non-negative int64 ``lengths`` as little-endian uint64 (a view where that is native)."""
    if np.little_endian:
        return lengths.view(np.uint64)
    return lengths.astype("<u8")


_DIGEST_BATCH = 1 << 20  # rows hashed per batch: the sorted copy costs at most this many rows


def text_offsets(text: pa.Array) -> npt.NDArray[np.signedinteger[Any]]:
    """A string or large_string array's ``len + 1`` offsets into its data buffer (its own
    slice; 32- or 64-bit as the type has them)."""
    wide = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets: npt.NDArray[np.signedinteger[Any]] = np.frombuffer(text.buffers()[1], wide)
    return offsets[text.offset : text.offset + len(text) + 1]


def text_bytes(text: pa.Array) -> npt.NDArray[np.uint8]:
    """A string or large_string array's text as bytes (its own slice's), without a copy."""
    data = text.buffers()[2] if len(text) else None
    if data is None:
        return np.zeros(0, dtype=np.uint8)
    at = text_offsets(text)
    return np.frombuffer(data, dtype=np.uint8)[int(at[0]) : int(at[-1])]


def utf8_valid(text: pa.Array) -> bool:
    """Whether a string or large_string array's bytes are UTF-8 throughout (Arrow takes them
    as given): found with one pass over them when all are ASCII, as ids and amounts nearly
    always are, else by Arrow's full validation."""
    raw = text_bytes(text)
    if not len(raw) or raw.max() < 0x80:
        return True
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _row_order(
    columns: Sequence[pa.ChunkedArray],
    rank: IntArray | None = None,
    rank_order: IntArray | None = None,
) -> IntArray:
    """Indices sorting rows by ``rank`` (when given), then by each column's text in turn.

    With a mostly distinct ``rank``, numpy sorts the integers and Arrow compares texts only
    within the runs of equal ranks (a sale and its disputes and refunds).
    """
    names = [f"c{k}" for k in range(len(columns))]
    by_text = [(name, "ascending") for name in names]
    if rank is None:
        plain = [_taken(column, None) for column in columns]
        table = pa.table(dict(zip(names, plain, strict=True)))
        return np.asarray(pc.sort_indices(table, sort_keys=by_text), dtype=np.int64)
    keys = [_tie_key(column) for column in columns]

    def by_columns(rows: IntArray, ranks: IntArray) -> IntArray:
        runs = pa.table({
            "rank": pa.array(ranks),
            **{name: key(rows) for name, key in zip(names, keys, strict=True)},
        })  # fmt: skip
        return np.asarray(pc.sort_indices(runs, sort_keys=[("rank", "ascending"), *by_text]))

    # the tied rows' cells are copied to compare them: a batch of them at a time
    return rank_then_ties(rank, by_columns, rank_order, batch=_DIGEST_BATCH)


def rank_then_ties(
    rank: IntArray,
    within: Callable[[IntArray, IntArray], npt.NDArray[np.integer]],
    order: IntArray | None = None,
    batch: int | None = None,
) -> IntArray:
    """Indices sorting rows by the integers ``rank`` (one numpy sort), with each run of equal
    ranks then put in order by ``within(rows, ranks)``: the order (positions into ``rows``) of
    the tied rows given, which must keep their ranks' order. With mostly distinct ranks
    (transaction ids) the slower comparisons see only the few rows that share one. ``order``
    is ``np.argsort(rank, kind="stable")`` when the caller has it (it is not changed).
    ``batch``: ``within`` is given whole runs of about that many tied rows at a time (what it
    builds to compare them is held for one batch only), else all of them at once.

    >>> rank_then_ties(np.array([1, 0, 1]), lambda rows, ranks: np.argsort(-rows)).tolist()
    [1, 2, 0]
    >>> rank_then_ties(np.array([1, 0, 1, 0, 2]), lambda rows, ranks: np.argsort(-rows),
    ...                batch=1).tolist()
    [3, 1, 2, 0, 4]
    """
    order = np.argsort(rank, kind="stable") if order is None else order.copy()
    order = order.astype(np.int64, copy=False)
    ranked = rank[order]
    at = tied_positions([ranked])
    if not len(at):
        return order
    ties = ranked[at]
    bounds = [0, len(at)]
    if batch is not None and len(at) > batch:  # cut only where a run of equal ranks begins
        begins = np.flatnonzero(np.r_[True, ties[1:] != ties[:-1]])
        wanted = np.arange(batch, len(at), batch)
        cuts = begins[np.minimum(np.searchsorted(begins, wanted), len(begins) - 1)]
        bounds = sorted({0, *cuts.tolist(), len(at)})
    for start, end in pairwise(bounds):
        rows = order[at[start:end]]  # runs of equal ranks, each in input order
        order[at[start:end]] = rows[within(rows, ties[start:end])]
    return order


def packed_keys(keys: list[npt.NDArray[np.int64]]) -> list[npt.NDArray[np.int64]]:
    """Fewer keys with the same lexicographic order: neighbours merged while they fit in int64.

    A key's offset from its minimum is below its width ``max - min + 1``; ``a * width + b``
    orders like the pair ``(a, b)``. np.lexsort's time grows with the number of keys.

    >>> [k.tolist() for k in packed_keys([np.array([1, 1, 0]), np.array([5, 3, 9])])]
    [[9, 7, 6]]
    """
    out: list[npt.NDArray[np.int64]] = []
    span = 0  # width of the last key in ``out``; 0: cannot take more
    for key in keys:
        low, high = int(key.min()), int(key.max())
        width = high - low + 1
        if width > _PACK_LIMIT:  # too wide to offset safely: a key of its own
            out.append(key)
            span = 0
        elif span and span * width <= _PACK_LIMIT:
            out[-1] = out[-1] * width + (key - low)
            span *= width
        else:
            out.append(key - low)
            span = width
    return out


_PACK_LIMIT = 2**62


def lexsorted(keys: Sequence[npt.NDArray[Any]]) -> IntArray:
    """The stable order of rows by ``keys`` (integers, booleans or dates without NaT), most
    significant first: ``np.lexsort`` of them reversed, but with neighbouring keys packed
    into one integer while they fit (:func:`packed_keys`). One stable sort of one key,
    nearly in order already (a ledger's tied rows by transaction then date), is a single
    pass where np.lexsort sorts once per key (two million rows: 10 ms against 235 ms).

    >>> lexsorted([np.array([1, 0, 1, 0]), np.array([True, True, False, True])]).tolist()
    [1, 3, 2, 0]
    """
    if not len(keys) or not len(keys[0]):
        return np.zeros(0, dtype=np.int64)
    ints = []
    for key in keys:
        if key.dtype.kind == "M":
            if np.isnat(key).any():  # NaT sorts last as a date, first as an integer
                return np.lexsort(keys[::-1]).astype(np.int64, copy=False)
            key = key.view(np.int64)
        ints.append(np.asarray(key, dtype=np.int64))
    packed = packed_keys(ints)
    order = np.argsort(packed[0], kind="stable") if len(packed) == 1 else np.lexsort(packed[::-1])
    return order.astype(np.int64, copy=False)


def order_by_keys(
    rows: IntArray,
    ranks: IntArray,
    keys: Sequence[Callable[[IntArray], Sequence[npt.NDArray[np.integer]]]],
) -> IntArray:
    """Positions into ``rows`` (whose ``ranks`` ascend) ordering them by rank, then by each
    of ``keys`` in turn (a key gives integer sort keys, most significant first, for the rows
    it is given), stably: what one ``np.lexsort`` of every key over all the rows gives, but
    each key is worked out only for the rows still tied on every key before it. A sale and
    its refund mostly part on the date or the event, so the later keys see few rows.

    >>> later = [lambda rows: [rows % 2], lambda rows: [-rows]]
    >>> order_by_keys(np.array([4, 2, 3, 5]), np.array([0, 0, 0, 0]), later).tolist()
    [0, 1, 3, 2]
    """
    order = np.arange(len(rows), dtype=np.int64)
    tied = tied_positions([ranks])  # places (in order) still tied, in runs
    # the run of each, numbered from 0 (ascending, small: it packs with the keys below)
    run = np.zeros(len(tied), dtype=np.int64)
    if len(tied):
        tied_ranks = ranks[tied]
        np.cumsum(tied_ranks[1:] != tied_ranks[:-1], out=run[1:])
    for key in keys:
        if not len(tied):
            break
        picked = order[tied]
        values = [np.asarray(v, dtype=np.int64) for v in key(rows[picked])]
        by = lexsorted([run, *values])  # stable: input order among equals
        order[tied] = picked[by]
        sorted_keys = [run[by], *(v[by] for v in values)]
        starts = np.zeros(len(by), dtype=bool)  # where a new run of equal keys starts
        starts[:1] = True
        for k in sorted_keys:
            starts[1:] |= k[1:] != k[:-1]
        still = tied_positions(sorted_keys)
        tied, run = tied[still], np.cumsum(starts)[still]
    return order


def text_rank(column: pd.Series | pa.ChunkedArray) -> IntArray:
    """Dense ranks of a text column from 0, in code point order (one sort in Arrow).

    >>> text_rank(pd.Series(["b", "a", "b", "é"], dtype="str")).tolist()
    [1, 0, 1, 2]
    """
    if len(column) == 0:
        return np.zeros(0, dtype=np.int64)
    dense = pc.rank(_arrow_text(column), sort_keys="ascending", tiebreaker="dense")
    return np.asarray(dense, dtype=np.int64) - 1


def text_order(column: pd.Series | pa.ChunkedArray) -> tuple[IntArray, IntArray]:
    """Integers in a text column's code point order (equal exactly for equal texts) and their
    stable argsort: what :func:`text_rank` and ``np.argsort(rank, kind="stable")`` give in
    order, with numpy sorting integers instead of Arrow comparing strings.

    UTF-8 bytes compare as code points do. Past the bytes every text shares at its start, a
    text's next eight bytes (zeros past its end) are one unsigned integer: a transaction id
    of up to that many distinct bytes is ordered by one integer sort, and its integer is its
    rank; longer ones are ordered by the next eight bytes only where the first tie, and then
    ranked densely. A text with a NUL byte (zero padding would tie it with a shorter text)
    goes to :func:`text_rank`, as do texts whose first word ties many of them.

    >>> rank, order = text_order(pd.Series(["ab", "a", "ab", "b", "é", "abcdefghij"], dtype="str"))
    >>> order.tolist(), (rank[order][1:] > rank[order][:-1]).tolist()
    ([1, 0, 2, 5, 3, 4], [True, False, True, True, True])
    """
    chunks = _arrow_text(column)  # one chunk after :func:`one_chunk`, taken without a copy
    text = chunks.chunk(0) if chunks.num_chunks == 1 else chunks.combine_chunks()
    n = len(text)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset : text.offset + n + 1]
    data = text.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if n and data else np.zeros(0, dtype=np.uint8)
    used = raw[offsets[0] : offsets[-1]] if n else raw
    if not len(used) or not used.all():  # all empty, or a NUL byte somewhere
        return _ranked_in_arrow(column)
    first = offsets[:-1]  # where each text starts in the buffer (a view: no copy)
    length = np.diff(offsets)
    shared = _shared_prefix(raw, first, int(length.min()))
    words = -(-(int(length.max()) - shared) // _WORD)  # ceiling: words past the prefix

    def word(rows: IntArray | None, k: int) -> IntArray:
        at = first if rows is None else first[rows]
        size = length if rows is None else length[rows]
        return _word(raw, at, size, shared + _WORD * k, every=rows is None)

    head = word(None, 0)
    order = np.argsort(head, kind="stable").astype(np.int64, copy=False)
    if words <= 1:  # every text is its prefix and one word: the word is the rank
        return head, order
    ranked = head[order]
    same = np.flatnonzero(ranked[1:] == ranked[:-1]) + 1  # tied with the one before
    if len(same) > n // 8:  # the first word leaves many ties: Arrow compares them faster
        return _ranked_in_arrow(column)
    later = [lambda rows, k=k: [word(rows, k)] for k in range(1, words)]
    order = order[order_by_keys(order, ranked, later)]
    # Dense ranks: a new one where a sorted text differs from the one before it (only texts
    # equal on their first word can be equal: the later words are compared for those)
    step = np.ones(n, dtype=bool)
    differ = np.zeros(len(same), dtype=bool)
    for k in range(1, words):
        differ |= word(order[same - 1], k) != word(order[same], k)
    step[same] = differ
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.cumsum(step) - 1
    return rank, order


_WORD = 8  # bytes of text taken as one integer sort key


def _ranked_in_arrow(column: pd.Series | pa.ChunkedArray) -> tuple[IntArray, IntArray]:
    rank = text_rank(column)
    return rank, np.argsort(rank, kind="stable").astype(np.int64, copy=False)


def _shared_prefix(raw: npt.NDArray[np.uint8], first: IntArray, shortest: int) -> int:
    """How many leading bytes every text shares (at most the shortest text's length).

    The texts are compared a batch at a time: no index column as long as the texts (this
    runs where reading a ledger holds the most).
    """
    shared = 0
    while shared < min(shortest, 64):
        byte = raw[first[0] + shared]
        for begin in range(0, len(first), _PREFIX_BATCH):
            if np.any(raw[first[begin : begin + _PREFIX_BATCH] + shared] != byte):
                return shared
        shared += 1
    return shared


_PREFIX_BATCH = 1 << 20  # texts compared at a time


def _word(
    raw: npt.NDArray[np.uint8], first: IntArray, length: IntArray, at: int, every: bool = False
) -> IntArray:
    """Bytes ``at`` to ``at + 7`` of each text (zeros past its end) as one integer, in the
    bytes' order: big-endian, with the top bit flipped so that int64 keeps unsigned order.
    ``every``: the texts are all of the buffer's, in order (not some of them).

    The bytes are gathered into an ``n x 8`` byte matrix whose rows read as the integers
    (back to front on a little-endian machine): texts of one length (most ids) are rows of
    the buffer already, and only a slice is copied.
    """
    n = len(first)
    size = int(length[0]) if n else 0
    matrix = np.zeros((n, _WORD), dtype=np.uint8)
    # The first byte most significant: on a little-endian machine the bytes go into each
    # row back to front, so the row read as a native integer is the word (no byte swap
    # of a column as long as the texts)
    into = matrix[:, ::-1] if np.little_endian else matrix
    # texts of one length that follow each other in the buffer are rows of it already (all
    # the texts of one length are: each starts where the one before it ends)
    if n and bool(np.all(length == size)) and (every or bool(np.all(np.diff(first) == size))):
        rows = raw[int(first[0]) : int(first[0]) + n * size].reshape(n, size)
        part = rows[:, at : at + _WORD]
        into[:, : part.shape[1]] = part
    else:
        byte = np.empty(n, dtype=np.uint8)
        for k in range(_WORD):
            np.take(raw, first + (at + k), out=byte, mode="clip")
            byte[length <= at + k] = 0
            into[:, k] = byte
    word = matrix.view(np.uint64).ravel()
    word ^= np.uint64(1 << 63)  # in place: one column as long as the texts at a time
    return word.view(np.int64)


def tied_positions(keys: Sequence[npt.NDArray[Any]]) -> npt.NDArray[np.int64]:
    """Positions of sorted entries equal on every key to a neighbour (the runs a later key,
    or a slower comparison, has to order).

    >>> tied_positions([np.array([1, 2, 2, 3, 3]), np.array([0, 5, 5, 6, 7])]).tolist()
    [1, 2]
    """
    equal = np.ones(max(len(keys[0]) - 1, 0), dtype=bool)
    for key in keys:
        equal &= key[1:] == key[:-1]
    tied = np.zeros(len(keys[0]), dtype=bool)
    tied[1:] |= equal
    tied[:-1] |= equal
    return np.flatnonzero(tied)


def _tie_key(column: pa.ChunkedArray) -> Callable[[IntArray], pa.Array | pa.ChunkedArray]:
    """What sorts some rows of a digest column (:func:`_digest_text`) as their texts do: a
    dictionary column's codes as the dense rank of their texts (integers compared, no text
    made for the rows), another column's texts."""
    if not pa.types.is_dictionary(column.type):
        return lambda rows: _taken(column, rows)
    coded = column.chunk(0)
    codes = np.asarray(coded.indices)
    place = np.asarray(pc.rank(coded.dictionary, sort_keys="ascending", tiebreaker="dense"))
    place = place.astype(np.int64)
    return lambda rows: pa.array(place[codes[rows]])


def _digest_text(column: pd.Series) -> pa.ChunkedArray:
    """A column as the digest reads it: :func:`_arrow_text`, but categories (a coded
    column, :func:`coded_text`) as one dictionary chunk: codes into their texts, never a
    text a row (see :func:`_taken`)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return _arrow_text(column)
    codes = category_codes(column)  # in their own type: Arrow takes them without a copy
    texts = _arrow_text(pd.Series(column.cat.categories, dtype=_STR)).combine_chunks()
    if (codes < 0).any():  # a missing cell is an empty text
        codes = np.where(codes < 0, len(texts), codes.astype(np.int32))
        texts = pa.concat_arrays([texts, pa.array([""], pa.large_string())])
    indices = pa.array(codes)
    return pa.chunked_array([pa.DictionaryArray.from_arrays(indices, texts)])


def _taken(column: pa.ChunkedArray, rows: IntArray | None) -> pa.ChunkedArray:
    """``column``'s ``rows`` (all of them: None) as large_string chunks, a dictionary
    column (:func:`_digest_text`) decoded."""
    if not pa.types.is_dictionary(column.type):
        return column if rows is None else column.take(pa.array(rows))
    coded = column.chunk(0)
    codes = np.asarray(coded.indices)
    picked = codes if rows is None else codes[rows]
    return pa.chunked_array([coded.dictionary.take(pa.array(picked))])


def _arrow_text(column: pd.Series | pa.ChunkedArray) -> pa.ChunkedArray:
    """Text as large_string chunks without nulls (Arrow-backed already: no copy)."""
    if isinstance(column, pa.ChunkedArray):
        text = pc.fill_null(column, "") if column.null_count else column
        return text if pa.types.is_large_string(text.type) else pc.cast(text, pa.large_string())
    text = pa.array(column.astype("str").fillna("").array)  # Arrow-backed already: no copy
    if isinstance(text, pa.Array):
        text = pa.chunked_array([text])
    return pc.cast(text, pa.large_string())


def _escape_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\x1f", "\\x1f").replace("\x1e", "\\x1e")


# ---------------------------------------------------------------------------------------------
# Shared cell checks


def text_categories(text: pd.Series) -> pd.Series:
    """A text column as categories: its distinct texts in code point order, a code a row
    (one byte for up to 127 distinct texts; a missing text stays missing).

    >>> column = text_categories(pd.Series(["USD", "EUR", None, "USD"], dtype="str"))
    >>> column.tolist()[:2], column.cat.categories.tolist(), column.cat.codes.dtype
    (['USD', 'EUR'], ['EUR', 'USD'], dtype('int8'))
    """
    if isinstance(text.dtype, pd.CategoricalDtype) and _is_text_index(text.cat.categories):
        return _sorted_categories(text)
    encoded = _dictionary_encoded(text, "mask")
    if encoded is None:
        codes, uniques = pd.factorize(text, sort=True)
        categories = pd.Index(np.asarray(uniques, dtype=object), dtype="str")
    else:  # its few distinct texts sorted, each row's code moved to its text's place
        dictionary = encoded.dictionary
        order = np.asarray(pc.sort_indices(dictionary), dtype=np.int64)
        # Each text's place in code point order; past them, -1 for a missing text
        place = np.full(len(order) + 1, -1, dtype=np.int32)
        place[order] = np.arange(len(order), dtype=np.int32)
        missing = pa.scalar(len(order), encoded.indices.type)
        codes = place[np.asarray(encoded.indices.fill_null(missing))]  # int32: no 64-bit copy
        categories = pd.Index(dictionary.take(pa.array(order)).to_pylist(), dtype="str")
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=categories), index=text.index, name=text.name
    )


_CODES_BATCH = 1 << 20  # rows of codes counted and moved per batch


def _sorted_categories(text: pd.Series) -> pd.Series:
    """:func:`text_categories` of categories of text (:func:`coded_text`): the ones some
    row has, sorted, each row's code moved to its text's place in one gather."""
    codes = category_codes(text)
    categories = text.cat.categories
    # A batch of rows at a time: NumPy counts and gathers with 64-bit indices, and a batch's
    # are temporaries the allocator reuses (ten million rows' would be fresh pages, twice)
    counts = np.zeros(len(categories) + 1, dtype=np.int64)
    for begin in range(0, len(codes), _CODES_BATCH):
        batch = np.add(codes[begin : begin + _CODES_BATCH], 1, dtype=np.int64)
        counts += np.bincount(batch, minlength=len(categories) + 1)
    used = np.flatnonzero(counts[1:])
    kept = pa.array(np.asarray(categories[used], dtype=object), pa.large_string())
    order = np.asarray(pc.sort_indices(kept), dtype=np.int64)
    # Each used category's place in code point order; past them, -1 for a missing text
    place = np.full(len(categories) + 1, -1, dtype=_code_type(len(used) + 1))
    place[used[order]] = np.arange(len(used))
    moved = np.empty_like(codes, dtype=place.dtype)
    for begin in range(0, len(codes), _CODES_BATCH):  # -1 (missing) reads the last place
        end = begin + _CODES_BATCH
        np.take(place, codes[begin:end], out=moved[begin:end], mode="wrap")
    return pd.Series(
        pd.Categorical.from_codes(
            moved,
            categories=pd.Index(kept.take(pa.array(order)).to_pylist(), dtype="str"),
            validate=False,
        ),
        index=text.index,
        name=text.name,
    )


def check_currencies(text: pd.Series) -> tuple[npt.NDArray[np.int8], pd.Series]:
    """Minor-unit digits per row (-1 where unusable) and the reason for unusable currencies
    (``text``: as text or as categories)."""
    uniques: list[object] | pd.Index
    if isinstance(text.dtype, pd.CategoricalDtype):  # its codes as they are: no hashing
        codes, uniques = category_codes(text), list(text.cat.categories)  # of ten million rows
    else:
        codes, uniques = pd.factorize(text)
    digits = currency_digits(codes, uniques)
    # Worded once per distinct text, then spread by the codes as categories (a byte a row,
    # not a Python object per row); a missing text (code -1) has no reason here.
    per_code = currency_digits(np.arange(len(uniques)), uniques)
    words = [
        None if known >= 0
        else "currency is empty" if code == ""
        else f"unknown currency '{code}': expected an ISO 4217 code such as USD"
        for code, known in zip(list(uniques), per_code.tolist(), strict=True)
    ]  # fmt: skip
    return digits, _spread(words, codes, text.index)


def _spread(
    words: list[str | None], codes: npt.NDArray[np.integer[Any]], index: pd.Index
) -> pd.Series:
    """Per row, ``words[code]`` (missing where that is None or the code is -1), as a
    categorical Series: the rows share the few distinct texts."""
    kept = sorted({w for w in words if w is not None})
    at = {w: k for k, w in enumerate(kept)}
    per_code = np.array([-1 if w is None else at[w] for w in words] + [-1], dtype=np.int32)
    row_codes = per_code[codes]  # code -1 (missing): the trailing -1
    categories = pd.Index(kept, dtype=object)
    return pd.Series(pd.Categorical.from_codes(row_codes, categories=categories), index=index)


def currency_digits(
    codes: npt.NDArray[np.integer[Any]], uniques: Iterable[object]
) -> npt.NDArray[np.int8]:
    """Minor-unit digits per row (-1 where unusable) of currencies factorized as ``codes``
    into ``uniques`` (-1: missing): one lookup per distinct code, spread by the codes.

    >>> currency_digits(np.array([0, 1, -1, 0]), ["JPY", "XYZ"]).tolist()
    [0, -1, -1, 0]
    """
    known = known_currencies()
    per_code = np.array(
        [minor_digits(str(code)) if code in known else -1 for code in uniques] + [-1],
        dtype=np.int8,  # a byte a row
    )
    return np.asarray(per_code[codes])  # code -1 (missing): the trailing -1


_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DISTINCT_FIRST = 4096  # rows above which parse_dates parses each distinct text once


def parse_dates(text: pd.Series, column: str) -> tuple[pd.Series, pd.Series]:
    """Strict ``YYYY-MM-DD`` dates as ``datetime64[s]`` (NaT where empty or bad) and reasons.

    Empty cells get no reason here: whether a date is required is the caller's decision.
    A ledger repeats a few hundred dates over millions of rows: each distinct text is parsed
    once, then every row takes its own.
    """
    if len(text) > _DISTINCT_FIRST:
        codes, distinct = _factorized(text)
        if len(distinct) * 4 < len(text):
            dates, reasons = parse_dates(distinct, column)
            words = [None if pd.isna(w) else str(w) for w in reasons.tolist()]
            return (
                pd.Series(dates.to_numpy()[codes], index=text.index, copy=False),
                _spread(words, codes, text.index),
            )
    if isinstance(text.dtype, pd.CategoricalDtype):  # coded (:func:`coded_text`): as text
        text = text.astype(_STR)
    shaped = text.str.fullmatch(_ISO_DATE).fillna(False).to_numpy(dtype=bool)
    dates = pd.to_datetime(text.where(shaped, None), format="%Y-%m-%d", errors="coerce")
    dates = dates.astype("datetime64[s]")
    reasons = pd.Series(None, index=text.index, dtype=object)
    empty = (text == "").to_numpy()
    reasons[~shaped & ~empty] = f"{column} must be a date written YYYY-MM-DD"
    reasons[shaped & dates.isna().to_numpy()] = f"{column} is not a real calendar date"
    return dates, reasons


def _factorized(text: pd.Series) -> tuple[npt.NDArray[np.integer[Any]], pd.Series]:
    """``pd.factorize(text, use_na_sentinel=False)`` (a missing text is a value of its own),
    through Arrow's hash table for Arrow-backed text: 32-bit codes, no pass of pandas' own.
    Categories (a coded column, :func:`coded_text`) are their own distinct texts: their codes
    as they are, the categories in their order (an unused one among them).

    >>> codes, distinct = _factorized(pd.Series(["b", None, "a", "b"], dtype="str"))
    >>> codes.tolist(), distinct.tolist()
    ([0, 1, 2, 0], ['b', nan, 'a'])
    """
    if isinstance(text.dtype, pd.CategoricalDtype):  # coded: its categories are the distinct
        codes = category_codes(text)
        distinct = pd.Series(text.cat.categories, dtype=_STR)
        if (codes < 0).any():  # a missing text is a value of its own, last
            codes = np.where(codes < 0, len(distinct), codes.astype(np.int32))
            distinct = pd.concat([distinct, pd.Series([None], dtype=_STR)], ignore_index=True)
        return codes, distinct
    encoded = _dictionary_encoded(text, "encode")
    if encoded is None:
        codes, uniques = pd.factorize(text, use_na_sentinel=False)
        return codes, pd.Series(uniques, dtype=text.dtype)
    distinct = encoded.dictionary.cast(pa.large_string())
    return np.asarray(encoded.indices), pd.Series(_STR.__from_arrow__(distinct))  # type: ignore[attr-defined]


def _dictionary_encoded(text: pd.Series, nulls: str) -> pa.DictionaryArray | None:
    """Arrow-backed text through Arrow's hash table (32-bit indices; a missing text
    ``"mask"``-ed as a missing index or ``"encode"``-d as a value of its own), or None for
    other columns (pandas' factorize is theirs)."""
    if not isinstance(text.dtype, pd.StringDtype) or text.dtype.storage != "pyarrow":
        return None
    arrow = pa.array(text.array)
    if isinstance(arrow, pa.ChunkedArray):  # one chunk as read: no copy
        arrow = arrow.chunk(0) if arrow.num_chunks == 1 else arrow.combine_chunks()
    encoded: pa.DictionaryArray = pc.dictionary_encode(arrow, null_encoding=nulls)
    return encoded


def _is_text_index(index: pd.Index) -> bool:
    return isinstance(index.dtype, pd.StringDtype) or (
        index.dtype == object and all(isinstance(v, str) for v in index)
    )


def place_labels(row: IntArray, line: pd.Series) -> pd.Series:
    """``line N`` where the file line is known, else ``row N``: how reasons cite other rows."""
    has_line = line.notna().to_numpy(dtype=bool)
    numbers = np.where(has_line, line.fillna(0).to_numpy(dtype=np.int64), row)
    words = np.where(has_line, "line ", "row ")
    return pd.Series(words, dtype="str") + pd.Series(numbers).astype("str")


def is_in(values: pd.Series, pool: pd.Series | pd.Index) -> BoolArray:
    """``values.isin(pool)`` through a hash index (Series.isin on Arrow strings is per value)."""
    return np.asarray(pd.Index(pd.unique(pool)).get_indexer(pd.Index(values)) >= 0, dtype=bool)


def join_places(labels: pd.Series, keys: pd.Series, rows: IntArray) -> pd.Series:
    """Per key, its rows' labels in row order as one text: ``lines 3, 9`` (or ``line 3``).

    ``labels``, ``keys`` and ``rows`` are aligned; the result is indexed by key. The joining is
    a grouped string sum, one vectorised pass rather than a Python call per group.
    """
    order = np.argsort(rows, kind="stable")
    text = (labels.reset_index(drop=True) + ", ").iloc[order]
    joined = text.groupby(keys.reset_index(drop=True).iloc[order].to_numpy()).sum()
    joined = joined.astype("str").str.removesuffix(", ")
    # "line 3, line 9" -> "lines 3, 9": the word once, in the plural when there are several.
    several = joined.str.contains(",", regex=False)
    plural = joined.str.replace(r"^(line|row) ", r"\1s ", regex=True).str.replace(
        r", (?:line|row) ", ", ", regex=True
    )
    return plural.where(several, joined)


# ---------------------------------------------------------------------------------------------
# Problems -> RejectedRow


class Problems:
    """Collects (position, column, reason) findings for a table, whole masks at a time."""

    def __init__(self, n_rows: int) -> None:
        self._n = n_rows
        self._parts: list[pd.DataFrame] = []

    def add(self, mask: BoolArray | pd.Series, column: str, reason: str | pd.Series) -> None:
        """Record ``reason`` (one text, or a per-row Series) for every row where ``mask``."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if isinstance(reason, pd.Series):  # the rows' reasons only (a categorical stays one)
            self.add_at(positions, column, reason.take(positions).to_numpy(dtype=object))
        else:
            self.add_at(positions, column, reason)

    def add_at(
        self, positions: npt.ArrayLike, column: str, reason: str | npt.NDArray[np.object_]
    ) -> None:
        """Record ``reason`` (one text, or one per position) at the given row positions."""
        pos = np.asarray(positions, dtype=np.int64)
        if pos.size == 0:
            return
        reasons = np.broadcast_to(np.asarray(reason, dtype=object), pos.shape)
        self._parts.append(pd.DataFrame({"pos": pos, "column": column, "reason": reasons}))

    def add_reasons(self, reasons: pd.Series, column: str) -> None:
        """Record the non-null entries of a per-row reason Series."""
        self.add(reasons.notna().to_numpy(), column, reasons)

    def positions(self, column: str) -> IntArray:
        """The rows with a problem in ``column`` so far, ascending."""
        found = [part["pos"].to_numpy() for part in self._parts if part["column"].iat[0] == column]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def mask(self) -> BoolArray:
        """True for every row with at least one problem."""
        out = np.zeros(self._n, dtype=bool)
        for part in self._parts:
            out[part["pos"].to_numpy()] = True
        return out

    def frame(self) -> pd.DataFrame:
        """All findings as a frame with columns ``pos``, ``column``, ``reason``."""
        if not self._parts:
            return pd.DataFrame({"pos": np.array([], dtype=np.int64), "column": [], "reason": []})
        return pd.concat(self._parts, ignore_index=True)


def to_rejected(
    findings: pd.DataFrame,
    values: pd.DataFrame,
    row: IntArray,
    line: pd.Series,
    source: str | pd.Series,
) -> list[RejectedRow]:
    """Turn findings (positions into ``values``) into RejectedRow objects.

    ``source`` is one name for all rows, or each row's own (a ledger read from several files:
    only the rejected rows' names are ever made text).
    """
    if findings.empty:
        return []
    pos = findings["pos"].to_numpy(dtype=np.int64)
    if isinstance(source, str):
        sources = np.full(pos.size, source, dtype=object)
    else:
        sources = source.take(pos).astype("str").to_numpy(dtype=object)
    columns = findings["column"].to_numpy(dtype=object)
    cell = np.empty(pos.size, dtype=object)
    for column in pd.unique(columns):  # one step per distinct column name
        hit = columns == column
        source_col = values[column] if column in values.columns else text_column(values, column)
        cell[hit] = source_col.loc[pos[hit]].to_numpy(dtype=object)  # index labels = positions
    lines = line.take(pos).fillna(0).to_numpy(dtype=np.int64)  # 0: no line (lines start at 1)
    return [
        RejectedRow(str(s), int(r), int(ln) or None, str(c), str(v), str(why))
        for s, r, ln, c, v, why in zip(
            sources, row[pos], lines, columns, cell, findings["reason"], strict=True
        )
    ]


def sort_rejected(rows: Iterable[RejectedRow]) -> tuple[RejectedRow, ...]:
    """Rejected rows in a stable order: by row number, then column, then reason."""
    return tuple(sorted(rows, key=lambda r: (r.source, r.row, r.column, r.reason, r.value)))
