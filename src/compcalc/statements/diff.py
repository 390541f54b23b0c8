"""What changed between two pay runs, per employee and statement line, and by how much.

Lines are matched by employee and the line's ``id`` (unique within a statement; should one
ever repeat, its occurrences are matched in order). A line in both runs with the same amount
is unchanged and not listed; a line in one run only is ``added`` (in *b*) or ``removed``
(from *a*). ``change`` is ``amount_b - amount_a`` with an absent amount counting as zero.
Amounts are exact :class:`~decimal.Decimal` objects (``None`` where a line is absent), never
floats, and the rows are in a fixed order: employees by id, then the lines in the order of
*b*'s statement, then the lines only *a* had in *a*'s order. The same two results always
give the same rows and the same bytes.

Two runs in different currencies are not compared (:class:`DiffError`); runs of different
periods are, with a note saying so.

>>> from compcalc.money import D
>>> from compcalc.statements.model import Line, PeriodResult, RuleRef, Statement
>>> rule = RuleRef("acme", "1", "comm")
>>> def run(amount):
...     line = Line("comm.new_credit", "comm", "commission", "commission", "new_credit",
...                 "Commission", D(amount), rule, "")
...     ada = Statement("E001", "Ada", "am", "USD", D(amount), (line,))
...     return PeriodResult("2024-03", "2024-03-01", "2024-03-31", "acme", "1", "a", "b",
...                         "c", "0.1.0", "USD", (ada,))
>>> diff_results(run("100.00"), run("120.00"))[["line", "amount_a", "amount_b", "change"]]
              line amount_a amount_b change
0  comm.new_credit   100.00   120.00  20.00
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

from compcalc.errors import CompcalcError
from compcalc.money import ZERO, format_decimal_amount, minor_digits
from compcalc.statements.export import amount_cell, neutralise_cell
from compcalc.statements.model import Line, PeriodResult, Statement, canonical_json

LINE_COLUMNS: tuple[str, ...] = (
    "employee_id",
    "name",
    "line",
    "pay_code",
    "component",
    "item",
    "currency",
    "amount_a",
    "amount_b",
    "change",
    "status",
)
TOTAL_COLUMNS: tuple[str, ...] = (
    "employee_id",
    "name",
    "currency",
    "total_a",
    "total_b",
    "change",
    "status",
)
AMOUNT_COLUMNS = frozenset({"amount_a", "amount_b", "change", "total_a", "total_b"})
JSON_FORMAT = "compcalc.diff/1"
SHORT_DIGEST = 12

DiffFormat = Literal["text", "json", "csv"]
Status = Literal["added", "removed", "changed"]


class DiffError(CompcalcError):
    """Two results cannot be compared (different currencies)."""


@dataclass(frozen=True)
class ResultDiff:
    """The comparison of two results: changed lines, per-employee totals, run totals, notes.

    ``lines`` is :func:`diff_results`; ``totals`` has one row per affected employee (any line
    added, removed or changed); ``run_totals`` one row per currency over *every* statement of
    each run; ``notes`` says what a reader should know first (different periods ...).
    """

    a: PeriodResult
    b: PeriodResult
    lines: pd.DataFrame
    totals: pd.DataFrame
    run_totals: pd.DataFrame
    employees_compared: int
    notes: tuple[str, ...]

    @property
    def employees_affected(self) -> int:
        return len(self.totals)


def diff_results(a: PeriodResult, b: PeriodResult) -> pd.DataFrame:
    """One row per (employee, line) that differs between ``a`` and ``b``.

    Columns: employee_id, name, line, pay_code, component, item, currency, amount_a, amount_b,
    change, status (``added``, ``removed`` or ``changed``). Amounts are exact Decimals,
    ``None`` where the line is absent from that run. Raises :class:`DiffError` when the runs
    are in different currencies. Per-employee and run totals: :func:`compare_results`.

    >>> diff = diff_results(old, new)                                   # doctest: +SKIP
    >>> diff.groupby("employee_id")["change"].sum()                     # doctest: +SKIP
    """
    return compare_results(a, b).lines


def compare_results(a: PeriodResult, b: PeriodResult) -> ResultDiff:
    """Everything :func:`diff_results` gives, plus totals per employee and per run, and notes."""
    _check_currencies(a, b)
    old = {s.employee_id: s for s in a.statements}
    new = {s.employee_id: s for s in b.statements}
    _check_unique(a, old)
    _check_unique(b, new)
    line_rows: list[dict[str, Any]] = []
    total_rows: list[dict[str, Any]] = []
    for employee in sorted(old.keys() | new.keys()):
        before, after = old.get(employee), new.get(employee)
        rows = _line_rows(before, after)
        line_rows.extend(rows)
        total_a = before.total if before is not None else None
        total_b = after.total if after is not None else None
        if rows or total_a != total_b:
            shown = after if after is not None else before
            assert shown is not None
            total_rows.append(
                {
                    "employee_id": employee,
                    "name": shown.name,
                    "currency": shown.currency,
                    "total_a": total_a,
                    "total_b": total_b,
                    "change": _change(total_a, total_b),
                    "status": _status(total_a is not None, total_b is not None),
                }
            )
    return ResultDiff(
        a=a,
        b=b,
        lines=_frame(line_rows, LINE_COLUMNS),
        totals=_frame(total_rows, TOTAL_COLUMNS),
        run_totals=_run_totals(a, b),
        employees_compared=len(old.keys() | new.keys()),
        notes=_notes(a, b),
    )


# --------------------------------------------------------------------------- matching


def _check_currencies(a: PeriodResult, b: PeriodResult) -> None:
    if a.currency != b.currency:
        raise DiffError(
            f"cannot compare runs in different currencies: {a.currency} ({a.period}, "
            f"{a.ruleset_id}@{a.ruleset_version}) and {b.currency} ({b.period}, "
            f"{b.ruleset_id}@{b.ruleset_version}); amounts would be mixed"
        )
    first = {s.employee_id: s.currency for s in a.statements}
    mixed = sorted(
        f"{s.employee_id} ({first[s.employee_id]} vs {s.currency})"
        for s in b.statements
        if s.employee_id in first and first[s.employee_id] != s.currency
    )
    if mixed:
        raise DiffError(f"cannot compare statements in different currencies: {', '.join(mixed)}")


def _check_unique(result: PeriodResult, by_id: dict[str, Statement]) -> None:
    if len(by_id) != len(result.statements):
        ids = [s.employee_id for s in result.statements]
        twice = sorted({e for e in ids if ids.count(e) > 1})
        raise DiffError(
            f"run of {result.period} has more than one statement for {', '.join(twice)}"
        )


def _keyed(statement: Statement | None) -> dict[tuple[str, int], Line]:
    """Lines by (id, occurrence): ids are unique in a statement, but never assume it."""
    out: dict[tuple[str, int], Line] = {}
    if statement is None:
        return out
    seen: dict[str, int] = {}
    for line in statement.lines:
        count = seen.get(line.id, 0)
        seen[line.id] = count + 1
        out[(line.id, count)] = line
    return out


def _line_rows(before: Statement | None, after: Statement | None) -> list[dict[str, Any]]:
    old, new = _keyed(before), _keyed(after)
    order = [*new, *(key for key in old if key not in new)]
    shown = after if after is not None else before
    assert shown is not None
    rows: list[dict[str, Any]] = []
    for key in order:
        line_a, line_b = old.get(key), new.get(key)
        amount_a = line_a.amount if line_a is not None else None
        amount_b = line_b.amount if line_b is not None else None
        if line_a is not None and line_b is not None and amount_a == amount_b:
            continue
        line = line_b if line_b is not None else line_a
        assert line is not None
        rows.append(
            {
                "employee_id": shown.employee_id,
                "name": shown.name,
                "line": line.id,
                "pay_code": line.pay_code,
                "component": line.component,
                "item": line.item,
                "currency": shown.currency,
                "amount_a": amount_a,
                "amount_b": amount_b,
                "change": _change(amount_a, amount_b),
                "status": _status(line_a is not None, line_b is not None),
            }
        )
    return rows


def _change(a: Decimal | None, b: Decimal | None) -> Decimal:
    return (b if b is not None else ZERO) - (a if a is not None else ZERO)


def _status(in_a: bool, in_b: bool) -> Status:
    if in_a and in_b:
        return "changed"
    return "added" if in_b else "removed"


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Rows as a DataFrame; amount columns hold Decimal objects (or None), never floats."""
    return pd.DataFrame(
        {
            column: pd.Series(
                [row[column] for row in rows],
                dtype=object if column in AMOUNT_COLUMNS else None,
            )
            for column in columns
        },
        columns=list(columns),
    )


