"""HTML pay statements: hand-checked figures, escaping, locales, formula localisation,
determinism, self-containment, safe file names and the ``compcalc statements`` command.

The figures are the shipped example's November 2026 (``tests/golden/2026-11.json``), checked
by hand against the ledger and roster files. Pages are read with the standard library's
HTML parser; ``test_browser.py`` checks them in a real headless chromium.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.numbers import parse_decimal
from hypothesis import given
from hypothesis import strategies as st

import compcalc
from cli_run import cli
from compcalc.inputs import read_roster
from compcalc.money import D, format_amount
from compcalc.statements.html import (
    DealEvent,
    read_deals,
    rejected_by_employee,
    render_index_html,
    render_statement_html,
    statement_file_names,
    write_statements_html,
)
from compcalc.statements.localise import canonical_locale, localise_formula, money
from compcalc.statements.model import (
    Line,
    PeriodResult,
    Rejected,
    RuleRef,
    SaleNote,
    Statement,
)

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "rules/account_managers.yaml"
ROSTER = REPO / "examples/roster.csv"
OCT, NOV = REPO / "examples/ledger/2026-10.csv", REPO / "examples/ledger/2026-11.csv"
DEC = REPO / "examples/ledger/2026-12.csv"
NBSP, NNBSP = "\xa0", "\u202f"
EVIL_NAME = "<script>alert(1)</script> & Co"
EVIL_TEXT = '<img src=x onerror=alert(1)> "Acme" & Sons'
Deals = dict[str, tuple[DealEvent, ...]]
VOID = {"meta", "br", "hr", "link", "img", "input", "source", "wbr", "col", "area", "base"}


# --------------------------------------------------------------------------- helpers


class Page(HTMLParser):
    """The tags, attributes and the text of every element with an id, of one HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, list[str]] = {}
        self.style = ""
        self._open: list[str | None] = []  # the id of each open element (None: no id)
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_data(" ")  # cells and blocks read apart, as a person sees them
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        self._in_style = tag == "style"
        if tag not in VOID:
            self._open.append(attributes.get("id"))
            if "id" in attributes:
                self.texts[attributes["id"]] = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        self.handle_data(" ")
        if tag not in VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        for element in self._open:
            if element is not None:
                self.texts[element].append(data)

    def text(self, element_id: str) -> str:
        """The element's text with runs of white space as one space (nbsp kept)."""
        return re.sub(r"[ \t\r\n]+", " ", "".join(self.texts[element_id])).strip()

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attributes for name, attributes in self.tags if name == tag]


def _run(roster: Path = ROSTER, ledgers: tuple[Path, ...] = (OCT, NOV)) -> PeriodResult:
    rules = compcalc.load_rules(RULES)
    return compcalc.run_period(rules, roster, list(ledgers), "2026-11")


def _rewrite_csv(source: Path, target: Path, change: dict[str, str], *, column: str,
                 key: str, extra: str | None = None) -> Path:
    """A copy of ``source`` with ``column`` set for the rows whose ``key`` is in ``change``
    (``extra``: a new column of that name, empty elsewhere)."""
    rows = list(csv.DictReader(io.StringIO(source.read_text(encoding="utf-8"))))
    fields = list(rows[0])
    if extra is not None:
        fields.append(extra)
    for row in rows:
        row.setdefault(column, "")
        if row[key] in change:
            row[column] = change[row[key]]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.fixture(scope="module")
def nov() -> PeriodResult:
    return _run()


@pytest.fixture(scope="module")
def nov_deals(nov: PeriodResult) -> Deals:
    return read_deals([OCT, NOV], rejected=nov.rejected)


@pytest.fixture(scope="module")
def e001(nov: PeriodResult, nov_deals: Deals) -> Page:
    return Page(render_statement_html(nov, "E001", locale="en_US", deals=nov_deals))


# --------------------------------------------------------------------------- figures


