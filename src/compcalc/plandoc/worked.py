"""The worked examples in the document: which engine lines to quote, and the example inputs.

Per component, the lines quoted are the ones that show how it works over the plan year:
the first installment of base and allowances; for commission the first line of each kind
(new credit, held back, released, clawback, cap, true-up; the first that pays, if any does),
every tier true-up that pays and the last new credit (whose formula carries the whole year's
due); a bonus's first payment and its last
line; a draw's first advance and first recovery; an override's last month. Amounts are the
engine's, formatted for the reader; totals add the engine's line amounts.

>>> blocks = component_example(runs, rules.plans["x"].components[0], words)  # doctest: +SKIP
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .components import Component, label_of
from .example import MONTHLY_PERCENT, Example, ExampleRuns, sells
from .model import Block, Para, Quote, Section, Table, bullets, code, p, strong
from .words import Words

COMMISSION_ITEMS = (
    "new_credit",
    "held_back",
    "released",
    "clawback",
    "tier_true_up",
    "cap",
    "true_up",
)


def illustrating(runs: ExampleRuns, role: str, component_id: str) -> Example | None:
    """The example employee whose statements show ``component_id`` of plan ``role``."""
    for employee in runs.inputs.employees:
        if employee.role == role and component_id in employee.components:
            return employee
    return None


def component_example(
    runs: ExampleRuns | None, role: str, component: Component, words: Words
) -> list[Block]:
    """The worked example of one component: quoted lines, the year's total, to-date figures."""
    title = strong("Worked example")
    if runs is None or role in runs.problems or not runs.results:
        return [p(title, ": none, see the example employee of this plan above.")]
    employee = illustrating(runs, role, component.id)
    if employee is None:
        return [p(title, ": none; this component applies to no employee of this plan.")]
    lines = runs.lines(employee.employee_id, component.id)
    chosen = select(component.kind, lines)
    months = len(runs.results)
    total = sum((line.amount for _, line in lines), Decimal(0))
    blocks: list[Block] = [
        p(
            title,
            f" for {employee.employee_id}: over the {months} months the statements pay "
            f"{words.money(total)} on {label_of(component)}."
            + (" The lines that show how:" if chosen else " No line was paid."),
        )
    ]
    blocks += [
        Quote(period, line.label, words.money(line.amount), words.figures(line.formula))
        for period, line in chosen
    ]
    figures = runs.to_date(employee.employee_id, component.id)
    if figures:
        last = runs.results[-1].period
        rows = tuple((name.replace("_", " "), words.figures(value)) for name, value in figures)
        blocks.append(
            Table(f"{label_of(component)}: to date at the end of {last}", ("Figure", "Value"), rows)
        )
    return blocks


