"""The result of a pay run: statements, their lines, held and excluded sales, rejected rows.

Everything here is plain immutable data. ``PeriodResult.to_json()`` is the canonical form
(sorted keys, amounts as decimal strings): the same inputs always give the same bytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..inputs.common import text_bytes, utf8_valid
from ..resources import gc_paused


class Texts:
    """Text values kept in one Arrow array, made Python ``str`` only where they are read.

    Ten million transaction ids are about 180 MB of Arrow buffers, against 700 MB as ``str``
    objects; a run reads as text only the ids its lines and notes show.

    ``at`` (optional) picks and orders the values by position in ``array``: the sales' ids
    are the ledger's own column read at the sale rows, not a copy of the text.

    >>> ids = Texts(pa.array(["T1", "T2", "T3"]))
    >>> len(ids), ids[2], ids.take(np.array([2, 0])), ids.window(1, 3)
    (3, 'T3', ['T3', 'T1'], ['T2', 'T3'])
    >>> some = Texts(pa.array(["T1", "T2", "T3"]), at=np.array([2, 0], dtype=np.int32))
    >>> len(some), some[0], some.take(np.array([1])), some.window(0, 2)
    (2, 'T3', ['T1'], ['T3', 'T1'])
    """

    __slots__ = ("_array", "_at", "_plain")

    def __init__(
        self, array: pa.Array | pa.ChunkedArray, at: npt.NDArray[np.integer] | None = None
    ) -> None:
        if isinstance(array, pa.ChunkedArray) and array.num_chunks == 1:
            array = array.chunk(0)  # one chunk (a pandas column's): no copy
        array = array.cast(pa.large_string())  # before joining chunks: 64-bit offsets
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
        self._array = array
        self._at = at
        self._plain: tuple[bool | None] | None = None  # plain_json's, once looked at

    def plain_json(self) -> bool | None:
        """Whether orjson writes every text as it is, between quotes: none has a quote, a
        backslash or a control character; None when the bytes are not all UTF-8 (text that
        was never checked: each must then be made ``str``, which refuses it). Looked for once,
        in the bytes of the whole array."""
        if self._plain is None:  # not looked at yet
            raw = text_bytes(self._array) if utf8_valid(self._array) else None
            step = 1 << 24  # bytes at a time: no flag array as long as the text
            self._plain = (
                None
                if raw is None
                else not any(
                    _JSON_ESCAPED[raw[k : k + step]].any() for k in range(0, len(raw), step)
                ),
            )
        return self._plain[0]

    def __len__(self) -> int:
        return len(self._array) if self._at is None else len(self._at)

    def __getitem__(self, index: int | np.integer) -> str:
        at = int(index) if self._at is None else int(self._at[int(index)])
        return str(self._array[at].as_py())

    def take(self, positions: npt.NDArray[np.integer]) -> list[str]:
        """The texts at ``positions``, in that order."""
        return self.take_array(positions).to_pylist()  # type: ignore[no-any-return]

    def take_array(self, positions: npt.NDArray[np.integer]) -> pa.Array:
        """The texts at ``positions``, in that order, as an Arrow array (large strings)."""
        where = positions if self._at is None else self._at[positions]
        return self._array.take(pa.array(where, type=pa.int64()))

    def window(self, start: int, stop: int) -> list[str]:
        """The texts ``start`` to ``stop`` (excluded)."""
        if self._at is not None:
            return self.take(np.arange(start, stop))
        return self._array.slice(start, stop - start).to_pylist()  # type: ignore[no-any-return]


class Ids(Sequence[str]):
    """A line's ledger transaction ids: a read-only window on an array the run shares.

    The engine finds the ids of every line of a component in one vectorised pass; each line
    holds its window on the result (``values[start:stop]``, or ``values[at[start:stop]]`` when
    ``at`` gives positions) instead of a tuple of its own: a run of ten million ledger rows
    would otherwise build ten million tuple slots one by one. It behaves as the tuple of its
    ids: it compares equal to that tuple, hashes, prints and pickles as it (a pickled line
    holds a plain tuple, never the shared array).

    >>> ids = Ids(np.array(["T1", "T2", "T3"], dtype=object), 1, 3)
    >>> ids == ("T2", "T3"), len(ids), ids[-1], list(ids), ids
    (True, 2, 'T3', ['T2', 'T3'], ('T2', 'T3'))
    >>> Ids(np.array(["T1", "T2", "T3"], dtype=object), 0, 2, at=np.array([2, 0]))
    ('T3', 'T1')
    """

    __slots__ = ("_at", "_start", "_stop", "_values")

    def __init__(
        self,
        values: npt.NDArray[np.object_] | Texts,
        start: int,
        stop: int,
        at: npt.NDArray[np.signedinteger[Any]] | None = None,
    ) -> None:
        self._values = values
        self._start = start
        self._stop = stop
        self._at = at

    def positions(self) -> npt.NDArray[np.int64]:
        """Where the ids are in the shared array (for the caller that made the windows)."""
        if self._at is None:
            return np.arange(self._start, self._stop, dtype=np.int64)
        return self._at[self._start : self._stop].astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self._stop - self._start

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("Ids index out of range")
        at = self._start + position
        return str(self._values[at if self._at is None else self._at[at]])

    def __iter__(self) -> Iterator[str]:
        return iter(self.tolist())

    def tolist(self) -> list[str]:
        """The ids as a new list (one C-level copy of the window)."""
        values = self._values
        if isinstance(values, Texts):
            if self._at is None:
                return values.window(self._start, self._stop)
            return values.take(self._at[self._start : self._stop])
        if self._at is None:
            return values[self._start : self._stop].tolist()  # type: ignore[no-any-return]
        return values[self._at[self._start : self._stop]].tolist()  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ids | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (tuple(self),))


def read_ids(windows: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each line's transaction ids as a list; the windows on one Arrow array are read with
    one take for them all (a take costs microseconds before its first id: one per statement
    rather than one per line).

    >>> texts = Texts(pa.array(["T1", "T2", "T3"]))
    >>> read_ids([Ids(texts, 0, 2), ("T9",), Ids(texts, 0, 1, at=np.array([2]))])
    [['T1', 'T2'], ['T9'], ['T3']]
    """
    out: list[list[str]] = []
    for texts, reading in _on_texts(windows, out).values():
        flat = texts.take(np.concatenate([window.positions() for _, window in reading]))
        at = 0
        for k, window in reading:
            out[k] = flat[at : at + len(window)]
            at += len(window)
    return out


