"""Run plan-test cases through the engine and compare exactly what each case states.

A pay-run case becomes a roster, a ledger (and paid to date, FX) of text cells and goes
through :func:`compcalc.api.run_period` like any run; a profile case goes through the offer
model's plan year (:func:`compcalc.offers.payout.annual_pay`), twelve monthly runs. Every
stated figure is compared with margin zero; rejected input rows are always compared (a case
expects none unless it lists them), so a typo in a case's own rows cannot pass unseen.

>>> report = run_plan_tests(["rules/tests/commission.yaml"])           # doctest: +SKIP
>>> report.ok, report.summary()                                       # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from ..api import run_period
from ..errors import CompcalcError, Diagnostic
from ..inputs import read_fx, read_ledger, read_roster
from ..offers.model import Offer
from ..offers.payout import AnnualPay, Hire, annual_pay, plan_year_of
from ..rules import RuleSet, load_rules
from ..statements.model import PeriodResult
from .cases import LoadedCase, PlanCase, PlanTestError, load_plan_tests
from .compare import LEDGER_SOURCE, ROSTER_SOURCE, compare_profile, compare_run
from .report import CaseResult, Mismatch, PlanTestReport, Status

__all__ = ["run_case", "run_plan_tests"]

ROSTER_COLUMNS = (
    "employee_id", "name", "role", "seniority", "company_size", "region", "currency",
    "annual_base", "quota", "hire_date", "termination_date", "manager_id",
)  # fmt: skip


def run_plan_tests(
    paths: Sequence[str | Path], rules_override: str | Path | None = None
) -> PlanTestReport:
    """Run every case of the plan-test files ``paths`` and report each one.

    ``rules_override`` runs the cases against another rule file than the one each test file
    names (what would an edited copy of the rules change?). A test file that cannot be read
    is reported in ``problems`` and the others still run.

    Example: ``run_plan_tests(["rules/tests/commission.yaml"]).render()``.
    """
    results: list[CaseResult] = []
    problems: list[Diagnostic] = []
    rule_sets: dict[str, RuleSet | CompcalcError] = {}
    for path in paths:
        try:
            tests = load_plan_tests(path)
        except PlanTestError as error:
            problems.extend(error.diagnostics)
            continue
        rules_path = _display(rules_override if rules_override is not None else tests.rules)
        rules = rule_sets.get(rules_path)
        if rules is None:
            rules = rule_sets[rules_path] = _load(rules_path)
            if isinstance(rules, CompcalcError):
                problems.extend(rules.diagnostics)
        if isinstance(rules, CompcalcError):
            note = (f"the rule file {rules_path} cannot be used (see its problems above)",)
            results += [_result(case, rules_path, "error", notes=note) for case in tests.cases]
            continue
        pays = _profile_batch(tests.cases, rules)
        results += [run_case(case, rules, rules_path, pays.get(id(case))) for case in tests.cases]
    return PlanTestReport(tuple(results), tuple(problems))


def run_case(
    case: LoadedCase,
    rules: RuleSet,
    rules_name: str = "<rules>",
    annual: AnnualPay | None = None,
) -> CaseResult:
    """Run one case under ``rules`` and compare what it states, exactly.

    ``annual`` is a profile case's plan year when already computed (in a batch).

    Example: ``run_case(tests.cases[0], compcalc.load_rules(tests.rules)).passed``.
    """
    spec = case.case
    try:
        if spec.profile is not None:
            pay = _annual(spec, rules) if annual is None else annual
            facts = compare_profile(spec, pay, rules)
            notes: tuple[str, ...] = ()
        else:
            result = _pay_run(spec, rules)
            facts = compare_run(spec, result)
            notes = _rejected_notes(case, result)
    except CompcalcError as error:
        message = str(error)
        if spec.expect.error is not None and spec.expect.error in message:
            return _result(case, rules_name, "pass")
        if spec.expect.error is not None:
            mismatch = Mismatch(f"error: containing {spec.expect.error}", f"error: {message}")
            return _result(case, rules_name, "fail", (mismatch,))
        return _result(case, rules_name, "error", notes=(f"the run stopped: {message}",))
    if spec.expect.error is not None:
        facts.text(
            ("~error",), "error", f"containing {spec.expect.error}", "none, the run completed"
        )
    mismatches = facts.mismatches()
    if not mismatches:
        return _result(case, rules_name, "pass")
    return _result(case, rules_name, "fail", mismatches, notes)


def _result(
    case: LoadedCase,
    rules_name: str,
    status: Status,
    mismatches: tuple[Mismatch, ...] = (),
    notes: tuple[str, ...] = (),
) -> CaseResult:
    return CaseResult(case.source, case.line, case.name, rules_name, status, mismatches, notes)


def _display(path: str | Path) -> str:
    return os.path.normpath(path)


def _load(path: str) -> RuleSet | CompcalcError:
    try:
        return load_rules(path)
    except CompcalcError as error:
        return error


# --------------------------------------------------------------------------- pay runs


def _pay_run(case: PlanCase, rules: RuleSet) -> PeriodResult:
    assert case.period is not None
    roster = read_roster(_roster_frame(case, rules.currency), name=ROSTER_SOURCE)
    # read as a run of these rules reads it (the margin only if they pay on margin)
    ledger = read_ledger(
        _ledger_frame(case, rules.currency), name=LEDGER_SOURCE, margin=rules.uses_margin
    )
    paid = None
    if case.paid_to_date is not None:
        paid = pd.DataFrame(
            [(row.employee_id, row.component, row.amount) for row in case.paid_to_date],
            columns=["employee_id", "component", "amount"],
        )
    fx = None
    if case.fx is not None:
        rows = [(row.date, row.from_, row.to, row.rate) for row in case.fx]
        fx = read_fx(pd.DataFrame(rows, columns=["date", "from", "to", "rate"]), name="fx")
    return run_period(rules, roster, ledger, case.period, paid, fx=fx)


def _roster_frame(case: PlanCase, currency: str) -> pd.DataFrame:
    extra = sorted({name for row in case.roster for name in row.columns})
    rows = [
        {
            "employee_id": row.employee_id,
            "name": row.employee_id if row.name is None else row.name,
            "role": row.role,
            "seniority": row.seniority,
            "company_size": row.company_size,
            "region": row.region,
            "currency": currency if row.currency is None else row.currency,
            "annual_base": row.annual_base,
            "quota": row.quota,
            "hire_date": row.hire_date,
            "termination_date": row.termination_date,
            "manager_id": row.manager_id,
            **{name: row.columns.get(name, "") for name in extra},
        }
        for row in case.roster
    ]
    return pd.DataFrame(rows, columns=[*ROSTER_COLUMNS, *extra], dtype=object)


def _ledger_frame(case: PlanCase, currency: str) -> pd.DataFrame:
    split = any(row.share is not None for row in case.ledger)
    columns = ["transaction_id", "employee_id", "date", "event", "amount", "currency", "margin"]
    rows = []
    for row in case.ledger:
        cells = [row.transaction_id, row.employee_id, row.date, row.event, row.amount,
                 currency if row.currency is None else row.currency, row.margin]  # fmt: skip
        rows.append([*cells, row.share or ""] if split else cells)
    return pd.DataFrame(rows, columns=[*columns, "share"] if split else columns, dtype=object)


def _rejected_notes(case: LoadedCase, result: PeriodResult) -> tuple[str, ...]:
    """Each rejected row with its place in the test file and the reason (shown on failure)."""
    lines = {ROSTER_SOURCE: case.roster_lines, LEDGER_SOURCE: case.ledger_lines}
    notes = []
    for row in result.rejected:
        where = lines.get(row.source, ())
        line = where[row.row - 1] if row.row is not None and 0 < row.row <= len(where) else None
        place = f"{case.source}:{line}" if line is not None else row.source
        notes.append(f"rejected {row.source} row {row.row} ({place}): {row.reason}")
    return tuple(notes)


# --------------------------------------------------------------------------- profiles


def _annual(case: PlanCase, rules: RuleSet) -> AnnualPay:
    """The plan year of the offer at the case's attainment, paid month by month."""
    year = plan_year_of(rules, None)
    return annual_pay(rules, [_hire(case, rules)], year, case.deals_per_month)[0]


