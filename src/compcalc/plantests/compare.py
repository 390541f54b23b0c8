"""Compare what a case states with what the engine produced, exactly, figure by figure.

Each stated figure becomes a pair of text lines, expected and actual, under one key; the
pairs that differ are the case's diff. Amounts compare as exact decimals (``"1750"`` states
``1750.00``), everything else as text.

>>> facts = Facts()
>>> facts.amount(("E1", "total"), "E1 total", Decimal("10.00"), Decimal("9.50"))
>>> facts.amount(("E1", "x"), "E1 x", Decimal("1"), Decimal("1.00"))
>>> [(m.expected, m.actual) for m in facts.mismatches()]
[('E1 total 10.00', 'E1 total 9.50')]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from ..offers.payout import AnnualPay
from ..rules import RuleSet
from ..statements.model import PeriodResult, Statement
from .cases import Expect, PlanCase
from .report import Mismatch

__all__ = ["LEDGER_SOURCE", "ROSTER_SOURCE", "Facts", "compare_profile", "compare_run"]

ROSTER_SOURCE = "roster"
LEDGER_SOURCE = "ledger"
_AMOUNT = re.compile(r"-?\d+(\.\d+)?")

Key = tuple[str, ...]


class Facts:
    """Expected and actual text of each stated figure, by key."""

    def __init__(self) -> None:
        self.expected: dict[Key, str] = {}
        self.actual: dict[Key, str] = {}

    def amount(self, key: Key, label: str, want: Decimal, got: Decimal | str) -> None:
        """An amount; ``got`` as text says why there is none (``"no such line"``)."""
        self.expected[key] = f"{label} {want}"
        if isinstance(got, str):
            self.actual[key] = f"{label}: {got}"
        else:
            self.actual[key] = self.expected[key] if got == want else f"{label} {got}"

    def text(self, key: Key, label: str, want: str, got: str, same: bool | None = None) -> None:
        """A figure compared as text (or as ``same`` says)."""
        self.expected[key] = f"{label}: {want}"
        equal = want == got if same is None else same
        self.actual[key] = self.expected[key] if equal else f"{label}: {got}"

    def extra(self, key: Key, text: str) -> None:
        """Something the run produced that the case should have stated (``exact_lines``)."""
        self.actual[key] = text

    def mismatches(self) -> tuple[Mismatch, ...]:
        """The figures that differ, ordered by key (employee, kind of figure, line)."""
        return tuple(
            Mismatch(self.expected.get(key), self.actual[key])
            for key in sorted(self.actual)
            if self.expected.get(key) != self.actual[key]
        )


# --------------------------------------------------------------------------- pay runs


def compare_run(case: PlanCase, result: PeriodResult) -> Facts:
    """The figures a pay-run case states, against the run's statements and rejected rows."""
    expect = case.expect
    statements = {s.employee_id: s for s in result.statements}
    facts = Facts()
    for employee, total in expect.totals.items():
        found = statements.get(employee)
        got = _no_statement(employee) if found is None else found.total
        facts.amount((employee, "0 total"), f"{employee} total", total, got)
    for employee, lines in expect.lines.items():
        _lines(facts, employee, lines, statements.get(employee), expect.exact_lines)
    _formulas(facts, expect, statements)
    _notes(facts, expect, statements)
    for employee, figures in expect.to_date.items():
        for name, text in figures.items():
            shown = _to_date(statements.get(employee), name)
            label = f"{employee} to date {name}"
            facts.text((employee, "5 to date", name), label, text, shown, _same(text, shown))
    _rejected(facts, case, result)
    return facts


def _lines(
    facts: Facts,
    employee: str,
    lines: Mapping[str, Decimal],
    statement: Statement | None,
    exact: bool,
) -> None:
    by_id = {} if statement is None else {line.id: line.amount for line in statement.lines}
    for line_id, amount in lines.items():
        got = by_id[line_id] if line_id in by_id else _missing("line", line_id, by_id)
        if statement is None:
            got = _no_statement(employee)
        facts.amount((employee, "1 line", line_id), f"{employee} {line_id}", amount, got)
    if exact:
        for line_id, amount in by_id.items():
            if line_id not in lines:
                facts.extra((employee, "1 line", line_id), f"{employee} {line_id} {amount}")


