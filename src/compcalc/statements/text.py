"""Plain-text views of a pay run for people at a terminal: a summary and one statement explained.

Pure functions from a :class:`PeriodResult` to ``str``: no colour, no terminal probing, the same
result always gives the same text. Laid out for a 100-column terminal; what may run wider:
rejected rows (shown in full: they are the user's own data), unbreakable words, and a totals
table with unusually many pay codes or very large amounts.

>>> print(render_summary(result))          # doctest: +SKIP
>>> print(render_brief(result))            # doctest: +SKIP
>>> print(render_explain(result, "E001"))  # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from decimal import Decimal

from compcalc.money import ZERO, format_decimal_amount, minor_digits
from compcalc.resources import gc_paused
from compcalc.statements.model import Line, PeriodResult, Rejected, SaleNote, Statement

TERMINAL = 100  # the width everything is laid out for
WIDTH = TERMINAL - 4  # wrapped text; room for " USD" after right-aligned amounts
SHORT_DIGEST = 12
MAX_REJECTED_SHOWN = 10
MAX_TRANSACTIONS_SHOWN = 24
# Engine summary keys the counts and the totals table already show (and "total*").
SHOWN_SUMMARY_KEYS = frozenset(
    {"employees", "lines", "held_sales", "held_amount", "excluded_sales", "rejected_rows"}
)
PAY_CODES = ("base", "commission", "bonus", "allowance")  # always shown, in this order
ADJUSTMENT = "adjustment"  # the pay code of true-ups, clawbacks, held-back and released lines
NAME_WIDTH = 28  # the name and role columns shrink to fit TERMINAL, down to the minimums
ROLE_WIDTH = 22
MIN_NAME_WIDTH = 12
MIN_ROLE_WIDTH = 14
FIELD_INDENT = " " * 5
FIELD_WIDTH = 14  # "transactions" + 2


# --------------------------------------------------------------------------- shared helpers


def _digits(currency: str) -> int:
    """Minor digits of a currency; 2 for a code babel does not know (display only)."""
    try:
        return minor_digits(currency)
    except ValueError:
        return 2


def _money(amount: Decimal, currency: str) -> str:
    return format_decimal_amount(amount, _digits(currency))


def _short(digest: str) -> str:
    return digest[:SHORT_DIGEST] if digest else "-"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrap(text: str, first: str, rest: str, width: int = WIDTH) -> list[str]:
    """Wrap each paragraph of ``text``; minus signs never become break points."""
    lines: list[str] = []
    for number, paragraph in enumerate(text.splitlines() or [""]):
        wrapped = textwrap.wrap(
            paragraph,
            width=width,
            initial_indent=first if number == 0 else rest,
            subsequent_indent=rest,
            break_on_hyphens=False,
            break_long_words=False,
        )
        lines.extend(wrapped or [(first if number == 0 else rest).rstrip()])
    return lines


def _ruleset(result: PeriodResult) -> str:
    return f"{result.ruleset_id}@{result.ruleset_version}"


def _period(result: PeriodResult) -> str:
    return f"{result.period} ({result.period_start} to {result.period_end})"


# --------------------------------------------------------------------------- summary


@gc_paused()  # a row list per statement, made and let go: no cycles to find
def render_summary(result: PeriodResult) -> str:
    """The whole run at a glance: audit header, totals per employee and pay code, counts.

    >>> text = render_summary(result)  # doctest: +SKIP
    >>> text.splitlines()[0]           # doctest: +SKIP
    'compcalc pay run · period 2024-03 (2024-03-01 to 2024-03-31)'
    """
    sections = [
        _summary_header(result),
        _totals_table(result),
        _counts(result),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def _summary_header(result: PeriodResult) -> list[str]:
    return [
        f"compcalc pay run · period {_period(result)}",
        f"rules     {_ruleset(result)}  sha256:{_short(result.ruleset_sha256)}",
        f"engine    compcalc {result.engine_version}",
        f"inputs    roster sha256:{_short(result.roster_sha256)}"
        f"  ledger sha256:{_short(result.ledger_sha256)}",
        f"currency  {result.currency}",
    ]


def _pay_codes(statements: Iterable[Statement]) -> list[str]:
    """The four standard pay codes, then any other the lines use, sorted."""
    extra = {line.pay_code for s in statements for line in s.lines} - set(PAY_CODES)
    return [*PAY_CODES, *sorted(extra)]


def _by_pay_code(statement: Statement) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for line in statement.lines:
        sums[line.pay_code] = sums.get(line.pay_code, ZERO) + line.amount
    return sums


def _totals_table(result: PeriodResult) -> list[str]:
    codes = _pay_codes(result.statements)
    currencies = sorted({s.currency for s in result.statements} | {result.currency})
    mixed = len(currencies) > 1
    header = ["employee", "name", "role", *(["currency"] if mixed else []), *codes, "total"]
    rows: list[list[str]] = []
    by_code = [_by_pay_code(statement) for statement in result.statements]  # rows and totals
    for statement, sums in zip(result.statements, by_code, strict=True):
        amounts = [_money(sums[c], statement.currency) if c in sums else "-" for c in codes]
        rows.append(
            [
                statement.employee_id,
                statement.name,
                statement.role,
                *([statement.currency] if mixed else []),
                *amounts,
                _money(statement.total, statement.currency),
            ]
        )
    totals = [
        _totals_row(result, by_code, currency, codes, mixed)
        for currency in currencies
        if mixed is False or any(s.currency == currency for s in result.statements)
    ]
    _fit_names(header, rows, totals)
    return _table(header, rows, totals, numeric_from=len(header) - len(codes) - 1)


def _widths(header: list[str], rows: list[list[str]], totals: list[list[str]]) -> list[int]:
    """Each column's widest cell."""
    return [max(map(len, column)) for column in zip(header, *rows, *totals, strict=True)]


