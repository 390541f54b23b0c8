"""Payroll exports: exact CSV bytes, formula-injection neutralisation, reconciliation, JSON."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import compcalc
from compcalc.money import D
from compcalc.statements.export import (
    COLUMNS,
    amount_cell,
    neutralise_cell,
    payroll_csv,
    payroll_json,
    payroll_rows,
    write_export,
)
from compcalc.statements.model import Line, PeriodResult, RuleRef, Statement

REPO = Path(__file__).resolve().parents[1]
RULE = RuleRef("acme-sales", "2024.1", "plan", "a1" * 32)


def _line(pay_code: str, amount: str, item: str = "installment") -> Line:
    return Line(id=f"{pay_code}.{item}", component=pay_code, kind=pay_code, pay_code=pay_code,
                item=item, label=f"{pay_code} {item}", amount=D(amount), rule=RULE,
                formula=amount)


def _statement(employee_id: str, name: str, lines: tuple[Line, ...],
               currency: str = "USD") -> Statement:
    total = sum((line.amount for line in lines), Decimal(0))
    return Statement(employee_id=employee_id, name=name, role="account_manager",
                     currency=currency, total=total, lines=lines)


# Deliberately out of order: the export sorts by employee id, then by pay code.
STATEMENTS = (
    _statement("E002", 'Smith, "Jo"', (
        _line("draw", "500.00"), _line("allowance", "200.00", "phone"),
        _line("adjustment", "-25.50"), _line("commission", "0.00", "new_credit"),
        _line("base", "3900.00"), _line("allowance", "50.00", "car"))),
    _statement("E001", '=HYPERLINK("x")', (
        _line("base", "5000.00"), _line("commission", "1400.00", "new_credit"),
        _line("commission", "-250.00", "clawback"), _line("bonus", "300.00"))),
    _statement("E003", "-2", (_line("base", "1000.00"),
                              _line("commission", "-736.00", "clawback"))),
    _statement("E004", "+1", (_line("base", "392000"), _line("allowance", "20000")), "JPY"),
    _statement("E005", "@SUM(A1)", (_line("base", "100.00"),)),
    _statement("E006", "\tTab", (_line("bonus", "0.00"),)),
    _statement("E007", "\rCR", (_line("allowance", "10.00"),)),
    _statement("-E8", "Normal Name", (_line("base", "1.00"),)),
)
RESULT = PeriodResult(
    period="2024-03", period_start="2024-03-01", period_end="2024-03-31",
    ruleset_id="acme-sales", ruleset_version="2024.1", ruleset_sha256="a1" * 32,
    roster_sha256="b2" * 32, ledger_sha256="c3" * 32, engine_version="0.1.0", currency="USD",
    statements=STATEMENTS,
)

HYPERLINK = '"\'=HYPERLINK(""x"")"'
SMITH = '"Smith, ""Jo"""'
EXPECTED_CSV = (
    "employee_id,name,period,pay_code,currency,amount,lines\r\n"
    "'-E8,Normal Name,2024-03,base,USD,1.00,1\r\n"
    f"E001,{HYPERLINK},2024-03,base,USD,5000.00,1\r\n"
    f"E001,{HYPERLINK},2024-03,commission,USD,1150.00,2\r\n"
    f"E001,{HYPERLINK},2024-03,bonus,USD,300.00,1\r\n"
    f"E002,{SMITH},2024-03,base,USD,3900.00,1\r\n"
    f"E002,{SMITH},2024-03,allowance,USD,250.00,2\r\n"
    f"E002,{SMITH},2024-03,commission,USD,0.00,1\r\n"
    f"E002,{SMITH},2024-03,adjustment,USD,-25.50,1\r\n"
    f"E002,{SMITH},2024-03,draw,USD,500.00,1\r\n"
    "E003,'-2,2024-03,base,USD,1000.00,1\r\n"
    "E003,'-2,2024-03,commission,USD,-736.00,1\r\n"
    "E004,'+1,2024-03,base,JPY,392000,1\r\n"
    "E004,'+1,2024-03,allowance,JPY,20000,1\r\n"
    "E005,'@SUM(A1),2024-03,base,USD,100.00,1\r\n"
    "E006,'\tTab,2024-03,bonus,USD,0.00,1\r\n"
    "E007,\"'\rCR\",2024-03,allowance,USD,10.00,1\r\n"
)
EXPECTED_RECORDS = [
    list(COLUMNS),
    ["'-E8", "Normal Name", "2024-03", "base", "USD", "1.00", "1"],
    ["E001", "'=HYPERLINK(\"x\")", "2024-03", "base", "USD", "5000.00", "1"],
    ["E001", "'=HYPERLINK(\"x\")", "2024-03", "commission", "USD", "1150.00", "2"],
    ["E001", "'=HYPERLINK(\"x\")", "2024-03", "bonus", "USD", "300.00", "1"],
    ["E002", 'Smith, "Jo"', "2024-03", "base", "USD", "3900.00", "1"],
    ["E002", 'Smith, "Jo"', "2024-03", "allowance", "USD", "250.00", "2"],
    ["E002", 'Smith, "Jo"', "2024-03", "commission", "USD", "0.00", "1"],
    ["E002", 'Smith, "Jo"', "2024-03", "adjustment", "USD", "-25.50", "1"],
    ["E002", 'Smith, "Jo"', "2024-03", "draw", "USD", "500.00", "1"],
    ["E003", "'-2", "2024-03", "base", "USD", "1000.00", "1"],
    ["E003", "'-2", "2024-03", "commission", "USD", "-736.00", "1"],
    ["E004", "'+1", "2024-03", "base", "JPY", "392000", "1"],
    ["E004", "'+1", "2024-03", "allowance", "JPY", "20000", "1"],
    ["E005", "'@SUM(A1)", "2024-03", "base", "USD", "100.00", "1"],
    ["E006", "'\tTab", "2024-03", "bonus", "USD", "0.00", "1"],
    ["E007", "'\rCR", "2024-03", "allowance", "USD", "10.00", "1"],
]