def _on_texts(
    windows: Sequence[Sequence[str]], out: list[Any]
) -> dict[int, tuple[Texts, list[tuple[int, Ids]]]]:
    """The windows that are not empty and on an Arrow array, grouped by that array (by its
    ``id()``) with their places in ``windows``; ``out`` gets each window's ids as a list, a
    placeholder (an empty list) for those grouped."""
    shared: dict[int, tuple[Texts, list[tuple[int, Ids]]]] = {}
    for k, window in enumerate(windows):
        values = window._values if isinstance(window, Ids) else None
        if isinstance(window, Ids) and isinstance(values, Texts) and len(window):
            shared.setdefault(id(values), (values, []))[1].append((k, window))
            out.append([])
        else:
            out.append(window.tolist() if isinstance(window, Ids) else list(window))
    return shared


# What orjson escapes in a text: the quote, the backslash and the control characters
_ESCAPED = r'[\x00-\x1f"\\]'
_JSON_ESCAPED = np.zeros(256, dtype=bool)
_JSON_ESCAPED[[*range(0x20), ord('"'), ord("\\")]] = True  # as bytes of UTF-8 text
# A line's transaction ids as a statement written on its own has them: each on a line of its
# own, eight spaces in, the closing bracket six (``json_pieces`` indents the whole statement)
_ID_OPEN, _ID_CLOSE, _LIST_OPEN, _LIST_CLOSE, _NOTHING = (
    pa.scalar(text, pa.large_string()) for text in ('\n        "', '"', "[", "\n      ]", "")
)
_COMMA = pa.scalar(",", pa.large_string())