def test_e001_totals_by_pay_code_are_the_hand_checked_figures(e001: Page) -> None:
    # base 106,000.00 / 12, installment 2 cumulatively: 17,666.67 - 8,833.33 = 8,833.34
    # commission 12,587.40 new credit + 10,789.20 tier true-up = 23,376.60
    # allowance health 600.00 + car 650.00 + housing 1,250.00 = 2,500.00
    # override E002..E007 432.47 + 453.40 + 632.03 + 634.29 + 154.34 + 425.35 = 2,731.88
    # total 8,833.34 + 23,376.60 + 0.00 + 2,500.00 + 2,731.88 = 37,441.82
    assert e001.text("totals") == (
        "Totals Pay code Amount base $8,833.34 commission $23,376.60 bonus $0.00 "
        "allowance $2,500.00 override $2,731.88 Total $37,441.82 "
        "The 13 lines below add up to this total."
    )
    assert e001.text("total") == "$37,441.82"


def test_e001_header_names_employee_role_period_and_currency(e001: Page) -> None:
    assert e001.text("about") == (
        "Pay statement · 2026-11 Olivia Bennett Employee E001 Role national_account_manager "
        "Period 2026-11 Nov 1, 2026 – Nov 30, 2026 Currency USD All statements of this run"
    )
    assert e001.text("name") == "Olivia Bennett"


def test_every_line_shows_its_math_rule_and_transactions(e001: Page, nov: PeriodResult) -> None:
    base = e001.text("line-1")
    assert base.startswith("1. Base salary $8,833.34 106,000.00 / 12 = 8,833.34 (installment 2")
    assert "account-managers@2026-27.1 / base sha256 7c37855fec40" in base
    commission = e001.text("line-2")
    assert commission.startswith("2. Commission on new dispute-free sales $12,587.40 due on "
                                 "779,220.00 credited (70.2% of quota 1,110,000.00)")
    # T2026-11-0001,E001,2026-11-02,sale,31506.00,USD in examples/ledger/2026-11.csv
    assert "8 ledger transactions" in commission
    assert "T2026-11-0001 Nov 2, 2026 sale $31,506.00 credited to E001" in commission
    # The override line lists the team member's own deal (T2026-10-0005 is E002's sale).
    override = e001.text("line-5")
    assert "T2026-10-0005 Oct 2, 2026 sale $44,836.37 credited to E002" in override
    statement = nov.statement("E001")
    assert len([key for key in e001.texts if key.startswith("line-")]) == len(statement.lines)


def test_held_excluded_and_clawed_back_sales_show_their_reasons(
    nov: PeriodResult, nov_deals: Deals
) -> None:
    e009 = Page(render_statement_html(nov, "E009", locale="en_US", deals=nov_deals))
    assert e009.text("notes").startswith(
        "Held, excluded and clawed back Held: disputed, not paid this period "
        "T2026-11-0015 · Nov 4, 2026 · $27,350.00 "
        "dispute opened 2026-11-18, not resolved by 2026-11-30"
    )
    assert "T2026-11-0015 Nov 18, 2026 dispute opened" in e009.text("notes")
    e020 = Page(render_statement_html(nov, "E020", locale="en_US"))
    notes = e020.text("notes")
    assert "Forfeited: refunded T2026-10-0059 · Oct 13, 2026 · $36,800.00 refunded in full" in notes
    # the clawback line: 1,134.00 due on 56,700.00 less 1,870.00 due on 93,500.00 = -736.00
    assert "Clawed back Line 3 : Clawback: paid sales refunded this period · -$736.00" in notes
    assert "transactions T2026-10-0059" in notes
    e001 = Page(render_statement_html(nov, "E001", locale="en_US"))
    assert e001.text("notes").endswith("No sale was held, excluded or clawed back this period.")


def _taking_back(*items: tuple[str, str, str]) -> PeriodResult:
    """A hand-built statement with one line per (item, label, amount)."""
    base = _hand_built("USD", "10.00")
    rule = RuleRef("acme", "1", "commission", "ab" * 32)
    lines = tuple(
        Line(f"commission.{item}", "commission", "commission", "adjustment", item, label,
             D(amount), rule, f"= {amount}", (f"T-{number}",))
        for number, (item, label, amount) in enumerate(items, 1)
    )  # fmt: skip
    total = sum((line.amount for line in lines), D("0.00"))
    statement = replace(base.statements[0], lines=lines, total=total, held=())
    return replace(base, statements=(statement,))