def _sums(result: PeriodResult) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for statement in result.statements:
        sums[statement.currency] = sums.get(statement.currency, ZERO) + statement.total
    return sums


def _run_totals(a: PeriodResult, b: PeriodResult) -> pd.DataFrame:
    old, new = _sums(a), _sums(b)
    currencies = sorted(old.keys() | new.keys()) or [b.currency]
    rows = [
        {
            "currency": currency,
            "total_a": old.get(currency, ZERO),
            "total_b": new.get(currency, ZERO),
            "change": new.get(currency, ZERO) - old.get(currency, ZERO),
        }
        for currency in currencies
    ]
    return _frame(rows, ("currency", "total_a", "total_b", "change"))


def _notes(a: PeriodResult, b: PeriodResult) -> tuple[str, ...]:
    notes: list[str] = []
    if (a.period, a.period_start, a.period_end) != (b.period, b.period_start, b.period_end):
        notes.append(
            f"the runs are for different periods: {a.period} ({a.period_start} to "
            f"{a.period_end}) and {b.period} ({b.period_start} to {b.period_end}); lines "
            "are matched all the same"
        )
    if a.engine_version != b.engine_version:
        notes.append(
            f"the runs were computed by different engine versions: compcalc "
            f"{a.engine_version} and {b.engine_version}"
        )
    for side, result in (("old", a), ("new", b)):
        if result.rejected:
            first = result.rejected[0]
            notes.append(
                f"the {side} run rejected {len(result.rejected)} input row(s), which neither "
                f"pays nor compares (first: {first})"
            )
    return tuple(notes)