def transaction_fragments(windows: Sequence[Sequence[str]]) -> list[Any]:
    """Each line's transaction ids as orjson writes the list in a statement's dict (with
    ``OPT_INDENT_2``), for orjson to copy as they are (``orjson.Fragment``): the windows on an
    Arrow array made JSON text in Arrow's kernels, a whole statement batch at a time, not
    made ``str`` objects one id at a time (ten million in a large run); a list for others.
    Texts orjson escapes are escaped by orjson itself, one by one (ids seldom have them).

    >>> made = transaction_fragments([Ids(Texts(pa.array(["T1", 'T"2'])), 0, 2), ()])
    >>> def statement(cited):
    ...     lines = [{"transactions": ids} for ids in cited]
    ...     return orjson.dumps({"lines": lines}, option=_ITEM_OPTIONS)
    >>> statement(made) == statement([["T1", 'T"2'], []])
    True
    """
    out: list[Any] = []
    for texts, reading in _on_texts(windows, out).values():
        plain = texts.plain_json()
        ids = (
            None
            if plain is None
            else texts.take_array(np.concatenate([window.positions() for _, window in reading]))
        )
        if ids is None or ids.null_count:  # bytes that are not UTF-8 (refused as lists), or
            for k, window in reading:  # a missing id (none in a checked ledger: None)
                out[k] = window.tolist()
            continue
        escaped = None if plain else pc.match_substring_regex(ids, _ESCAPED)
        if escaped is not None and pc.any(escaped).as_py():
            where = np.flatnonzero(escaped.to_numpy(zero_copy_only=False))
            texts_out = [orjson.dumps(text)[1:-1].decode() for text in ids.take(where).to_pylist()]
            ids = pc.replace_with_mask(ids, escaped, pa.array(texts_out, type=ids.type))
        quoted = pc.binary_join_element_wise(_ID_OPEN, ids, _ID_CLOSE, _NOTHING)
        del ids
        offsets = np.zeros(len(reading) + 1, dtype=np.int64)
        np.cumsum([len(window) for _, window in reading], out=offsets[1:])
        lists = pa.LargeListArray.from_arrays(pa.array(offsets), quoted)
        joined = pc.binary_join_element_wise(
            _LIST_OPEN, pc.binary_join(lists, _COMMA), _LIST_CLOSE, _NOTHING
        ).cast(pa.large_binary())
        for (k, _), text in zip(reading, joined.to_pylist(), strict=True):
            out[k] = orjson.Fragment(text)
    return out


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Which rule produced a line: rule set id, version and digest, and the component id."""

    ruleset: str
    version: str
    component: str
    sha256: str = ""  # the rule set's digest, so a statement on its own still names its rules


@dataclass(frozen=True, slots=True, init=False)
class Line:
    """One amount on a statement, with everything needed to check it by hand."""

    id: str  # unique within the statement, e.g. "commission.new_credit"
    component: str  # the rule's component id
    kind: str  # base_salary, commission, bonus, allowance
    pay_code: str  # payroll pay code: base, commission, bonus, allowance
    item: str  # what part of the component: installment, new_credit, released, clawback ...
    label: str  # a person's words: "Commission on new dispute-free sales"
    amount: Decimal
    rule: RuleRef
    formula: str  # the computation with its actual numbers
    transactions: Sequence[str] = ()  # ledger transaction ids this line used (tuple or Ids)
    details: tuple[tuple[str, str], ...] = ()  # named figures: rate, band, basis, attainment ...

    def __init__(  # the fields, as the dataclass's own __init__ takes them
        self,
        id: str,  # the field's name
        component: str,
        kind: str,
        pay_code: str,
        item: str,
        label: str,
        amount: Decimal,
        rule: RuleRef,
        formula: str,
        transactions: Sequence[str] = (),
        details: tuple[tuple[str, str], ...] = (),
    ) -> None:
        # What the frozen dataclass's __init__ does, through the slots' own setters instead
        # of object.__setattr__ looked up per field: half the time, for the 265,000 lines
        # of a 50,000-employee run (a test checks it sets every field, as the fields are)
        _set_id(self, id)
        _set_component(self, component)
        _set_kind(self, kind)
        _set_pay_code(self, pay_code)
        _set_item(self, item)
        _set_label(self, label)
        _set_amount(self, amount)
        _set_rule(self, rule)
        _set_formula(self, formula)
        _set_transactions(self, transactions)
        _set_details(self, details)


(
    _set_id, _set_component, _set_kind, _set_pay_code, _set_item, _set_label, _set_amount,
    _set_rule, _set_formula, _set_transactions, _set_details,
) = (Line.__dict__[f.name].__set__ for f in fields(Line))  # fmt: skip


@dataclass(frozen=True, slots=True)
class SaleNote:
    """A sale that did not (or no longer does) earn, and why."""

    transaction_id: str
    date: str
    amount: Decimal
    status: str  # held, forfeited, excluded, not_clawed_back
    reason: str


@dataclass(frozen=True, slots=True)
class Statement:
    employee_id: str
    name: str
    role: str
    currency: str
    total: Decimal
    lines: tuple[Line, ...]
    held: tuple[SaleNote, ...] = ()
    excluded: tuple[SaleNote, ...] = ()
    # Year-to-date figures per sales component: credited, quota, attainment, due, paid.
    to_date: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class PriorRun:
    """A closed period's run, as the store knows it: what the next run's true-ups compare to."""

    period: str
    ruleset_version: str
    ruleset_sha256: str
    engine_version: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input row the run could not use, with where it was and why."""

    source: str
    row: int | None
    line: int | None
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = (
            f"{self.source}:{self.line}"
            if self.line is not None
            else f"{self.source}: row {self.row}"
        )
        column = f" column {self.column}:" if self.column else ""
        value = f" {json.dumps(self.value, ensure_ascii=False)}:" if self.value else ""
        return f"{where}:{column}{value} {self.reason}"