def test_held_back_lines_are_listed_beside_the_clawbacks() -> None:
    result = _taking_back(
        ("clawback", "Clawback", "-736.00"),
        ("held_back", "Held back", "-607.50"),
        ("new_credit", "New credit", "100.00"),
    )
    notes = Page(render_statement_html(result, "E1", locale="en_US")).text("notes")
    assert notes == (
        "Held, excluded and clawed back "
        "Clawed back Line 1 : Clawback · -$736.00 transactions T-1 "
        "Held back Line 2 : Held back · -$607.50 transactions T-2"
    )


def test_a_statement_without_lines_says_so() -> None:
    page = Page(render_statement_html(_taking_back(), "E1", locale="en_US"))
    assert page.text("totals") == (
        "Totals Pay code Amount Total $0.00 No line is paid this period, so the total is nothing."
    )
    assert page.text("lines") == "Every line, with the math No lines this period."


def test_attainment_chart_is_an_accessible_inline_svg(e001: Page) -> None:
    # 70.2% of quota on a 0..150% scale over 384 units: 0.702 / 1.5 * 384 = 179.712
    bars = [attrs for attrs in e001.all("rect") if attrs.get("class", "").startswith("bar")]
    assert bars[0]["width"] == "179.7"
    marker = next(attrs for attrs in e001.all("line") if attrs.get("class") == "marker")
    assert marker["x1"] == marker["x2"] == "264.0"  # 8 + 384 / 1.5
    svg = e001.all("svg")[0]
    assert svg["role"] == "img"
    assert svg["aria-labelledby"] == "chart-commission-title chart-commission-desc"
    assert e001.text("chart-commission-title") == "commission: attainment 70.2% of quota"
    assert e001.text("chart-commission-desc") == (
        "commission: 70.2% of quota reached (779,220.00 credited of a 1,110,000.00 quota)"
    )
    assert "commission: 70.2% of quota reached" in e001.text("to-date")


def test_attainment_over_the_scale_widens_it_in_steps_of_fifty_percent() -> None:
    base = _hand_built("USD", "10.00")
    figures = (("credited_to_date", "162,500.00"), ("quota", "100,000.00"),
               ("attainment", "162.5%"))  # fmt: skip
    statement = replace(base.statements[0], to_date=(("commission", figures),))
    page = Page(render_statement_html(replace(base, statements=(statement,)), "E1",
                                      locale="en_US"))  # fmt: skip
    # scale 0..200%: bar 1.625 / 2 * 384 = 312.0, the 100% marker at 8 + 384 / 2 = 200.0
    bar = next(a for a in page.all("rect") if a.get("class", "").startswith("bar"))
    assert (bar["width"], bar["class"]) == ("312.0", "bar reached")
    marker = next(a for a in page.all("line") if a.get("class") == "marker")
    assert marker["x1"] == "200.0"
    value = next(a for a in page.all("text") if a.get("class", "").startswith("value"))
    assert (value["x"], value["text-anchor"]) == ("316.0", "end")  # inside the long bar
    assert page.text("to-date").startswith(
        "Year to date commission commission: attainment 162.5% of quota "
        "commission: 162.5% of quota reached (162,500.00 credited of a 100,000.00 quota) 100% "
        "162.5% 0% 200%"
    )


def test_footer_has_the_digests_and_engine_that_reproduce_the_figures(
    e001: Page, nov: PeriodResult
) -> None:
    footer = e001.text("provenance")
    for digest in (nov.ruleset_sha256, nov.roster_sha256, nov.ledger_sha256):
        assert f"sha256 {digest}" in footer
    assert "account-managers@2026-27.1" in footer
    assert "compcalc 0.1.0" in footer


def test_index_lists_every_employee_with_total_and_link(nov: PeriodResult, tmp_path: Path) -> None:
    written = write_statements_html(nov, tmp_path, locale="en_US")
    assert [p.name for p in written[:2]] == ["E001.html", "E002.html"]
    assert written[-1] == tmp_path / "index.html" and len(written) == 41
    index = Page((tmp_path / "index.html").read_text(encoding="utf-8"))
    links = [attrs["href"] for attrs in index.all("a")]
    assert links == [f"{s.employee_id}.html" for s in nov.statements]
    # the run's total, as in the golden summary: 524,386.54
    assert "Total USD $524,386.54" in index.text("employees")
    assert index.text("rejected").endswith("None: every roster and ledger row was used.")


