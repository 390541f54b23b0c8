"""Tests for compcalc.inputs: exact amounts, reading, roster and ledger validation, digests."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from compcalc.errors import InputError
from compcalc.inputs import (
    Ledger,
    RejectedRow,
    Roster,
    check_ledger,
    format_minor_units,
    parse_minor_units,
    read_ledger,
    read_roster,
)

# ---------------------------------------------------------------------------------------------
# Fixtures as text

ROSTER_HEADER = (
    "employee_id,name,role,seniority,company_size,region,currency,annual_base,quota,"
    "hire_date,termination_date,manager_id,team"
)
ROSTER_ROWS = [
    "E1,Ann,ae,senior,large,EMEA,USD,100000.00,500000,2020-01-15,,,blue",
    "E2,Bob,ae,junior,small,APAC,JPY,5000000,,2021-02-03,,E1,red",
    "E3,Cy,ae,junior,small,NA,USD,,,2021-02-03,2023-06-30,E1,red",
    "E4,Di,se,mid,mid,MENA,KWD,12000.125,90000.5,2022-03-04,,E1,",
]
COMMAS = "commas are not accepted: write a decimal point and no thousands separators, e.g. 1250.00"
LEDGER_HEADER = "transaction_id,employee_id,date,event,amount,currency,margin"
LEDGER_ROWS = [
    "T1,E1,2024-01-05,sale,100.00,USD,20",
    "T1,E1,2024-01-06,refund,30,USD,",
    "T1,E1,2024-01-07,dispute_opened,,USD,",
    "T1,E1,2024-01-07,dispute_resolved,,USD,",
    "T2,E2,2024-01-05,sale,1000,JPY,",
    "T3,E4,2024-02-01,sale,0.125,KWD,-0.005",
    "T3,E4,2024-02-03,refund,0.125,KWD,",
]


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def roster_csv(tmp_path: Path, rows: list[str] | None = None) -> Path:
    return write(tmp_path / "roster.csv", ROSTER_HEADER, ROSTER_ROWS if rows is None else rows)


def ledger_csv(tmp_path: Path, rows: list[str], name: str = "ledger.csv") -> Path:
    return write(tmp_path / name, LEDGER_HEADER, rows)


def reasons(rejected: tuple[RejectedRow, ...]) -> list[tuple[int, str, str, str]]:
    return [(r.row, r.column, r.value, r.reason) for r in rejected]


def checked(tmp_path: Path, rows: list[str]) -> Ledger:
    return check_ledger(read_ledger(ledger_csv(tmp_path, rows)), read_roster(roster_csv(tmp_path)))


# ---------------------------------------------------------------------------------------------
# Exact amounts


@pytest.mark.parametrize(
    ("text", "currency", "digits", "units"),
    [
        ("12.50", "USD", 2, 1250),
        ("12.5", "USD", 2, 1250),
        ("12", "USD", 2, 1200),
        ("  7 ", "USD", 2, 700),
        ("-0.01", "USD", 2, -1),
        ("-0", "USD", 2, 0),
        ("0007.10", "USD", 2, 710),
        ("0000000000000000012.50", "USD", 2, 1250),  # leading zeros are not size
        ("999999999999999.99", "USD", 2, 99999999999999999),
        ("90071992547409.93", "USD", 2, 9007199254740993),  # 2**53 + 1: beyond float
        ("1500", "JPY", 0, 1500),
        ("0.125", "KWD", 3, 125),
        ("1.1", "KWD", 3, 1100),
        ("-12000.125", "KWD", 3, -12000125),
    ],
)
def test_parse_minor_units_exact(text: str, currency: str, digits: int, units: int) -> None:
    got, why = parse_minor_units(pd.Series([text]), digits, currency=currency)
    assert why.tolist() == [None]
    assert got.dtype == np.int64
    assert got.tolist() == [units]


@pytest.mark.parametrize(
    ("text", "digits", "reason"),
    [
        ("", 2, "amount is empty"),
        ("   ", 2, "amount is empty"),
        ("1e3", 2, "scientific notation is not accepted"),
        ("-2.5E-2", 2, "scientific notation is not accepted"),
        ("12,50", 2, COMMAS),
        ("1,000", 2, COMMAS),
        ("$1,000", 2, "currency symbols are not accepted"),
        ("€12", 2, "currency symbols are not accepted"),
        ("0.125", 2, "has 3 decimal places; USD allows 2"),
        ("1.00", 0, "has 2 decimal places; USD allows 0"),
        (
            "1234567890123456",
            2,
            "is too large: 16 digits before the decimal point, at most 15 allowed",
        ),
        ("abc", 2, "is not a plain decimal number"),
        ("1.", 2, "is not a plain decimal number"),
        (".5", 2, "is not a plain decimal number"),
        ("+5", 2, "is not a plain decimal number"),
        ("١٢", 2, "is not a plain decimal number"),  # Arabic-Indic digits are not [0-9]
        ("NaN", 2, "is not a plain decimal number"),
    ],
)
def test_parse_minor_units_rejects(text: str, digits: int, reason: str) -> None:
    got, why = parse_minor_units(pd.Series([text]), digits, currency="USD")
    assert got.tolist() == [0]
    assert why[0] is not None
    assert why[0].startswith(reason)


def test_parse_minor_units_per_row_digits_and_alignment() -> None:
    text = pd.Series(["0.125", "0.125", "5", "5.1", "x"], index=[10, 11, 12, 13, 14])
    currency = pd.Series(["KWD", "USD", "JPY", "???", "USD"], index=text.index)
    digits = np.array([3, 2, 0, -1, 2])
    got, why = parse_minor_units(text, digits, currency=currency, column="margin")
    assert got.tolist() == [125, 0, 5, 0, 0]
    assert list(why.index) == [10, 11, 12, 13, 14]
    assert why[11] == "has 3 decimal places; USD allows 2"
    assert why[[10, 12, 13]].isna().all()  # unusable currency: only the form is checked
    assert why[14] is not None
    _, why_empty = parse_minor_units(pd.Series([""]), 2, column="margin")
    assert why_empty[0] == "margin is empty"


def test_parse_minor_units_empty_input() -> None:
    got, why = parse_minor_units(pd.Series([], dtype="str"), 2)
    assert got.shape == (0,)
    assert len(why) == 0


def test_format_minor_units() -> None:
    got = format_minor_units(np.array([1250, -5, 7, 0, -1234567]), np.array([2, 2, 0, 3, 3]))
    assert got.tolist() == ["12.50", "-0.05", "7", "0.000", "-1234.567"]


@st.composite
def plain_amounts(draw: st.DrawFn) -> tuple[str, int]:
    digits = draw(st.sampled_from([0, 2, 3]))
    whole = draw(st.text("0123456789", min_size=1, max_size=15))
    fraction = draw(st.text("0123456789", min_size=0, max_size=digits))
    sign = draw(st.sampled_from(["", "-"]))
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return pad + sign + whole + ("." + fraction if fraction else "") + pad, digits


@settings(max_examples=300, deadline=None)
@given(st.lists(plain_amounts(), min_size=1, max_size=20))
def test_parse_minor_units_agrees_with_decimal(cases: list[tuple[str, int]]) -> None:
    text = pd.Series([t for t, _ in cases])
    digits = np.array([d for _, d in cases])
    got, why = parse_minor_units(text, digits)
    assert why.isna().all()
    expected = [int(Decimal(t.strip()) * 10**d) for t, d in cases]
    assert got.tolist() == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("0123456789.-e,$ ", max_size=8), min_size=1, max_size=10))
def test_parse_minor_units_accepts_only_exact_plain_text(texts: list[str]) -> None:
    got, why = parse_minor_units(pd.Series(texts), 2)
    for text, units, reason in zip(texts, got.tolist(), why.tolist(), strict=True):
        if reason is None:
            assert Decimal(text.strip()) * 100 == units
            assert "e" not in text and "," not in text and "$" not in text
        else:
            assert units == 0


# ---------------------------------------------------------------------------------------------
# RejectedRow


def test_rejected_row_text_and_dict() -> None:
    with_line = RejectedRow(
        "ledger.csv", 6, 7, "amount", "1e3", "scientific notation is not accepted"
    )
    assert str(with_line) == (
        'ledger.csv:7: column amount: "1e3": scientific notation is not accepted'
    )
    no_line = RejectedRow("<ledger>", 6, None, "amount", "", "amount is empty")
    assert str(no_line) == '<ledger>: row 6: column amount: "": amount is empty'
    assert no_line.to_dict() == {
        "source": "<ledger>", "row": 6, "line": None, "column": "amount", "value": "",
        "reason": "amount is empty",
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Reading


def test_csv_line_numbers_survive_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(
        LEDGER_HEADER + "\n"
        + "T1,E1,2024-01-05,sale,1e3,USD,\n"
        + "\n"
        + '"T\n2",E1,2024-01-05,sale,1,USD,\n'
        + "T3,E1,2024-01-05,sale,$5,USD,\n",
        encoding="utf-8",
    )  # fmt: skip
    ledger = read_ledger(path)
    assert [(r.row, r.line, r.column) for r in ledger.rejected] == [
        (1, 2, "amount"),
        (3, 6, "amount"),
    ]
    assert str(ledger.rejected[1]).startswith(f'{path}:6: column amount: "$5"')
    assert ledger.frame["line"].tolist() == [4]
    assert ledger.frame["transaction_id"].tolist() == ["T\n2"]


def test_csv_reads_text_exactly(tmp_path: Path) -> None:
    rows = ["007,Ann,ae,senior,large,NA,USD,NaN,,2020-01-15,,,NULL"]
    roster = read_roster(roster_csv(tmp_path, rows))
    assert [(r.column, r.value) for r in roster.rejected] == [("annual_base", "NaN")]
    rows = ["007,Ann,ae,senior,large,NA,USD,1,,2020-01-15,,,NULL"]
    frame = read_roster(roster_csv(tmp_path, rows)).frame
    assert frame.loc[0, ["employee_id", "region", "team"]].tolist() == ["007", "NA", "NULL"]


@pytest.mark.parametrize("old_pyarrow", [False, True])
def test_csv_ledger_text_is_parsed_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old_pyarrow: bool
) -> None:
    """Ids with leading zeros and amounts of 16 significant digits come through as written,
    whatever pyarrow pandas has (before pyarrow 25, pandas applied a dtype given for every
    column after pyarrow had inferred numbers: 0001 became 1, and a float rounded the cents)."""
    if old_pyarrow:
        from pandas.io.parsers import arrow_parser_wrapper

        monkeypatch.setattr(arrow_parser_wrapper, "pa_version_under25p0", True, raising=False)
    path = write(tmp_path / "ledger.csv", LEDGER_HEADER, [
        "0001,007,2024-01-05,sale,99999999999999.99,USD,0010.50",
        "0002,007,2024-01-05,sale,1.230,USD,",
    ])  # fmt: skip
    ledger = read_ledger(path)
    assert [(r.row, r.column, r.value) for r in ledger.rejected] == [(2, "amount", "1.230")]
    frame = ledger.frame
    assert frame["transaction_id"].tolist() == ["0001"]
    assert frame["employee_id"].tolist() == ["007"]
    assert frame["amount_minor"].tolist() == [9999999999999999]
    assert frame["margin_minor"].tolist() == [1050]


@pytest.mark.parametrize("column", ["transaction_id", "event"])
def test_parquet_text_that_is_not_utf8_is_refused_naming_the_row(tmp_path: Path, column: str):
    """Parquet's readers take a text column's bytes as they are: one that is not UTF-8 would
    reach the statements and make the canonical JSON invalid (a dictionary-coded column's
    distinct texts are checked as well)."""
    rows = [row.split(",") for row in LEDGER_ROWS[:3]]
    columns = dict(zip(LEDGER_HEADER.split(","), map(list, zip(*rows, strict=True)), strict=True))
    cells = [text.encode() for text in columns[column]]
    cells[1] = cells[1][:1] + b"\xff" + cells[1][1:]
    offsets = np.cumsum([0, *map(len, cells)], dtype=np.int32)
    damaged = pa.Array.from_buffers(
        pa.string(),
        len(cells),
        [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(cells))],
    )
    table = pa.table(
        {**{name: pa.array(values) for name, values in columns.items()}, column: damaged}
    )
    pq.write_table(
        table, tmp_path / "ledger.parquet", use_dictionary=[column] if column == "event" else False
    )
    with pytest.raises(InputError) as caught:
        read_ledger(tmp_path / "ledger.parquet")
    where = "row 2" if column == "transaction_id" else "a text"
    assert f"column {column}, {where}: the text is not valid UTF-8" in str(caught.value)
    assert str(tmp_path / "ledger.parquet") in str(caught.value)


def test_csv_text_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    rows = [
        LEDGER_HEADER,
        LEDGER_ROWS[0],
        '"T\n2",E1,2024-01-05,sale,1,USD,',
        "T3,E1,2024-01-05,sale,1,USD,",
    ]
    data = "\n".join(rows).encode()
    path.write_bytes(data.replace(b"T3", b"T\xe93"))  # Latin-1's é
    with pytest.raises(InputError) as caught:
        read_ledger(path)
    assert str(caught.value).startswith(f"{path}:5: the text is not valid UTF-8")
    path.write_bytes(data.replace(b"T3", "Té3".encode()))
    assert read_ledger(path).frame["transaction_id"].tolist()[-1] == "Té3"


def _roster_table_with_decimals() -> pa.Table:
    text = pd.read_csv(
        pd.io.common.StringIO("\n".join([ROSTER_HEADER, *ROSTER_ROWS])),
        dtype=str,
        keep_default_na=False,
    )
    table = pa.Table.from_pandas(text, preserve_index=False)
    base = pa.array(
        [Decimal("100000.00"), Decimal("5000000"), None, Decimal("12000.125")],
        pa.decimal128(18, 3),  # USD 100000.000 in a scale-3 column is still 100000.00
    )
    quota = pa.array([Decimal("500000"), None, None, Decimal("90000.5")], pa.decimal128(18, 3))
    table = table.set_column(table.schema.get_field_index("annual_base"), "annual_base", base)
    return table.set_column(table.schema.get_field_index("quota"), "quota", quota)


def test_csv_parquet_and_dataframe_give_the_same_roster(tmp_path: Path) -> None:
    from_csv = read_roster(roster_csv(tmp_path))
    pq.write_table(_roster_table_with_decimals(), tmp_path / "roster.parquet")
    from_parquet = read_roster(tmp_path / "roster.parquet")
    frame = pd.DataFrame(
        {col: [row.split(",")[i] for row in ROSTER_ROWS]
         for i, col in enumerate(ROSTER_HEADER.split(","))}
    )  # fmt: skip
    frame["annual_base"] = [Decimal("100000.00"), Decimal("5E+6"), None, Decimal("12000.125")]
    from_frame = read_roster(frame)
    assert from_csv.rejected == from_parquet.rejected == from_frame.rejected == ()
    expected = from_csv.frame.drop(columns="line")
    pd.testing.assert_frame_equal(from_parquet.frame.drop(columns="line"), expected)
    pd.testing.assert_frame_equal(from_frame.frame.drop(columns="line"), expected)
    assert from_parquet.frame["line"].isna().all()
    assert from_frame.source == "<roster>"
    assert from_csv.frame["line"].tolist() == [2, 3, 4, 5]


def test_parquet_integer_money_is_major_units(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"transaction_id": ["T1"], "employee_id": ["E1"], "date": ["2024-01-05"],
         "event": ["sale"], "amount": pa.array([250]).to_pandas(), "currency": ["USD"]}
    )  # fmt: skip
    frame.to_parquet(tmp_path / "l.parquet")
    assert read_ledger(tmp_path / "l.parquet").frame["amount_minor"].tolist() == [25000]


def test_float_money_is_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"transaction_id": ["T1"], "employee_id": ["E1"], "date": ["2024-01-05"],
         "event": ["sale"], "amount": [12.5], "currency": ["USD"]}
    )  # fmt: skip
    with pytest.raises(InputError, match="column amount is floating point; money must be"):
        read_ledger(frame)
    frame.to_parquet(tmp_path / "l.parquet")
    with pytest.raises(InputError, match=r"l\.parquet: column amount is floating point"):
        read_ledger(tmp_path / "l.parquet")
    # A float column that is not money is only a dimension: it is kept as text.
    frame["amount"] = ["12.5"]
    frame["score"] = [0.5]
    assert read_ledger(frame).rejected == ()


def test_all_empty_float_optional_money_column_is_empty(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"transaction_id": ["T1"], "employee_id": ["E1"], "date": ["2024-01-05"],
         "event": ["sale"], "amount": ["1"], "currency": ["USD"], "margin": [np.nan]}
    )  # fmt: skip
    ledger = read_ledger(frame)
    assert ledger.rejected == ()
    assert ledger.frame["margin_minor"].isna().all()


def test_missing_columns_name_the_file_and_the_columns_found(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text("Transaction_ID,Employee_ID,Date,Amount\nT1,E1,2024-01-01,1\n")
    with pytest.raises(InputError) as info:
        read_ledger(path)
    message = str(info.value)
    assert str(path) in message
    assert "missing required column(s) event, currency" in message
    assert "columns found: Transaction_ID, Employee_ID, Date, Amount" in message


def test_column_names_match_case_insensitively_after_stripping(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(
        " TRANSACTION_ID ,Employee_Id,DATE,Event,Amount,Currency\nT1,E1,2024-01-01,sale,1,USD\n"
    )
    assert len(read_ledger(path).frame) == 1


def test_same_column_twice_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text("transaction_id,Amount,employee_id,date,event,amount,currency\n")
    with pytest.raises(InputError, match="same column"):
        read_ledger(path)


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    path.write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        read_ledger(path)


# ---------------------------------------------------------------------------------------------
# Roster


def test_roster_frame_types_and_order(tmp_path: Path) -> None:
    rows = [ROSTER_ROWS[2], ROSTER_ROWS[0], ROSTER_ROWS[3], ROSTER_ROWS[1]]
    roster = read_roster(roster_csv(tmp_path, rows))
    assert isinstance(roster, Roster)
    frame = roster.frame
    assert frame["employee_id"].tolist() == ["E1", "E2", "E3", "E4"]
    assert frame["row"].tolist() == [2, 4, 1, 3]
    assert list(frame.columns) == [
        "row", "line", "employee_id", "name", "role", "seniority", "company_size", "region",
        "currency", "annual_base_minor", "quota_minor", "hire_date", "termination_date",
        "manager_id", "team",
    ]  # fmt: skip
    dtypes = frame.dtypes.astype(str).to_dict()
    assert dtypes["employee_id"] == dtypes["team"] == "str"
    assert dtypes["annual_base_minor"] == dtypes["quota_minor"] == "Int64"
    assert dtypes["hire_date"] == dtypes["termination_date"] == "datetime64[s]"
    assert frame["annual_base_minor"].tolist() == [10000000, 5000000, pd.NA, 12000125]
    assert frame["quota_minor"].tolist() == [50000000, pd.NA, pd.NA, 90000500]
    assert frame["termination_date"].isna().tolist() == [True, True, False, True]
    assert frame.loc[2, "termination_date"] == pd.Timestamp("2023-06-30")


def test_roster_row_rejections(tmp_path: Path) -> None:
    rows = [
        ",Nobody,ae,senior,large,EMEA,USD,1,,2020-01-15,,,",
        "E2,Bob,ae,junior,small,NA,XYZ,1,,2021-02-03,,,",
        "E3,Cy,ae,junior,small,NA,USD,1e3,0,2021-02-03,,,",
        "E4,Di,ae,junior,small,NA,USD,-5,,2021-02-30,,,",
        "E5,Ed,ae,junior,small,NA,USD,5,,2021/02/03,2021-02-04,,",
        "E6,Fa,ae,junior,small,NA,USD,5,,2021-02-03,2021-02-02,,",
        "E7,Gu,ae,junior,small,NA,JPY,5.5,,,,,",
        "E8,Ha,ae,junior,small,NA,,5,,2021-02-03,,,",
    ]
    roster = read_roster(roster_csv(tmp_path, rows))
    assert roster.frame.empty
    assert reasons(roster.rejected) == [
        (1, "employee_id", "", "employee_id is empty"),
        (2, "currency", "XYZ", "unknown currency 'XYZ': expected an ISO 4217 code such as USD"),
        (3, "annual_base", "1e3", "scientific notation is not accepted"),
        (3, "quota", "0", "quota must be greater than zero"),
        (4, "annual_base", "-5", "annual_base must not be negative"),
        (4, "hire_date", "2021-02-30", "hire_date is not a real calendar date"),
        (5, "hire_date", "2021/02/03", "hire_date must be a date written YYYY-MM-DD"),
        (6, "termination_date", "2021-02-02",
         "termination_date 2021-02-02 is before hire_date 2021-02-03"),
        (7, "annual_base", "5.5", "has 1 decimal places; JPY allows 0"),
        (7, "hire_date", "", "hire_date is empty"),
        (8, "currency", "", "currency is empty"),
    ]  # fmt: skip
    assert roster.rejected[0].line == 2


def test_roster_duplicates_reject_every_copy_whatever_the_order(tmp_path: Path) -> None:
    dup = "E1,Eve,ae,junior,small,NA,USD,1,,2021-02-03,,,"
    first = read_roster(roster_csv(tmp_path, [*ROSTER_ROWS, dup]))
    assert first.frame["employee_id"].tolist() == ["E2", "E3", "E4"]
    assert reasons(first.rejected) == [
        (1, "employee_id", "E1",
         "employee_id E1 appears on more than one row (lines 2, 6); all of them are rejected"),
        (5, "employee_id", "E1",
         "employee_id E1 appears on more than one row (lines 2, 6); all of them are rejected"),
    ]  # fmt: skip
    second = read_roster(roster_csv(tmp_path, [dup, *reversed(ROSTER_ROWS)]))
    cols = ["employee_id", "name", "annual_base_minor"]
    pd.testing.assert_frame_equal(first.frame[cols], second.frame[cols])


def test_roster_duplicates_without_lines_cite_rows() -> None:
    frame = pd.DataFrame(
        [r.split(",") for r in [*ROSTER_ROWS, ROSTER_ROWS[0]]], columns=ROSTER_HEADER.split(",")
    )
    roster = read_roster(frame, name="people")
    assert roster.source == "people"
    assert roster.rejected[0].reason == (
        "employee_id E1 appears on more than one row (rows 1, 5); all of them are rejected"
    )
    assert str(roster.rejected[0]).startswith('people: row 1: column employee_id: "E1"')


# ---------------------------------------------------------------------------------------------
# Ledger: per-row checks


def test_ledger_frame_types_and_canonical_order(tmp_path: Path) -> None:
    ledger = read_ledger(ledger_csv(tmp_path, list(reversed(LEDGER_ROWS))))
    assert ledger.rejected == ()
    frame = ledger.frame
    assert list(frame.columns) == [
        "source", "row", "line", "transaction_id", "employee_id", "date", "event",
        "amount_minor", "margin_minor", "currency",
    ]  # fmt: skip
    dtypes = frame.dtypes.astype(str).to_dict()
    assert dtypes["date"] == "datetime64[s]"
    assert dtypes["amount_minor"] == "int64"
    assert dtypes["margin_minor"] == "Int64"
    assert dtypes["transaction_id"] == "str"
    # Codes: the four events in their order, the employees and currencies in text order
    assert frame["employee_id"].cat.categories.tolist() == sorted(set(frame["employee_id"]))
    assert frame["event"].dtype == pd.CategoricalDtype(
        ["sale", "dispute_opened", "dispute_resolved", "refund"]
    )
    assert frame["currency"].cat.categories.tolist() == sorted(set(frame["currency"]))
    assert frame["event"].cat.codes.dtype == frame["currency"].cat.codes.dtype == np.int8
    assert frame["event"].tolist() == [
        "sale", "refund", "dispute_opened", "dispute_resolved", "sale", "sale", "refund",
    ]  # fmt: skip
    assert frame["amount_minor"].tolist() == [10000, 3000, 0, 0, 1000, 125, 125]
    assert frame["margin_minor"].tolist() == [2000, pd.NA, pd.NA, pd.NA, pd.NA, -5, pd.NA]
    assert frame.index.tolist() == list(range(7))


def test_a_parquet_ledger_in_any_order_has_the_csv_content_and_no_lines(tmp_path: Path) -> None:
    """Sorted into canonical order, a Parquet ledger's file lines stay all missing (made anew,
    not taken) while every other column is the CSV's, text and categories alike."""
    rows = list(reversed(LEDGER_ROWS))
    from_csv = read_ledger(ledger_csv(tmp_path, rows))
    text = pd.read_csv(ledger_csv(tmp_path, rows), dtype=str, keep_default_na=False)
    text.to_parquet(tmp_path / "ledger.parquet")
    from_parquet = read_ledger(tmp_path / "ledger.parquet")
    assert from_csv.rejected == from_parquet.rejected == ()
    lines = from_parquet.frame["line"]
    assert lines.dtype == "Int64" and lines.isna().all() and len(lines) == len(rows)
    assert from_csv.frame["line"].tolist() == sorted(from_csv.frame["line"].tolist())[::-1]
    pd.testing.assert_frame_equal(
        from_parquet.frame.drop(columns=["source", "line"]),
        from_csv.frame.drop(columns=["source", "line"]),
    )


