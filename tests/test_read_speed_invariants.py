"""The fast reading paths agree with the plain definitions they replace.

``parse_minor_units`` runs in Arrow kernels, ``canonical_order`` sorts integer codes and
``canonical_digest`` hashes Arrow buffers. Each is checked here against a slow, obvious version
written from its documented meaning: Python ``Decimal`` for amounts, pandas ``sort_values`` on
the text and numbers for the ledger order, Python's sort of row tuples and a byte string built
cell by cell for the digest.
"""

from __future__ import annotations

import concurrent.futures
import copy
import copyreg
import dataclasses
import hashlib
import itertools
import multiprocessing
import os
import pickle
import re
import threading
import traceback
import weakref
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from compcalc import load_rules, run_period
from compcalc.inputs import (
    PendingDigest,
    amounts,
    canonical_digest,
    check_ledger,
    common,
    parse_minor_units,
    read_ledger,
    read_roster,
)
from compcalc.inputs import ledger as ledger_module
from compcalc.inputs.common import digest_beside
from compcalc.inputs.ledger import (
    EVENTS,
    FRAME_COLUMNS,
    SHARE_COLUMN,
    _leading_sales,
    canonical_order,
    first_positions,
)
from generated import generated_tables

FLAGSHIP = Path(__file__).resolve().parents[1] / "rules" / "account_managers.yaml"

# ---------------------------------------------------------------------------------------------
# Amounts: exact, by example and against Decimal


def test_amounts_by_hand() -> None:
    text = pd.Series(["12.5", "-0.05", "000123", "0.00", "00.10", "999999999999999", "7"])
    units, reasons = parse_minor_units(text, np.array([2, 2, 2, 2, 3, 3, 0]))
    assert units.tolist() == [1250, -5, 12300, 0, 100, 999999999999999000, 7]
    assert reasons.isna().all()


def test_amount_limits_by_hand() -> None:
    text = pd.Series(["1234567890123456", "123456789012345", "0000000000000000001.5", "1.5"])
    units, reasons = parse_minor_units(text, np.array([2, 4, 2, 0]))
    assert units.tolist() == [0, 0, 150, 0]
    assert reasons.tolist() == [
        "is too large: 16 digits before the decimal point, at most 15 allowed",
        "is too large: 15 digits before the decimal point, at most 14 allowed",
        None,
        "has 1 decimal places; at most 0 allowed",
    ]


plain_amounts = st.from_regex(r"\A-?[0-9]{1,17}(\.[0-9]{1,5})?\Z")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list("0000123456789..--e, é\x00")), max_size=30),
        min_size=1,
        max_size=25,
    )
)
def test_amount_scans_in_numpy_and_arrow_agree(texts: list[str]) -> None:
    """Money text is scanned from its bytes in numpy (texts up to 24 bytes) or in Arrow's
    string kernels (longer ones): the two must read every text the same way, and a column
    holding both kinds must give each row what its own kind gives."""
    cells = pa.array(texts, type=pa.large_string())
    length = np.asarray(pc.binary_length(cells), dtype=np.int64)
    by_bytes = amounts._scan_bytes(cells, length)
    by_text = amounts._scan_text(cells)
    exact = by_text.plain & (by_text.whole_len + by_text.frac_len <= 18)
    for name in ("plain", "negative", "whole_len", "frac_len"):
        assert getattr(by_bytes, name).tolist() == getattr(by_text, name).tolist(), name
    assert by_bytes.value[exact].tolist() == by_text.value[exact].tolist()
    mixed = amounts._scan(cells)
    assert mixed.plain.tolist() == by_text.plain.tolist()
    assert mixed.value[exact].tolist() == by_text.value[exact].tolist()
    assert mixed.whole_len.tolist() == by_text.whole_len.tolist()
    assert mixed.frac_len.tolist() == by_text.frac_len.tolist()


def test_long_and_short_amounts_in_one_column() -> None:
    long_zeros = "0" * 30 + "12.50"  # plain, past the byte scan's width: read by Arrow
    text = pd.Series(["12.5", long_zeros, "-" + long_zeros, "1" * 40, "x" * 30])
    units, reasons = parse_minor_units(text, 2)
    assert units.tolist() == [1250, 1250, -1250, 0, 0]
    assert reasons.tolist()[:3] == [None, None, None]
    assert reasons[3] == "is too large: 40 digits before the decimal point, at most 15 allowed"
    assert reasons[4].startswith("is not a plain decimal number")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(plain_amounts, st.integers(0, 4)), min_size=1, max_size=30))
def test_amounts_match_decimal(cases: list[tuple[str, int]]) -> None:
    text = pd.Series([t for t, _ in cases])
    digits = np.array([d for _, d in cases], dtype=np.int64)
    units, reasons = parse_minor_units(text, digits)
    for (t, d), unit, reason in zip(cases, units.tolist(), reasons.tolist(), strict=True):
        value = Decimal(t)
        whole, _, fraction = t.lstrip("-").partition(".")
        fits = len(fraction) <= d and len(whole.lstrip("0")) <= min(15, 18 - d)
        assert (reason is None) == fits, (t, d, reason)
        assert unit == (int(value.scaleb(d)) if fits else 0), (t, d)


def money_cells(alphabet: str, longest: int, most: int) -> st.SearchStrategy[list[str]]:
    """Columns of money text: plain amounts, empty cells and other texts of ``alphabet``."""
    other = st.text(alphabet=st.sampled_from(list(alphabet)), max_size=longest)
    return st.lists(st.one_of(plain_amounts, st.just(""), other), min_size=1, max_size=most)


@settings(max_examples=400, deadline=None)
@given(money_cells("0012..-+e 9", 19, 20), st.integers(0, 3))
@example(["1.230"], 2)  # Arrow's cast takes it (no digit lost); three decimals all the same
@example(["1" * 16, "", "000000000000000000001"], 2)  # 16 integer digits; leading zeros free
@example(["7", "1.0"], 0)
def test_amounts_read_quickly_as_the_scan_reads_them(texts: list[str], digits: int) -> None:
    """A column whose texts are all plain (or empty) goes through Arrow's regular expression
    and decimal cast instead of the byte scan: same units, same reasons, and taken whenever
    the scan finds nothing wrong but empty cells."""
    column = pd.Series(texts, dtype="str")
    quick = amounts._all_plain(amounts._arrow(common.strip_text(column)), digits)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(amounts, "_SCAN_BATCH", 3)  # batches in two threads, a bad one anywhere
        batched = amounts._all_plain(amounts._arrow(common.strip_text(column)), digits)
    assert (batched is None) == (quick is None)
    if batched is not None and quick is not None:
        assert [a.tolist() for a in batched] == [a.tolist() for a in quick]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(amounts, "_QUICK_DIGITS", -1)  # the scan alone
        units, reasons = parse_minor_units(column, digits)
    all_fine = all(r is None or r == "amount is empty" for r in reasons.tolist())
    assert (quick is not None) == all_fine, (texts, reasons.tolist())
    got_units, got_reasons = parse_minor_units(column, digits)
    assert got_units.tolist() == units.tolist()
    assert got_reasons.tolist() == reasons.tolist()
    # The ledger's own call: the same reasons, missing rather than None (as categories when
    # quick, so no Python object a row)
    own_units, own_reasons = amounts.minor_units_and_reasons(column, digits)
    assert own_units.tolist() == units.tolist()
    assert [None if pd.isna(r) else r for r in own_reasons.tolist()] == reasons.tolist()
    assert isinstance(own_reasons.dtype, pd.CategoricalDtype) == (quick is not None)