# --------------------------------------------------------------------------- rows


def test_rows_one_per_employee_per_pay_code_in_fixed_order() -> None:
    rows = payroll_rows(RESULT)
    assert list(rows.columns) == list(COLUMNS)
    assert list(zip(rows["employee_id"], rows["pay_code"], strict=True)) == [
        ("-E8", "base"), ("E001", "base"), ("E001", "commission"), ("E001", "bonus"),
        ("E002", "base"), ("E002", "allowance"), ("E002", "commission"),
        ("E002", "adjustment"), ("E002", "draw"), ("E003", "base"), ("E003", "commission"),
        ("E004", "base"), ("E004", "allowance"), ("E005", "base"), ("E006", "bonus"),
        ("E007", "allowance"),
    ]
    e002 = rows[rows["employee_id"] == "E002"].set_index("pay_code")
    assert e002.loc["allowance", "amount"] == D("250.00")
    assert e002.loc["allowance", "lines"] == 2
    assert e002.loc["commission", "amount"] == D("0.00")  # a computed zero is kept
    assert "bonus" not in e002.index  # no bonus line, no bonus row
    assert all(isinstance(amount, Decimal) for amount in rows["amount"])


def test_rows_sum_per_employee_to_statement_totals() -> None:
    rows = payroll_rows(RESULT)
    for statement in RESULT.statements:
        mine = rows[rows["employee_id"] == statement.employee_id]
        assert sum(mine["amount"], Decimal(0)) == statement.total
        assert int(mine["lines"].sum()) == len(statement.lines)
        for code in {line.pay_code for line in statement.lines}:
            lines = [line.amount for line in statement.lines if line.pay_code == code]
            assert mine[mine["pay_code"] == code]["amount"].item() == sum(lines, Decimal(0))