@dataclass(frozen=True, slots=True)
class PeriodResult:
    """Statements for every employee paid in a period, plus the audit context of the run."""

    period: str
    period_start: str
    period_end: str
    ruleset_id: str
    ruleset_version: str
    ruleset_sha256: str
    roster_sha256: str
    ledger_sha256: str
    engine_version: str
    currency: str
    statements: tuple[Statement, ...]
    rejected: tuple[Rejected, ...] = ()
    summary: tuple[tuple[str, str], ...] = field(default=())
    fx_sha256: str = ""  # the FX table's digest; "" (and absent from the JSON) when none given

    def statement(self, employee_id: str) -> Statement:
        """The statement of one employee (KeyError when there is none)."""
        for statement in self.statements:
            if statement.employee_id == employee_id:
                return statement
        raise KeyError(f"no statement for employee {employee_id!r} in {self.period}")

    def provenance(self) -> dict[str, Any]:
        """Where the figures come from: period, rule set, input digests, engine, currency."""
        return {
            "period": {"label": self.period, "start": self.period_start, "end": self.period_end},
            "ruleset": {
                "id": self.ruleset_id,
                "version": self.ruleset_version,
                "sha256": self.ruleset_sha256,
            },
            "inputs": {
                "roster_sha256": self.roster_sha256,
                "ledger_sha256": self.ledger_sha256,
                **({"fx_sha256": self.fx_sha256} if self.fx_sha256 else {}),
            },
            "engine": {"name": "compcalc", "version": self.engine_version},
            "currency": self.currency,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: amounts as decimal strings, lists sorted, keys stable."""
        return self._dict([_statement_dict(s, None) for s in self.statements])

    def _dict(self, statements: Any) -> dict[str, Any]:
        return {
            **self.provenance(),
            "statements": statements,
            "rejected": [_rejected_dict(r) for r in self.rejected],
            "summary": dict(self.summary),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PeriodResult:
        """The result that :meth:`to_dict` described (amounts back to exact Decimals).

        ``PeriodResult.from_dict(json.loads(r.to_json())).to_json() == r.to_json()``.

        >>> r = PeriodResult("2026-10", "2026-10-01", "2026-10-31", "rs", "1", "a", "b", "c",
        ...                  "0.1.0", "USD", (), summary=(("total", "0.00"),))
        >>> PeriodResult.from_dict(r.to_dict()) == r
        True
        """
        period, ruleset, inputs = data["period"], data["ruleset"], data["inputs"]
        return cls(
            period=period["label"],
            period_start=period["start"],
            period_end=period["end"],
            ruleset_id=ruleset["id"],
            ruleset_version=ruleset["version"],
            ruleset_sha256=ruleset["sha256"],
            roster_sha256=inputs["roster_sha256"],
            ledger_sha256=inputs["ledger_sha256"],
            engine_version=data["engine"]["version"],
            currency=data["currency"],
            statements=tuple(_statement_from(item) for item in data["statements"]),
            rejected=tuple(Rejected(**item) for item in data["rejected"]),
            summary=tuple((str(k), str(v)) for k, v in data["summary"].items()),
            fx_sha256=inputs.get("fx_sha256", ""),
        )

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, two-space indent, UTF-8 text, trailing newline."""
        return self.to_json_bytes().decode()  # a lone surrogate: as its escape (\ud800)

    def to_json_bytes(self) -> bytes:
        """:meth:`to_json` encoded in UTF-8, for writing to a file without a text copy.

        ``canonical_json(self.to_dict())``, written a statement at a time: each statement's
        dicts are freed as soon as they are written instead of the whole run's living at once.
        """
        try:
            with gc_paused():  # the statements' dicts, made and freed: no cycles to find
                # Each piece appended as it comes and let go; getvalue hands over the buffer
                # itself: the text once in memory, not the pieces and their join side by side
                written = io.BytesIO()
                for piece in self.json_pieces():
                    written.write(piece)
                return written.getvalue()
        except orjson.JSONEncodeError:  # text orjson refuses (a lone surrogate): the slow way
            # UTF-8 has no lone surrogate; it only ever stands in a JSON string, where the
            # escape "\ud800" that backslashreplace writes is the same text
            return canonical_json(self.to_dict()).encode(errors="backslashreplace")

    def json_pieces(self) -> Iterator[bytes]:
        """:meth:`to_json_bytes` in pieces, a statement at a time, for a writer that never
        holds the whole (a 10M-row run's JSON is 600 MB). Raises ``orjson.JSONEncodeError``
        (a ``TypeError``) for text orjson refuses, possibly after some pieces: such a
        writer then starts again with :meth:`to_json_bytes`, which takes the slow way.
        """
        outer = orjson.dumps(self._dict(_PLACEHOLDER), option=_JSON_OPTIONS, default=_plain)
        # Raw newlines in JSON text are only ever indentation (strings escape theirs), so the
        # top-level key is found exactly once, at its indentation.
        key = b'\n  "statements": '
        before, after = outer.split(key + orjson.dumps(_PLACEHOLDER))
        if not self.statements:
            yield b"".join((before, key, b"[]", after))
            return
        rules: dict[RuleRef, dict[str, str]] = {}  # the few rule references, one dict each
        yield b"".join((before, key, b"[\n    "))
        for first, batch in _batches(self.statements):
            cited = iter(
                transaction_fragments([line.transactions for s in batch for line in s.lines])
            )
            for n, statement in enumerate(batch, start=first):
                text = orjson.dumps(
                    _statement_dict(statement, rules, cited), option=_ITEM_OPTIONS, default=_plain
                )
                # two levels deeper than on its own
                yield (b",\n    " if n else b"") + text.replace(b"\n", b"\n    ")
        yield b"\n  ]" + after

    def to_frame(self) -> pd.DataFrame:
        """One row per statement line; amounts stay exact (Decimal objects)."""
        rows = [
            {
                "employee_id": s.employee_id,
                "currency": s.currency,
                "line_id": line.id,
                "component": line.component,
                "kind": line.kind,
                "pay_code": line.pay_code,
                "item": line.item,
                "label": line.label,
                "amount": line.amount,
                "formula": line.formula,
                "transactions": ids,
            }
            for s in self.statements
            for line, ids in zip(
                s.lines, read_ids([line.transactions for line in s.lines]), strict=True
            )
        ]
        columns = [
            "employee_id",
            "currency",
            "line_id",
            "component",
            "kind",
            "pay_code",
            "item",
            "label",
            "amount",
            "formula",
            "transactions",
        ]
        return pd.DataFrame(rows, columns=columns)

    def totals_frame(self) -> pd.DataFrame:
        """One row per employee: id, name, role, currency and exact total."""
        return pd.DataFrame(
            [
                {
                    "employee_id": s.employee_id,
                    "name": s.name,
                    "role": s.role,
                    "currency": s.currency,
                    "total": s.total,
                }
                for s in self.statements
            ],
            columns=["employee_id", "name", "role", "currency", "total"],
        )

    def rejected_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [_rejected_dict(r) for r in self.rejected],
            columns=["source", "row", "line", "column", "value", "reason"],
        )