# --------------------------------------------------------------------------- escaping


def test_names_and_ledger_text_are_data_never_markup(tmp_path: Path) -> None:
    roster = _rewrite_csv(ROSTER, tmp_path / "roster.csv", {"E001": EVIL_NAME},
                          column="name", key="employee_id")  # fmt: skip
    ledger = _rewrite_csv(NOV, tmp_path / "2026-11.csv", {"T2026-11-0001": EVIL_TEXT},
                          column="customer", key="transaction_id", extra="customer")  # fmt: skip
    result = _run(roster, (OCT, ledger))
    deals = read_deals([OCT, ledger], rejected=result.rejected)
    html = render_statement_html(result, "E001", locale="en_US", deals=deals)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "&lt;img src=x onerror=alert(1)&gt; &#34;Acme&#34; &amp; Sons" in html
    page = Page(html)
    assert page.text("name") == EVIL_NAME
    assert f"customer: {EVIL_TEXT}" in page.text("line-2")
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    index = render_index_html(result, {"E001": "E001.html"}, locale="en_US")
    assert "<script" not in index and "&lt;script&gt;" in index


# --------------------------------------------------------------------------- locales


@pytest.mark.parametrize(
    ("locale", "total", "base", "date"),
    [
        ("en_US", "$37,441.82", "106,000.00 / 12 = 8,833.34", "Nov 2, 2026"),
        ("en_GB", "US$37,441.82", "106,000.00 / 12 = 8,833.34", "2 Nov 2026"),
        ("de_DE", f"37.441,82{NBSP}$", "106.000,00 / 12 = 8.833,34", "02.11.2026"),
        ("fr_FR", f"37{NNBSP}441,82{NBSP}$US", f"106{NNBSP}000,00 / 12 = 8{NNBSP}833,34",
         "2 nov. 2026"),
        ("ja_JP", "$37,441.82", "106,000.00 / 12 = 8,833.34", "2026/11/02"),
    ],
)  # fmt: skip
def test_money_formulas_and_dates_follow_the_locale(
    nov: PeriodResult, nov_deals: Deals, locale: str, total: str,
    base: str, date: str,
) -> None:  # fmt: skip
    page = Page(render_statement_html(nov, "E001", locale=locale, deals=nov_deals))
    assert page.text("total") == total
    assert base in page.text("line-1")
    assert f"T2026-11-0001 {date} sale" in page.text("line-2")
    # the canonical formula stays one click (and a tooltip) away, exactly as in the JSON
    formulas = [a["title"] for a in page.all("p") if a.get("class") == "formula"]
    assert formulas[0] == nov.statement("E001").lines[0].formula


def _hand_built(currency: str, amount: str) -> PeriodResult:
    rule = RuleRef("acme", "1", "commission", "ab" * 32)
    line = Line("commission.new_credit", "commission", "commission", "commission", "new_credit",
                "Commission", D(amount), rule, f"{amount} x 5% = {amount}", ("T-1",))
    statement = Statement("E1", "Ada", "rep", currency, D(amount), (line,),
                          held=(SaleNote("T-2", "2026-11-05", D(amount), "held", "disputed"),))
    return PeriodResult("2026-11", "2026-11-01", "2026-11-30", "acme", "1", "ab" * 32,
                        "cd" * 32, "ef" * 32, "0.1.0", currency, (statement,))  # fmt: skip


def test_yen_has_no_minor_unit_and_kuwaiti_dinar_three() -> None:
    yen = Page(render_statement_html(_hand_built("JPY", "1234567"), "E1", locale="ja_JP"))
    assert yen.text("total") == "￥1,234,567"
    dinar = Page(render_statement_html(_hand_built("KWD", "1234.567"), "E1", locale="en_US"))
    assert dinar.text("total") == "KWD1,234.567"
    assert "T-2 · Nov 5, 2026 · KWD1,234.567" in dinar.text("notes")
    german = Page(render_statement_html(_hand_built("KWD", "1234.567"), "E1", locale="de_DE"))
    assert german.text("total") == f"1.234,567{NBSP}KWD"
    assert "1.234,567 x 5 % = 1.234,567".replace(" %", f"{NBSP}%") in german.text("line-1")