@settings(max_examples=500, deadline=None)
@given(money_cells("0012..-+/e 9é", 8, 12), st.integers(0, 3), st.integers(0, 4))
@example(["-0.05", "", "12.5", "007"], 2, 0)
@example(["1-2"], 2, 0)  # a minus inside a text, as many minus signs as texts opening with one
@example(["-1", "1-"], 2, 0)
@example(["1.2.3", "4"], 3, 0)  # two points in one text, as many points as texts with one
@example(["5."], 2, 0)  # no digit after the point
@example(["-.5"], 2, 0)  # none before it
@example(["1/2"], 2, 0)
def test_money_text_surely_plain_only_when_the_expression_says_so(
    texts: list[str], digits: int, skip: int
) -> None:
    """The bytes' check (NumPy) takes a batch only when the regular expression would: every
    text plain or empty with at most ``digits`` decimals and 15 integer digits (leading zeros
    counted), and gives the same empty cells; on a slice of a longer array too."""
    cells = pa.array(["9.99"] * skip + texts, type=pa.string()).slice(skip)
    found = amounts._surely_plain(cells, digits, 15)
    fraction = rf"(\.[0-9]{{1,{digits}}})?" if digits else ""
    plain = [t == "" or re.fullmatch(rf"-?[0-9]{{1,15}}{fraction}", t) for t in texts]
    if found is not None:
        assert all(plain), texts
        assert found.tolist() == [t == "" for t in texts]
    elif all(plain):  # sure of every such batch
        pytest.fail(f"plain texts not taken: {texts}")


# ---------------------------------------------------------------------------------------------
# Canonical order: the same as sorting the text and numbers directly


def _reference_order(frame: pd.DataFrame) -> pd.DataFrame:
    keyed = frame.assign(_rank=pd.Categorical(frame["event"], categories=EVENTS).codes)
    shared = [SHARE_COLUMN] if SHARE_COLUMN in frame.columns else []
    keys = [
        "transaction_id", "date", "_rank", "amount_minor", "margin_minor", "employee_id",
        "currency", *shared, "source", "row",
    ]  # fmt: skip
    ordered = keyed.sort_values(keys, kind="stable", na_position="last", ignore_index=True)
    return ordered.drop(columns="_rank")[[*FRAME_COLUMNS, *shared]]


ids = st.sampled_from(["T1", "T10", "T2", "t1", "Ä", "T1 ", "", "Z\u00e9", "\U0001f600"])
ledger_rows = st.tuples(
    ids,  # transaction
    st.sampled_from(["E1", "E2", "e1", "E10"]),
    st.integers(0, 3),  # days after 2026-10-01
    st.sampled_from(EVENTS),
    st.integers(-(2**62), 2**62) | st.integers(-3, 3),
    st.none() | st.integers(-(10**17), 10**17) | st.integers(-2, 2),
    st.sampled_from(["USD", "EUR", "JPY"]),
    st.none() | st.integers(1, 1_000_000),  # share
    st.sampled_from(["a.csv", "b.csv"]),
)


def _frame(rows: list[tuple[object, ...]], with_share: bool) -> pd.DataFrame:
    tid, emp, day, event, amount, margin, currency, share, source = zip(*rows, strict=True)
    frame = pd.DataFrame({
        "source": pd.Series(source, dtype="str"),
        "row": np.arange(len(rows), 0, -1, dtype=np.int64),
        "line": pd.array([None] * len(rows), dtype="Int64"),
        "transaction_id": pd.Series(tid, dtype="str"),
        "employee_id": pd.Series(emp, dtype="str"),
        "date": (np.datetime64("2026-10-01", "s") + np.array(day) * np.timedelta64(1, "D")),
        "event": pd.Series(event, dtype="str"),
        "amount_minor": np.array(amount, dtype=np.int64),
        "margin_minor": pd.array(margin, dtype="Int64"),
        "currency": pd.Series(currency, dtype="str"),
    })  # fmt: skip
    if with_share:
        frame[SHARE_COLUMN] = pd.array(share, dtype="Int64")
    return frame


@settings(max_examples=200, deadline=None)
@given(st.lists(ledger_rows, min_size=1, max_size=40), st.booleans())
def test_canonical_order_matches_sorting_the_values(
    rows: list[tuple[object, ...]], with_share: bool
) -> None:
    frame = _frame(rows, with_share)
    pd.testing.assert_frame_equal(canonical_order(frame), _reference_order(frame))
    # Consuming the frame (its columns taken two at a time, each let go once sorted) gives
    # the same frame
    consumed = canonical_order(frame.copy(), consume=True)
    pd.testing.assert_frame_equal(consumed, _reference_order(frame))
    # Given the transactions' ranks (as read_ledger does), whether the rows are in order
    # already is first seen from them: the same frame, whether the rows come in transaction
    # order with the ties in any order (reversed here) or in order throughout
    by_transaction = _reference_order(frame).iloc[::-1]
    by_transaction = by_transaction.iloc[
        np.argsort(common.text_rank(by_transaction["transaction_id"]), kind="stable")
    ].reset_index(drop=True)
    for rows_given in (frame, by_transaction, _reference_order(frame)):
        first = common.text_rank(rows_given["transaction_id"])
        ordered = canonical_order(rows_given.copy(), consume=True, first=first)
        pd.testing.assert_frame_equal(ordered, _reference_order(frame))
    # The file name as read_ledger keeps it, a category: ordered by its text whatever the
    # categories' own order (sorted ones are sorted by their codes, others by text). Each row
    # comes from the other file too, so rows tie on everything but their file.
    other = {"a.csv": "b.csv", "b.csv": "a.csv"}
    frame = _frame([*rows, *((*row[:-1], other[str(row[-1])]) for row in rows)], with_share)
    for reverse in (False, True):
        names = sorted(set(frame["source"]), reverse=reverse)
        categorical = frame.assign(source=pd.Categorical(frame["source"], categories=names))
        ordered = canonical_order(categorical)
        ordered["source"] = ordered["source"].astype("str")
        pd.testing.assert_frame_equal(ordered, _reference_order(frame))


def test_canonical_order_by_hand() -> None:
    rows = [
        ("T2", "E1", 0, "sale", 500, None, "USD", None, "a.csv"),
        ("T10", "E1", 1, "refund", 100, None, "USD", None, "a.csv"),
        ("T10", "E1", 0, "sale", 300, 7, "USD", None, "a.csv"),
        ("T10", "E1", 1, "dispute_opened", 0, None, "USD", None, "a.csv"),
    ]
    ordered = canonical_order(_frame(rows, with_share=False))
    # "T10" < "T2" as text; on T10's second day the dispute ranks before the refund.
    assert ordered["transaction_id"].tolist() == ["T10", "T10", "T10", "T2"]
    assert ordered["event"].tolist() == ["sale", "dispute_opened", "refund", "sale"]
    assert ordered["row"].tolist() == [2, 1, 3, 4]


def test_canonical_order_of_no_rows() -> None:
    frame = _frame([("T1", "E1", 0, "sale", 1, None, "USD", None, "a.csv")], False).iloc[:0]
    assert list(canonical_order(frame).columns) == list(FRAME_COLUMNS)
    assert canonical_order(frame).empty