def test_ledger_row_rejections(tmp_path: Path) -> None:
    rows = [
        ",E1,2024-01-05,sale,1,USD,",
        "T2,,2024-01-05,sale,1,USD,",
        "T3,E1,2024-1-5,sale,1,USD,",
        "T4,E1,2024-01-05,Sale,1,USD,",
        "T5,E1,2024-01-05,sale,1,usd,",
        "T6,E1,2024-01-05,sale,,USD,",
        "T7,E1,2024-01-05,refund,-5,USD,",
        "T8,E1,2024-01-05,sale,0,USD,",
        "T9,E1,2024-01-05,refund,1,USD,5",
        "T10,E1,2024-01-05,sale,1,USD,1.234",
        "T11,E1,2024-01-05,dispute_opened,1e3,USD,",
        "T12,E1,,dispute_opened,,USD,",
    ]
    ledger = read_ledger(ledger_csv(tmp_path, rows))
    assert ledger.frame.empty
    assert reasons(ledger.rejected) == [
        (1, "transaction_id", "", "transaction_id is empty"),
        (2, "employee_id", "", "employee_id is empty"),
        (3, "date", "2024-1-5", "date must be a date written YYYY-MM-DD"),
        (4, "event", "Sale", "unknown event 'Sale': expected sale, dispute_opened, "
                             "dispute_resolved or refund"),
        (5, "currency", "usd", "unknown currency 'usd': expected an ISO 4217 code such as USD"),
        (6, "amount", "", "amount is empty"),
        (7, "amount", "-5", "a refund's amount must be greater than zero; write the refunded "
                            "amount as a positive number"),
        (8, "amount", "0", "a sale's amount must be greater than zero"),
        (9, "margin", "5", "margin is only allowed on sale events"),
        (10, "margin", "1.234", "has 3 decimal places; USD allows 2"),
        (11, "amount", "1e3", "scientific notation is not accepted"),
        (12, "date", "", "date is empty"),
    ]  # fmt: skip
    assert [r.line for r in ledger.rejected] == list(range(2, 14))