def _fit_names(header: list[str], rows: list[list[str]], totals: list[list[str]]) -> None:
    """Clip the role, then the name column (in place) so the table fits ``TERMINAL`` if it can.

    Roles go first: they repeat down the column and stay recognisable from their start.
    """
    widths = _widths(header, rows, totals)
    table = sum(widths) + 2 * (len(header) - 1)
    name = min(widths[1], NAME_WIDTH)
    role = min(widths[2], ROLE_WIDTH)
    excess = table - (widths[1] - name) - (widths[2] - role) - TERMINAL
    role_cut = min(max(excess, 0), max(role - MIN_ROLE_WIDTH, 0))
    name_cut = min(max(excess - role_cut, 0), max(name - MIN_NAME_WIDTH, 0))
    for row in rows:
        row[1], row[2] = _clip(row[1], name - name_cut), _clip(row[2], role - role_cut)


def _totals_row(
    result: PeriodResult,
    by_code: Sequence[dict[str, Decimal]],
    currency: str,
    codes: Sequence[str],
    mixed: bool,
) -> list[str]:
    """The total row of ``currency``'s statements (``by_code``: each statement's sums)."""
    picked = [k for k, s in enumerate(result.statements) if s.currency == currency]
    statements = [result.statements[k] for k in picked]
    sums: dict[str, Decimal] = {}
    for k in picked:
        for code, amount in by_code[k].items():
            sums[code] = sums.get(code, ZERO) + amount
    total = sum((s.total for s in statements), ZERO)
    amounts = [_money(sums[c], currency) if c in sums else "-" for c in codes]
    label = [f"total {currency}" if mixed else "total", "", "", *([currency] if mixed else [])]
    return [*label, *amounts, _money(total, currency)]


def _table(
    header: list[str], rows: list[list[str]], totals: list[list[str]], numeric_from: int
) -> list[str]:
    """Columns padded to their widest cell; amount columns right-aligned."""
    widths = _widths(header, rows, totals)
    # One format for every row: each cell padded to its column's width, left or right
    layout = "  ".join(
        f"{{:{'>' if i >= numeric_from else '<'}{w}}}" for i, w in enumerate(widths)
    ).format

    def render(row: list[str]) -> str:
        return layout(*row).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [render(header), rule, *(render(r) for r in rows), rule, *(render(r) for r in totals)]


def _counts(result: PeriodResult) -> list[str]:
    """Counts computed from the statements, then any other figure the engine summarised."""
    held = [note for s in result.statements for note in s.held]
    excluded = [note for s in result.statements for note in s.excluded]
    counts = [
        ("employees", f"{len(result.statements)}"),
        ("lines", f"{sum(len(s.lines) for s in result.statements)}"),
        ("held sales", f"{len(held)}{_notes_amount(held, result.currency)}"),
        ("excluded sales", f"{len(excluded)}{_notes_amount(excluded, result.currency)}"),
        *_adjustments(result),
        *(
            (key.replace("_", " "), value)
            for key, value in result.summary
            if key not in SHOWN_SUMMARY_KEYS and not key.startswith("total")
        ),
        ("rejected rows", f"{len(result.rejected)}"),
    ]
    width = max(len(label) for label, _ in counts) + 2
    return [label.ljust(width) + value for label, value in counts] + _rejected_list(result.rejected)