def select(kind: str, lines: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The lines worth quoting for a component of ``kind`` (in statement order)."""
    if not lines:
        return []
    picked: list[int] = []
    if kind in ("base_salary", "allowance"):
        picked = [i for i, (period, _) in enumerate(lines) if period == lines[0][0]]
    elif kind == "commission":
        for item in COMMISSION_ITEMS:
            of_item = [i for i, (_, line) in enumerate(lines) if line.item == item]
            paying = [i for i in of_item if lines[i][1].amount != 0]
            # every re-rating (each band or gate reached), else the first line that pays
            picked += paying if item == "tier_true_up" else (paying or of_item)[:1]
        picked += [i for i, (_, line) in enumerate(lines) if line.item == "new_credit"][-1:]
    elif kind == "bonus":
        picked = [i for i, (_, line) in enumerate(lines) if line.amount != 0][:1]
        picked.append(len(lines) - 1)
    elif kind == "draw":
        for item in ("advance", "recovery"):
            picked += [i for i, (_, line) in enumerate(lines) if line.item == item][:1]
    else:  # override: the last month's true-up and first member line (members read alike)
        last = [i for i, (period, _) in enumerate(lines) if period == lines[-1][0]]
        picked = [i for i in last if lines[i][1].item != "member"]
        picked += [i for i in last if lines[i][1].item == "member"][:1]
    return [lines[i] for i in sorted(set(picked))]


def example_section(runs: ExampleRuns | None, role: str, words: Words, problem: str) -> Section:
    """The plan's example employees and their sales, and what the engine said of the sales."""
    anchor = f"plan-{role}-examples"
    title = "Example employees and sales"
    if runs is None:
        return Section(title, anchor, (p(f"No worked examples: {problem}"),))
    inputs = runs.inputs
    mine = [e for e in inputs.employees if e.role == role]
    year = inputs.year
    blocks: list[Block] = [
        p(
            "The worked examples are computed by compcalc's engine: the plan year "
            f"{words.date(year.start)} to {words.date(year.end)} is paid month by month, "
            "one run a month, each given what the months before paid, for these example "
            "employees. Each has the middle value of every attribute (the first of the two "
            "middle ones for an even count), or the values a component needs; the annual base "
            "the rules set, else the midpoint of their salary band, else an example figure; "
            "an annual quota of ten times the base; and was hired before the plan year."
        ),
        _employees_table(mine, words),
    ]
    if inputs.note:
        blocks.append(p(inputs.note))
    if role in runs.problems:
        blocks.append(p(f"The engine could not pay them: {runs.problems[role]}"))
        return Section(title, anchor, tuple(blocks))
    main = mine[0]
    if not sells(words.rules, role):
        blocks.append(p("No component of this plan depends on sales, so the examples have none."))
        return Section(title, anchor, tuple(blocks))
    blocks += [_pattern(words), _sales_table(runs, main, words)]
    notes = runs.notes(main.employee_id)
    if notes:
        blocks.append(p(f"What the statements of {main.employee_id} say about these sales:"))
        blocks.append(
            bullets(
                *(
                    p(
                        f"{period}: ",
                        code(note.transaction_id),
                        f" {note.status.replace('_', ' ')}: {words.figures(note.reason)}.",
                    )
                    for period, note in notes
                )
            )
        )
    return Section(title, anchor, tuple(blocks))


def _employees_table(employees: list[Example], words: Words) -> Table:
    rows = []
    for e in employees:
        profile = ", ".join(f"{words.dimension(n)} {v}" for n, v in e.profile) or "none"
        if e.purpose == "team":
            role = f"reports to {e.manager_id}"
        elif e.purpose == "when":
            role = "for " + ", ".join(e.components)
        else:
            role = "for " + ", ".join(e.components) if e.components else "main example"
        rows.append((e.employee_id, role, profile, words.money(e.base), words.money(e.quota)))
    header = ("Employee", "Shows", "Attributes", "Annual base", "Annual quota")
    return Table("Example employees", header, tuple(rows))


def _pattern(words: Words) -> Para:
    shares = ", ".join(words.rate(Decimal(share) / 100) for share in MONTHLY_PERCENT)
    total = words.rate(Decimal(sum(MONTHLY_PERCENT)) / 100)
    return p(
        f"Each makes one sale on the 15th of every month, in shares of quota {shares} "
        f"({total} in all), plus a sale that is disputed and later resolved "
        "for the company, and a sale refunded in full"
        + (
            " within the clawback window, and a partial refund of the first sale after the window."
            if words.rules.clawback is not None
            else "."
        )
        + " Each sale's margin is a quarter of its amount (used only by plans paid on margin)."
        " The first employee's sales:"
    )


def _sales_table(runs: ExampleRuns, main: Example, words: Words) -> Table:
    ledger = runs.inputs.ledger
    mine = ledger[ledger["employee_id"] == main.employee_id]
    rows = []
    for row in mine.itertuples(index=False):
        amount = words.money(Decimal(str(row.amount))) if row.amount else ""
        rows.append(
            (str(row.date), str(row.transaction_id), str(row.event).replace("_", " "), amount)
        )
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return Table(
        f"Sales ledger of {main.employee_id}",
        ("Date", "Transaction", "Event", "Amount"),
        tuple(rows),
    )