def test_dispute_events_may_omit_the_amount(tmp_path: Path) -> None:
    rows = ["T1,E1,2024-01-05,dispute_opened,,USD,", "T1,E1,2024-01-06,dispute_resolved,2,USD,"]
    ledger = read_ledger(ledger_csv(tmp_path, rows))
    assert ledger.rejected == ()
    assert ledger.frame["amount_minor"].tolist() == [0, 200]


# ---------------------------------------------------------------------------------------------
# Ledger: cross-row checks


def test_clean_ledger_passes_the_cross_checks(tmp_path: Path) -> None:
    result = checked(tmp_path, LEDGER_ROWS)
    assert result.rejected == ()
    assert len(result.frame) == len(LEDGER_ROWS)


def test_unknown_employee_and_currency_mismatch(tmp_path: Path) -> None:
    rows = ["T1,E9,2024-01-05,sale,1,USD,", "T2,E1,2024-01-05,sale,1,EUR,"]
    result = checked(tmp_path, rows)
    assert result.frame.empty
    assert reasons(result.rejected) == [
        (1, "employee_id", "E9", "employee E9 is not on the roster"),
        (2, "currency", "EUR", "currency EUR differs from employee E1's currency USD"),
    ]


def test_employee_rejected_from_roster_is_not_on_the_roster(tmp_path: Path) -> None:
    roster = read_roster(roster_csv(tmp_path, [*ROSTER_ROWS, ROSTER_ROWS[0]]))
    ledger = read_ledger(ledger_csv(tmp_path, ["T1,E1,2024-01-05,sale,1,USD,"]))
    result = check_ledger(ledger, roster)
    assert result.frame.empty
    assert result.rejected[0].reason == "employee E1 is not on the roster"


