"""Plan documents written from the rule file: the figures of the rules, the engine's examples.

The flagship's document must state the rule file's own numbers (rates, gates, caps, the
clawback window, band edges) and quote worked examples that a separate run of
:func:`compcalc.run_period` (replaying the earlier months itself) gives line for line. A
small hand-written rule set with a marginal tier table pins the exact sentences, table rows
and hand-computed example figures. HTML is escaped and self-contained; Markdown and HTML carry
the same facts; the output is deterministic; the CLI writes it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import compcalc
from cli_run import REPO, cli
from compcalc.plandoc import build_document, example_inputs, plan_document
from compcalc.plandoc.model import Document, Quote, Section
from compcalc.plandoc.render import escape_markdown, render_html, render_markdown
from compcalc.plandoc.words import Words

FLAGSHIP = REPO / "rules" / "account_managers.yaml"


@pytest.fixture(scope="module")
def flagship() -> compcalc.RuleSet:
    return compcalc.load_rules(FLAGSHIP)


@pytest.fixture(scope="module")
def flagship_doc(flagship: compcalc.RuleSet) -> Document:
    return build_document(flagship)


@pytest.fixture(scope="module")
def flagship_md(flagship_doc: Document) -> str:
    return render_markdown(flagship_doc)


def md_text(markdown: str) -> str:
    """Markdown as the words a reader sees: escapes resolved, emphasis and code marks gone."""
    out, i = [], 0
    while i < len(markdown):
        char = markdown[i]
        if char == "\\" and i + 1 < len(markdown):
            out.append(markdown[i + 1])
            i += 2
            continue
        if char not in "*`":
            out.append(char)
        i += 1
    return " ".join("".join(out).split())


class _Page(HTMLParser):
    """The text of a page, its start tags and their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def page(html: str) -> _Page:
    parsed = _Page()
    parsed.feed(html)
    parsed.close()
    return parsed


def html_text(html: str) -> str:
    return " ".join("".join(page(html).text).split())


def section_md(markdown: str, heading: str, level: int) -> str:
    """The Markdown from ``heading`` (at ``level``) up to the next heading of that level or
    higher."""
    marks = "#" * level
    start = markdown.index(f"\n{marks} {heading}\n")
    rest = markdown[start + 1 :]
    ends = [m.start() for m in re.finditer(rf"\n#{{1,{level}}} ", rest)]
    return rest[: ends[0]] if ends else rest


def leaves(value: Any) -> list[Decimal]:
    """Every number in a component's rule data (tables, dated entries and bands included)."""
    if isinstance(value, Decimal):
        return [value]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return []


# --------------------------------------------------------------------------- the flagship


def test_every_role_and_every_component_has_its_section(
    flagship: compcalc.RuleSet, flagship_md: str
) -> None:
    for role, plan in flagship.plans.items():
        title = role.replace("_", " ").capitalize()
        plan_md = section_md(flagship_md, title, 2)
        assert f"Applies to employees whose roster role is `{role}`." in plan_md
        for component in plan.components:
            assert f"Component `{component.id}`, kind `{component.kind}`." in plan_md


def test_every_number_of_every_component_is_stated(
    flagship: compcalc.RuleSet, flagship_md: str
) -> None:
    words = Words(flagship)
    checked = 0
    for role, plan in flagship.plans.items():
        plan_md = section_md(flagship_md, role.replace("_", " ").capitalize(), 2)
        for component in plan.components:
            label = component.label or component.id
            text = md_text(section_md(plan_md, label, 3))
            data = component.model_dump(by_alias=True, exclude={"id", "label", "when"})
            for number in leaves(data):
                shown = {words.rate(number), words.money(number)}
                assert any(s in text for s in shown), f"{role}.{component.id}: {number}"
                checked += 1
    assert checked > 100  # the walk did reach the tables