def canonical_json(data: Any) -> str:
    """``data`` as canonical JSON text: sorted keys, two-space indent, UTF-8, trailing newline.

    The same bytes as ``json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) +
    "\\n"`` (Decimals as plain decimal strings), written by orjson: the standard library
    writes indented JSON with its pure-Python encoder, ten times slower on a large run. For
    the data compcalc writes: dicts with text keys, lists, text, integers, booleans, None and
    Decimals; not floats (money is never a float, and orjson writes ``1e16`` where json
    writes ``1e+16``). What orjson refuses (integers past 64 bits, keys that are not text,
    lone surrogates) goes through ``json.dumps`` itself.

    >>> canonical_json({"b": [1, Decimal("2.50")], "a": {}, "é": "x\\ny"})
    '{\\n  "a": {},\\n  "b": [\\n    1,\\n    "2.50"\\n  ],\\n  "é": "x\\\\ny"\\n}\\n'
    """
    try:
        return orjson.dumps(data, option=_JSON_OPTIONS, default=_plain).decode()
    except orjson.JSONEncodeError:
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, default=_plain) + "\n"


_ITEM_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
_JSON_OPTIONS = _ITEM_OPTIONS | orjson.OPT_APPEND_NEWLINE
_PLACEHOLDER = "\x00statements\x00"  # where to_json splices the statements in
# Statements whose transaction ids are made JSON text together: at most so many, or the
# first that reach so many ids (the batch's Arrow text is some 100 bytes an id)
_JSON_BATCH, _JSON_BATCH_IDS = 1024, 262_144