def test_event_without_sale(tmp_path: Path) -> None:
    result = checked(tmp_path, ["T5,E1,2024-01-05,refund,1,USD,"])
    assert reasons(result.rejected) == [
        (1, "transaction_id", "T5", "no sale event for transaction T5")
    ]


def test_identical_duplicate_sales_keep_one(tmp_path: Path) -> None:
    sale = "T1,E1,2024-01-05,sale,100.00,USD,20"
    result = checked(tmp_path, ["T1,E1,2024-01-06,refund,3,USD,", sale, sale, sale])
    assert result.frame["row"].tolist() == [2, 1]
    assert reasons(result.rejected) == [
        (3, "transaction_id", "T1", "duplicate of line 3"),
        (4, "transaction_id", "T1", "duplicate of line 3"),
    ]


def test_conflicting_duplicate_sales_reject_the_whole_transaction(tmp_path: Path) -> None:
    rows = [
        "T1,E1,2024-01-05,sale,100.00,USD,20",
        "T1,E1,2024-01-06,refund,3,USD,",
        "T1,E1,2024-01-05,sale,100.00,USD,21",
        "T2,E1,2024-01-05,sale,1,USD,",
    ]
    result = checked(tmp_path, rows)
    assert result.frame["transaction_id"].tolist() == ["T2"]
    why = "transaction T1 has conflicting sale events (lines 2, 4); all its events are rejected"
    assert reasons(result.rejected) == [
        (1, "transaction_id", "T1", why),
        (2, "transaction_id", "T1", why),
        (3, "transaction_id", "T1", why),
    ]
    assert result.rejected[0].value == "T1"