# ---------------------------------------------------------------------------------------------
# Digest: the documented serialisation, hashed in Python


def _reference_digest(cells: pd.DataFrame, key: str | None = None) -> str:
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("\x1f", "\\x1f").replace("\x1e", "\\x1e")

    names = sorted(str(c) for c in cells.columns)
    header = "\x1f".join(escape(name) for name in names)
    rows = sorted(
        ((str(cells[key].iloc[i]),) if key else ())
        + tuple(str(cells[name].iloc[i]) for name in names)
        for i in range(len(cells))
    )
    first = 1 if key else 0
    out = f"{len(cells)}\x1e{header}\x1e".encode()
    for column in range(len(names) if rows else 0):
        cells_bytes = [row[first + column].encode("utf-8") for row in rows]
        out += b"".join(len(cell).to_bytes(8, "little") for cell in cells_bytes)
        out += b"".join(cells_bytes)
    return hashlib.sha256(out).hexdigest()


cell_text = st.text(alphabet=st.sampled_from("ab1\\\x1e\x1f\x01 é\U0001f600"), max_size=4)
tied_text = st.sampled_from(["", "1", "é"]) | cell_text  # often equal: ties to break


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(tied_text, tied_text, tied_text), max_size=12),
    st.sampled_from([1, 2, 5, 1 << 20]),
    st.sampled_from([None, "b", "c"]),
)
def test_digest_matches_the_serialisation(
    rows: list[tuple[str, str, str]], batch: int, key: str | None
) -> None:
    # With a key (the ledger's transaction id): rows by the key first, the other cells only
    # among equal keys, a column at a time. Rows are hashed a batch at a time; where the
    # batches end never shows.
    cells = pd.DataFrame(
        {"b": pd.Series([r[0] for r in rows], dtype="str"),
         "a": pd.Series([r[1] for r in rows], dtype="str"),
         "c": pd.Series([r[2] for r in rows], dtype="str")}
    )  # fmt: skip
    before = common._DIGEST_BATCH, common._DIGEST_BESIDE
    common._DIGEST_BATCH = batch
    try:
        digest = canonical_digest(cells, key=key)
        assert digest == _reference_digest(cells, key=key)
        shuffled = cells.iloc[::-1].reset_index(drop=True)
        assert canonical_digest(shuffled, key=key) == digest
        common._DIGEST_BESIDE = 0  # made in a thread, as for a large table
        assert digest_beside(shuffled, key=key).result() == digest
        # Columns in several Arrow chunks (as a file's row groups are read)
        chunked = pd.DataFrame({
            name: pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(
                [pa.array(column.tolist()[:1], pa.large_string()),
                 pa.array(column.tolist()[1:], pa.large_string())]
            )))
            for name, column in cells.items()
        })  # fmt: skip
        assert digest_beside(chunked, key=key).result() == digest
    finally:
        common._DIGEST_BATCH, common._DIGEST_BESIDE = before


def test_an_error_making_the_digest_in_its_thread_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fails(*args: object) -> str:
        raise MemoryError("no room to hash")

    monkeypatch.setattr(common, "_DIGEST_BESIDE", 0)
    monkeypatch.setattr(common, "_hashed", fails)
    cells = pd.DataFrame({"x": pd.Series(["22", "1"], dtype="str")})
    digest = digest_beside(cells)
    with pytest.raises(MemoryError, match="no room"):
        digest.result()


@pytest.mark.parametrize("beside", [0, 1 << 16])  # made in the thread, or here
def test_the_key_order_made_with_the_digest_is_text_order_and_its_error_reaches_both(
    monkeypatch: pytest.MonkeyPatch, beside: int
) -> None:
    """A read table's key order (made with the digest) is text_order's; when it cannot be
    made, both the digest and the caller waiting for the key order hear why (never a wait
    for ever)."""
    monkeypatch.setattr(common, "_DIGEST_BESIDE", beside)
    cells = pd.DataFrame({"k": pd.Series(["b", "a", "b", "é"], dtype="str"),
                          "x": pd.Series(["1", "2", "0", "3"], dtype="str")})  # fmt: skip
    expected_digest = canonical_digest(cells, key="k")
    expected_rank, expected_order = common.text_order(cells["k"])
    digest, key_sorted = common._beside(cells, "k", None, None)
    assert key_sorted is not None
    rank, order = key_sorted.result()
    assert rank.tolist() == expected_rank.tolist() and order.tolist() == expected_order.tolist()
    assert digest.result() == expected_digest

    def fails(*args: object) -> object:
        raise MemoryError("no room to sort")

    monkeypatch.setattr(common, "text_order", fails)
    digest, key_sorted = common._beside(cells, "k", None, None)
    assert key_sorted is not None
    with pytest.raises(MemoryError, match="no room to sort"):
        key_sorted.result(timeout=60)  # a regression fails here, never hangs
    with pytest.raises(MemoryError, match="no room to sort"):
        digest.result(timeout=60)