def _batches(statements: Sequence[Statement]) -> Iterator[tuple[int, Sequence[Statement]]]:
    """``statements`` in batches for :func:`transaction_fragments`, each with its first's
    place: :data:`_JSON_BATCH` statements, or fewer holding :data:`_JSON_BATCH_IDS` ids."""
    first, ids = 0, 0
    for k, statement in enumerate(statements):
        ids += sum(len(line.transactions) for line in statement.lines)
        if k + 1 - first >= _JSON_BATCH or ids >= _JSON_BATCH_IDS:
            yield first, statements[first : k + 1]
            first, ids = k + 1, 0
    if first < len(statements):
        yield first, statements[first:]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# The dicts below are written out field by field: ``dataclasses.asdict`` deep-copies every
# value and looks the fields up again for each object, most of the time of a large run's JSON.


def _statement_dict(
    statement: Statement,
    rules: dict[RuleRef, dict[str, str]] | None,
    cited: Iterator[Any] | None = None,
) -> dict[str, Any]:
    """``cited``: the lines' transaction ids as written, in line order (a statement's lines
    take theirs in turn); None: read here, as lists."""
    if cited is None:
        cited = iter(read_ids([line.transactions for line in statement.lines]))
    return {
        "employee_id": statement.employee_id,
        "name": statement.name,
        "role": statement.role,
        "currency": statement.currency,
        "total": f"{statement.total:f}",
        "lines": [_line_dict(line, rules, next(cited)) for line in statement.lines],
        "held": [_note_dict(note) for note in statement.held],
        "excluded": [_note_dict(note) for note in statement.excluded],
        "to_date": {component: dict(figures) for component, figures in statement.to_date},
    }