def _adjustment_lines(result: PeriodResult) -> list[tuple[Line, str]]:
    return [
        (line, s.currency) for s in result.statements for line in s.lines
        if line.pay_code == ADJUSTMENT
    ]  # fmt: skip


def _adjustments(result: PeriodResult) -> list[tuple[str, str]]:
    """The count and total of adjustment lines, when the run has any (the table shows them
    as a pay code column too)."""
    found = _adjustment_lines(result)
    if not found:
        return []
    return [("adjustments", f"{len(found)}{_amounts(found)}")]


def _amounts(found: Sequence[tuple[Line, str]]) -> str:
    """``  (1,234.00 USD)``, one sum per currency."""
    sums: dict[str, Decimal] = {}
    for line, currency in found:
        sums[currency] = sums.get(currency, ZERO) + line.amount
    shown = ", ".join(f"{_money(total, c)} {c}" for c, total in sorted(sums.items()))
    return f"  ({shown})"


def _notes_amount(notes: Sequence[SaleNote], currency: str) -> str:
    if not notes:
        return ""
    total = sum((note.amount for note in notes), ZERO)
    return f"  ({_money(total, currency)} {currency})"


def _rejected_list(rejected: Sequence[Rejected]) -> list[str]:
    """The first rejected rows in full, under their count."""
    shown = rejected[:MAX_REJECTED_SHOWN]
    lines = [f"  {row}" for row in shown]
    if len(rejected) > len(shown):
        lines.append(f"  … and {len(rejected) - len(shown)} more (see --format json)")
    return lines


# --------------------------------------------------------------------------- brief


def render_brief(result: PeriodResult) -> str:
    """The end-of-run summary in three lines: employees paid, total by pay code, held sales,
    rejected rows and adjustments (count and total of lines with pay code ``adjustment``).

    For a terminal when the full output is elsewhere (``run --format json``).

    >>> print(render_brief(result), end="")  # doctest: +SKIP
    compcalc run 2026-11: 40 employees paid, total 513,971.98 USD
      base 228,771.81 · commission 196,919.33 · bonus 50,355.84 · allowance 37,925.00
      held sales 1 (27,350.00 USD) · rejected rows 0 · adjustments 0
    """
    by_currency: dict[str, dict[str, Decimal]] = {}
    totals: dict[str, Decimal] = {}
    for statement in result.statements:
        sums = by_currency.setdefault(statement.currency, {})
        for code, amount in _by_pay_code(statement).items():
            sums[code] = sums.get(code, ZERO) + amount
        totals[statement.currency] = totals.get(statement.currency, ZERO) + statement.total
    total = ", ".join(f"{_money(t, c)} {c}" for c, t in sorted(totals.items())) or (
        f"{_money(ZERO, result.currency)} {result.currency}"
    )
    paid = len(result.statements)
    out = [
        f"compcalc run {result.period}: {paid} employee{'' if paid == 1 else 's'} paid, "
        f"total {total}"
    ]
    mixed = len(by_currency) > 1
    for currency, sums in sorted(by_currency.items()):
        codes = [c for c in _pay_codes(result.statements) if c in sums]
        parts = [f"{code} {_money(sums[code], currency)}" for code in codes]
        out.extend(_pack([f"{currency}: {parts[0]}", *parts[1:]] if mixed and parts else parts))
    held = [(note, s.currency) for s in result.statements for note in s.held]
    held_text = f"{len(held)}"
    if held:
        held_sums: dict[str, Decimal] = {}
        for note, currency in held:
            held_sums[currency] = held_sums.get(currency, ZERO) + note.amount
        shown = ", ".join(f"{_money(t, c)} {c}" for c, t in sorted(held_sums.items()))
        held_text += f" ({shown})"
    adjustments = _adjustment_lines(result)
    adjusted = f"{len(adjustments)}{_amounts(adjustments)[1:]}" if adjustments else "0"
    rejected = len(result.rejected)
    out.append(f"  held sales {held_text} · rejected rows {rejected} · adjustments {adjusted}")
    return "\n".join(out) + "\n"


def _pack(parts: Sequence[str], width: int = WIDTH) -> list[str]:
    """``parts`` joined by `` · `` on lines of at most ``width``, never splitting a part."""
    lines: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current} · {part}" if current else part
        if current and len("  " + joined) > width:
            lines.append("  " + current)
            joined = part
        current = joined
    return [*lines, "  " + current] if current else lines


# --------------------------------------------------------------------------- explain


