"""Payroll exports of a pay run: one row per employee per pay code, as CSV or canonical JSON.

Each row carries the employee id and name, the period, the pay code, the currency, the exact
sum of that pay code's lines and how many lines made it. Rows are sorted by employee id, then
by pay code in a fixed order (base, allowance, commission, bonus, then any other pay code such
as adjustment or draw alphabetically). A pay code appears for an employee only when the
statement has at least one line with it, so a 0.00 commission that was computed is shown.

The CSV is RFC 4180 (``\\r\\n`` line ends, a header row, fields quoted only when they must be)
and safe to open in a spreadsheet: a *text* cell starting with ``=``, ``+``, ``-``, ``@``, tab
or carriage return gets a leading ``'`` (OWASP "CSV injection"). Amounts are plain numbers
written by compcalc (``-736.00`` stays ``-736.00``), with the currency's minor digits.

>>> from compcalc.money import D
>>> from compcalc.statements.model import Line, PeriodResult, RuleRef, Statement
>>> rule = RuleRef("acme", "1", "commission")
>>> line = Line("commission.clawback", "commission", "commission", "commission", "clawback",
...             "Clawback", D("-736.00"), rule, "-736.00")
>>> ada = Statement("E001", "=cmd()", "am", "USD", D("-736.00"), (line,))
>>> result = PeriodResult("2024-03", "2024-03-01", "2024-03-31", "acme", "1", "a" * 64,
...                       "b" * 64, "c" * 64, "0.1.0", "USD", (ada,))
>>> payroll_csv(result).splitlines()
['employee_id,name,period,pay_code,currency,amount,lines', "E001,'=cmd(),2024-03,commission,USD,-736.00,1"]
"""  # noqa: E501

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, Inexact, localcontext
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from compcalc.money import minor_digits
from compcalc.statements.files import write_atomic
from compcalc.statements.model import PeriodResult, Statement, canonical_json

COLUMNS: tuple[str, ...] = (
    "employee_id",
    "name",
    "period",
    "pay_code",
    "currency",
    "amount",
    "lines",
)
TEXT_COLUMNS: tuple[str, ...] = ("employee_id", "name", "period", "pay_code", "currency")
PAY_CODE_ORDER: tuple[str, ...] = ("base", "allowance", "commission", "bonus")
# First characters a spreadsheet may read as the start of a formula (OWASP CSV injection).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
JSON_FORMAT = "compcalc.payroll/1"

ExportFormat = Literal["payroll-csv", "json"]

_AMOUNT_CELL = re.compile(r"^-?\d+(\.\d+)?$", re.ASCII)
_PRECISION = 80  # ample for any money sum; an inexact sum raises instead of rounding


def pay_code_key(pay_code: str) -> tuple[int, str]:
    """Sort key for pay codes: the fixed order first, then the others alphabetically.

    >>> sorted(["draw", "bonus", "adjustment", "base", "commission", "allowance"],
    ...        key=pay_code_key)
    ['base', 'allowance', 'commission', 'bonus', 'adjustment', 'draw']
    """
    if pay_code in PAY_CODE_ORDER:
        return PAY_CODE_ORDER.index(pay_code), ""
    return len(PAY_CODE_ORDER), pay_code


def neutralise_cell(text: str) -> str:
    """Prefix ``'`` to a text cell a spreadsheet could run as a formula; others unchanged.

    >>> [neutralise_cell(t) for t in ["=1+1", "-2", "@SUM(A1)", "\\tx", "Ada", ""]]
    ["'=1+1", "'-2", "'@SUM(A1)", "'\\tx", 'Ada', '']
    """
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def amount_cell(amount: Decimal, currency: str) -> str:
    """An amount as a plain decimal string with the currency's minor digits, never rounded.

    Raises ValueError when the amount is not finite or has more places than the currency
    allows (the engine rounds every line; an export never rounds silently).

    >>> amount_cell(Decimal("-736"), "USD"), amount_cell(Decimal("392000.00"), "JPY")
    ('-736.00', '392000')
    """
    if not amount.is_finite():
        raise ValueError(f"amount {amount} is not a finite number")
    with localcontext() as context:
        context.prec = _PRECISION
        quantized = amount.quantize(Decimal(1).scaleb(-minor_digits(currency)))
    if quantized != amount:
        raise ValueError(f"amount {amount} has more decimal places than {currency} allows")
    text = f"{quantized.copy_abs() if quantized.is_zero() else quantized:f}"
    if not _AMOUNT_CELL.fullmatch(text):  # explicit check: survives python -O, unlike assert
        raise ValueError(f"amount cell {text!r} is not a plain decimal number")
    return text


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """Sum Decimals exactly: raises decimal.Inexact rather than round.

    >>> exact_sum([Decimal("0.10"), Decimal("0.20"), Decimal("-0.05")])
    Decimal('0.25')
    """
    with localcontext() as context:
        context.prec = _PRECISION
        context.traps[Inexact] = True
        return sum(amounts, Decimal(0))