def test_rows_refuse_a_statement_whose_lines_do_not_sum_to_its_total() -> None:
    wrong = dataclasses.replace(STATEMENTS[0], total=D("1.00"))
    with pytest.raises(ValueError, match=re.escape("E002: lines sum to 4624.50, total is 1.00")):
        payroll_rows(dataclasses.replace(RESULT, statements=(wrong,)))


def test_rows_refuse_two_statements_for_one_employee() -> None:
    with pytest.raises(ValueError, match="more than one statement for employee"):
        payroll_rows(dataclasses.replace(RESULT, statements=(STATEMENTS[1], STATEMENTS[1])))


def test_an_empty_run_exports_just_the_header() -> None:
    empty = dataclasses.replace(RESULT, statements=())
    assert payroll_rows(empty).empty
    assert payroll_csv(empty) == "employee_id,name,period,pay_code,currency,amount,lines\r\n"


# --------------------------------------------------------------------------- csv


def test_csv_exact_bytes() -> None:
    text = payroll_csv(RESULT)
    assert text == EXPECTED_CSV
    assert text.encode("utf-8") == EXPECTED_CSV.encode("utf-8")
    assert text == payroll_csv(RESULT)


def test_negative_clawback_stays_a_plain_number() -> None:
    text = payroll_csv(RESULT)
    assert ",USD,-736.00,1\r\n" in text
    assert "'-736" not in text
    assert '"-736' not in text


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_each_trigger_is_neutralised_in_every_text_column(trigger: str) -> None:
    statement = _statement(f"{trigger}E9", f"{trigger}name", (_line(f"{trigger}code", "1.00"),))
    result = dataclasses.replace(RESULT, period=f"{trigger}2024-03", statements=(statement,))
    record = list(csv.reader(io.StringIO(payroll_csv(result), newline="")))[1]
    assert record == [f"'{trigger}E9", f"'{trigger}name", f"'{trigger}2024-03",
                      f"'{trigger}code", "USD", "1.00", "1"]


def test_neutralise_leaves_safe_text_alone() -> None:
    for text in ["Ada", "", "'=already", " =spaced", "E-1", "O'Brien", "1+1"]:
        assert neutralise_cell(text) == text


def test_amount_cells_never_round_or_take_a_sign_on_zero() -> None:
    assert amount_cell(D("-0.00"), "USD") == "0.00"
    assert amount_cell(D("7"), "KWD") == "7.000"
    assert amount_cell(D("12345678901234567890123456789.10"), "USD") == (
        "12345678901234567890123456789.10")
    with pytest.raises(ValueError, match="more decimal places than USD allows"):
        amount_cell(D("0.005"), "USD")
    with pytest.raises(ValueError, match="not a finite number"):
        amount_cell(D("NaN"), "USD")


def test_csv_round_trips_through_the_csv_module_and_pandas() -> None:
    text = payroll_csv(RESULT)
    assert list(csv.reader(io.StringIO(text, newline=""))) == EXPECTED_RECORDS
    frame = pd.read_csv(io.StringIO(text, newline=""), dtype=str, keep_default_na=False)
    assert list(frame.columns) == EXPECTED_RECORDS[0]
    assert frame.to_numpy().tolist() == EXPECTED_RECORDS[1:]


def test_csv_values_undo_to_the_rows_exactly() -> None:
    rows = payroll_rows(RESULT)
    parsed = list(csv.DictReader(io.StringIO(payroll_csv(RESULT), newline="")))
    assert len(parsed) == len(rows)
    for cells, row in zip(parsed, rows.to_dict("records"), strict=True):
        for column in ("employee_id", "name", "period", "pay_code", "currency"):
            value = cells[column]
            if value[:1] == "'" and value[1:2] in {"=", "+", "-", "@", "\t", "\r"}:
                value = value[1:]
            assert value == row[column]
        assert Decimal(cells["amount"]) == row["amount"]
        assert int(cells["lines"]) == row["lines"]


# --------------------------------------------------------------------------- json


