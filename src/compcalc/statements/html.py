"""HTML pay statements: one self-contained page per employee, plus an index of the run.

Pure functions over a :class:`PeriodResult`: the same result, locale and deals always give the
same bytes. A page shows the employee, role, period and currency; totals by pay code; every
line with its formula in the reader's locale (the canonical text one click away), its rule and
the ledger transactions it used; held, excluded and clawed-back sales with their reasons; the
year-to-date attainment of each sales component as a small inline SVG chart; and a footer
with the digests of rules, roster and ledger and the engine version, so anyone can reproduce
the figures. Names and ledger text are data: the Jinja2 template escapes everything. Pages
load nothing from anywhere (inline CSS, no scripts, a Content-Security-Policy that forbids
fetches) and stay readable on a phone.

>>> html = render_statement_html(result, "E001", locale="de_DE")          # doctest: +SKIP
>>> write_statements_html(result, Path("out"), locale="en_US")            # doctest: +SKIP
[PosixPath('out/E001.html'), ..., PosixPath('out/index.html')]
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from functools import cache
from pathlib import Path
from typing import Protocol

import jinja2
import pandas as pd

from compcalc.inputs.common import TextTable, is_in, read_text_table
from compcalc.inputs.ledger import MONEY_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, SHARE_DIGITS
from compcalc.inputs.ledger import read_ledger as _read_ledger
from compcalc.money import ZERO, from_minor, minor_digits
from compcalc.statements import localise
from compcalc.statements.files import write_atomic
from compcalc.statements.model import Line, PeriodResult, Rejected, SaleNote, Statement
from compcalc.statements.text import PAY_CODES

TEMPLATE = "statement.html.j2"
INDEX_FILE = "index.html"
SHORT_DIGEST = 12
OPEN_DEALS_UP_TO = 12  # longer transaction lists start folded
NOTE_TITLES = (  # the statuses of sale notes, in the order the page shows them
    ("held", "Held: disputed, not paid this period"),
    ("forfeited", "Forfeited: refunded"),
    ("excluded", "Excluded"),
    ("not_clawed_back", "Not clawed back: outside the clawback window"),
)
TAKEN_BACK = (  # line items that take earlier pay back, listed again beside the sale notes
    ("clawback", "Clawed back"),
    ("held_back", "Held back"),
)
EVENT_WORDS = {
    "sale": "sale",
    "refund": "refund",
    "dispute_opened": "dispute opened",
    "dispute_resolved": "dispute resolved",
}
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


# --------------------------------------------------------------------------- deals


@dataclass(frozen=True, slots=True)
class DealEvent:
    """One ledger row behind a statement line: what the page lists under "transactions"."""

    transaction_id: str
    employee_id: str
    date: str  # YYYY-MM-DD
    event: str  # sale, refund, dispute_opened, dispute_resolved
    amount: Decimal | None  # in ``currency``; None for a dispute event without an amount
    currency: str
    share: Decimal | None = None  # percent of the transaction (split credit); None: whole
    text: tuple[tuple[str, str], ...] = ()  # the row's other columns (customer, note ...)


Deals = Mapping[str, Sequence[DealEvent]]
LedgerPaths = str | os.PathLike[str] | pd.DataFrame | Sequence[str | os.PathLike[str]]


class _Located(Protocol):
    @property
    def source(self) -> str: ...

    @property
    def row(self) -> int | None: ...


def read_deals(
    source: LedgerPaths,
    *,
    wanted: Collection[str] | None = None,
    rejected: Iterable[_Located] = (),
) -> dict[str, tuple[DealEvent, ...]]:
    """The ledger's rows by transaction id, for the pages' lists of deals.

    ``source`` is what the run read (a path, several paths, or a DataFrame). Only the
    transactions in ``wanted`` are kept (all when None); rows the run rejected (``rejected``:
    the result's rejected rows, matched by source and row) are left out. Columns beyond the
    ledger's own (a customer, a description) come along as the events' ``text``.

    >>> deals = read_deals(["examples/ledger/2026-10.csv"], wanted={"T2026-10-0001"})
    >>> [(e.date, e.event, e.amount) for e in deals["T2026-10-0001"]]
    [('2026-10-01', 'sale', Decimal('58373.48'))]
    """
    sources = _sources(source)
    # Every row the run may have taken: the margin left unread (the pages do not show it;
    # had the run's rules refused a row for its margin, ``rejected`` says so)
    frame = _read_ledger(sources[0] if len(sources) == 1 else sources, margin=False).frame
    if wanted is not None:
        frame = frame[is_in(frame["transaction_id"], pd.Index(sorted(wanted)))]
    refused = {(r.source, r.row) for r in rejected}
    texts = _extra_text(sources, wanted)
    shares = frame["share"] if "share" in frame.columns else pd.Series(pd.NA, index=frame.index)
    columns = ("source", "row", "transaction_id", "employee_id", "event", "amount_minor",
               "currency")  # fmt: skip
    values = [frame[name].to_numpy(dtype=object) for name in columns]
    dates = frame["date"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    deals: dict[str, list[DealEvent]] = {}
    for (origin, row, tid, employee, event, units, currency), day, share in zip(
        zip(*values, strict=True), dates, shares.to_numpy(dtype=object), strict=True
    ):
        key = (str(origin), int(row))
        if key in refused:
            continue
        given = event in ("sale", "refund") or int(units) != 0
        deals.setdefault(str(tid), []).append(
            DealEvent(
                transaction_id=str(tid),
                employee_id=str(employee),
                date=str(day),
                event=str(event),
                amount=from_minor(int(units), minor_digits(str(currency))) if given else None,
                currency=str(currency),
                share=None if pd.isna(share) else Decimal(int(share)).scaleb(-SHARE_DIGITS),
                text=texts.get(key, ()),
            )
        )
    return {tid: tuple(events) for tid, events in sorted(deals.items())}


def _sources(source: LedgerPaths) -> list[str | os.PathLike[str] | pd.DataFrame]:
    if isinstance(source, str | os.PathLike | pd.DataFrame):
        return [source]
    return list(source)


def _text_table(source: str | os.PathLike[str] | pd.DataFrame) -> TextTable:
    """One ledger source as the run read it: stripped text cells, named as the run names it."""
    return read_text_table(
        source, name=None, default_name="<ledger>", required=REQUIRED_COLUMNS,
        money=MONEY_COLUMNS,
    )  # fmt: skip


def _extra_text(
    sources: Sequence[str | os.PathLike[str] | pd.DataFrame], wanted: Collection[str] | None
) -> dict[tuple[str, int], tuple[tuple[str, str], ...]]:
    """(source, row) -> the non-empty cells of columns the ledger itself does not use."""
    known = {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS}
    out: dict[tuple[str, int], tuple[tuple[str, str], ...]] = {}
    for one in sources:
        table = _text_table(one)
        extras = sorted(c for c in table.cells.columns if c not in known)
        if not extras:
            continue
        cells = table.cells
        if wanted is not None:
            cells = cells[is_in(cells["transaction_id"], pd.Index(sorted(wanted)))]
        texts = [cells[column].to_numpy(dtype=object) for column in extras]
        for position, row_texts in zip(cells.index, zip(*texts, strict=True), strict=True):
            pairs = tuple((c, str(v)) for c, v in zip(extras, row_texts, strict=True) if v)
            if pairs:
                out[(table.source, int(table.row[position]))] = pairs
    return out


def rejected_by_employee(
    source: LedgerPaths, rejected: Iterable[Rejected]
) -> dict[str, tuple[Rejected, ...]]:
    """The run's rejected ledger rows, by the employee id written in each row.

    ``source`` is what the run read; ``rejected`` the result's rejected rows (roster rows and
    rows whose employee cell is empty are left out: they name nobody's page). A rep then sees
    on their own statement that a sale of theirs was refused, and why, not only on the index.

    >>> bad = Rejected("examples/ledger/2026-12.csv", 61, 62, "amount", "1,250.00", "commas")
    >>> rows = rejected_by_employee(["examples/ledger/2026-12.csv"], [bad])
    >>> {employee: [row.line for row in found] for employee, found in rows.items()}
    {'E028': [62]}
    """
    refused: dict[str, list[tuple[int, Rejected]]] = {}
    for row in rejected:
        if row.row is not None:
            refused.setdefault(row.source, []).append((row.row, row))
    if not refused:
        return {}
    out: dict[str, list[Rejected]] = {}
    for one in _sources(source):
        table = _text_table(one)
        employees = table.cells["employee_id"].to_numpy(dtype=object)
        for number, row in refused.get(table.source, ()):
            employee = str(employees[number - 1]) if 0 < number <= len(employees) else ""
            if employee:
                out.setdefault(employee, []).append(row)
    return {employee: tuple(rows) for employee, rows in sorted(out.items())}


# --------------------------------------------------------------------------- file names


def statement_file_names(employee_ids: Iterable[str]) -> dict[str, str]:
    """A safe, distinct ``.html`` file name for each employee id.

    Ids made of letters, digits, ``.``, ``_`` and ``-`` (not starting with a dot) keep their
    name; any other id, ``index``, or ids that differ only in case get a cleaned name plus a
    short digest of the id, so no id can reach outside the folder or overwrite another page.

    >>> names = statement_file_names(["E001", "../etc/passwd", "index"])
    >>> names["E001"], names["../etc/passwd"], names["index"]
    ('E001.html', 'etc_passwd-7fef78f534.html', 'index-1bc04b5291.html')
    """
    ids = sorted(set(employee_ids))
    folded: dict[str, int] = {}
    for employee in ids:
        folded[employee.casefold()] = folded.get(employee.casefold(), 0) + 1
    names: dict[str, str] = {}
    for employee in ids:
        plain = (
            _SAFE_NAME.fullmatch(employee) is not None
            and employee.casefold() != "index"
            and folded[employee.casefold()] == 1
        )
        if plain:
            names[employee] = f"{employee}.html"
            continue
        cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", employee).strip("_")[:40] or "employee"
        digest = hashlib.sha256(employee.encode("utf-8")).hexdigest()[:10]
        names[employee] = f"{cleaned}-{digest}.html"
    return names


# --------------------------------------------------------------------------- view model


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class DealRow:
    transaction: str
    date: str
    event: str
    amount: str
    note: str


@dataclass(frozen=True, slots=True)
class TransactionsView:
    """The transactions of a line or note: ids only, or ledger rows when deals were given."""

    ids: tuple[str, ...]
    rows: tuple[DealRow, ...] | None  # None: the run was rendered without its ledger
    missing: tuple[str, ...]  # ids the given ledger does not have
    folded: bool


@dataclass(frozen=True, slots=True)
class LineView:
    number: int
    label: str
    amount: str
    negative: bool
    line_id: str
    pay_code: str
    rule: str
    rule_sha256: str
    formula: str
    canonical_formula: str
    details: tuple[Figure, ...]
    deals: TransactionsView


@dataclass(frozen=True, slots=True)
class NoteView:
    transaction: str
    date: str
    amount: str
    reason: str
    deals: TransactionsView


@dataclass(frozen=True, slots=True)
class NoteGroup:
    status: str
    title: str
    notes: tuple[NoteView, ...]


@dataclass(frozen=True, slots=True)
class TakenBack:
    """The lines of one kind that take earlier pay back (clawbacks, held back), linked."""

    title: str
    lines: tuple[LineView, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """A bullet chart of attainment: coordinates as text (exact Decimal arithmetic)."""

    key: str
    bar_width: str
    marker_x: str
    label_x: str
    label_anchor: str
    attainment: str
    scale_max: str
    hundred: str
    zero: str
    reached: bool
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class ToDateView:
    component: str
    chart: Chart | None
    figures: tuple[Figure, ...]


@dataclass(frozen=True, slots=True)
class Provenance:
    period: str
    period_dates: str
    ruleset: str
    ruleset_sha256: str
    roster_sha256: str
    ledger_sha256: str
    fx_sha256: str
    engine: str
    short: str  # the 12-digit rules digest `compcalc validate` prints


def render_statement_html(
    result: PeriodResult,
    employee_id: str,
    *,
    locale: str,
    deals: Deals | None = None,
    rejected: Sequence[Rejected] = (),
) -> str:
    """One employee's statement as a self-contained HTML page, formatted in ``locale``.

    ``deals`` (from :func:`read_deals`) lists each transaction's ledger rows; without it the
    page lists transaction ids. ``rejected``: the employee's own input rows the run refused
    (from :func:`rejected_by_employee`), listed with the held and excluded sales; every page
    also says how many rows the whole run rejected. Raises ``KeyError`` when the result has
    no statement for ``employee_id`` and ``ValueError`` for a locale babel does not know.

    >>> page = render_statement_html(result, "E001", locale="en_US")   # doctest: +SKIP
    >>> "Olivia Bennett" in page                                        # doctest: +SKIP
    True
    """
    locale = localise.canonical_locale(locale)
    statement = result.statement(employee_id)
    currency = statement.currency
    lines = tuple(
        _line_view(number, line, statement, locale, deals)
        for number, line in enumerate(statement.lines, 1)
    )
    lines_sum = sum((line.amount for line in statement.lines), ZERO)
    return page_template(TEMPLATE).render(
        page="statement",
        title=f"Pay statement {result.period}: {statement.name} ({statement.employee_id})",
        locale=locale,
        statement=statement,
        provenance=_provenance(result, locale),
        totals=_totals(statement, locale),
        total=localise.money(statement.total, currency, locale),
        lines_sum_ok=lines_sum == statement.total,
        lines_sum=localise.money(lines_sum, currency, locale),
        lines=lines,
        taken_back=_taken_back(lines, statement),
        notes=_note_groups(statement, locale, deals),
        own_rejected=tuple(str(row) for row in rejected),
        run_rejected=len(result.rejected),
        to_date=tuple(_to_date(c, figures, locale) for c, figures in statement.to_date),
    )


@dataclass(frozen=True, slots=True)
class IndexRow:
    employee_id: str
    href: str
    name: str
    role: str
    total: str


def render_index_html(result: PeriodResult, files: Mapping[str, str], *, locale: str) -> str:
    """The run's index page: every employee in ``files`` (id -> page file name) with its
    total, linked to its page, the run's totals per currency and the input rows it rejected.

    >>> render_index_html(result, {"E001": "E001.html"}, locale="en_US")   # doctest: +SKIP
    """
    locale = localise.canonical_locale(locale)
    shown = [s for s in result.statements if s.employee_id in files]
    rows = tuple(
        IndexRow(s.employee_id, files[s.employee_id], s.name, s.role,
                 localise.money(s.total, s.currency, locale))
        for s in shown
    )  # fmt: skip
    sums: dict[str, Decimal] = {}
    for s in shown:
        sums[s.currency] = sums.get(s.currency, ZERO) + s.total
    totals = tuple(Figure(c, localise.money(t, c, locale)) for c, t in sorted(sums.items()))
    return page_template(TEMPLATE).render(
        page="index",
        title=f"Pay statements {result.period}",
        locale=locale,
        provenance=_provenance(result, locale),
        rows=rows,
        run_totals=totals,
        rejected=tuple(str(row) for row in result.rejected),
    )


def write_statements_html(
    result: PeriodResult,
    out_dir: Path,
    *,
    locale: str,
    locales: Mapping[str, str] | None = None,
    deals: Deals | None = None,
    employees: Sequence[str] | None = None,
    rejected: Mapping[str, Sequence[Rejected]] | None = None,
) -> list[Path]:
    """Write ``<employee>.html`` per statement and an ``index.html`` into ``out_dir``.

    ``locale`` formats the index and every page whose employee has no entry in ``locales``
    (employee id -> locale, e.g. from the roster's ``locale`` column). ``employees`` limits
    the pages to those ids (KeyError for an id without a statement). ``rejected`` (employee
    id -> rows, from :func:`rejected_by_employee`) puts each employee's refused input rows on
    their page. Each file is written atomically; returns the paths written, the index last.

    >>> write_statements_html(result, Path("out"), locale="en_US")   # doctest: +SKIP
    """
    chosen = [s.employee_id for s in result.statements] if employees is None else list(employees)
    for employee in chosen:
        result.statement(employee)  # KeyError for an unknown id, before anything is written
    names = statement_file_names(chosen)
    written: list[Path] = []
    for statement in result.statements:
        if statement.employee_id not in names:
            continue
        own = (locales or {}).get(statement.employee_id) or locale
        page = render_statement_html(
            result, statement.employee_id, locale=own, deals=deals,
            rejected=(rejected or {}).get(statement.employee_id, ()),
        )  # fmt: skip
        path = Path(out_dir) / names[statement.employee_id]
        write_atomic(path, page)
        written.append(path)
    index = Path(out_dir) / INDEX_FILE
    write_atomic(index, render_index_html(result, names, locale=locale))
    written.append(index)
    return written


# --------------------------------------------------------------------------- pieces


@cache
def page_template(name: str) -> jinja2.Template:
    """A page template of ``compcalc/templates``, escaping every value, undefined names errors.

    Shared by the statements and the plan document (:mod:`compcalc.plandoc.render`).

    >>> page_template("statement.html.j2").environment.autoescape
    True
    """
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("compcalc", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template(name)


def _provenance(result: PeriodResult, locale: str) -> Provenance:
    start = localise.date(result.period_start, locale)
    end = localise.date(result.period_end, locale)
    return Provenance(
        period=result.period,
        period_dates=f"{start} – {end}",
        ruleset=f"{result.ruleset_id}@{result.ruleset_version}",
        ruleset_sha256=result.ruleset_sha256,
        roster_sha256=result.roster_sha256,
        ledger_sha256=result.ledger_sha256,
        fx_sha256=result.fx_sha256,
        engine=f"compcalc {result.engine_version}",
        short=result.ruleset_sha256[:SHORT_DIGEST],
    )


def _totals(statement: Statement, locale: str) -> tuple[Figure, ...]:
    """The statement's sum per pay code: the standard codes first, then any other, sorted."""
    sums: dict[str, Decimal] = {}
    for line in statement.lines:
        sums[line.pay_code] = sums.get(line.pay_code, ZERO) + line.amount
    codes = [c for c in PAY_CODES if c in sums] + sorted(set(sums) - set(PAY_CODES))
    return tuple(Figure(c, localise.money(sums[c], statement.currency, locale)) for c in codes)


def _line_view(
    number: int, line: Line, statement: Statement, locale: str, deals: Deals | None
) -> LineView:
    return LineView(
        number=number,
        label=line.label,
        amount=localise.money(line.amount, statement.currency, locale),
        negative=line.amount < 0,
        line_id=line.id,
        pay_code=line.pay_code,
        rule=f"{line.rule.ruleset}@{line.rule.version} / {line.rule.component}",
        rule_sha256=line.rule.sha256,
        formula=localise.localise_formula(line.formula, locale),
        canonical_formula=line.formula,
        details=tuple(
            Figure(key.replace("_", " "), localise.localise_formula(value, locale))
            for key, value in line.details
        ),
        deals=_deals(line.transactions, statement.employee_id, locale, deals),
    )


def _taken_back(lines: Sequence[LineView], statement: Statement) -> tuple[TakenBack, ...]:
    """The clawback and held-back lines, grouped, to list beside the sales they name."""
    groups = (
        TakenBack(title, tuple(view for view, line in zip(lines, statement.lines, strict=True)
                               if line.item == item))
        for item, title in TAKEN_BACK
    )  # fmt: skip
    return tuple(group for group in groups if group.lines)


def _deals(
    ids: Sequence[str], employee_id: str, locale: str, deals: Deals | None
) -> TransactionsView:
    folded = len(ids) > OPEN_DEALS_UP_TO
    if deals is None:
        return TransactionsView(tuple(ids), None, (), folded)
    rows: list[DealRow] = []
    missing: list[str] = []
    for tid in ids:
        events = deals.get(tid, ())
        if not events:
            missing.append(tid)
        rows.extend(_deal_row(event, locale) for event in _relevant(events, employee_id))
    return TransactionsView(tuple(ids), tuple(rows), tuple(missing), folded)


def _relevant(events: Sequence[DealEvent], employee_id: str) -> list[DealEvent]:
    """A transaction's events, without other employees' sale rows when this employee has a
    share of it (a split sale); a manager's override lists the member's rows."""
    own = any(e.event == "sale" and e.employee_id == employee_id for e in events)
    return [e for e in events if not (own and e.event == "sale" and e.employee_id != employee_id)]


def _deal_row(event: DealEvent, locale: str) -> DealRow:
    notes: list[str] = []
    if event.share is not None:
        places = max(-int(event.share.normalize().as_tuple().exponent), 0)
        share = localise.percent(event.share / localise.HUNDRED, places, locale)
        notes.append(f"{share} share")
    if event.event == "sale":
        notes.append(f"credited to {event.employee_id}")
    notes.extend(f"{key}: {value}" for key, value in event.text)
    amount = "" if event.amount is None else localise.money(event.amount, event.currency, locale)
    return DealRow(
        transaction=event.transaction_id,
        date=localise.date(event.date, locale),
        event=EVENT_WORDS.get(event.event, event.event),
        amount=amount,
        note="; ".join(notes),
    )


def _note_groups(statement: Statement, locale: str, deals: Deals | None) -> tuple[NoteGroup, ...]:
    notes: list[SaleNote] = [*statement.held, *statement.excluded]
    known = {status for status, _ in NOTE_TITLES}
    titles = [*NOTE_TITLES, *((s, s.replace("_", " ").capitalize())
                              for s in sorted({n.status for n in notes} - known))]  # fmt: skip
    groups = []
    for status, title in titles:
        views = tuple(
            NoteView(
                transaction=note.transaction_id,
                date=localise.date(note.date, locale),
                amount=localise.money(note.amount, statement.currency, locale),
                reason=localise.localise_formula(note.reason, locale),
                deals=_deals((note.transaction_id,), statement.employee_id, locale, deals),
            )
            for note in notes
            if note.status == status
        )
        if views:
            groups.append(NoteGroup(status, title, views))
    return tuple(groups)


def _to_date(component: str, figures: tuple[tuple[str, str], ...], locale: str) -> ToDateView:
    values = dict(figures)
    return ToDateView(
        component=component,
        chart=_chart(component, values, locale),
        figures=tuple(
            Figure(key.replace("_", " "), localise.localise_formula(value, locale))
            for key, value in figures
        ),
    )


# Chart geometry (SVG user units): a track from TRACK_X0 to TRACK_X1, marker at 100 %.
TRACK_X0 = Decimal(8)
TRACK_X1 = Decimal(392)
HALF = Decimal("0.5")
MIN_SCALE = Decimal("1.5")


def _chart(component: str, values: Mapping[str, str], locale: str) -> Chart | None:
    """The attainment bullet chart of a sales component (None when it has no attainment).

    The scale runs from 0 to 150 % of quota, or further in steps of 50 % when attainment is
    higher; the bar is clamped at 0 for a negative attainment.
    """
    attainment = localise.parse_percent(values.get("attainment", ""))
    if attainment is None or "quota" not in values:
        return None
    steps = (attainment / HALF).to_integral_value(rounding=ROUND_CEILING)
    scale = max(MIN_SCALE, steps * HALF)
    width = TRACK_X1 - TRACK_X0
    bar = max(attainment, ZERO) / scale * width
    marker = TRACK_X0 + width / scale
    places = _places(values["attainment"])
    shown = localise.percent(attainment, places, locale)
    credited = localise.localise_formula(values.get("credited_to_date", ""), locale)
    quota = localise.localise_formula(values["quota"], locale)
    inside = bar > width / 2  # a long bar carries its label inside, at its end
    return Chart(
        key=re.sub(r"[^A-Za-z0-9_-]", "_", component),
        bar_width=_coordinate(bar),
        marker_x=_coordinate(marker),
        label_x=_coordinate(TRACK_X0 + bar + (-4 if inside else 4)),
        label_anchor="end" if inside else "start",
        attainment=shown,
        scale_max=localise.percent(scale, 0, locale),
        hundred=localise.percent(Decimal(1), 0, locale),
        zero=localise.percent(ZERO, 0, locale),
        reached=attainment >= 1,
        title=f"{component}: attainment {shown} of quota",
        text=(
            f"{component}: {shown} of quota reached"
            + (f" ({credited} credited of a {quota} quota)" if credited else "")
        ),
    )


def _places(percent_text: str) -> int:
    _, _, fraction = percent_text.strip().rstrip("%").partition(".")
    return len(fraction)


def _coordinate(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):f}"