def test_the_digests_thread_lets_go_of_what_it_has_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest's thread hashes while the read checks and sorts the rows beside it, so it
    must not hold what it is done with: the key's order (once the caller has let go of it
    too) is gone when the hashing starts, and a column is gone once hashed, not when the task
    ends (the executor's work item holds its arguments until then, and the rows' order was
    made from a list of the columns)."""
    monkeypatch.setattr(common, "_DIGEST_BESIDE", 0)  # in the thread, as for a large table
    cells = pd.DataFrame({"a": pd.Series(["1", "2", "0"], dtype="str"),
                          "k": pd.Series(["b", "a", "b"], dtype="str")})  # fmt: skip
    # coded, so the digest's column is its own (not the frame's): freed only by the thread
    cells = cells.astype({"a": pd.CategoricalDtype(["0", "1", "2"])})
    expected = canonical_digest(cells, key="k")
    key_order: list[weakref.ref[Any]] = []
    real_text_order, real_row_order, real_hashed, real_lengths = (
        common.text_order, common._row_order, common._hashed, common._lengths
    )
    caller_done = threading.Event()

    def text_order(column: Any) -> Any:
        rank, order = real_text_order(column)
        key_order.extend([weakref.ref(rank), weakref.ref(order)])
        return rank, order

    def row_order(*args: Any) -> Any:
        assert caller_done.wait(60)  # the caller has the key's order and has let go of it
        return real_row_order(*args)

    seen: dict[str, list[bool]] = {"key order": [], "column a": []}
    coded: list[weakref.ref[Any]] = []

    def hashed(n: int, names: list[str], columns: list[Any], order: Any) -> str:
        seen["key order"].extend(ref() is not None for ref in key_order)
        coded.append(weakref.ref(columns[0]))
        return real_hashed(n, names, columns, order)

    def lengths(column: Any, order: Any) -> Any:
        if coded and coded[0]() is not column:  # the key's column: "a" is hashed
            seen["column a"].append(coded[0]() is not None)
        return real_lengths(column, order)

    monkeypatch.setattr(common, "text_order", text_order)
    monkeypatch.setattr(common, "_row_order", row_order)
    monkeypatch.setattr(common, "_hashed", hashed)
    monkeypatch.setattr(common, "_lengths", lengths)
    digest, key_sorted = common._beside(cells, "k", None, None)
    assert key_sorted is not None
    key_sorted.result(timeout=60)
    del key_sorted
    caller_done.set()
    assert digest.result(timeout=60) == expected
    assert seen == {"key order": [False, False], "column a": [False]}


@pytest.fixture
def small_inputs(tmp_path: Path) -> tuple[Path, Any]:
    roster_table, ledger_table = generated_tables(20, 400)
    pq.write_table(roster_table, tmp_path / "roster.parquet")
    pq.write_table(ledger_table, tmp_path / "ledger.parquet")
    return tmp_path / "ledger.parquet", read_roster(tmp_path / "roster.parquet")


def _gated_hashing(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, fail: bool = False
) -> threading.Event:
    """Digests made in their thread (as a large ledger's), each hashing only once the event
    returned is set (at the test's end at the latest): read_ledger returns with its digest
    still in the making."""
    monkeypatch.setattr(common, "_DIGEST_BESIDE", 0)
    real_hashed = common._hashed
    go_on = threading.Event()
    request.addfinalizer(go_on.set)  # no thread left waiting when a test fails early

    def hashed(*args: Any) -> str:
        assert go_on.wait(60)
        if fail:
            raise MemoryError("no room to hash")
        return real_hashed(*args)

    monkeypatch.setattr(common, "_hashed", hashed)
    return go_on


def test_a_ledger_handed_over_before_its_digest_is_made(
    small_inputs: tuple[Path, Any],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """read_ledger hands a large ledger over while its digest is still being made: the frame
    is the same, check_ledger does not wait for it, and ``sha256`` and the run's
    ``ledger_sha256`` are the digest of the file, kept as text once read."""
    path, roster = small_inputs
    here = read_ledger(path)  # a small ledger's digest: made here
    assert isinstance(here.digest, str)
    go_on = _gated_hashing(monkeypatch, request)
    beside = read_ledger(path)
    assert isinstance(beside.digest, PendingDigest)
    pd.testing.assert_frame_equal(beside.frame, here.frame)
    checked = check_ledger(beside, roster)
    go_on.set()
    result = run_period(load_rules(FLAGSHIP), roster, beside, "2026-12")
    assert beside.sha256 == checked.sha256 == result.ledger_sha256 == here.sha256
    assert beside.digest == here.sha256  # kept as text


def test_a_pending_digest_travels_as_its_text(
    small_inputs: tuple[Path, Any],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """A ledger whose digest is in the making pickles and copies as one holding the text (a
    future holds a lock, which neither can copy)."""
    path, _ = small_inputs
    expected = read_ledger(path).sha256
    go_on = _gated_hashing(monkeypatch, request)
    ledger = read_ledger(path)
    assert isinstance(ledger.digest, PendingDigest)
    go_on.set()
    assert pickle.loads(pickle.dumps(ledger)).digest == expected
    assert copy.deepcopy(ledger).digest == expected
    assert dataclasses.replace(ledger, source="x").sha256 == expected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_process_forked_while_the_digest_is_made_gets_it(
    small_inputs: tuple[Path, Any],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """A fork copies the digest's future but not its thread: the fork waits for the thread
    first, so the child has the digest instead of waiting for ever."""
    path, _ = small_inputs
    expected = read_ledger(path).sha256
    go_on = _gated_hashing(monkeypatch, request)
    ledger = read_ledger(path)
    assert isinstance(ledger.digest, PendingDigest)
    threading.Timer(0.5, go_on.set).start()  # the hashing goes on while the fork waits
    receive, send = multiprocessing.Pipe(duplex=False)

    def child() -> None:
        send.send(ledger.sha256)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(60)
    if process.is_alive():
        process.kill()
    assert process.exitcode == 0
    assert receive.recv() == expected


@pytest.mark.parametrize("when", ["while the run goes on", "before the read ends"])
def test_an_error_making_a_handed_over_digest_is_raised_where_it_is_read(
    small_inputs: tuple[Path, Any],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    when: str,
) -> None:
    """Whether the digest's thread fails before read_ledger returns or after, read_ledger
    returns and the error is raised where the digest is read (``sha256``, the run), with where
    it happened told in a note: its traceback's frames (holding the unhashed columns) are not
    kept."""
    path, roster = small_inputs
    go_on = _gated_hashing(monkeypatch, request, fail=True)
    if when == "before the read ends":
        go_on.set()
        real = ledger_module.made_or_pending

        def after_the_thread(digest: Any) -> Any:
            concurrent.futures.wait([digest])
            return real(digest)

        monkeypatch.setattr(ledger_module, "made_or_pending", after_the_thread)
    ledger = read_ledger(path)  # never raises for its digest
    go_on.set()
    with pytest.raises(MemoryError, match="no room to hash"):
        run_period(load_rules(FLAGSHIP), roster, ledger, "2026-12")
    raised = []
    for reader in range(2):
        with pytest.raises(MemoryError, match="no room to hash") as caught:
            ledger.sha256  # noqa: B018
        raised.append(caught.value)
        caught.value.add_note(f"seen by reader {reader}")  # the reader's own, not the next's
    assert not any("reader 0" in note for note in raised[1].__notes__)
    kept = raised[0].__cause__  # the thread's own, kept in its future
    assert kept is raised[1].__cause__ and raised[0] is not raised[1]
    for error in (kept, *raised):
        frames = [frame.f_code.co_name for frame, _ in traceback.walk_tb(error.__traceback__)]
        assert "_hashed" not in frames and "digest" not in frames
        # the kept one does not grow with its readers' frames (a run's, sha256's)
        assert error is not kept or not {"finish", "run_period", "sha256"} & set(frames)
        assert any("compcalc's digest, made in its thread" in note for note in error.__notes__)


def test_a_small_tables_digest_error_keeps_no_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small table's digest is made here, but its error too waits to be read (read_ledger
    hands it over as pending): its traceback's frames, which hold the unhashed columns, are
    told in a note and dropped, as the thread's are."""

    def fails(*args: object) -> str:
        raise MemoryError("no room to hash")

    monkeypatch.setattr(common, "_hashed", fails)
    cells = pd.DataFrame({"x": pd.Series(["22", "1"], dtype="str")})
    digest, _ = common._beside(cells, None, None, None)
    error = digest.exception()
    assert isinstance(error, MemoryError)
    assert error.__traceback__ is None
    assert any("compcalc's digest, made here" in note for note in error.__notes__)


def test_a_fresh_raise_of_an_error_whose_init_takes_other_arguments() -> None:
    """A kept error is raised as a copy caused by it; an exception whose ``__init__`` does not
    take back its own ``args`` is copied without calling it."""

    class Odd(Exception):
        def __init__(self, path: str, why: str) -> None:
            super().__init__(f"{path}: {why}")

    kept = Odd("ledger.parquet", "no room")
    kept.add_note("told")
    fresh = common._again(kept)
    assert type(fresh) is Odd and fresh is not kept
    assert str(fresh) == "ledger.parquet: no room" and fresh.__cause__ is kept
    assert fresh.__notes__ == ["told"] and fresh.__notes__ is not kept.__notes__
    errno_kept = FileNotFoundError(2, "No such file", "x.parquet")
    errno_fresh = common._again(errno_kept)
    assert (errno_fresh.errno, errno_fresh.filename) == (2, "x.parquet")


def test_a_fresh_raise_has_its_own_notes_under_dasks_exception_pickling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dask's distributed installs tblib's reducer for every exception, whose copies share the
    original's ``__dict__``: a fresh raise still gets notes (and attributes) of its own."""
    pickling = pytest.importorskip("tblib.pickling_support")
    monkeypatch.setitem(copyreg.dispatch_table, MemoryError, pickling.pickle_exception)
    kept = MemoryError("no room to hash")
    kept.add_note("told")
    fresh = common._again(kept)
    fresh.add_note("seen by a reader")
    assert kept.__notes__ == ["told"] and fresh.__cause__ is kept


def test_keyed_digest_by_hand() -> None:
    # By the key x first: row (k=b, x=1) before (k=a, x=2), which sorts first by column k.
    cells = pd.DataFrame({"x": pd.Series(["1", "2"], dtype="str"), "k": ["b", "a"]})
    one = (1).to_bytes(8, "little")
    expected = hashlib.sha256(b"2\x1ek\x1fx\x1e" + one + one + b"ba" + one + one + b"12")
    assert canonical_digest(cells, key="x") == expected.hexdigest()
    assert canonical_digest(cells) != expected.hexdigest()


def test_digest_by_hand() -> None:
    cells = pd.DataFrame({"x": pd.Series(["22", "1"], dtype="str")})
    lengths = (1).to_bytes(8, "little") + (2).to_bytes(8, "little")
    expected = hashlib.sha256(b"2\x1ex\x1e" + lengths + b"122").hexdigest()
    assert canonical_digest(cells) == expected
    # A sliced table (Arrow buffers with an offset) hashes only its own rows.
    longer = pd.DataFrame({"x": pd.Series(["0", "22", "1", "9"], dtype="str")})
    assert canonical_digest(longer.iloc[1:3].reset_index(drop=True)) == expected


def test_amounts_scanned_in_batches_join_up(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = pd.Series(["12.5", "-0.05", "x", "", "000123", "1.999", "7", "0" * 30 + "1", "3."])
    whole = parse_minor_units(texts, 2)
    monkeypatch.setattr(amounts, "_SCAN_BATCH", 2)  # five batches, the last one short
    units, reasons = parse_minor_units(texts, 2)
    assert units.tolist() == whole[0].tolist() == [1250, -5, 0, 0, 12300, 0, 700, 100, 0]
    assert reasons.tolist() == whole[1].tolist()
    plain = texts[[0, 1, 3, 4, 6, 7]]  # all read by the quick path, in batches of two
    assert amounts._all_plain(amounts._arrow(plain), 2) is not None
    units, reasons = parse_minor_units(plain, 2)
    assert units.tolist() == [1250, -5, 0, 12300, 700, 100]
    assert reasons.tolist() == [None, None, "amount is empty", None, None, None]


# ---------------------------------------------------------------------------------------------
# Stripping cells: skipped only when nothing could be stripped

WHITE_OR_NOT = [" ", "\t", "\n", "\x1c", "\x1f", "\x7f", "\x85", "\xa0", "\u2003", "\u3000"]
CELL_TEXT = st.text(st.sampled_from([*"aZ9-.,_", *WHITE_OR_NOT, "é", "日"]), max_size=6)


@settings(max_examples=300)
@given(
    st.lists(CELL_TEXT, max_size=12), st.integers(0, 4), st.booleans(), st.sampled_from([1, 3])
)
def test_strip_text_is_str_strip(cells: list[str], cut: int, missing: bool, batch: int) -> None:
    """Whatever white space (ASCII, Unicode, controls) a cell starts or ends with, and however
    the column's Arrow data is chunked or sliced (and its ends looked at in batches), the
    cells come out as ``str.strip`` gives."""
    values: list[str | None] = [*cells, None] if missing else list(cells)
    whole = pa.chunked_array(
        [pa.array(values[:cut], pa.string()), pa.array(values[cut:], pa.string())]
        if cut < len(values) else [pa.array(values, pa.string())]
    )  # fmt: skip
    column = pd.Series(pd.arrays.ArrowStringArray(whole), dtype="str").iloc[cut // 2 :]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(common, "_ENDS_BATCH", batch)
        got, expected = common.strip_text(column), column.str.strip()
    assert got.tolist() == expected.tolist()
    assert str(got.dtype) == str(expected.dtype)


def test_strip_text_keeps_the_column_when_nothing_to_strip() -> None:
    column = pd.Series(["T1", "a b", "", "x"], dtype="str")
    assert common.strip_text(column) is column
    assert common.strip_text(pd.Series([" T1"], dtype="str")).tolist() == ["T1"]


@settings(max_examples=100)
@given(st.lists(CELL_TEXT, max_size=12), st.integers(0, 12), st.booleans())
def test_one_chunk_keeps_the_cells(cells: list[str], cut: int, missing: bool) -> None:
    """A column joined into one chunk has the same cells, nulls and dtype, and its index."""
    values: list[str | None] = [*cells, None] if missing else list(cells)
    parts = [pa.array(values[:cut], pa.string()), pa.array(values[cut:], pa.string())]
    column = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(parts)), dtype="str")
    column = column.iloc[len(values) // 3 :]  # a slice: its own index and offset
    got = common.one_chunk(column)
    assert got.isna().tolist() == column.isna().tolist()
    assert got.fillna("~").tolist() == column.fillna("~").tolist()
    assert got.index.equals(column.index) and str(got.dtype) == str(column.dtype)
    assert _chunks(got) <= 1


def test_a_parquet_ledger_of_many_row_groups_is_read_into_one_chunk(tmp_path: Path) -> None:
    n = 300
    table = pa.table({
        "transaction_id": [f"T{k:04d}" for k in range(n)],
        "employee_id": ["E1"] * n,
        "date": ["2026-10-01"] * n,
        "event": ["sale"] * n,
        "amount": ["1.00"] * n,
        "currency": ["USD"] * n,
    })  # fmt: skip
    pq.write_table(table, tmp_path / "ledger.parquet", row_group_size=7)
    assert pq.ParquetFile(tmp_path / "ledger.parquet").num_row_groups > 1
    ledger = read_ledger(tmp_path / "ledger.parquet")
    for name in ("transaction_id", "employee_id", "event", "currency"):
        assert _chunks(ledger.frame[name]) == 1, name


def _chunks(column: pd.Series) -> int:
    text = pa.array(column.array)
    return text.num_chunks if isinstance(text, pa.ChunkedArray) else 1


# ---------------------------------------------------------------------------------------------
# Dates: each distinct text parsed once, as parsing every row would


DATE_TEXT = st.sampled_from(
    ["2026-10-01", "2027-02-29", "2028-02-29", "2026-13-01", "26-10-01", "", "2026-10-1", "x"]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(DATE_TEXT, min_size=1, max_size=20))
def test_dates_parsed_once_per_text_match_every_row(texts: list[str]) -> None:
    # Over the threshold with a few distinct texts: the path that parses each text once.
    many = pd.Series(texts * (common._DISTINCT_FIRST // len(texts) + 1), dtype="str")
    dates, reasons = common.parse_dates(many, "date")
    shaped = many.str.fullmatch(common._ISO_DATE).to_numpy(dtype=bool)
    expected = pd.to_datetime(many.where(shaped, None), format="%Y-%m-%d", errors="coerce")
    assert dates.dtype == "datetime64[s]"
    assert dates.equals(expected.astype("datetime64[s]"))
    for text, reason in zip(many.tolist(), reasons.tolist(), strict=True):
        if text in ("", "2026-10-01", "2028-02-29"):
            assert pd.isna(reason)
        elif text in ("2027-02-29", "2026-13-01"):
            assert reason == "date is not a real calendar date"
        else:
            assert reason == "date must be a date written YYYY-MM-DD"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), DATE_TEXT), min_size=1, max_size=20))
def test_dates_parsed_once_per_text_keep_missing_cells_missing(texts: list[str | None]) -> None:
    """Missing cells among many rows (a value of their own in the distinct texts) come out
    as parsing the few rows directly gives them: NaT, no reason."""
    few = pd.Series(texts, dtype="str")
    repeat = common._DISTINCT_FIRST // len(texts) + 1
    dates, reasons = common.parse_dates(pd.Series(texts * repeat, dtype="str"), "date")
    each_dates, each_reasons = common.parse_dates(few, "date")
    assert dates.tolist() == each_dates.tolist() * repeat
    assert [r if isinstance(r, str) else None for r in reasons.tolist()] == [
        r if isinstance(r, str) else None for r in each_reasons.tolist()
    ] * repeat


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(*(st.integers(0, 2) for _ in range(4))), min_size=1, max_size=40),
)
def test_order_by_keys_is_one_stable_lexsort(cases: list[tuple[int, int, int, int]]) -> None:
    """Keys worked out only for the rows still tied give the order one stable lexsort of
    every key over all rows gives (each key may come as one or two integer arrays)."""
    table = np.array(cases, dtype=np.int64)
    rank = np.sort(table[:, 0], kind="stable")
    rows = np.argsort(table[:, 0], kind="stable")  # each row's number, in rank order
    keys = [
        lambda at: [table[at, 1]],
        lambda at: [table[at, 2], table[at, 3]],
        lambda at: [-at],  # the row number, backwards: every tie broken
    ]
    expected = np.lexsort([-rows, table[rows, 3], table[rows, 2], table[rows, 1], rank])
    assert common.order_by_keys(rows, rank, keys).tolist() == expected.tolist()