def _statement_rows(statement: Statement, period: str) -> list[dict[str, Any]]:
    """Rows of one statement, checked to add up to its total."""
    by_code: dict[str, list[Decimal]] = {}
    for line in statement.lines:
        by_code.setdefault(line.pay_code, []).append(line.amount)
    rows: list[dict[str, Any]] = [
        {
            "employee_id": statement.employee_id,
            "name": statement.name,
            "period": period,
            "pay_code": code,
            "currency": statement.currency,
            "amount": exact_sum(by_code[code]),
            "lines": len(by_code[code]),
        }
        for code in sorted(by_code, key=pay_code_key)
    ]
    rows_total = exact_sum(row["amount"] for row in rows)
    if rows_total != statement.total:
        raise ValueError(
            f"statement {statement.employee_id}: lines sum to {rows_total}, "
            f"total is {statement.total}; refusing to export"
        )
    return rows


def payroll_rows(result: PeriodResult) -> pd.DataFrame:
    """One row per employee per pay code; ``amount`` is an exact Decimal, ``lines`` a count.

    Raises ValueError when an employee has two statements or a statement's lines do not sum
    to its total: a payroll file must reconcile with the statements.

    >>> payroll_rows(result)[["employee_id", "pay_code", "amount"]]  # doctest: +SKIP
      employee_id    pay_code    amount
    0        E001        base   5000.00
    1        E001  commission   1150.00
    """
    ids = [statement.employee_id for statement in result.statements]
    duplicates = sorted({employee for employee in ids if ids.count(employee) > 1})
    if duplicates:
        raise ValueError(f"more than one statement for employee(s) {', '.join(duplicates)}")
    rows = [
        row
        for statement in sorted(result.statements, key=lambda s: s.employee_id)
        for row in _statement_rows(statement, result.period)
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _csv_records(rows: pd.DataFrame) -> list[list[str]]:
    """The CSV cells of each row, text neutralised and amounts formatted."""
    records: list[list[str]] = []
    for row in rows.to_dict("records"):
        text = [neutralise_cell(str(row[column])) for column in TEXT_COLUMNS]
        amount = amount_cell(row["amount"], str(row["currency"]))
        records.append([*text, amount, str(int(row["lines"]))])
    return records


def payroll_csv(result: PeriodResult) -> str:
    """The payroll rows as RFC 4180 CSV text (``\\r\\n`` line ends, header row first).

    Columns: employee_id, name, period, pay_code, currency, amount, lines. Fields are quoted
    only when they contain a comma, a quote or a line break; text cells that could start a
    formula get a leading ``'``. The same result always gives the same text.

    >>> payroll_csv(result).splitlines()[1]  # doctest: +SKIP
    'E001,Ada Lovelace,2024-03,base,USD,5000.00,1'
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(_csv_records(payroll_rows(result)))
    return buffer.getvalue()


def _json_rows(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as plain JSON data: amounts as decimal strings, text unchanged."""
    return [
        {
            **{column: str(row[column]) for column in TEXT_COLUMNS},
            "amount": amount_cell(row["amount"], str(row["currency"])),
            "lines": int(row["lines"]),
        }
        for row in rows.to_dict("records")
    ]


def payroll_json(result: PeriodResult) -> str:
    """The payroll rows as canonical JSON, with the digests that tie them to their run.

    Sorted keys, two-space indent, UTF-8 text, trailing newline; amounts are strings. Text is
    not neutralised here: JSON is not opened as a spreadsheet.

    >>> json.loads(payroll_json(result))["ruleset"]["sha256"]  # doctest: +SKIP
    'a1a1…'
    """
    document = {
        "format": JSON_FORMAT,
        **result.provenance(),
        "columns": list(COLUMNS),
        "rows": _json_rows(payroll_rows(result)),
    }
    return canonical_json(document)


_RENDERERS: dict[str, Callable[[PeriodResult], str]] = {
    "payroll-csv": payroll_csv,
    "json": payroll_json,
}


def write_export(result: PeriodResult, path: str | os.PathLike[str], fmt: ExportFormat) -> None:
    """Write the export in format ``fmt`` to ``path`` atomically (UTF-8, no BOM).

    >>> write_export(result, "out/2024-03-payroll.csv", "payroll-csv")  # doctest: +SKIP
    """
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown export format {fmt!r}: expected one of {sorted(_RENDERERS)}")
    write_atomic(Path(path), renderer(result))


__all__ = [
    "COLUMNS",
    "ExportFormat",
    "amount_cell",
    "exact_sum",
    "neutralise_cell",
    "pay_code_key",
    "payroll_csv",
    "payroll_json",
    "payroll_rows",
    "write_export",
]