def test_money_never_rounds_an_amount_with_more_places() -> None:
    assert money(Decimal("0.005"), "USD", "en_US") == "$0.005"
    assert money(Decimal("-12.5"), "JPY", "en_US") == "-¥12.5"


def test_locales_are_checked_and_canonical() -> None:
    assert canonical_locale("de-DE") == canonical_locale(" de_DE ") == "de_DE"
    for bad in ("xx_YY", "", "C", "en_XX"):
        with pytest.raises(ValueError, match="unknown locale"):
            canonical_locale(bad)
    with pytest.raises(ValueError, match="unknown locale 'xx'"):
        render_statement_html(_hand_built("USD", "1.00"), "E1", locale="xx")


# --------------------------------------------------------------------------- formula text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("106,000.00 / 12 = 8,833.34", "106.000,00 / 12 = 8.833,34"),
        ("779,220.00 x 3% [building] = 23,376.60", f"779.220,00 x 3{NBSP}% [building] = 23.376,60"),
        ("(70.2% of quota 1,110,000.00)", f"(70,2{NBSP}% of quota 1.110.000,00)"),
        ("17,666.67 to date - 8,833.33 before", "17.666,67 to date - 8.833,33 before"),
        ("= -250.00; -0.5%", f"= -250,00; -0,5{NBSP}%"),
        ("T2026-11-0001 E002's share of 1,000", "T2026-11-0001 E002's share of 1.000"),
        ("due to 2026-10-31, period 2026-11", "due to 2026-10-31, period 2026-11"),
        ("rules 2026-27.1, 30/30 days, 1.5/2", "rules 2026-27.1, 30/30 days, 1.5/2"),
        ("installment 2 of 12, 2026 sales", "installment 2 of 12, 2026 sales"),
        ("10,000.00 EUR x 1.0850 (EUR->USD of 2026-11-02)",
         "10.000,00 EUR x 1,0850 (EUR->USD of 2026-11-02)"),
        ("T7 33.34% share of 100.00 = 33.34.", f"T7 33,34{NBSP}% share of 100,00 = 33,34."),
        ("x2 v1.2 1.2.3 0.00", "x2 v1.2 1.2.3 0,00"),
    ],
)  # fmt: skip
def test_formula_numbers_are_localised_and_ids_dates_periods_are_not(
    text: str, expected: str
) -> None:
    assert localise_formula(text, "de_DE") == expected
    assert localise_formula(text, "en_US") == text


def test_every_golden_formula_is_unchanged_in_en_us(nov: PeriodResult) -> None:
    formulas = [line.formula for s in nov.statements for line in s.lines]
    assert len(formulas) == 184
    assert [localise_formula(f, "en_US") for f in formulas] == formulas


@given(
    units=st.integers(min_value=-(10**15), max_value=10**15),
    digits=st.sampled_from([0, 2, 3]),
    locale=st.sampled_from(["de_DE", "fr_FR", "ja_JP", "en_GB", "de_CH", "hi_IN"]),
)
def test_localised_amounts_read_back_to_the_same_value(
    units: int, digits: int, locale: str
) -> None:
    text = format_amount(units, digits)
    if digits == 0 and "," not in text:
        assert localise_formula(f"= {text}", locale) == f"= {text}"  # a plain count stays
        return
    shown = localise_formula(text, locale)
    assert parse_decimal(shown, locale=locale, strict=True) == Decimal(units).scaleb(-digits)


# --------------------------------------------------------------------------- determinism


def test_same_result_same_bytes(nov: PeriodResult, nov_deals: Deals) -> None:
    first = render_statement_html(nov, "E020", locale="fr_FR", deals=nov_deals)
    assert render_statement_html(nov, "E020", locale="fr_FR", deals=nov_deals) == first


def _shuffled(source: Path, target: Path, seed: int) -> Path:
    header, *rows = source.read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(seed).shuffle(rows)
    target.write_text(header + "".join(rows), encoding="utf-8")
    return target