def _profile_batch(cases: Sequence[LoadedCase], rules: RuleSet) -> dict[int, AnnualPay]:
    """The plan years of many profile cases at once, one roster per ``deals_per_month``.

    Hires are independent employees, so a batch pays each exactly what it pays alone, in
    twelve runs instead of twelve per case. A case that cannot be paid is left out (it runs
    alone, to report its own error); so is a whole batch that fails.
    """
    groups: dict[int, dict[int, Hire]] = {}
    for case in cases:
        if case.case.profile is None:
            continue
        try:
            hire = _hire(case.case, rules)
        except CompcalcError:
            continue
        groups.setdefault(case.case.deals_per_month, {})[id(case)] = hire
    pays: dict[int, AnnualPay] = {}
    for per_month, hires in groups.items():
        try:
            paid = annual_pay(rules, list(hires.values()), plan_year_of(rules, None), per_month)
        except CompcalcError:
            continue
        pays.update(zip(hires, paid, strict=True))
    return pays


def _hire(case: PlanCase, rules: RuleSet) -> Hire:
    """The offer model's synthetic employee for a profile case."""
    profile = case.profile
    assert profile is not None and case.attainment is not None
    try:
        offer = Offer(
            role=profile.role,
            seniority=profile.seniority,
            company_size=profile.company_size,
            region=profile.region,
            base=profile.base,
            quota=profile.quota,
            dimensions=profile.dimensions,
        )
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise CompcalcError(f"the profile is not a valid offer: {problems}") from None
    if offer.role not in rules.plans:
        raise CompcalcError(
            f"the rules have no plan {offer.role!r}; plans: {', '.join(sorted(rules.plans))}"
        )
    dimensions = tuple(sorted(offer.dimensions_for(rules).items()))
    return Hire(offer.role, dimensions, offer.base, offer.quota or Decimal(0), case.attainment)