# Texts sharing starts of every length (prefixes, one word and more), non-ASCII, NUL, empty
ID_TEXT = st.text(alphabet=st.sampled_from(list("T00019ab\x00é\U0001f600")), max_size=20) | (
    st.sampled_from(["0123456789", "01234567", "0123456799", "0123456789é"])  # one word ties
    .flatmap(lambda head: st.text(alphabet="9a\x00", max_size=9).map(lambda tail: head + tail))
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ID_TEXT, max_size=30), st.sampled_from(["", "TX-2027-", "T0000000000000000"]))
# Texts of one length whose first words tie apart from each other (their later words read
# from where each one is, not from the texts that follow the first of them)
@example([f"{k:011d}" for k in range(30)] + ["abcdefghZ1", "bbbbbbbbbb", "abcdefghZ0"], "")
def test_text_order_is_a_stable_sort_of_the_code_points(texts: list[str], start: str) -> None:
    """``text_order`` ranks and orders texts as Python's stable sort of them does (code point
    order is UTF-8 byte order): equal ranks for equal texts only, input order among them,
    whatever the shared start, the words past it, NUL bytes and empty texts."""
    column = pd.Series([start + t for t in texts], dtype="str")
    before = common._PREFIX_BATCH
    try:
        common._PREFIX_BATCH = 3  # the shared start found a few texts at a time too
        small_batches = common.text_order(column)
    finally:
        common._PREFIX_BATCH = before
    rank, order = common.text_order(column)
    assert [a.tolist() for a in small_batches] == [rank.tolist(), order.tolist()]
    values = column.tolist()
    assert order.tolist() == sorted(range(len(values)), key=lambda i: values[i])
    ordered = [values[i] for i in order]
    for a, b, ra, rb in zip(ordered, ordered[1:], rank[order], rank[order][1:], strict=False):
        assert (ra < rb) if a != b else (ra == rb)
    assert rank.dtype == np.int64 and order.dtype == np.int64


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(CELL_TEXT, max_size=6), max_size=5),
    st.booleans(),
    st.integers(0, 3),
)
def test_joined_text_is_the_chunks_one_after_another(
    chunks: list[list[str]], large: bool, cut: int
) -> None:
    """Chunks of either offset width, empty ones and sliced ones (an offset into their
    buffers) join into one large_string chunk holding the same texts in the same order."""
    kind = pa.large_string() if large else pa.string()
    arrays = [pa.array(texts, kind) for texts in chunks]
    arrays = [a.slice(min(cut, len(a))) if k % 2 else a for k, a in enumerate(arrays)]
    column = pa.chunked_array(arrays, type=kind)
    joined = common.joined_text(column)
    assert joined.type == pa.large_string()
    assert joined.to_pylist() == column.to_pylist()