def _formulas(facts: Facts, expect: Expect, statements: Mapping[str, Statement]) -> None:
    for employee, formulas in expect.formulas.items():
        statement = statements.get(employee)
        by_id = {} if statement is None else {line.id: line.formula for line in statement.lines}
        for line_id, text in formulas.items():
            got = by_id[line_id] if line_id in by_id else _missing("line", line_id, by_id)
            if statement is None:
                got = _no_statement(employee)
            label = f"{employee} {line_id} formula"
            facts.text((employee, "2 formula", line_id), label, text, got)


def _notes(facts: Facts, expect: Expect, statements: Mapping[str, Statement]) -> None:
    """Held sales by transaction id; excluded ones with their status."""
    for employee, ids in expect.held.items():
        found = statements.get(employee)
        got = (
            _no_statement(employee) if found is None else _ids(n.transaction_id for n in found.held)
        )
        facts.text((employee, "3 held"), f"{employee} held", _ids(ids), got)
    for employee, statuses in expect.excluded.items():
        found = statements.get(employee)
        got = (
            _no_statement(employee) if found is None
            else _statuses((n.transaction_id, n.status) for n in found.excluded)
        )  # fmt: skip
        facts.text(
            (employee, "4 excluded"), f"{employee} excluded", _statuses(statuses.items()), got
        )


def _rejected(facts: Facts, case: PlanCase, result: PeriodResult) -> None:
    """Always compared: roster rows by employee id, ledger rows by transaction id."""
    ids = {
        ROSTER_SOURCE: [row.employee_id for row in case.roster],
        LEDGER_SOURCE: [row.transaction_id for row in case.ledger],
    }
    stated = {
        ROSTER_SOURCE: case.expect.rejected.roster,
        LEDGER_SOURCE: case.expect.rejected.ledger,
    }
    for source, rows in ids.items():
        refused = [
            rows[row.row - 1]
            for row in result.rejected
            if row.source == source and row.row is not None and 0 < row.row <= len(rows)
        ]
        label = f"rejected {source} rows"
        facts.text(("~rejected", source), label, _ids(stated[source]), _ids(refused))


def _to_date(statement: Statement | None, name: str) -> str:
    if statement is None:
        return "no statement"
    component, _, figure = name.partition(".")
    components = dict(statement.to_date)
    figures = components.get(component)
    if figures is None:
        return _missing("component with to-date figures", component, components)
    shown = dict(figures)
    if figure in shown:
        return shown[figure]
    return _missing(f"to-date figure of {component}", figure, shown)


def _same(expected: str, shown: str) -> bool:
    """A to-date figure as stated and as shown: the same text, or the same amount once the
    statement's thousands separators are dropped (``"3300.00"`` states ``"3,300.00"``)."""
    want, plain = expected.strip(), shown.replace(",", "")
    if want == shown:
        return True
    return bool(_AMOUNT.fullmatch(want) and _AMOUNT.fullmatch(plain)) and (
        Decimal(want) == Decimal(plain)
    )


def _missing(what: str, name: str, known: Iterable[str]) -> str:
    """``no such line`` and the likeliest one meant, else those there are.

    >>> _missing("line", "comission.new_credit", ["base.installment", "commission.new_credit"])
    'no such line (did you mean commission.new_credit?)'
    >>> _missing("line", "car.installment", ["base.installment", "commission.new_credit"])
    'no such line; there are base.installment, commission.new_credit'
    """
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.9)  # a typo, not a sibling
    if close:
        return f"no such {what} (did you mean {close[0]}?)"
    return f"no such {what}; there are {', '.join(names)}" if names else f"no {what} at all"


def _no_statement(employee: str) -> str:
    return f"no statement for {employee}"


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(sorted(set(ids))) or "(none)"


def _statuses(items: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{txn} {status}" for txn, status in sorted(items)) or "(none)"


# --------------------------------------------------------------------------- profiles


def compare_profile(case: PlanCase, pay: AnnualPay, rules: RuleSet) -> Facts:
    """The annual figures a profile case states, against the plan year's pay."""
    assert case.profile is not None
    facts = Facts()
    parts = {"total": pay.total, "base": pay.base, "variable": pay.variable,
             "allowances": pay.allowances}  # fmt: skip
    for part, amount in case.expect.annual.items():
        facts.amount(("annual", part), f"annual {part}", amount, parts[part])
    role = case.profile.role
    known = {component.id for component in rules.plans[role].components}
    paid = dict(pay.by_component)
    for component, amount in case.expect.components.items():
        got: Decimal | str = paid.get(component, Decimal(0))
        if component not in known:
            got = f"plan {role} has no such component"
        facts.amount(("component", component), f"component {component}", amount, got)
    return facts