def test_figures_picked_from_the_yaml_in_their_tables(flagship_md: str) -> None:
    kam = section_md(flagship_md, "Key account manager", 2)
    # tiers.bands[1].rate: values.mid = {small: 0.050, mid: 0.045, large: 0.040}
    assert "| mid | 5% | 4\\.5% | 4% |" not in kam  # no needless escapes in cells
    assert "| mid | 5% | 4.5% | 4% |" in kam
    assert "| foundation | 0% | 50% | 2% |" in kam
    assert "| decelerator | 150% | no upper limit | 2% |" in kam
    assert "| senior | $60,000.00 |" in kam  # cap per plan year by seniority
    regional = section_md(flagship_md, "Regional account manager", 2)
    assert "| senior | 4% | 3.75% | 3.5% |" in regional  # rate values.senior
    assert "**Gate** (a share of the annual quota): 25%." in regional
    bdm = section_md(flagship_md, "Business development manager", 2)
    assert "| first_10k | $0.00 | $10,000.00 | 4% |" in bdm
    assert "**Cap** per pay period: set by seniority (table below)." in bdm
    assert "Recovery limit per pay period: $300.00." in bdm
    assert "| stretch | 120% | 100% |" in bdm
    bands = section_md(flagship_md, "Salary bands", 2)
    assert "| senior | large | metro | $100,000.00 | $105,500.00 | $111,000.00 |" in bands


def test_policy_words_state_the_rule_set(flagship_md: str) -> None:
    text = md_text(flagship_md)
    assert "These rules apply from October 1, 2026 to September 30, 2027." in text
    assert "The plan year runs from October 1 to September 30." in text
    assert "Clawback window: 90 days. A refund or a dispute dated more than 90 days" in text
    assert "half up: a half unit goes away from zero" in text
    assert "Tiers are retroactive: once a band is reached, all credit of the plan year" in text
    assert "Tiers are marginal: each slice of attainment is paid at its own band's rate" in text
    assert "Tiers are per transaction: the bands restart at zero for every sale" in text
    assert "Only dispute-free sales earn." in text


def test_worked_examples_are_what_run_period_pays(
    flagship: compcalc.RuleSet, flagship_doc: Document, flagship_md: str
) -> None:
    """Every quoted September line is a line of an independent run of 2027-09 (which replays
    October to August itself, with no paid-to-date from the document's monthly runs)."""
    inputs = example_inputs(flagship)
    result = compcalc.run_period(flagship, inputs.roster, inputs.ledger, "2027-09")
    words = Words(flagship)
    paid = {
        (result.period, line.label, words.money(line.amount), line.formula)
        for statement in result.statements
        for line in statement.lines
    }
    quoted = [
        (q.period, q.label, q.amount, q.formula)
        for q in _quotes(flagship_doc.sections)
        if q.period == "2027-09"
    ]
    assert len(quoted) >= 6
    assert set(quoted) <= paid
    # The key account manager example (X02, the 2nd role in order): the year's commission is
    # what September's run says is due to date, 303,750 x 2% + 303,750 x 4.5% + 60,750 x 7%.
    figures = dict(dict(result.statement("X02").to_date)["commission"])
    assert figures["due_to_date"] == "23,996.25"
    assert "the statements pay $23,996.25 on Key accounts commission" in md_text(flagship_md)


def _quotes(sections: tuple[Section, ...]) -> list[Quote]:
    out: list[Quote] = []
    for section in sections:
        out += [b for b in section.blocks if isinstance(b, Quote)]
        out += _quotes(section.sections)
    return out


def test_markdown_and_html_carry_the_same_facts(flagship_doc: Document, flagship_md: str) -> None:
    md, html = md_text(flagship_md), html_text(render_html(flagship_doc))
    facts = [" ".join(fact.split()) for fact in flagship_doc.facts()]
    assert len(facts) > 1000
    for fact in facts:
        assert fact in md, fact
        assert fact in html, fact