@pytest.mark.parametrize("cores", [{0}, {0, 1}])
@pytest.mark.parametrize("n", [0, 1, 2, 7])
def testin_two_threads_runs_each_task_once_and_raises_a_tasks_error(
    n: int, cores: set[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every task runs exactly once, on one core as on two; a failing task's error reaches
    the caller after the other thread's tasks are done."""
    monkeypatch.setattr(common.os, "sched_getaffinity", lambda _pid: cores)
    ran: list[int] = []
    common.in_two_threads(ran.append, n)
    assert sorted(ran) == list(range(n))

    def failing(i: int) -> None:
        ran.append(i)
        if i == n - 1:
            raise RuntimeError(f"task {i}")

    ran.clear()
    if n:
        with pytest.raises(RuntimeError, match=f"task {n - 1}"):
            common.in_two_threads(failing, n)
        assert sorted(ran) == list(range(n))  # the last task fails: all the others ran


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), CELL_TEXT), max_size=30), st.integers(1, 3))
def test_text_categories_are_pandas_sorted_factorize(cells: list[str | None], parts: int) -> None:
    """Arrow's hash table and a sort of the distinct texts give what pandas' sorted
    factorize gives, missing texts and however the column is chunked."""
    cut = [len(cells) * k // parts for k in range(parts + 1)]
    chunks = [pa.array(cells[a:b], pa.large_string()) for a, b in itertools.pairwise(cut)]
    column = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, pa.large_string())))
    got = common.text_categories(column)
    codes, uniques = pd.factorize(pd.Series(cells, dtype="str"), sort=True)
    assert got.cat.codes.tolist() == codes.tolist()
    assert got.cat.categories.tolist() == list(uniques)
    assert str(got.cat.categories.dtype) == "str"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 4)), max_size=40),
    st.integers(1, 12),
)
def test_ties_ordered_a_batch_of_runs_at_a_time_as_all_at_once(
    rows: list[tuple[int, int]], batch: int
) -> None:
    """rank_then_ties with ``batch`` (the digest's tied rows compared a few runs at a time,
    so their copied cells are held for one batch only) orders the rows as with every tied
    row at once, and as a lexicographic sort: runs of equal ranks are never cut."""
    rank = np.array([r for r, _ in rows], dtype=np.int64)
    second = np.array([s for _, s in rows], dtype=np.int64)
    def within(picked: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        assert not len(ranks) or not set(ranks[:1]) & set(seen_ranks)  # a run is never cut
        seen_ranks.update(ranks.tolist())
        return np.lexsort((picked, second[picked], ranks))

    seen_ranks: set[int] = set()
    batched = common.rank_then_ties(rank, within, batch=batch)
    expected = np.lexsort((np.arange(len(rows)), second, rank))
    assert batched.tolist() == expected.tolist()
    seen_ranks = set()
    assert common.rank_then_ties(rank, within).tolist() == expected.tolist()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["USD", "JPY", "", "usd", "XYZ", None]), min_size=1, max_size=30),
    st.sampled_from(["text", "categories", "categories with unused ones"]),
)
def test_currency_reasons_worded_once_per_text_match_every_row(
    texts: list[str | None], given_as: str
) -> None:
    """check_currencies words each distinct currency once and spreads it by the rows' codes:
    each row gets what its own text calls for, a missing cell no reason. Given as categories
    (as read_ledger gives them) it takes their codes as they are, unused categories too."""
    column = pd.Series(texts, dtype="str")
    if given_as != "text":
        extra = ["EUR", "ABC", "", "JPY"] if given_as.endswith("unused ones") else []
        kinds = sorted({t for t in texts if t is not None} | set(extra), reverse=True)
        column = column.astype(pd.CategoricalDtype(kinds))
    digits, reasons = common.check_currencies(column)
    expected_digits = {"USD": 2, "JPY": 0}
    for k, text in enumerate(texts):
        assert digits[k] == expected_digits.get(text, -1)  # type: ignore[arg-type]
        reason = reasons.iloc[k]
        if text in ("USD", "JPY") or text is None:
            assert pd.isna(reason)
        elif text == "":
            assert reason == "currency is empty"
        else:
            assert reason == f"unknown currency '{text}': expected an ISO 4217 code such as USD"
    problems = common.Problems(len(texts))
    problems.add_reasons(reasons, "currency")
    found = problems.frame()
    assert sorted(found["pos"].tolist()) == [
        k for k, t in enumerate(texts) if t not in ("USD", "JPY") and t is not None
    ]