def _line_dict(
    line: Line, rules: dict[RuleRef, dict[str, str]] | None, transactions: Any
) -> dict[str, Any]:
    """``rules``: rule dicts to share between lines (for writing only; None: a dict each);
    ``transactions``: the line's transaction ids as a list (or as JSON text to write)."""
    rule = rules.get(line.rule) if rules is not None else None
    if rule is None:
        rule = _rule_dict(line.rule)
        if rules is not None:
            rules[line.rule] = rule
    return {
        "id": line.id,
        "component": line.component,
        "kind": line.kind,
        "pay_code": line.pay_code,
        "item": line.item,
        "label": line.label,
        "amount": f"{line.amount:f}",
        "rule": rule,
        "formula": line.formula,
        "transactions": transactions,
        "details": dict(line.details),
    }


def _rule_dict(rule: RuleRef) -> dict[str, str]:
    return {
        "ruleset": rule.ruleset,
        "version": rule.version,
        "component": rule.component,
        "sha256": rule.sha256,
    }


def _note_dict(note: SaleNote) -> dict[str, Any]:
    return {
        "transaction_id": note.transaction_id,
        "date": note.date,
        "amount": f"{note.amount:f}",
        "status": note.status,
        "reason": note.reason,
    }


def _rejected_dict(rejected: Rejected) -> dict[str, Any]:
    return {
        "source": rejected.source,
        "row": rejected.row,
        "line": rejected.line,
        "column": rejected.column,
        "value": rejected.value,
        "reason": rejected.reason,
    }


def _pairs(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(value)) for key, value in data.items())


def _note_from(data: Mapping[str, Any]) -> SaleNote:
    return SaleNote(
        transaction_id=data["transaction_id"],
        date=data["date"],
        amount=Decimal(data["amount"]),
        status=data["status"],
        reason=data["reason"],
    )


def _line_from(data: Mapping[str, Any]) -> Line:
    return Line(
        id=data["id"],
        component=data["component"],
        kind=data["kind"],
        pay_code=data["pay_code"],
        item=data["item"],
        label=data["label"],
        amount=Decimal(data["amount"]),
        rule=RuleRef(**data["rule"]),
        formula=data["formula"],
        transactions=tuple(data["transactions"]),
        details=_pairs(data["details"]),
    )


def _statement_from(data: Mapping[str, Any]) -> Statement:
    return Statement(
        employee_id=data["employee_id"],
        name=data["name"],
        role=data["role"],
        currency=data["currency"],
        total=Decimal(data["total"]),
        lines=tuple(_line_from(item) for item in data["lines"]),
        held=tuple(_note_from(item) for item in data["held"]),
        excluded=tuple(_note_from(item) for item in data["excluded"]),
        to_date=tuple(
            (str(component), _pairs(figures)) for component, figures in data["to_date"].items()
        ),
    )