def test_event_before_its_sale_or_under_another_employee(tmp_path: Path) -> None:
    rows = [
        "T1,E1,2024-02-05,sale,5,USD,",
        "T1,E1,2024-02-04,dispute_opened,,USD,",
        "T1,E3,2024-02-06,refund,1,USD,",
        "T1,E1,2024-02-05,refund,1,USD,",  # same day as the sale is fine
    ]
    result = checked(tmp_path, rows)
    assert result.frame["row"].tolist() == [1, 4]
    assert reasons(result.rejected) == [
        (2, "date", "2024-02-04",
         "dispute_opened dated 2024-02-04 is before its sale on 2024-02-05 (line 2)"),
        (3, "employee_id", "E3", "employee E3 differs from the sale's employee E1 (line 2)"),
    ]  # fmt: skip


def test_refunds_beyond_the_sale(tmp_path: Path) -> None:
    rows = [
        "T1,E1,2024-01-05,sale,100.00,USD,",
        "T1,E1,2024-01-08,refund,10,USD,",
        "T1,E1,2024-01-06,refund,70,USD,",
        "T1,E1,2024-01-07,refund,30,USD,",
        "T1,E1,2024-01-07,refund,20,USD,",  # same day: the smaller one counts first
        "T2,E1,2024-01-05,sale,5,USD,",
        "T2,E1,2024-01-06,refund,5,USD,",  # refunding all of it is fine
    ]
    result = checked(tmp_path, rows)
    assert sorted(result.frame["row"].tolist()) == [1, 3, 5, 6, 7]
    assert reasons(result.rejected) == [
        (2, "amount", "10.00",
         "refunds of transaction T1 reach 130.00, more than the sale amount 100.00 (line 2)"),
        (4, "amount", "30.00",
         "refunds of transaction T1 reach 120.00, more than the sale amount 100.00 (line 2)"),
    ]  # fmt: skip