@settings(max_examples=200, deadline=None)
@given(
    codes=st.lists(st.integers(0, 6), max_size=30),
    sort=st.booleans(),
    gaps=st.lists(st.integers(1, 3), min_size=30, max_size=30),
)
def test_first_positions_equal_the_smallest_position_of_each_code(codes, sort, gaps):
    """The sale lookup's first row per transaction: sorted codes (a read ledger's) take the
    starts of their runs, others a scatter with a minimum; both as a plain loop finds it."""
    given = np.array(sorted(codes) if sort else codes, dtype=np.int64)
    positions = np.cumsum(gaps[: len(given)], dtype=np.int64)  # rising, as frame rows
    expected = [-1] * 8
    for code, position in zip(given.tolist(), positions.tolist(), strict=True):
        if expected[code] < 0:
            expected[code] = position
    assert first_positions(given, positions, 8).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    codes=st.lists(st.integers(0, 6), max_size=30),
    sort=st.booleans(),
    sales=st.lists(st.booleans(), min_size=30, max_size=30),
    led=st.booleans(),
)
def test_the_sale_lookup_from_leading_sales_is_the_first_sale_of_each_transaction(
    codes, sort, sales, led
):
    """A whole frame whose transactions each begin with a sale row (a canonical ledger's)
    takes each transaction's first row as its sale; when that does not hold (a refund dated
    before its sale, codes not in order) the quick way declines. Either way the lookup is
    the smallest sale position per transaction, as a plain loop finds it."""
    given = sorted(codes) if sort else codes
    is_sale = np.array(sales[: len(given)], dtype=bool)
    if led:  # each transaction's first row a sale, as nearly always
        for k, code in enumerate(given):
            if code not in given[:k]:
                is_sale[k] = True
    rows = pd.DataFrame({"_tid": np.array(given, dtype=np.int64)})
    expected = [-1] * 8
    for k, code in enumerate(given):
        if is_sale[k] and expected[code] < 0:
            expected[code] = k
    quick = _leading_sales(rows, is_sale, 8)
    first_rows_are_sales = all(is_sale[given.index(code)] for code in set(given))
    if quick is None:
        assert not (given == sorted(given) and first_rows_are_sales and given)
    else:
        assert quick.tolist() == expected
    shown = rows.set_axis(pd.Index(np.arange(len(given)) * 2))  # not a plain range: declined
    assert _leading_sales(shown, is_sale, 8) is None or not len(given)


# ---------------------------------------------------------------------------------------------
# Coded columns: a Parquet ledger's few-valued text columns read as its dictionary's codes


def _as_categories(values: list[str | None], extra: list[str]) -> pd.Series:
    """``values`` as categories in an order of their own, with unused ``extra`` ones."""
    present = [v for v in dict.fromkeys(values) if v is not None]
    categories = list(reversed(present)) + [e for e in dict.fromkeys(extra) if e not in present]
    return pd.Series(pd.Categorical(values, categories=categories))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), CELL_TEXT), max_size=30),
    st.lists(CELL_TEXT, max_size=3),
)
def test_categories_are_coded_as_their_texts(cells: list[str | None], extra: list[str]) -> None:
    """A coded column (categories in any order, some unused, two that strip alike, missing
    cells) gives what its text gives: stripped cells, sorted categories of the texts that
    occur, dates parsed once a text, event ranks."""
    text = pd.Series(cells, dtype="str")
    coded = _as_categories(cells, extra)
    assert common.strip_text(coded).astype("str").fillna("~").tolist() == (
        text.str.strip().fillna("~").tolist()
    )
    got, expected = common.text_categories(coded), common.text_categories(text)
    assert got.cat.codes.tolist() == expected.cat.codes.tolist()
    assert got.cat.categories.tolist() == expected.cat.categories.tolist()
    assert str(got.cat.categories.dtype) == "str"
    with pytest.MonkeyPatch.context() as patch:  # counted and moved in batches, short last
        patch.setattr(common, "_CODES_BATCH", 2)
        batched = common.text_categories(coded)
    assert batched.cat.codes.tolist() == expected.cat.codes.tolist()
    assert batched.cat.categories.tolist() == expected.cat.categories.tolist()
    codes, distinct = common._factorized(coded)  # a missing text is a value of its own
    assert [None if pd.isna(distinct.iloc[c]) else distinct.iloc[c] for c in codes] == cells


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), DATE_TEXT), min_size=1, max_size=20), st.booleans())
def test_coded_dates_parse_as_their_texts(texts: list[str | None], many: bool) -> None:
    repeat = common._DISTINCT_FIRST // len(texts) + 1 if many else 1
    text = pd.Series(texts * repeat, dtype="str")
    dates, reasons = common.parse_dates(_as_categories(texts * repeat, ["x", "2026-01-01"]), "d")
    each_dates, each_reasons = common.parse_dates(text, "d")
    assert dates.tolist() == each_dates.tolist()
    assert [r if isinstance(r, str) else None for r in reasons.tolist()] == [
        r if isinstance(r, str) else None for r in each_reasons.tolist()
    ]


def test_events_coded_in_another_order_are_ranked_by_their_texts() -> None:
    from compcalc.inputs.ledger import _event_ranks

    # the four texts of EVENTS in another order compare equal as unordered categories
    column = pd.Series(pd.Categorical(["refund", "sale", "x", None], categories=[
        "refund", "sale", "dispute_resolved", "dispute_opened", "x"]))  # fmt: skip
    assert _event_ranks(column).tolist() == [3, 0, -1, -1]
    shuffled = pd.Series(pd.Categorical(["refund", "sale"], categories=EVENTS[::-1]))
    assert _event_ranks(shuffled).tolist() == [3, 0]