def test_shuffled_input_rows_give_the_same_pages(tmp_path: Path, nov: PeriodResult) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    roster = _shuffled(ROSTER, tmp_path / "b/roster.csv", 1)
    ledgers = (_shuffled(OCT, tmp_path / "b/2026-10.csv", 2),
               _shuffled(NOV, tmp_path / "b/2026-11.csv", 3))  # fmt: skip
    shuffled = _run(roster, ledgers)
    for result, ledger, out in ((nov, [OCT, NOV], tmp_path / "a/out"),
                                (shuffled, list(ledgers), tmp_path / "b/out")):  # fmt: skip
        deals = read_deals(ledger, rejected=result.rejected)
        write_statements_html(result, out, locale="de_DE", locales={"E009": "ja_JP"}, deals=deals)
    names = sorted(p.name for p in (tmp_path / "a/out").iterdir())
    assert len(names) == 41
    assert names == sorted(p.name for p in (tmp_path / "b/out").iterdir())
    for name in names:
        assert (tmp_path / "a/out" / name).read_bytes() == (tmp_path / "b/out" / name).read_bytes()


# --------------------------------------------------------------------------- self-contained

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "section",
    "article", "h1", "h2", "h3", "p", "a", "br", "dl", "dt", "dd", "div", "span", "code",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "details", "summary", "ul", "li",
    "figure", "figcaption", "svg", "desc", "rect", "line", "text",
}  # fmt: skip


def _pages(directory: Path) -> Iterator[tuple[str, Page]]:
    for path in sorted(directory.glob("*.html")):
        yield path.name, Page(path.read_text(encoding="utf-8"))


def test_pages_fetch_nothing_from_anywhere(
    tmp_path: Path, nov: PeriodResult, nov_deals: Deals
) -> None:
    write_statements_html(nov, tmp_path, locale="en_US", deals=nov_deals)
    checked = 0
    for name, page in _pages(tmp_path):
        assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS, name
        for tag, attributes in page.tags:
            for attribute, value in attributes.items():
                assert not re.match(r"\s*(https?:|//|data:|javascript:)", value, re.I), (
                    name, tag, attribute, value)  # fmt: skip
                assert not attribute.startswith("on"), (name, tag, attribute)
                if attribute in ("href", "src"):
                    assert tag == "a" and re.fullmatch(
                        r"[A-Za-z0-9._-]+\.html|#line-\d+|index\.html#rejected", value
                    )
        assert "url(" not in page.style and "@import" not in page.style
        csp = [a["content"] for a in page.all("meta") if a.get("http-equiv")]
        assert csp == ["default-src 'none'; style-src 'unsafe-inline'"]
        checked += 1
    assert checked == 41