DISPUTE_ROWS = [
    "T8,E1,2024-02-05,sale,5,USD,",
    "T8,E1,2024-02-06,dispute_resolved,,USD,",
    "T8,E1,2024-02-07,dispute_opened,,USD,",
    "T9,E1,2024-02-05,sale,5,USD,",
    "T9,E1,2024-02-06,dispute_resolved,,USD,",  # same day: opened counts first
    "T9,E1,2024-02-06,dispute_opened,,USD,",
    "T9,E1,2024-02-07,dispute_opened,,USD,",
    "T9,E1,2024-02-08,dispute_opened,,USD,",
    "T9,E1,2024-02-09,dispute_resolved,,USD,",
]


def test_dispute_sequence(tmp_path: Path) -> None:
    result = checked(tmp_path, DISPUTE_ROWS)
    assert result.frame["row"].tolist() == [1, 4, 6, 5, 7]
    assert reasons(result.rejected) == [
        (2, "event", "dispute_resolved", "dispute_resolved with no open dispute on transaction T8"),
        (3, "event", "dispute_opened",
         "follows the out-of-sequence dispute event on line 3 of transaction T8"),
        (8, "event", "dispute_opened",
         "dispute_opened while a dispute on transaction T9 is already open"),
        (9, "event", "dispute_resolved",
         "follows the out-of-sequence dispute event on line 9 of transaction T9"),
    ]  # fmt: skip


def test_check_ledger_keeps_earlier_rejections_and_provenance(tmp_path: Path) -> None:
    ledger = read_ledger(
        ledger_csv(tmp_path, ["T1,E1,2024-01-05,sale,1e3,USD,", "T2,E9,2024-01-05,sale,1,USD,"])
    )
    result = check_ledger(ledger, read_roster(roster_csv(tmp_path)))
    assert [r.row for r in result.rejected] == [1, 2]
    assert (result.source, result.sha256) == (ledger.source, ledger.sha256)


# ---------------------------------------------------------------------------------------------
# Order independence and digests

MESSY_ROWS = [
    *LEDGER_ROWS,
    "T1,E1,2024-01-08,refund,80,USD,",
    "T1,E1,2024-01-08,refund,60,USD,",
    "T2,E2,2024-01-05,sale,1000,JPY,",
    "T4,E1,2024-01-05,sale,5,USD,",
    "T4,E1,2024-01-05,sale,6,USD,",
    "T5,E1,2024-01-05,refund,5,USD,",
    "T6,E1,2024-03-05,sale,5,USD,",
    "T6,E1,2024-03-06,dispute_opened,1,USD,",
    "T6,E1,2024-03-06,dispute_opened,2,USD,",
    "T6,E1,2024-03-06,dispute_resolved,,USD,",
    "T7,E1,2024-03-05,sale,1e3,USD,",
    "T8,E9,2024-03-05,sale,5,USD,",
]


# No shrinking: a smaller failing permutation explains nothing more, and each try reads files.
@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.randoms(use_true_random=False))
def test_shuffling_rows_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, rng: random.Random
) -> None:
    tmp = tmp_path_factory.mktemp("shuffle")
    roster = read_roster(roster_csv(tmp))
    base = check_ledger(read_ledger(ledger_csv(tmp, MESSY_ROWS, "a.csv")), roster)
    shuffled_rows = list(MESSY_ROWS)
    rng.shuffle(shuffled_rows)
    other = check_ledger(read_ledger(ledger_csv(tmp, shuffled_rows, "b.csv")), roster)
    content = ["transaction_id", "employee_id", "date", "event", "amount_minor",
               "margin_minor", "currency"]  # fmt: skip
    pd.testing.assert_frame_equal(
        base.frame[content].reset_index(drop=True), other.frame[content].reset_index(drop=True)
    )
    assert other.sha256 == base.sha256
    assert len(other.rejected) == len(base.rejected)
    assert sorted((r.column, r.value) for r in other.rejected) == sorted(
        (r.column, r.value) for r in base.rejected
    )


# Disputes out of sequence, and splits: an event dated before the split sale, one under an
# employee without a share, shares that do not make 100 % (row, share)
SPLIT_ROWS = [
    *((row, "") for row in DISPUTE_ROWS),
    ("S1,E1,2024-03-05,sale,100.00,USD,", "60"),
    ("S1,E2,2024-03-05,sale,100.00,USD,", "40"),
    ("S1,E1,2024-03-04,refund,10,USD,", ""),
    ("S1,E3,2024-03-06,refund,10,USD,", ""),
    ("S2,E1,2024-03-05,sale,50.00,USD,", "50"),
    ("S2,E3,2024-03-05,sale,50.00,USD,", "30"),
]


@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.randoms(use_true_random=False))
def test_the_checks_say_the_same_of_a_frame_in_any_order(
    tmp_path_factory: pytest.TempPathFactory, rng: random.Random
) -> None:
    """A read ledger comes in canonical order and the checks take shortcuts there (a
    transaction's first sale where its rows start, disputes already in sequence order); the
    rows of a Dask part come in any order: the same rows, reasons and kept rows either way
    (reasons that cite a split's sale rows and name its sharers included)."""
    tmp = tmp_path_factory.mktemp("frame-order")
    roster = read_roster(roster_csv(tmp))
    rows = [f"{row},{share}" for row, share in (*((r, "") for r in MESSY_ROWS), *SPLIT_ROWS)]
    ledger = read_ledger(write(tmp / "ledger.csv", LEDGER_HEADER + ",share", rows))
    order = list(range(len(ledger.frame)))
    rng.shuffle(order)
    shuffled = Ledger(ledger.frame.iloc[order].reset_index(drop=True), ledger.rejected, "", "")
    base, other = check_ledger(ledger, roster), check_ledger(shuffled, roster)
    assert reasons(other.rejected) == reasons(base.rejected)
    assert other.frame["row"].tolist() == base.frame["row"].tolist()


