"""The plan-test file format: YAML test cases that a rule set carries beside it.

A test file names the rule file it tests (``rules:``, relative to the test file) and holds
cases. A case is either a small pay run (``period``, ``roster``, ``ledger`` and optionally
``paid_to_date`` and ``fx``) with the exact statement figures it must produce, or an offer
``profile`` at an ``attainment`` of quota with the exact annual pay it must come to::

    rules: ../account_managers.yaml
    cases:
      - name: regional entry rep under the gate earns no commission yet
        period: 2026-10
        roster:
          - {employee_id: E1, role: regional_account_manager, seniority: entry,
             company_size: small, region: non_metro, annual_base: "40000",
             quota: "400000", hire_date: 2020-01-01}
        ledger:
          - {transaction_id: T1, employee_id: E1, date: 2026-10-05, event: sale,
             amount: "90000.00"}
        expect:
          lines: {E1: {commission.new_credit: "0.00"}}

Amounts are exact decimal text: a YAML float (``1000.50`` unquoted) is refused with "write
amounts in quotes". Every problem names the file, line, column and field, through the rule
files' own YAML reader (:mod:`compcalc.rules.loader`).

>>> tests = load_plan_tests_text(
...     "rules: am.yaml\\ncases:\\n  - name: x\\n    profile: {role: r, seniority: s,"
...     " company_size: c, region: g, base: '1'}\\n    attainment: '1'\\n"
...     "    expect: {annual: {total: '1'}}\\n", "t.yaml")
>>> tests.cases[0].name, tests.cases[0].line
('x', 3)
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ..errors import CompcalcError, Diagnostic, RuleFileError
from ..periods import parse_period
from ..rules.loader import (
    Positions,
    load_model_text_with_positions,
    read_rule_text,
    read_yaml_with_positions,
)

__all__ = [
    "Expect",
    "LoadedCase",
    "PlanCase",
    "PlanTestError",
    "PlanTests",
    "find_plan_tests",
    "is_plan_test_file",
    "load_plan_tests",
    "load_plan_tests_text",
]

_AMOUNT = re.compile(r"-?\d+(\.\d+)?")


class PlanTestError(CompcalcError):
    """A plan-test file cannot be read, or a path given to ``compcalc test`` names no tests."""


# --------------------------------------------------------------------------- cell types


def _refuse_float(value: Any, what: str) -> None:
    if isinstance(value, Decimal | float):
        raise ValueError(f'write {what} in quotes, as "{value}", so they stay exact')


def _cell(value: Any) -> Any:
    """An input cell: text, a whole number or a date, read as text; a YAML float refused."""
    _refuse_float(value, "amounts")
    if isinstance(value, bool):
        return value  # left for the model to refuse as "expected text"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _amount(value: Any) -> Any:
    """An exact amount: decimal text (``"-300.00"``) or a whole number; a YAML float refused."""
    _refuse_float(value, "amounts")
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.fullmatch(text):
            raise ValueError('expected an amount as plain decimal text such as "1234.50"')
        return Decimal(text)
    return value


def _period(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parse_period(value)
        except ValueError as error:
            raise ValueError(str(error).removeprefix(f"period {value!r}: ")) from None
    return value


Cell = Annotated[str, BeforeValidator(_cell)]
Amount = Annotated[Decimal, BeforeValidator(_amount)]
Name = Annotated[str, Field(min_length=1)]
PeriodText = Annotated[str, BeforeValidator(_period)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# --------------------------------------------------------------------------- inputs


class RosterRow(_Strict):
    """One roster row, as in ``examples/roster.csv``; optional columns may be left out."""

    employee_id: Name
    name: Cell | None = None  # default: the employee id
    role: Cell
    seniority: Cell = ""
    company_size: Cell = ""
    region: Cell = ""
    currency: Cell | None = None  # default: the rule set's currency
    annual_base: Cell
    quota: Cell = ""
    hire_date: Cell
    termination_date: Cell = ""
    manager_id: Cell = ""
    # Further roster columns (a dimension such as country), by name.
    columns: dict[str, Cell] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _no_clash(cls, columns: dict[str, str]) -> dict[str, str]:
        clash = sorted(set(columns) & set(cls.model_fields))
        if clash:
            raise ValueError(f"write {', '.join(clash)} as a field of the row, not under columns")
        return columns


class LedgerRow(_Strict):
    """One ledger row, as in ``examples/ledger/*.csv``."""

    transaction_id: Name
    employee_id: Cell
    date: Cell
    event: Cell
    amount: Cell = ""
    currency: Cell | None = None  # default: the rule set's currency
    margin: Cell = ""
    share: Cell | None = None  # percent of a split sale; the column exists if any row has one


class PaidRow(_Strict):
    """What an earlier period paid on one commission, bonus, draw or override component."""

    employee_id: Cell
    component: Cell
    amount: Amount


class FxRow(_Strict):
    """One dated FX rate: units of ``to`` per unit of ``from`` from ``date`` on."""

    model_config = ConfigDict(populate_by_name=True)

    date: Cell
    from_: Cell = Field(alias="from")
    to: Cell
    rate: Cell


class Profile(_Strict):
    """An offer: the plan (role), dimensions, annual base and quota."""

    role: Cell
    seniority: Cell
    company_size: Cell
    region: Cell
    base: Amount
    quota: Amount | None = None
    dimensions: dict[str, Cell] = Field(default_factory=dict)


# --------------------------------------------------------------------------- expectations

AnnualPart = Literal["total", "base", "variable", "allowances"]
# How a statement lists a sale that does not earn (held sales are listed under ``held``).
ExcludedStatus = Literal["forfeited", "excluded", "not_clawed_back"]


class RejectedIds(_Strict):
    """Rows the run must reject: roster rows by employee id, ledger rows by transaction id."""

    roster: list[Cell] = Field(default_factory=list)
    ledger: list[Cell] = Field(default_factory=list)


class Expect(_Strict):
    """What a case must produce, exactly. Only what is stated is compared, except that
    rejected input rows always are (none, unless listed under ``rejected``)."""

    totals: dict[str, Amount] = Field(default_factory=dict)
    lines: dict[str, dict[str, Amount]] = Field(default_factory=dict)
    exact_lines: bool = False  # the employees' lines listed are all their lines
    formulas: dict[str, dict[str, str]] = Field(default_factory=dict)
    held: dict[str, list[Cell]] = Field(default_factory=dict)
    excluded: dict[str, dict[str, ExcludedStatus]] = Field(default_factory=dict)  # txn -> status
    to_date: dict[str, dict[str, Cell]] = Field(default_factory=dict)  # component.figure -> text
    rejected: RejectedIds = Field(default_factory=RejectedIds)
    annual: dict[AnnualPart, Amount] = Field(default_factory=dict)
    components: dict[str, Amount] = Field(default_factory=dict)
    error: str | None = None  # text the run's error message must contain

    def statement_fields(self) -> list[str]:
        """The statement expectations this case states."""
        names = ("totals", "lines", "formulas", "held", "excluded", "to_date")
        stated = [name for name in names if getattr(self, name)]
        return stated + (["rejected"] if "rejected" in self.model_fields_set else [])

    def profile_fields(self) -> list[str]:
        """The annual-pay expectations this case states."""
        return [name for name in ("annual", "components") if getattr(self, name)]


class PlanCase(_Strict):
    """One test case: a pay run or an offer profile, and what it must produce."""

    name: Name
    period: PeriodText | None = None
    roster: list[RosterRow] = Field(default_factory=list)
    ledger: list[LedgerRow] = Field(default_factory=list)
    paid_to_date: list[PaidRow] | None = None
    fx: list[FxRow] | None = None
    profile: Profile | None = None
    attainment: Amount | None = None
    deals_per_month: int = Field(default=1, ge=1, le=31)
    expect: Expect

    @model_validator(mode="after")
    def _one_form(self) -> PlanCase:
        if self.profile is not None:
            run_fields = [name for name in ("period", "roster", "ledger", "paid_to_date", "fx")
                          if name in self.model_fields_set]  # fmt: skip
            if run_fields:
                raise ValueError(
                    "a profile case models a plan year: leave out " + ", ".join(run_fields)
                )
            if self.attainment is None:
                raise ValueError("a profile case needs 'attainment' (a fraction such as \"1.10\")")
            if self.expect.statement_fields():
                raise ValueError(
                    "a profile case expects annual pay ('annual', 'components'), not "
                    + ", ".join(self.expect.statement_fields())
                )
        else:
            if self.period is None or not self.roster:
                raise ValueError(
                    "a case needs 'period' and 'roster' (a pay run), or 'profile' and "
                    "'attainment' (an offer's plan year)"
                )
            if self.attainment is not None or "deals_per_month" in self.model_fields_set:
                raise ValueError("'attainment' and 'deals_per_month' go with 'profile'")
            if self.expect.profile_fields():
                raise ValueError("'annual' and 'components' are expectations of a profile case")
        stated = self.expect.statement_fields() + self.expect.profile_fields()
        if not stated and self.expect.error is None:
            raise ValueError("'expect' states nothing to check")
        return self


class PlanTestFile(_Strict):
    """A plan-test file: the rule file it tests and its cases."""

    rules: Name
    shared: Any = None  # free-form: a place for YAML anchors (&row) that cases reuse
    cases: list[PlanCase] = Field(min_length=1)


# --------------------------------------------------------------------------- loaded


@dataclass(frozen=True)
class LoadedCase:
    """A case with where it is written: the file, its line, and its rows' lines."""

    case: PlanCase
    source: str  # the test file as named
    index: int  # position in the file's cases
    line: int | None
    roster_lines: tuple[int | None, ...]
    ledger_lines: tuple[int | None, ...]

    @property
    def name(self) -> str:
        return self.case.name

    @property
    def where(self) -> str:
        """``file:line`` of the case."""
        return self.source if self.line is None else f"{self.source}:{self.line}"


@dataclass(frozen=True)
class PlanTests:
    """A loaded plan-test file."""

    path: Path
    rules: Path  # the rule file ``rules:`` names, resolved against the test file's folder
    cases: tuple[LoadedCase, ...]


def load_plan_tests(path: str | Path) -> PlanTests:
    """Read and check a plan-test file; every problem at its ``file:line:col`` and field.

    Raises :class:`PlanTestError` with every problem found.

    Example: ``load_plan_tests("rules/tests/commission.yaml").cases[0].name``.
    """
    try:
        text = read_rule_text(path)
    except RuleFileError as error:
        raise PlanTestError(error.diagnostics) from None
    return load_plan_tests_text(text, str(path), Path(path))


def load_plan_tests_text(text: str, source: str, path: Path | None = None) -> PlanTests:
    """Like :func:`load_plan_tests`, from text; ``source`` names it in messages.

    With ``path`` (the file the text was read from), the rule file ``rules:`` names must exist.

    >>> try:
    ...     load_plan_tests_text("rules: r.yaml\\ncases: []\\n", "t.yaml")
    ... except PlanTestError as error:
    ...     print(error)
    t.yaml:2:1: cases: expected at least 1 item, got 0
       2 | cases: []
         | ^
    """
    try:
        model, positions = load_model_text_with_positions(text, source, PlanTestFile)
    except RuleFileError as error:
        raise PlanTestError(error.diagnostics) from None
    where = Path(source) if path is None else path
    rules = where.parent / model.rules
    problems = _duplicate_names(model, positions)
    if path is not None and not rules.is_file():
        message = f"no rule file {os.path.normpath(rules)} (the path is relative to this test file)"
        problems.append(positions.diagnostic(("rules",), message))
    for index, case in enumerate(model.cases):
        problems += _unknown_ids(case, ("cases", index), positions)
    if problems:
        raise PlanTestError(problems)
    cases = tuple(_loaded(case, index, source, positions) for index, case in enumerate(model.cases))
    return PlanTests(where, rules, cases)


def _loaded(case: PlanCase, index: int, source: str, positions: Positions) -> LoadedCase:
    def line(*path: str | int) -> int | None:
        at = positions.at(("cases", index, *path))
        return None if at is None else at.line

    return LoadedCase(
        case=case,
        source=source,
        index=index,
        line=line("name") if line() is None else line(),
        roster_lines=tuple(line("roster", row) for row in range(len(case.roster))),
        ledger_lines=tuple(line("ledger", row) for row in range(len(case.ledger))),
    )


def _duplicate_names(model: PlanTestFile, positions: Positions) -> list[Diagnostic]:
    first: dict[str, int] = {}
    problems = []
    for index, case in enumerate(model.cases):
        if case.name in first:
            at = positions.at(("cases", first[case.name], "name"))
            on = "" if at is None else f" on line {at.line}"
            message = f"case name {case.name!r} is already used{on}; names must be unique"
            problems.append(positions.diagnostic(("cases", index, "name"), message))
        else:
            first[case.name] = index
    return problems


def _unknown_ids(case: PlanCase, at: tuple[str, int], positions: Positions) -> list[Diagnostic]:
    """Employees and transactions a pay-run case expects or pays that its own rows lack.

    Such an expectation could only fail at run time ("no statement", "(none)"), far from the
    typo; here it is refused at its line.
    """
    if case.profile is not None:
        return []
    employees = list(dict.fromkeys(row.employee_id for row in case.roster))
    sales = list(dict.fromkeys(row.transaction_id for row in case.ledger))
    problems = []
    for what, rows, known, refs in (
        ("employee", "roster", employees, _employee_refs(case)),
        ("transaction", "ledger", sales, _sale_refs(case.expect)),
    ):
        for path, value in refs:
            if value not in known:
                has = ", ".join(known) if known else "no rows"
                message = f"no {what} {value!r} in this case's {rows} (it has {has})"
                problems.append(positions.diagnostic((*at, *path), message))
    return problems


_Refs = Iterator[tuple[tuple[str | int, ...], str]]  # (path in the case, the id written there)


def _employee_refs(case: PlanCase) -> _Refs:
    expect = case.expect
    for field in ("totals", "lines", "formulas", "held", "excluded", "to_date"):
        for employee in getattr(expect, field):
            yield ("expect", field, employee), employee
    for k, employee in enumerate(expect.rejected.roster):
        yield ("expect", "rejected", "roster", k), employee
    for k, row in enumerate(case.paid_to_date or []):
        yield ("paid_to_date", k, "employee_id"), row.employee_id


def _sale_refs(expect: Expect) -> _Refs:
    for employee, ids in expect.held.items():
        for k, txn in enumerate(ids):
            yield ("expect", "held", employee, k), txn
    for employee, statuses in expect.excluded.items():
        for txn in statuses:
            yield ("expect", "excluded", employee, txn), txn
    for k, txn in enumerate(expect.rejected.ledger):
        yield ("expect", "rejected", "ledger", k), txn


# --------------------------------------------------------------------------- finding tests

TESTS_FOLDER = "tests"


def is_plan_test_file(path: Path) -> bool:
    """Whether the YAML file at ``path`` is a plan-test file (a mapping with ``cases``).

    Rule files have ``plans`` instead; a file that cannot be read counts as a test file, so
    loading it reports the problem.
    """
    try:
        data, _ = read_yaml_with_positions(read_rule_text(path), str(path))
    except RuleFileError:
        return True
    return not isinstance(data, dict) or "cases" in data or "plans" not in data


def find_plan_tests(targets: Sequence[str | Path]) -> list[Path]:
    """The plan-test files ``compcalc test`` runs for ``targets``, in order, each once.

    * a plan-test file: that file;
    * a rule file: the test files in the ``tests/`` folder beside it whose ``rules:`` names it;
    * a folder: every ``*.yaml`` in it, test files as they are and rule files as above.

    Raises :class:`PlanTestError` for a path that does not exist or leads to no tests.

    Example: ``find_plan_tests(["rules/account_managers.yaml"])``.
    """
    found: dict[Path, None] = {}
    problems: list[Diagnostic] = []
    for target in map(Path, targets):
        if target.is_dir():
            files = sorted(target.glob("*.yaml"))
            picked = [path for f in files for path in _tests_for(f)]
            if not picked:
                problems.append(_problem(target, "no plan-test files (*.yaml with cases) here"))
        elif target.is_file():
            picked = _tests_for(target)
            if not picked:
                folder = target.parent / TESTS_FOLDER
                problems.append(_problem(target, f"no plan tests in {folder} name this rule file"))
        else:
            problems.append(_problem(target, "no such file or folder"))
            picked = []
        found.update(dict.fromkeys(picked))
    if problems:
        raise PlanTestError(problems)
    return list(found)


def _tests_for(path: Path) -> list[Path]:
    if is_plan_test_file(path):
        return [path]
    folder = path.parent / TESTS_FOLDER
    target = path.resolve()
    return [
        test
        for test in sorted(folder.glob("*.yaml"))
        if is_plan_test_file(test) and _names_rules(test, target)
    ]


def _names_rules(test: Path, rules: Path) -> bool:
    try:
        data, _ = read_yaml_with_positions(read_rule_text(test), str(test))
    except RuleFileError:
        return False
    named = data.get("rules") if isinstance(data, dict) else None
    return isinstance(named, str) and (test.parent / named).resolve() == rules


def _problem(path: Path, message: str) -> Diagnostic:
    return Diagnostic(str(path), None, None, "", message)