def test_json_is_canonical_and_names_its_run() -> None:
    text = payroll_json(RESULT)
    document = json.loads(text)
    assert text.endswith("}\n")
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert document["ruleset"] == {"id": "acme-sales", "version": "2024.1", "sha256": "a1" * 32}
    assert document["inputs"] == {"roster_sha256": "b2" * 32, "ledger_sha256": "c3" * 32}
    assert document["engine"] == {"name": "compcalc", "version": "0.1.0"}
    assert document["period"] == {"label": "2024-03", "start": "2024-03-01",
                                  "end": "2024-03-31"}
    assert document["format"] == "compcalc.payroll/1"


def test_json_rows_match_the_csv_rows_with_raw_text() -> None:
    rows = json.loads(payroll_json(RESULT))["rows"]
    assert len(rows) == len(EXPECTED_RECORDS) - 1
    assert rows[1] == {"employee_id": "E001", "name": '=HYPERLINK("x")', "period": "2024-03",
                       "pay_code": "base", "currency": "USD", "amount": "5000.00", "lines": 1}
    assert [row["amount"] for row in rows] == [record[5] for record in EXPECTED_RECORDS[1:]]
    assert {"employee_id": "E003", "name": "-2", "period": "2024-03", "pay_code": "commission",
            "currency": "USD", "amount": "-736.00", "lines": 1} in rows


# --------------------------------------------------------------------------- files


def test_write_export_writes_the_exact_text(tmp_path: Path) -> None:
    write_export(RESULT, tmp_path / "out" / "payroll.csv", "payroll-csv")
    write_export(RESULT, str(tmp_path / "out" / "payroll.json"), "json")
    assert (tmp_path / "out" / "payroll.csv").read_bytes() == EXPECTED_CSV.encode("utf-8")
    assert (tmp_path / "out" / "payroll.json").read_bytes() == payroll_json(RESULT).encode()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "payroll.csv", "payroll.json"]


def test_write_export_refuses_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        write_export(RESULT, tmp_path / "x", "xlsx")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- shipped example


@pytest.fixture(scope="module")
def shipped() -> PeriodResult:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        return compcalc.run_period(
            compcalc.load_rules("rules/account_managers.yaml"), "examples/roster.csv",
            ["examples/ledger/2026-10.csv", "examples/ledger/2026-11.csv"], "2026-11")


def test_shipped_example_sums_per_employee_to_each_statement_total(
        shipped: PeriodResult) -> None:
    rows = payroll_rows(shipped)
    assert set(rows["employee_id"]) == {s.employee_id for s in shipped.statements}
    for statement in shipped.statements:
        mine = rows[rows["employee_id"] == statement.employee_id]
        assert sum(mine["amount"], Decimal(0)) == statement.total
    parsed = list(csv.DictReader(io.StringIO(payroll_csv(shipped), newline="")))
    totals: dict[str, Decimal] = {}
    for cells in parsed:
        totals[cells["employee_id"]] = totals.get(cells["employee_id"], Decimal(0)) + Decimal(
            cells["amount"])
    assert totals == {s.employee_id: s.total for s in shipped.statements}
    assert sum(totals.values(), Decimal(0)) == sum(rows["amount"], Decimal(0))


def test_shipped_example_keeps_the_clawback_plain_and_round_trips(
        shipped: PeriodResult) -> None:
    text = payroll_csv(shipped)
    # E020's November: 1,285.20 new commission, and the clawback of a refunded October sale
    # on its own adjustment row, its minus sign intact (549.20 net, as before).
    assert "E020,Omar Haddad,2026-11,commission,USD,1285.20,1\r\n" in text
    assert "E020,Omar Haddad,2026-11,adjustment,USD,-736.00,1\r\n" in text
    assert text.count("\r\n") == len(payroll_rows(shipped)) + 1
    frame = pd.read_csv(io.StringIO(text, newline=""), dtype=str, keep_default_na=False)
    assert [list(frame.columns), *frame.to_numpy().tolist()] == list(
        csv.reader(io.StringIO(text, newline="")))
    assert json.loads(payroll_json(shipped))["ruleset"]["sha256"] == shipped.ruleset_sha256