def test_messy_ledger_outcome(tmp_path: Path) -> None:
    result = checked(tmp_path, MESSY_ROWS)
    kept = set(zip(result.frame["transaction_id"], result.frame["event"],
                   result.frame["amount_minor"], strict=True))  # fmt: skip
    # T1: refunds 30 then 60 (smaller first on the 8th) fit 100; 80 does not.
    assert ("T1", "refund", 6000) in kept and ("T1", "refund", 8000) not in kept
    # T6: the cheaper of two same-day opens is kept (content order, not input order).
    assert ("T6", "dispute_opened", 100) in kept and ("T6", "dispute_opened", 200) not in kept
    assert not {"T4", "T5", "T7", "T8"} & {t for t, _, _ in kept}


def test_digest_ignores_row_and_column_order_but_sees_every_cell(tmp_path: Path) -> None:
    digest = read_ledger(ledger_csv(tmp_path, LEDGER_ROWS)).sha256
    assert len(digest) == 64
    reordered = read_ledger(ledger_csv(tmp_path, list(reversed(LEDGER_ROWS)), "r.csv"))
    assert reordered.sha256 == digest
    frame = pd.read_csv(ledger_csv(tmp_path, LEDGER_ROWS), dtype=str, keep_default_na=False)
    assert read_ledger(frame[list(reversed(frame.columns))]).sha256 == digest
    changed = [*LEDGER_ROWS[:-1], "T3,E4,2024-02-03,refund,0.126,KWD,"]
    assert read_ledger(ledger_csv(tmp_path, changed, "c.csv")).sha256 != digest
    rejected_changed = [*LEDGER_ROWS, "T9,E1,2024-01-01,sale,1e3,USD,"]
    rejected_changed2 = [*LEDGER_ROWS, "T9,E1,2024-01-01,sale,1e4,USD,"]
    assert (
        read_ledger(ledger_csv(tmp_path, rejected_changed, "d.csv")).sha256
        != read_ledger(ledger_csv(tmp_path, rejected_changed2, "e.csv")).sha256
    )
    # Cells are kept apart: moving text across a cell boundary changes the digest.
    moved = [*LEDGER_ROWS[:-1], "T3,E4,2024-02-03,refund,0.125,KWD,x"]
    moved2 = [*LEDGER_ROWS[:-1], "T3,E4,2024-02-03,refund,0.125,KWDx,"]
    assert (
        read_ledger(ledger_csv(tmp_path, moved, "f.csv")).sha256
        != read_ledger(ledger_csv(tmp_path, moved2, "g.csv")).sha256
    )


# ---------------------------------------------------------------------------------------------
# Edge cases of the sources


def test_repeated_column_name_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER_HEADER + ",amount\n")
    with pytest.raises(InputError, match="column 'amount' appears more than once"):
        read_ledger(path)


def test_reserved_column_names_are_refused(tmp_path: Path) -> None:
    rows = [r + ",x" for r in ROSTER_ROWS]
    write(tmp_path / "roster.csv", ROSTER_HEADER + ",quota_minor", rows)
    with pytest.raises(InputError, match="reserved"):
        read_roster(tmp_path / "roster.csv")


