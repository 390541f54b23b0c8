"""The canonical JSON writer (orjson, a statement at a time) gives json.dumps's exact bytes.

``PeriodResult.to_json`` was ``json.dumps(to_dict(), sort_keys=True, indent=2,
ensure_ascii=False) + "\\n"``; it is now written by orjson and spliced together statement by
statement. Every stored run and golden file depends on those bytes staying the same, so both
writers are compared here on arbitrary data and on results whose text holds what could upset
the splice (newlines, NULs, the placeholder itself, non-BMP characters).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compcalc.statements import model
from compcalc.statements.model import (
    Ids,
    Line,
    PeriodResult,
    Rejected,
    RuleRef,
    SaleNote,
    Statement,
    Texts,
    _plain,
    canonical_json,
)


def _stdlib(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, default=_plain) + "\n"


def _before(result: PeriodResult) -> str:
    """``to_json`` as it was written before orjson: ``dataclasses.asdict`` and ``json.dumps``."""

    def statement(s: Statement) -> dict[str, Any]:
        return {
            "employee_id": s.employee_id, "name": s.name, "role": s.role,
            "currency": s.currency, "total": s.total,
            "lines": [
                {
                    "id": line.id, "component": line.component, "kind": line.kind,
                    "pay_code": line.pay_code, "item": line.item, "label": line.label,
                    "amount": line.amount, "rule": asdict(line.rule), "formula": line.formula,
                    "transactions": list(line.transactions), "details": dict(line.details),
                }
                for line in s.lines
            ],
            "held": [asdict(note) for note in s.held],
            "excluded": [asdict(note) for note in s.excluded],
            "to_date": {component: dict(figures) for component, figures in s.to_date},
        }  # fmt: skip

    return _stdlib({
        **result.provenance(),
        "statements": [statement(s) for s in result.statements],
        "rejected": [asdict(r) for r in result.rejected],
        "summary": dict(result.summary),
    })  # fmt: skip


text = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["\x00statements\x00", '\n  "statements": ', "é", "\U0001f600", "\\", '"', "\x1f\x7f"]
)
money = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)
plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | text | money,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(plain)
def test_canonical_json_is_json_dumps(data: Any) -> None:
    assert canonical_json(data) == _stdlib(data)


class _ArrowIds:
    """Every "arrow" line's ids on one Arrow array, as the engine shares the ledger's: the
    array sliced (an offset into its buffers), picked by the Texts (its ``at``: the ids are
    stored backwards) and each window picked again (the Ids' ``at``, shifted by one)."""

    def __init__(self, people: list[tuple[str, list[tuple[str, list[str], str]]]]) -> None:
        ids = [i for _, lines in people for _, own, how in lines if how == "arrow" for i in own]
        n = len(ids)
        stored = pa.array(["pad", "pad", *reversed(ids), "pad"], type=pa.large_string()).slice(1)
        self._texts = Texts(stored, at=np.arange(n, 0, -1))  # texts[k] is ids[k]
        self._order = np.arange(-1, n)  # window k's ids at self._order[1 + k ...]
        self._next = 0

    def window(self, count: int) -> Ids:
        start = 1 + self._next
        self._next += count
        return Ids(self._texts, start, start + count, at=self._order)


def _line(n: int, label: str, ids: list[str], shared: str, arrow: _ArrowIds | None = None) -> Line:
    transactions: Any = tuple(ids)
    if shared == "objects":  # a window on a shared array
        transactions = Ids(np.array(["pad", *ids], dtype=object), 1, len(ids) + 1)
    elif shared == "arrow":  # a window on the run's Arrow ids, shared by every such line
        assert arrow is not None
        transactions = arrow.window(len(ids))
    return Line(
        id=f"commission.{n}",
        component="commission",
        kind="commission",
        pay_code="commission",
        item="new_credit",
        label=label,
        amount=Decimal(n) / 100,
        rule=RuleRef("am", "1", "commission", "ab" * 32),
        formula=f"{label} x 5% = {n}",
        transactions=transactions,
        details=(("rate", "5%"), (label, label)),
    )


statements = st.lists(
    st.tuples(
        text,
        st.lists(
            st.tuples(
                text, st.lists(text, max_size=3), st.sampled_from(["tuple", "objects", "arrow"])
            ),
            max_size=3,
        ),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(statements, st.lists(text, max_size=2), text)
def test_result_json_is_json_dumps_of_its_dict(
    people: list[tuple[str, list[tuple[str, list[str], str]]]], reasons: list[str], name: str
) -> None:
    arrow = _ArrowIds(people)
    result = PeriodResult(
        period="2026-10",
        period_start="2026-10-01",
        period_end="2026-10-31",
        ruleset_id=name,
        ruleset_version="1",
        ruleset_sha256="a" * 64,
        roster_sha256="b" * 64,
        ledger_sha256="c" * 64,
        engine_version="0.1.0",
        currency="USD",
        statements=tuple(
            Statement(
                employee_id=f"E{k}",
                name=who,
                role="kam",
                currency="USD",
                total=Decimal("1.50"),
                lines=tuple(_line(n, *line, arrow) for n, line in enumerate(lines)),
                held=(SaleNote("T1", "2026-10-02", Decimal("3.00"), "held", who),),
                to_date=(("commission", (("due", "1.50"), (who, who))),),
            )
            for k, (who, lines) in enumerate(people)
        ),
        rejected=tuple(Rejected("l.csv", 3, 4, "amount", why, why) for why in reasons),
        summary=(("total", "1.50"), (name, name)),
    )
    expected = _stdlib(result.to_dict())
    assert expected == _before(result)  # to_dict keeps the fields and values it had
    assert result.to_json() == expected
    assert result.to_json_bytes() == expected.encode()
    try:  # the pieces a writer streams: the same bytes, a statement at a time
        pieces: list[bytes] | None = list(result.json_pieces())
    except orjson.JSONEncodeError:  # text orjson refuses: to_json_bytes took the slow way
        pieces = None
    if pieces is not None:
        assert b"".join(pieces) == expected.encode()
        assert len(pieces) == (len(result.statements) + 2 if result.statements else 1)
        # the statements' transaction ids made JSON text a batch of statements at a time
        with patch.object(model, "_JSON_BATCH", 2):
            assert b"".join(result.json_pieces()) == expected.encode()
        with patch.object(model, "_JSON_BATCH_IDS", 2):  # a batch closed by its ids
            assert b"".join(result.json_pieces()) == expected.encode()
    assert PeriodResult.from_dict(json.loads(expected)).to_json() == expected


def test_empty_result_by_hand() -> None:
    result = PeriodResult(
        "2026-10", "2026-10-01", "2026-10-31", "r", "1", "a", "b", "c", "0", "USD", ()
    )
    assert '\n  "statements": [],\n' in result.to_json()
    assert result.to_json() == _stdlib(result.to_dict())


def test_what_orjson_refuses_goes_through_json_dumps() -> None:
    for data in ({"a": 2**64}, {1: "x", 2: None}, {"a": "\ud800"}):
        assert canonical_json(data) == _stdlib(data)
    odd = PeriodResult(
        "2026-10", "2026-10-01", "2026-10-31", "\ud800", "1", "a", "b", "c", "0", "USD", ()
    )
    # No UTF-8 has a lone surrogate: it is written as its JSON escape, the same text
    assert json.loads(odd.to_json()) == json.loads(_stdlib(odd.to_dict()))
    assert odd.to_json_bytes() == odd.to_json().encode()
    assert b'"\\ud800"' in odd.to_json_bytes()


def test_to_dict_gives_each_line_its_own_rule() -> None:
    line = _line(1, "x", ["T1"], "tuple")
    statement = Statement("E1", "A", "kam", "USD", Decimal("0.01"), (line, line))
    result = PeriodResult(
        "2026-10", "2026-10-01", "2026-10-31", "r", "1", "a", "b", "c", "0", "USD", (statement,)
    )
    lines = result.to_dict()["statements"][0]["lines"]
    lines[0]["rule"]["component"] = "changed"
    assert lines[1]["rule"]["component"] == "commission"


def test_the_command_writes_the_slow_way_whole_when_a_piece_is_refused(tmp_path: Path) -> None:
    """compcalc run --out streams the JSON a statement at a time; a statement orjson refuses
    (a lone surrogate in a name, after the first piece was written) sends the whole file
    the slow way, never half of it, and leaves no temporary file."""
    from compcalc import cli

    line = _line(1, "x", ["T1"], "tuple")
    statement = Statement("E1", "A\ud800", "kam", "USD", Decimal("0.01"), (line,))
    result = PeriodResult(
        "2026-10", "2026-10-01", "2026-10-31", "r", "1", "a", "b", "c", "0", "USD", (statement,)
    )
    pieces = result.json_pieces()
    next(pieces)  # the part before the statements is made ...
    with pytest.raises(orjson.JSONEncodeError):
        next(pieces)  # ... the statement is refused
    target = tmp_path / "out" / "result.json"
    cli._write_json(target, result, None)
    assert target.read_bytes() == result.to_json_bytes()
    assert json.loads(target.read_bytes()) == json.loads(_stdlib(result.to_dict()))
    assert [p.name for p in target.parent.iterdir()] == ["result.json"]


def test_ids_whose_bytes_are_not_utf8_are_refused_not_written() -> None:
    """Ids on an Arrow array that was never checked (not read by compcalc) and holds bytes
    that are not UTF-8 go the list way, which refuses them: never copied into the JSON."""
    cells = [b"T1", b"T\xff2"]
    offsets = np.cumsum([0, *map(len, cells)], dtype=np.int64)
    buffers = [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(cells))]
    texts = Texts(pa.Array.from_buffers(pa.large_string(), 2, buffers))
    line = dataclasses.replace(_line(1, "x", [], "tuple"), transactions=Ids(texts, 0, 2))
    statement = Statement("E1", "A", "kam", "USD", Decimal("0.01"), (line,))
    result = PeriodResult(
        "2026-10", "2026-10-01", "2026-10-31", "r", "1", "a", "b", "c", "0", "USD", (statement,)
    )
    with pytest.raises(UnicodeDecodeError):
        list(result.json_pieces())