# --------------------------------------------------------------------------- rendering


def _digits(currency: str) -> int:
    try:
        return minor_digits(currency)
    except ValueError:
        return 2


def _money(amount: Decimal | None, currency: str) -> str:
    return "-" if amount is None else format_decimal_amount(amount, _digits(currency))


def _signed(amount: Decimal, currency: str) -> str:
    text = format_decimal_amount(amount, _digits(currency))
    return "+" + text if amount > 0 else text


def _short(digest: str) -> str:
    return digest[:SHORT_DIGEST] if digest else "-"


def _side(name: str, result: PeriodResult, source: str) -> list[str]:
    first = f"{name}  {source}" if source else name
    return [
        first,
        f"     period {result.period} · rules {result.ruleset_id}@{result.ruleset_version}"
        f" sha256:{_short(result.ruleset_sha256)}",
        f"     roster sha256:{_short(result.roster_sha256)}"
        f" · ledger sha256:{_short(result.ledger_sha256)} · engine {result.engine_version}",
    ]


def _table(header: list[str], rows: list[list[str]], numeric: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def render(row: list[str]) -> str:
        cells = [
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [render(header), rule, *(render(row) for row in rows)]


def render_diff(diff: ResultDiff, sources: tuple[str, str] = ("", "")) -> str:
    """The comparison for a person: changed lines per employee (old, new, change), then the
    totals of each affected employee, the run totals and how many employees are affected.

    ``sources`` says where each side came from (``run 1a2b3c4d5e6f``, a file, a rule file).
    """
    mixed = len(set(diff.run_totals["currency"])) > 1
    a, b = diff.a, diff.b
    period = (
        f"period {b.period} ({b.period_start} to {b.period_end})"
        if (a.period, a.period_start, a.period_end) == (b.period, b.period_start, b.period_end)
        else f"periods {a.period} and {b.period}"
    )
    out = [
        f"compcalc diff · {period} · currency {b.currency}",
        *_side("old", diff.a, sources[0]),
        *_side("new", diff.b, sources[1]),
    ]
    out.extend(f"note: {note}" for note in diff.notes)
    sections = [out]
    if diff.lines.empty:
        sections.append(["no differences: every statement line is the same in both runs"])
    else:
        sections.append(_lines_table(diff.lines, mixed))
        sections.append(_totals_table(diff.totals, diff.run_totals, mixed))
    affected, changed = diff.employees_affected, len(diff.lines)
    sections.append(
        [
            f"{affected} employee{'' if affected == 1 else 's'} affected "
            f"(of {diff.employees_compared}); "
            + ("1 line differs" if changed == 1 else f"{changed} lines differ")
        ]
    )
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _lines_table(lines: pd.DataFrame, mixed: bool) -> list[str]:
    header = ["employee", "line", "pay code", *(["currency"] if mixed else []),
              "old", "new", "change", "status"]  # fmt: skip
    rows: list[list[str]] = []
    previous = None
    for row in _records(lines):
        currency = str(row["currency"])
        employee = str(row["employee_id"])
        rows.append(
            [
                employee if employee != previous else "",
                str(row["line"]),
                str(row["pay_code"]),
                *([currency] if mixed else []),
                _money(row["amount_a"], currency),
                _money(row["amount_b"], currency),
                _signed(row["change"], currency),
                str(row["status"]),
            ]
        )
        previous = employee
    first = len(header) - 4
    return ["Changed lines", *_table(header, rows, {first, first + 1, first + 2})]


def _totals_table(totals: pd.DataFrame, run_totals: pd.DataFrame, mixed: bool) -> list[str]:
    header = ["employee", "name", *(["currency"] if mixed else []), "old", "new", "change"]
    rows = [
        [
            str(row["employee_id"]),
            str(row["name"]),
            *([str(row["currency"])] if mixed else []),
            _money(row["total_a"], str(row["currency"])),
            _money(row["total_b"], str(row["currency"])),
            _signed(row["change"], str(row["currency"])),
        ]
        for row in _records(totals)
    ]
    grand = [
        [
            "total",
            "",
            *([str(row["currency"])] if mixed else []),
            _money(row["total_a"], str(row["currency"])),
            _money(row["total_b"], str(row["currency"])),
            _signed(row["change"], str(row["currency"])),
        ]
        for row in _records(run_totals)
    ]
    first = len(header) - 3
    table = _table(header, [*rows, *grand], {first, first + 1, first + 2})
    title = "Totals of the affected employees, then of the whole run (every employee)"
    return [title, *table[: -len(grand)], table[1], *table[-len(grand) :]]


def _amount(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else amount_cell(value, currency)


def _json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            key: _amount(value, str(row["currency"])) if key in AMOUNT_COLUMNS else value
            for key, value in row.items()
        }
        for row in _records(frame)
    ]


def diff_json(diff: ResultDiff, sources: tuple[str, str] = ("", "")) -> str:
    """The comparison as canonical JSON (sorted keys, amounts as strings, absent as null)."""
    document = {
        "format": JSON_FORMAT,
        "a": {**diff.a.provenance(), "source": sources[0]},
        "b": {**diff.b.provenance(), "source": sources[1]},
        "notes": list(diff.notes),
        "lines": _json_rows(diff.lines),
        "employees": _json_rows(diff.totals),
        "totals": _json_rows(diff.run_totals),
        "employees_affected": diff.employees_affected,
        "employees_compared": diff.employees_compared,
    }
    return canonical_json(document)


def diff_csv(diff: ResultDiff) -> str:
    """The changed lines as RFC 4180 CSV (header first, ``\\r\\n``), one row per line.

    Absent amounts are empty cells; text cells that could start a spreadsheet formula get a
    leading ``'`` as in the payroll export. Totals: sum ``change`` by employee.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(LINE_COLUMNS)
    for row in _records(diff.lines):
        currency = str(row["currency"])
        writer.writerow(
            [
                (_amount(row[c], currency) or "")
                if c in AMOUNT_COLUMNS
                else neutralise_cell(str(row[c]))
                for c in LINE_COLUMNS
            ]
        )
    return buffer.getvalue()


def render(diff: ResultDiff, fmt: DiffFormat, sources: tuple[str, str] = ("", "")) -> str:
    """The comparison in ``fmt``: ``text``, ``json`` or ``csv``."""
    if fmt == "json":
        return diff_json(diff, sources)
    if fmt == "csv":
        return diff_csv(diff)
    return render_diff(diff, sources)


__all__ = [
    "JSON_FORMAT",
    "LINE_COLUMNS",
    "TOTAL_COLUMNS",
    "DiffError",
    "DiffFormat",
    "ResultDiff",
    "compare_results",
    "diff_csv",
    "diff_json",
    "diff_results",
    "render",
    "render_diff",
]