def test_file_names_are_safe_and_distinct(tmp_path: Path) -> None:
    base = _hand_built("USD", "10.00")
    template = base.statements[0]
    ids = ["E1", "e1", "../../escape", "a/b", "index", ".hidden", "Ωmega", "x" * 300]
    result = replace(base, statements=tuple(replace(template, employee_id=i) for i in ids))
    out = tmp_path / "out"
    written = write_statements_html(result, out, locale="en_US")
    assert len(written) == len(ids) + 1 and len(set(written)) == len(written)
    assert all(path.parent == out for path in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    names = statement_file_names(ids)
    assert names["E1"] != names["e1"] and names["E1"].casefold() != names["e1"].casefold()
    assert names["index"] != "index.html" and names["Ωmega"].endswith(".html")
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.html", n) for n in names.values())
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    assert [a["href"] for a in index.all("a")] == [names[i] for i in ids]
    with pytest.raises(KeyError):
        write_statements_html(result, tmp_path / "none", locale="en_US", employees=["nobody"])
    assert not (tmp_path / "none").exists()


# --------------------------------------------------------------------------- roster locale


def test_roster_locale_column_is_checked_by_row_and_column(tmp_path: Path) -> None:
    roster = _rewrite_csv(ROSTER, tmp_path / "roster.csv",
                          {"E001": "de_DE", "E002": "xx_YY", "E003": "ja-JP"},
                          column="locale", key="employee_id", extra="locale")  # fmt: skip
    read = read_roster(roster)
    assert [(r.row, r.line, r.column, r.value, r.reason) for r in read.rejected] == [
        (2, 3, "locale", "xx_YY",
         "unknown locale 'xx_YY': expected a locale such as en_US, en_GB, de_DE, fr_FR or ja_JP"),
    ]  # fmt: skip
    locales = dict(zip(read.frame["employee_id"], read.frame["locale"], strict=True))
    assert (locales["E001"], locales["E003"], locales["E004"]) == ("de_DE", "ja-JP", "")


# --------------------------------------------------------------------------- command line


def _inputs(period: str = "2026-11", roster: Path = ROSTER) -> list[str]:
    ledgers = {"2026-10": [OCT], "2026-11": [OCT, NOV], "2026-12": [OCT, NOV, DEC]}[period]
    ledger_args = [arg for path in ledgers for arg in ("--ledger", str(path))]
    return ["--rules", str(RULES), "--roster", str(roster), *ledger_args, "--period", period]


def test_cli_computes_the_run_with_per_employee_locales(tmp_path: Path) -> None:
    # E040 (no manager, on no team) has a locale babel does not know: the row is rejected
    roster = _rewrite_csv(ROSTER, tmp_path / "roster.csv", {"E001": "de_DE", "E040": "xx"},
                          column="locale", key="employee_id", extra="locale")  # fmt: skip
    out = tmp_path / "html"
    done = cli(["statements", *_inputs(roster=roster), "--html", str(out), "--locale", "fr-FR"])
    assert done.code == 0, done.err
    assert done.out == ""
    # One line for the batch, not one per page: 39 employees are paid (E040 is not).
    assert f"wrote 39 statement page(s) and index.html to {out}\n" in done.err
    assert len(list(out.glob("*.html"))) == 40
    # E040's roster row, and so its 2 sales in the November ledger
    assert "3 input row(s) were rejected by the run" in done.err
    e001 = Page((out / "E001.html").read_text(encoding="utf-8"))
    assert e001.text("total") == f"37.441,82{NBSP}$"  # the employee's own locale
    e003 = Page((out / "E003.html").read_text(encoding="utf-8"))
    assert e003.text("total").endswith(f"{NBSP}$US")  # the run's --locale
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    assert f"{roster}:41: column locale: \"xx\": unknown locale 'xx'" in index.text("rejected")


def test_cli_renders_a_saved_result_and_only_the_chosen_employees(tmp_path: Path) -> None:
    assert cli(["run", *_inputs(), "--out", str(tmp_path / "run")]).code == 0
    out = tmp_path / "html"
    done = cli(["statements", "--result", str(tmp_path / "run"), "--html", str(out),
                "--employee", "E020", "--employee", "E009", "--period", "2026-11"])  # fmt: skip
    assert done.code == 0, done.err
    assert sorted(p.name for p in out.iterdir()) == ["E009.html", "E020.html", "index.html"]
    e020 = Page((out / "E020.html").read_text(encoding="utf-8"))
    assert e020.text("total") == "$6,282.54"  # en_US: no rules given, no --locale
    assert "1 ledger transaction T2026-10-0059" in e020.text("line-3")  # ids only: no ledger
    wrong = cli(["statements", "--result", str(tmp_path / "run"), "--html", str(out),
                 "--period", "2026-10"])  # fmt: skip
    assert wrong.code == 1 and "is the run of 2026-11, not of 2026-10" in wrong.err


def test_cli_renders_the_latest_run_of_a_period_in_a_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    assert cli(["run", *_inputs("2026-10"), "--store", url]).code == 0
    out = tmp_path / "html"
    done = cli(["statements", "--store", url, "--period", "2026-10", "--html", str(out),
                "--rules", str(RULES), "--employee", "E035"])  # fmt: skip
    assert done.code == 0, done.err
    assert re.search(r"run [0-9a-f]{12} \(draft\) of 2026-10", done.err)
    e035 = Page((out / "E035.html").read_text(encoding="utf-8"))
    # October: T2026-10-0032 (18,400.00) is held, its dispute open at the month's end
    assert "T2026-10-0032 · Oct 7, 2026 · $18,400.00 dispute opened 2026-10-21" in e035.text(
        "notes")  # fmt: skip
    none = cli(["statements", "--store", url, "--period", "2026-12", "--html", str(out)])
    assert none.code == 1 and "no run of period 2026-12 in the store" in none.err
    missing = cli(["statements", "--store", f"sqlite:///{tmp_path / 'no.db'}", "--period",
                   "2026-10", "--html", str(out)])  # fmt: skip
    assert missing.code == 1 and "no store at" in missing.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--result", "r.json", "--store"], "give --result FILE or --store [URL], not both"),
        (["--store", "--ledger", "x.csv"], "--store shows a saved run; leave out --ledger"),
        (["--store"], "--store needs --period"),
        (["--rules", "r.yaml"], "computing a run needs --roster, --ledger, --period"),
        (["--result", "r.json", "--locale", "xx"], "argument --locale: unknown locale 'xx'"),
    ],
)
def test_cli_refuses_wrong_option_combinations(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    done = cli(["statements", "--html", str(tmp_path / "out"), *argv])
    assert done.code == 2 and message in done.err
    assert not (tmp_path / "out").exists()


def test_cli_puts_a_rejected_sale_on_its_reps_own_page(tmp_path: Path) -> None:
    # Line 62 of 2026-12.csv, Connor Walsh's (E028) sale T2026-12-0060, is written "1,250.00"
    out = tmp_path / "html"
    done = cli(["statements", *_inputs("2026-12"), "--html", str(out), "--employee", "E028",
                "--employee", "E011"])  # fmt: skip
    assert done.code == 0, done.err
    e028 = Page((out / "E028.html").read_text(encoding="utf-8"))
    assert e028.text("notes") == (
        "Held, excluded and clawed back Rejected: rows of yours this run could not use "
        f'{DEC}:62: column amount: "1,250.00": commas are not accepted: write a decimal point '
        "and no thousands separators, e.g. 1250.00 "
        "This run rejected 1 input row in all; the index lists it ."
    )
    # Rosa Delgado (E011) has no rejected row: her page only says the run has one
    e011 = Page((out / "E011.html").read_text(encoding="utf-8"))
    assert "Rejected: rows of yours" not in e011.text("notes")
    assert e011.text("run-rejected") == "This run rejected 1 input row in all; the index lists it ."
    assert [a["href"] for a in e011.all("a")][-1] == "index.html#rejected"
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    assert f"{DEC}:62: column amount" in index.text("rejected")


def test_rejected_rows_are_found_by_the_employee_their_row_names() -> None:
    rows = [
        Rejected(str(DEC), 61, 62, "amount", "1,250.00", "commas"),
        Rejected(str(ROSTER), 3, 4, "locale", "xx", "unknown locale"),  # a roster row: no page
        Rejected(str(NOV), 1, 2, "date", "x", "bad date"),  # T2026-11-0001, E001's sale
    ]
    found = rejected_by_employee([OCT, NOV, DEC], rows)
    assert found == {"E001": (rows[2],), "E028": (rows[0],)}
    assert rejected_by_employee([OCT], []) == {}


def test_cli_rules_with_an_unknown_locale_are_a_plain_message(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    text = RULES.read_text(encoding="utf-8")
    assert "\nlocale: en_US\n" in text
    rules.write_text(text.replace("\nlocale: en_US\n", "\nlocale: klingon\n"), "utf-8")
    args = ["statements", *_inputs("2026-10"), "--html", str(tmp_path / "out")]
    args[args.index(str(RULES))] = str(rules)
    done = cli(args)
    assert done.code == 1
    assert done.err == f"{rules}: locale: unknown locale 'klingon': expected a locale such as " \
        "en_US, en_GB, de_DE, fr_FR or ja_JP\n"
    assert cli([*args, "--locale", "ja_JP"]).code == 0  # the run's locale replaces it


def test_cli_unknown_employee_is_a_plain_message(tmp_path: Path) -> None:
    done = cli(["statements", *_inputs("2026-10"), "--html", str(tmp_path), "--employee", "E01"])
    assert done.code == 1
    assert done.err.startswith("compcalc: no statement for employee 'E01' in 2026-10; did you mean")
    assert list(tmp_path.iterdir()) == []