def test_a_coded_columns_empty_and_missing_cells_tie_in_the_digests_order() -> None:
    """A missing cell of a coded column is an empty text: it ties with the column's own
    empty text when the rows of one key are ordered, so a later column decides."""
    coded = pd.DataFrame({
        "k": pd.Series(["T1"] * 4, dtype="str"),
        "a": pd.Series(pd.Categorical(["", None, "", None], categories=["x", ""])),
        "c": pd.Series(["z", "a", "m", "b"], dtype="str"),
    })  # fmt: skip
    text = coded.assign(a=pd.Series([""] * 4, dtype="str"))
    assert canonical_digest(coded, key="k") == _reference_digest(text, key="k")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(tied_text, tied_text, st.one_of(st.none(), tied_text)), max_size=12),
    st.sampled_from([1, 2, 1 << 20]),
    st.sampled_from([None, "b"]),
)
def test_a_digest_of_coded_columns_is_the_digest_of_their_text(
    rows: list[tuple[str, str, str | None]], batch: int, key: str | None
) -> None:
    """Columns given as categories (unused ones, any order, missing cells as empty texts)
    hash as their texts do, keyed or not, in batches or not, here or in the thread."""
    b, a, c = ([r[k] for r in rows] for k in range(3))
    text = pd.DataFrame({
        "b": pd.Series(b, dtype="str"), "a": pd.Series(a, dtype="str"),
        "c": pd.Series([v or "" for v in c], dtype="str"),
    })  # fmt: skip
    coded = pd.DataFrame({
        "b": pd.Series(b, dtype="str"), "a": _as_categories(a, ["zz"]),
        "c": _as_categories(c, ["", "q"]),
    })  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(common, "_DIGEST_BATCH", batch)
        expected = _reference_digest(text, key=key)
        assert canonical_digest(coded, key=key) == expected
        patch.setattr(common, "_DIGEST_BESIDE", 0)
        assert digest_beside(coded, key=key).result() == expected


LEDGER_CELLS = {
    "transaction_id": st.sampled_from(["T1", "T2", " T3", "T1 "]),
    "employee_id": st.sampled_from(["E1", " E1", "E2 ", "", "é\u3000", "E10"]),
    "date": st.sampled_from(["2026-10-01", " 2026-10-02", "2026-13-01", "", "x"]),
    "event": st.sampled_from([*EVENTS, " sale", "refund ", "Sale", ""]),
    "amount": st.sampled_from(["1.00", "2", "", "0.125", "x"]),
    "currency": st.sampled_from(["USD", " USD", "JPY", "KWD", "usd", ""]),
    "margin": st.sampled_from(["", "0.5", "-1"]),
}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(*(st.one_of(st.none(), cells) for cells in LEDGER_CELLS.values())),
        min_size=1, max_size=25,
    ),
    st.integers(1, 8),
    st.sampled_from(["text", "categories", "plain"]),
)
def test_a_parquet_ledger_read_coded_is_the_ledger_of_its_text(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str | None, ...]],
    group: int,
    stored: str,
) -> None:
    """Row groups with dictionaries of their own, cells that strip alike, missing and
    refused cells: the Parquet ledger (coded columns read as codes) has the frame, the
    refusals and the digest of the same text given as a DataFrame. Stored as text columns,
    as pandas categories (a dictionary in the file's schema) or without dictionary pages."""
    from compcalc.inputs.ledger import CODED_COLUMNS, MONEY_COLUMNS, READ_COLUMNS

    names = list(LEDGER_CELLS)
    columns = {n: [r[k] for r in rows] for k, n in enumerate(names)}
    frame = pd.DataFrame({n: pd.Series(v, dtype="str") for n, v in columns.items()})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if stored == "categories":
        table = pa.table({
            n: pc.dictionary_encode(table[n]) if n in CODED_COLUMNS else table[n] for n in names
        })  # fmt: skip
    path = tmp_path_factory.mktemp("coded") / "ledger.parquet"
    pq.write_table(table, path, row_group_size=group, use_dictionary=stored != "plain")
    read = common.read_text_table(
        path, name="L", default_name="L", required=(), money=MONEY_COLUMNS,
        columns=READ_COLUMNS, coded=CODED_COLUMNS,
    )  # fmt: skip
    for name in CODED_COLUMNS:  # the path under test is taken
        assert isinstance(read.cells[name].dtype, pd.CategoricalDtype), name
    from_file, from_text = read_ledger(path, name="L"), read_ledger(frame, name="L")
    pd.testing.assert_frame_equal(from_file.frame, from_text.frame)
    assert from_file.rejected == from_text.rejected
    assert from_file.sha256 == from_text.sha256


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.one_of(st.none(), CELL_TEXT), max_size=6), min_size=1, max_size=5),
    st.booleans(),
)
def test_coded_text_has_each_chunks_texts(parts: list[list[str | None]], shared: bool) -> None:
    """Chunks with dictionaries of their own (some alike, as a row group's chunks are) or
    one shared dictionary, missing cells among them: each row's text (a missing one empty),
    categories distinct, codes in the smallest type."""
    if shared:  # every chunk coded into one dictionary of all the texts
        pool = pa.array(sorted({v for p in parts for v in p if v is not None}), pa.string())
        at = {v: k for k, v in enumerate(pool.to_pylist())}
        chunks = [
            pa.DictionaryArray.from_arrays(
                pa.array([None if v is None else at[v] for v in p], pa.int32()), pool
            )
            for p in parts
        ]
    else:
        chunks = [pa.array(p, pa.string()).dictionary_encode() for p in parts]
    column = pa.chunked_array(chunks, pa.dictionary(pa.int32(), pa.string()))
    got = common.coded_text(column)
    assert got.astype("str").tolist() == ["" if v is None else v for p in parts for v in p]
    assert got.cat.categories.is_unique
    assert got.cat.codes.dtype == np.int8  # a handful of texts


def _days_or_nat(days: list[int | None]) -> npt.NDArray[np.datetime64]:
    return np.array(
        [np.datetime64("NaT") if d is None else np.datetime64(20000 + d, "D") for d in days],
        dtype="datetime64[D]",
    )


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 12).flatmap(
        lambda n: st.lists(
            st.one_of(
                st.lists(st.integers(-3, 3), min_size=n, max_size=n).map(np.array),
                st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n).map(
                    lambda v: np.array(v, dtype=np.int64)
                ),  # too wide to pack with a neighbour
                st.lists(st.booleans(), min_size=n, max_size=n).map(np.array),
                st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=n, max_size=n).map(
                    _days_or_nat
                ),
            ),
            min_size=1,
            max_size=4,
        )
    )
)
@example([np.array([2**62, 2**62 - 1]), np.array([0, 1])])  # narrow, far from 0: offset first
def test_lexsorted_is_lexsort_of_the_keys_reversed(keys: list[npt.NDArray[Any]]) -> None:
    """Keys packed into fewer (or one, sorted once) order rows as np.lexsort does: any
    widths, booleans, dates with and without NaT (last)."""
    expected = np.lexsort(keys[::-1]) if len(keys[0]) else np.zeros(0, dtype=np.int64)
    assert common.lexsorted(keys).tolist() == expected.tolist()