def _with_extra(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """The ledger as written, and with two columns compcalc does not use (one named like a
    reserved column, one holding floats) around it, as CSV or Parquet."""
    plain = write(tmp_path / "plain.csv", LEDGER_HEADER, LEDGER_ROWS)
    extra = write(
        tmp_path / "extra.csv",
        "Row, Customer Note ," + LEDGER_HEADER,
        [f"{k},note {k}," + r for k, r in enumerate(LEDGER_ROWS)],
    )
    if kind == "csv":
        return plain, extra
    for path in (plain, extra):
        table = pa.csv.read_csv(path, convert_options=pa.csv.ConvertOptions(
            column_types={n: pa.string() for n in LEDGER_HEADER.split(",")}))  # fmt: skip
        if "Row" in table.column_names:  # a float column: never read, so never refused
            table = table.set_column(0, "Row", pa.array([0.5] * len(table)))
        pq.write_table(table, path.with_suffix(".parquet"))
    return plain.with_suffix(".parquet"), extra.with_suffix(".parquet")


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_ledger_reads_only_its_columns_and_names_the_others(tmp_path: Path, kind: str) -> None:
    plain_path, extra_path = _with_extra(tmp_path, kind)
    plain, extra = read_ledger(plain_path), read_ledger(extra_path)
    assert extra.unread_columns == (" Customer Note ", "Row")
    assert plain.unread_columns == ()
    # The digest is of the columns read: the same rows with other columns beside them match.
    assert extra.sha256 == plain.sha256
    assert_frame_equal_but_source(extra.frame, plain.frame)
    assert read_ledger([plain_path, extra_path]).unread_columns == (" Customer Note ", "Row")


def test_ledger_frame_reads_only_its_columns(tmp_path: Path) -> None:
    frame = pd.read_csv(write(tmp_path / "l.csv", LEDGER_HEADER, LEDGER_ROWS), dtype=str)
    read = read_ledger(frame.fillna(""))
    frame.insert(0, "mixed", [1.5, "x", None, 2, "y", 3.25, "z"])  # no Arrow type: not read
    extra = read_ledger(frame.fillna(""))
    assert extra.unread_columns == ("mixed",) and extra.sha256 == read.sha256


def test_missing_column_names_every_column_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", "transaction_id,employee_id,date,event,notes", ["T1,E1,,,"])
    with pytest.raises(InputError, match="columns found: transaction_id, employee_id, date, "
                       "event, notes"):  # fmt: skip
        read_ledger(path)


def test_a_row_with_extra_cells_is_refused_when_columns_are_left_unread(tmp_path: Path) -> None:
    rows = [f"x,{r}" for r in LEDGER_ROWS]
    rows[2] += ",shifted"
    path = write(tmp_path / "l.csv", "note," + LEDGER_HEADER, rows)
    with pytest.raises(InputError, match="Expected 8 fields in line 4, saw 9"):
        read_ledger(path)


def test_blank_lines_before_the_header_are_skipped_with_columns_unread(tmp_path: Path) -> None:
    plain = read_ledger(write(tmp_path / "plain.csv", LEDGER_HEADER, LEDGER_ROWS))
    path = tmp_path / "blank.csv"
    rows = [LEDGER_HEADER + ",note", *(r + ",x" for r in LEDGER_ROWS)]
    path.write_text("\r\n\n" + "\n".join(rows))
    ledger = read_ledger(path)
    assert ledger.unread_columns == ("note",) and ledger.sha256 == plain.sha256
    assert ledger.frame["line"].tolist()[:1] == [4]  # the file's own line numbers


def test_a_parquet_folder_of_part_files_is_read_like_one_file(tmp_path: Path) -> None:
    _, extra = _with_extra(tmp_path, "parquet")
    folder = tmp_path / "ledger.parquet"
    folder.mkdir()
    table = pq.read_table(extra)
    pq.write_table(table.slice(0, 3), folder / "part-0.parquet")
    pq.write_table(table.slice(3), folder / "part-1.parquet")
    ledger = read_ledger(folder)
    assert ledger.unread_columns == (" Customer Note ", "Row")
    assert ledger.sha256 == read_ledger(extra).sha256


def assert_frame_equal_but_source(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(left.drop(columns="source"), right.drop(columns="source"))


def test_dataframe_dates_decimals_and_mixed_money() -> None:
    frame = pd.DataFrame(
        {"transaction_id": ["T1"], "employee_id": ["E1"],
         "date": pd.to_datetime(["2024-01-05"]), "event": ["sale"],
         "amount": [Decimal("10.50")], "currency": ["USD"], "margin": [None], 7: [1]}
    )  # fmt: skip
    ledger = read_ledger(frame)
    assert ledger.rejected == ()
    assert ledger.frame.loc[0, "date"] == pd.Timestamp("2024-01-05")
    assert ledger.frame.loc[0, "amount_minor"] == 1050
    with_time = frame.assign(date=pd.to_datetime(["2024-01-05 13:00"]))
    assert [r.reason for r in read_ledger(with_time).rejected] == [
        "date must be a date written YYYY-MM-DD"
    ]
    mixed = frame.assign(amount=pd.Series([Decimal("1.5")], dtype=object))
    mixed.loc[1] = mixed.loc[0]
    mixed.loc[1, "amount"] = 2.5  # a float among Decimals
    with pytest.raises(InputError, match="column amount"):
        read_ledger(mixed)


def test_empty_inputs(tmp_path: Path) -> None:
    ledger = read_ledger(ledger_csv(tmp_path, []))
    roster = read_roster(roster_csv(tmp_path, []))
    assert ledger.frame.empty and roster.frame.empty
    assert check_ledger(ledger, roster).frame.empty
    # Every ledger row fails against an empty roster, none is lost.
    full = check_ledger(read_ledger(ledger_csv(tmp_path, LEDGER_ROWS, "l.csv")), roster)
    assert full.frame.empty
    assert [r.row for r in full.rejected] == list(range(1, len(LEDGER_ROWS) + 1))


def test_digest_keeps_separator_characters_apart(tmp_path: Path) -> None:
    base = pd.DataFrame(
        {"transaction_id": ["T1"], "employee_id": ["E1"], "date": ["2024-01-05"],
         "event": ["sale"], "amount": ["1"], "currency": ["USD"]}
    )  # fmt: skip
    a = base.assign(transaction_id=["T\x1fE"], employee_id=["1"])
    b = base.assign(transaction_id=["T"], employee_id=["E\x1f1"])
    assert read_ledger(a).sha256 != read_ledger(b).sha256
    c = base.assign(transaction_id=["T\\"], employee_id=["x1fE1"])
    assert read_ledger(a).sha256 != read_ledger(c).sha256


def test_several_ledger_files_read_as_one_and_rejects_name_their_file(tmp_path: Path) -> None:
    first = ledger_csv(tmp_path, ["T1,E1,2026-01-05,sale,100.00,USD,"], "2026-01.csv")
    second = ledger_csv(
        tmp_path,
        ["T1,E1,2026-02-03,refund,40.00,USD,", "T2,E1,2026-02-04,sale,1e3,USD,"],
        "2026-02.csv",
    )
    ledger = read_ledger([first, second])
    assert list(ledger.frame["event"]) == ["sale", "refund"]
    assert list(ledger.frame["source"]) == [str(first), str(second)]
    # One file name per file, not per row: a categorical column, names in sorted order.
    assert list(ledger.frame["source"].cat.categories) == sorted([str(first), str(second)])
    assert [(r.source, r.line, r.column) for r in ledger.rejected] == [(str(second), 3, "amount")]
    # The digest and the frame do not depend on the order the files are given in.
    assert read_ledger([second, first]).sha256 == ledger.sha256
    pd.testing.assert_frame_equal(read_ledger([second, first]).frame, ledger.frame)
    # A cross-row reason that cites another row names its file too.
    again = ledger_csv(tmp_path, ["T1,E1,2026-01-05,sale,100.00,USD,"], "again.csv")
    checked = check_ledger(read_ledger([first, second, again]), read_roster(roster_csv(tmp_path)))
    duplicate = [r for r in checked.rejected if "duplicate of" in r.reason]
    assert duplicate and "2026-01.csv line 2" in duplicate[0].reason


@pytest.mark.parametrize("bad_row", [1, 2])
def test_a_row_with_more_cells_than_the_header_is_an_error_not_a_column_shift(
    tmp_path: Path, bad_row: int
) -> None:
    rows = ["T1,E1,2026-03-01,sale,100.00,USD,", "T2,E1,2026-03-02,sale,100.00,USD,"]
    rows[bad_row - 1] += ",7"
    with pytest.raises(InputError, match="cannot read the file") as caught:
        read_ledger(ledger_csv(tmp_path, rows))
    assert "more cells than the header" in str(caught.value) or "Expected 7 fields" in str(
        caught.value
    )


def test_each_refused_cell_is_shown_as_written_whichever_columns_fail(tmp_path: Path) -> None:
    """The text columns that are not kept leave the read once checked (date, event,
    currency, amount, margin): each refusal still shows its own cell as written, on rows
    refused for one column or several, among rows that pass."""
    rows = [
        "T1,E1,2024-01-05,sale,100.00,USD,20",
        "T2,E1,2024-13-05,sale,1.005,USD,2",  # bad date and too many decimals
        "T3,E1,2024-01-05,sold,5,XYZ,1",  # unknown event and currency
        "T4,E1,2024-01-05,sale,$5,USD,1.2.3",  # amount and margin not numbers
        "T5,E1,2024-01-05,refund,5,USD,7",  # margin on a refund
        "T6,E1,2024-01-06,sale,7.50,USD,",
    ]
    ledger = read_ledger(ledger_csv(tmp_path, rows))
    shown = sorted((r.row, r.column, r.value) for r in ledger.rejected)
    assert shown == [
        (2, "amount", "1.005"), (2, "date", "2024-13-05"),
        (3, "currency", "XYZ"), (3, "event", "sold"),
        (4, "amount", "$5"), (4, "margin", "1.2.3"),
        (5, "margin", "7"),
    ]  # fmt: skip
    assert ledger.frame["transaction_id"].tolist() == ["T1", "T6"]
    assert all(r.reason for r in ledger.rejected)