def render_explain(result: PeriodResult, employee_id: str) -> str:
    """One employee's statement, line by line, with everything needed to check it by hand.

    Raises ``KeyError`` when the result has no statement for ``employee_id``.

    >>> print(render_explain(result, "E001"))  # doctest: +SKIP
    """
    statement = result.statement(employee_id)
    currency = statement.currency
    amounts = [_money(line.amount, currency) for line in statement.lines]
    amount_width = max(len(a) for a in [*amounts, _money(statement.total, currency)])
    sections = [_explain_header(result, statement)]
    lines_section = ["Lines"]
    for number, (line, amount) in enumerate(zip(statement.lines, amounts, strict=True), 1):
        lines_section.extend(_explain_line(number, line, amount.rjust(amount_width)))
    if not statement.lines:
        lines_section.append("  (no lines)")
    sections.append(lines_section)
    if statement.held:
        sections.append(_notes("Held sales, not paid this period", statement.held, currency))
    if statement.excluded:
        sections.append(_notes("Excluded sales", statement.excluded, currency))
    if statement.to_date:
        sections.append(_to_date(statement))
    sections.append(_total(statement, amount_width))
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def _explain_header(result: PeriodResult, statement: Statement) -> list[str]:
    return [
        f"Statement for {statement.employee_id} · {statement.name} · {statement.role}",
        f"period {_period(result)} · currency {statement.currency}",
        f"rules {_ruleset(result)} sha256:{_short(result.ruleset_sha256)}"
        f" · engine compcalc {result.engine_version}",
    ]


def _field(name: str, value: str) -> list[str]:
    first = FIELD_INDENT + name.ljust(FIELD_WIDTH)
    return _wrap(value, first, " " * len(first))


def _explain_line(number: int, line: Line, amount: str) -> list[str]:
    prefix = f"{number:>3}. "
    label_width = WIDTH - len(prefix) - len(amount) - 2
    label = _wrap(line.label, "", "", width=label_width)
    out = [prefix + label[0].ljust(label_width) + "  " + amount]
    out.extend(" " * len(prefix) + rest for rest in label[1:])
    rule = line.rule
    out.extend(_field("rule", f"{rule.ruleset}@{rule.version} / {rule.component}"))
    out.extend(_field("line", f"{line.id} (pay code {line.pay_code})"))
    out.extend(_field("formula", line.formula or "-"))
    for index, (key, value) in enumerate(line.details):
        out.extend(_field("details" if index == 0 else "", f"{key}: {value}"))
    if line.transactions:
        out.extend(_transactions(line.transactions))
    return out


def _transactions(ids: Sequence[str]) -> list[str]:
    shown = ", ".join(ids[:MAX_TRANSACTIONS_SHOWN])
    if len(ids) > MAX_TRANSACTIONS_SHOWN:
        shown += f", … and {len(ids) - MAX_TRANSACTIONS_SHOWN} more ({len(ids)} in all)"
    return _field("transactions", shown)


def _notes(title: str, notes: Sequence[SaleNote], currency: str) -> list[str]:
    amounts = [_money(note.amount, currency) for note in notes]
    id_width = max(len(note.transaction_id) for note in notes)
    amount_width = max(len(a) for a in amounts)
    status_width = max(len(note.status) for note in notes)
    out = [f"{title} ({len(notes)})"]
    for note, amount in zip(notes, amounts, strict=True):
        first = (
            f"  {note.transaction_id.ljust(id_width)}  {note.date:<10}  "
            f"{amount.rjust(amount_width)}  {note.status.ljust(status_width)}  "
        )
        reason = note.reason
        rest = " " * (len(first) if len(first) <= WIDTH // 2 else 6)
        out.extend(_wrap(reason, first, rest))
    return out


def _to_date(statement: Statement) -> list[str]:
    out = ["To date"]
    for component, figures in statement.to_date:
        out.append(f"  {component}")
        text = " · ".join(f"{key}: {value}" for key, value in figures) or "-"
        out.extend(_wrap(text, "    ", "    "))
    return out


def _total(statement: Statement, amount_width: int) -> list[str]:
    currency = statement.currency
    total = _money(statement.total, currency).rjust(amount_width)
    lines_sum = sum((line.amount for line in statement.lines), ZERO)
    label_width = WIDTH - len(total) - 2
    out = ["Total".ljust(label_width) + "  " + total + f" {currency}"]
    if lines_sum == statement.total:
        out.append("lines sum to total: yes")
    else:
        out.append(
            f"lines sum to total: NO (lines sum to {_money(lines_sum, currency)}, "
            f"total is {_money(statement.total, currency)})"
        )
    return out