def test_html_is_self_contained(flagship_doc: Document) -> None:
    html = render_html(flagship_doc)
    parsed = page(html)
    assert html.startswith("<!DOCTYPE html>")
    assert "http:" not in html and "https:" not in html and "@import" not in html
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed"}
    for _, attrs in parsed.tags:
        for name, value in attrs:
            assert name != "src"
            if name == "href":
                assert value is not None and value.startswith("#")


def test_html_forbids_fetches_and_scrolls_wide_tables_in_their_own_box(
    flagship_doc: Document,
) -> None:
    """A phone (375 px, checked in chromium by test_browser.py) scrolls a wide table inside
    its box, never the whole page; the policy forbids any fetch even if text slipped through."""
    parsed = page(render_html(flagship_doc))
    metas = [dict(attrs) for tag, attrs in parsed.tags if tag == "meta"]
    csp = [m["content"] for m in metas if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'"]
    tables = [i for i, (tag, _) in enumerate(parsed.tags) if tag == "table"]
    assert len(tables) > 50
    for i in tables:
        assert parsed.tags[i - 1] == ("div", [("class", "scroll")])
        assert parsed.tags[i - 2] == ("figcaption", [])


def test_german_rules_write_every_figure_the_german_way() -> None:
    """Rates, the quoted formulas and the to-date figures follow the rules' locale like the
    money does: a German reader must not read the engine's 18,000.00 as eighteen. The figures
    are the hand-checked ones of test_small_worked_example_figures_by_hand."""
    text = SMALL.replace("currency: USD", "currency: EUR\nlocale: de_DE")
    commission = section_md(plan_document(compcalc.load_rules_text(text)), "Sales commission", 3)
    assert "| first_half | 0\xa0% | 50\xa0% | 2\xa0% |" in commission
    # January: 3 % of the 600,000.00 quota = 18,000.00 at 2 % = 360.00
    assert (
        "> **2026-01 · Commission on new dispute-free sales: 360,00\xa0€**\n>\n"
        "> `due on 18.000,00 credited (3,0\xa0% of quota 600.000,00): 18.000,00 x 2\xa0% "
        "[first_half] = 360,00; less due on 0,00 credited (0,0\xa0% of quota 600.000,00): "
        "nothing credited = 0,00; = 360,00`"
    ) in commission
    assert "| due to date | 25.800,00 |" in commission
    assert "in shares of quota 3\xa0%, 5\xa0%," in plan_document(compcalc.load_rules_text(text))


def test_document_is_deterministic(flagship: compcalc.RuleSet) -> None:
    role = "business_development_manager"
    first = plan_document(flagship, role=role, fmt="html")
    assert plan_document(flagship, role=role, fmt="html") == first
    assert "Business development manager" in first and "Key account manager" not in first


def test_unknown_role_names_the_roles(flagship: compcalc.RuleSet) -> None:
    with pytest.raises(compcalc.CompcalcError) as caught:
        plan_document(flagship, role="sales_rep")
    message = str(caught.value)
    assert "no plan for role 'sales_rep'" in message
    assert "key_account_manager" in message and "\n" not in message


# --------------------------------------------------------------------------- a small rule set

SMALL = """\
id: small-plan
version: "1"
currency: USD
effective:
  from: 2026-01-01
  to: 2026-12-31
dimensions:
  seniority: [entry, mid, senior]
  company_size: [small, large]
plans:
  sales_rep:
    description: Inside sales.
    components:
      - id: base
        kind: base_salary
      - id: commission
        kind: commission
        label: Sales commission
        tiers:
          method: marginal
          bands:
            - {id: first_half, from: 0, to: 0.5, rate: 0.02}
            - id: to_quota
              from: 0.5
              to: 1.0
              rate:
                by: [seniority]
                values: {entry: 0.04, mid: 0.05, senior: 0.06}
            - {id: over_quota, from: 1.0, rate: 0.08}
      - id: phone
        kind: allowance
        label: Phone allowance
        amount:
          by: [seniority, company_size]
          values:
            entry: {small: 40}
            senior: {small: 60, large: 80}
          default: 50
"""


@pytest.fixture(scope="module")
def small_md() -> str:
    return plan_document(compcalc.load_rules_text(SMALL, "small.yaml"), fmt="md")


def test_marginal_tier_table_rows_and_sentences(small_md: str) -> None:
    commission = section_md(small_md, "Sales commission", 3)
    assert (
        "The rate depends on attainment: credited amount to date as a share of the annual "
        "quota. Tiers are marginal: each slice of attainment is paid at its own band's rate, "
        "like income-tax brackets; reaching a band changes the rate only on the part above the "
        "band's start."
    ) in commission
    table = [
        "*Sales commission: marginal tiers*",
        "",
        "| Band | From (share of quota) | To | Rate |",
        "| --- | --- | --- | --- |",
        "| first_half | 0% | 50% | 2% |",
        "| to_quota | 50% | 100% | set by seniority (table below) |",
        "| over_quota | 100% | no upper limit | 8% |",
        "",
        "*Sales commission: band to_quota, rate*",
        "",
        "| Seniority | Rate |",
        "| --- | --- |",
        "| entry | 4% |",
        "| mid | 5% |",
        "| senior | 6% |",
    ]
    assert "\n".join(table) in commission
    assert "Attainment is measured against the employee's annual quota, from the roster " in (
        commission
    )


def test_table_with_gaps_shows_its_default(small_md: str) -> None:
    phone = section_md(small_md, "Phone allowance", 3)
    rows = [
        "| Seniority / company size | small | large |",
        "| --- | --- | --- |",
        "| entry | $40.00 | $50.00 |",
        "| mid | $50.00 | $50.00 |",
        "| senior | $60.00 | $80.00 |",
        "",
        "Combinations the rule file leaves out take its default, $50.00.",
    ]
    assert "\n".join(rows) in phone
    assert "Amount per month: set by seniority and company size (table below)." in phone


def test_small_worked_example_figures_by_hand(small_md: str) -> None:
    """The example employee: seniority mid, company size small (the first of the two middle
    values), no band so base 60,000.00 and quota 600,000.00. Sales: 105 % of quota monthly,
    plus a 5 % sale (30,000) disputed in March and released in May, plus a 4 % sale (24,000)
    sold 20 April and refunded in full 45 days later (4 June)."""
    commission = md_text(section_md(small_md, "Sales commission", 3))
    # year: 660,000 credited (110 %): 300,000 x 2% + 300,000 x 5% + 60,000 x 8%
    #     = 6,000 + 15,000 + 4,800 = 25,800.00, all paid by the monthly runs
    assert "over the 12 months the statements pay $25,800.00 on Sales commission" in commission
    # January: 3 % = 18,000 x 2% = 360.00
    assert "2026-01 · Commission on new dispute-free sales: $360.00" in commission
    # March: the disputed 30,000 (paid in February at 2%) is held back: -600.00
    assert "2026-03 · Held back: paid sales disputed this period: -$600.00" in commission
    # May: released again, still below 50 %: +600.00
    assert "2026-05 · Released: disputes resolved this period: $600.00" in commission
    # June: the refunded 24,000 had been paid in April at 2%: -480.00
    assert "2026-06 · Clawback: paid sales refunded this period: -$480.00" in commission
    # December: due 25,800 less due on 588,000 (98 %) = 6,000 + 288,000 x 5% = 20,400
    assert "2026-12 · Commission on new dispute-free sales: $5,400.00" in commission
    phone = md_text(section_md(small_md, "Phone allowance", 3))
    # mid/small takes the default 50.00 a month: 600.00 a year in 12 installments
    assert "2026-01 · Phone allowance: $50.00 > > 600.00 / 12 = 50.00" in phone
    assert "the statements pay $600.00 on Phone allowance" in phone
    assert "Each makes one sale on the 15th of every month" in md_text(small_md)
    assert "seniority mid, company size small" in md_text(small_md)


def test_rule_text_is_escaped(tmp_path: Path) -> None:
    text = SMALL.replace("label: Sales commission", 'label: "<b>Bold</b> & co"').replace(
        "description: Inside sales.", "description: \"<script>alert('x')</script> *sales*\""
    )
    rules = compcalc.load_rules_text(text)
    document = build_document(rules, examples=False)
    html = render_html(document)
    parsed = page(html)
    assert "b" not in {tag for tag, _ in parsed.tags}
    assert "script" not in {tag for tag, _ in parsed.tags}
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in html
    assert "<b>Bold</b> & co" in html_text(html)
    md = render_markdown(document)
    assert "### \\<b\\>Bold\\</b\\> \\& co" in md
    assert "\\<script\\>alert('x')\\</script\\> \\*sales\\*" in md


def test_locale_and_currency_format_money() -> None:
    text = SMALL.replace("currency: USD", "currency: EUR\nlocale: de_DE")
    md = render_markdown(build_document(compcalc.load_rules_text(text), examples=False))
    assert "| senior | 60,00\xa0€ | 80,00\xa0€ |" in md
    assert "These rules apply from 1. Januar 2026 to 31. Dezember 2026." in md


def test_unknown_locale_points_at_the_rule_file() -> None:
    text = SMALL.replace("currency: USD", "currency: USD\nlocale: xx_YY")
    with pytest.raises(compcalc.CompcalcError) as caught:
        plan_document(compcalc.load_rules_text(text, "bad.yaml"))
    assert str(caught.value).startswith("bad.yaml:4:9: locale: locale 'xx_YY' is not one")


def test_example_that_cannot_run_says_why() -> None:
    """The example employee is mid level; a rate table without mid and no default cannot pay
    them, so the document says so instead of failing."""
    text = SMALL.replace(
        "values: {entry: 0.04, mid: 0.05, senior: 0.06}", "values: {entry: 0.04, senior: 0.06}"
    )
    md = md_text(plan_document(compcalc.load_rules_text(text, "gap.yaml")))
    assert "The engine could not pay them:" in md
    assert "the table has no value for seniority=mid and no default" in md
    assert "Worked example: none, see the example employee of this plan above." in md
    assert "| mid | — |" in md
    assert "—: the table has no value; a pay run stops if an employee needs one." in md


@given(st.text())
def test_markdown_escaping_keeps_the_words(text: str) -> None:
    assert md_text(escape_markdown(text)) == " ".join(text.split())


# --------------------------------------------------------------------------- the command


def test_cli_writes_markdown_and_html(tmp_path: Path) -> None:
    rules = tmp_path / "small.yaml"
    rules.write_text(SMALL, encoding="utf-8")
    done = cli(["plan-doc", "--rules", str(rules), "--format", "md"])
    assert done.code == 0, done.err
    assert done.out.startswith("# Pay plan small-plan\n")
    assert "| over_quota | 100% | no upper limit | 8% |" in done.out
    out = tmp_path / "doc" / "plan.html"
    done = cli(["plan-doc", "--rules", str(rules), "--role", "sales_rep", "--format", "html",
                "--out", str(out)])  # fmt: skip
    assert done.code == 0, done.err
    assert done.out == ""
    assert done.err == f"wrote {out}\n"
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Sales commission" in html
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_cli_unknown_role_is_one_plain_line() -> None:
    done = cli(["plan-doc", "--rules", str(FLAGSHIP), "--role", "nope"])
    assert done.code == 1
    assert done.out == ""
    assert done.err == (
        "compcalc: the rules have no plan for role 'nope'; roles they define: "
        "business_development_manager, key_account_manager, national_account_manager, "
        "regional_account_manager, relationship_account_manager\n"
    )


def test_cli_needs_rules() -> None:
    done = cli(["plan-doc", "--format", "md"])
    assert done.code == 2
    assert "--rules" in done.err
    assert done.out == ""
