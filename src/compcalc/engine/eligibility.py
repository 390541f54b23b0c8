"""Which roster rows the rule set can pay, and what each plan needs from the roster.

A row the rules cannot use (a role with no plan, a dimension value the rules don't know, a
currency the rule set doesn't pay in, a missing quota or base the plan needs) is rejected with
its row and reason; the others go on. A dimension column missing from the whole roster is an
error of the run, not of a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import Diagnostic, RunError
from ..inputs.common import is_in
from ..rules.schema import BaseSalary, Bonus, Commission, Override, Plan, RuleSet
from ..statements.model import Rejected


@dataclass(frozen=True)
class Needs:
    quota: bool
    base: bool
    reasons: tuple[str, ...]


def plan_needs(plan: Plan) -> Needs:
    """Whether a plan reads quota and annual base from the roster, and which component does."""
    quota, base, reasons = False, False, []
    for component in plan.components:
        if isinstance(component, Commission | Bonus) and component.quota == "roster":
            attainment = (
                isinstance(component, Bonus)
                or component.gate is not None
                or (component.tiers is not None and component.tiers.measure == "attainment")
            )
            if attainment:
                quota = True
                reasons.append(f"{component.kind} '{component.id}' measures quota attainment")
        if isinstance(component, BaseSalary) and component.annual == "roster":
            base = True
        if isinstance(component, Bonus) and component.target.percent_of_base is not None:
            base = base or not any(
                isinstance(c, BaseSalary) and c.annual != "roster" for c in plan.components
            )
    return Needs(quota, base, tuple(reasons))


@dataclass(frozen=True)
class RosterCheck:
    accepted: pd.DataFrame  # sorted by employee_id, RangeIndex
    rejected: list[Rejected]
    refused: dict[str, str]  # employee_id -> "row N: reason", for their ledger rows' reasons


class _Flags:
    """The first reason (and its column) each roster row is refused for; vectorised masks."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.reasons = pd.Series("", index=frame.index, dtype=object)
        self.columns = pd.Series("", index=frame.index, dtype=object)

    def flag(
        self, mask: pd.Series, column: str, reason: str | Callable[[pd.Series], pd.Series]
    ) -> None:
        """Flag the rows of ``mask`` not flagged yet; ``reason`` words them all alike, or
        worded row by row from each one's cell (given only the rows flagged here)."""
        fresh = mask & (self.reasons == "")
        if not fresh.any():
            return
        self.reasons[fresh] = reason if isinstance(reason, str) else reason(fresh)
        self.columns[fresh] = column


def check_roster(rules: RuleSet, frame: pd.DataFrame, source: str) -> RosterCheck:
    """Split the roster into rows the rules can pay and rejected rows with reasons."""
    missing = [name for name in rules.dimensions if name not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        message = (
            f"the roster has no column {', '.join(missing)}, which rule set "
            f"'{rules.id}' uses as a dimension; columns found: {found}"
        )
        raise RunError([Diagnostic(source, None, None, "", message)])
    flags = _Flags(frame)
    _flag_dimensions(rules, frame, flags)
    _flag_plan_needs(rules, frame, flags)
    bad = flags.reasons != ""
    lines = frame.loc[bad, "line"] if "line" in frame else [None] * int(bad.sum())
    values = [_cell(frame, i, c) for i, c in zip(frame.index[bad], flags.columns[bad], strict=True)]
    rejected = [
        Rejected(source, int(row), _line(line), column, str(value), reason)
        for row, line, column, value, reason in zip(
            frame.loc[bad, "row"],
            lines,
            flags.columns[bad],
            values,
            flags.reasons[bad],
            strict=True,
        )
    ]
    accepted = frame.loc[~bad].sort_values("employee_id", kind="stable").reset_index(drop=True)
    refused = {
        str(employee): (f"line {r.line}" if r.line is not None else f"row {r.row}")
        + f": {r.reason}"
        for employee, r in zip(frame.loc[bad, "employee_id"], rejected, strict=True)
    }
    return RosterCheck(accepted, rejected, refused)


def _flag_dimensions(rules: RuleSet, frame: pd.DataFrame, flags: _Flags) -> None:
    """Role with no plan, a dimension value the rules don't list, another currency."""
    plans = sorted(rules.plans)
    flags.flag(
        ~frame["role"].isin(plans),
        "role",
        _worded(frame["role"], "role ", f" has no plan in rule set '{rules.id}' "
                f"(plans: {', '.join(plans)})"),
    )  # fmt: skip
    for name, allowed in rules.dimensions.items():
        flags.flag(
            ~frame[name].isin(allowed),
            name,
            _worded(frame[name], f"{name} ", f" is not one of {', '.join(allowed)}"),
        )
    currency = frame["currency"]
    flags.flag(
        currency != rules.currency,
        "currency",
        lambda rows: "paid in "
        + currency[rows].astype(str)
        + f"; rule set '{rules.id}' pays in {rules.currency}",
    )


def _worded(cells: pd.Series, before: str, after: str) -> Callable[[pd.Series], pd.Series]:
    """The reason of each flagged row (``rows``): ``before``, its cell as written, ``after``."""
    return lambda rows: before + cells[rows].map(repr) + after


def _flag_plan_needs(rules: RuleSet, frame: pd.DataFrame, flags: _Flags) -> None:
    """A quota or an annual base that the employee's plan reads from the roster is missing."""
    for role, plan in rules.plans.items():
        needs = plan_needs(plan)
        in_plan = frame["role"] == role
        if needs.quota:
            no_quota = in_plan & ~(frame["quota_minor"].fillna(0) > 0)
            flags.flag(no_quota, "quota", f"a quota above 0 is needed: {'; '.join(needs.reasons)}")
        if needs.base:
            flags.flag(
                in_plan & frame["annual_base_minor"].isna(),
                "annual_base",
                f"an annual base is needed by plan '{role}'",
            )


def _line(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _cell(frame: pd.DataFrame, index: object, column: str) -> str:
    source_column = {"quota": "quota_minor", "annual_base": "annual_base_minor"}.get(column, column)
    value: object = frame.at[index, source_column]
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):  # type: ignore[call-overload]
        return ""
    return str(value)


def matches_when(frame: pd.DataFrame, when: dict[str, list[str]] | None) -> np.ndarray:
    """Rows whose dimensions match every listed value of a component's ``when``."""
    mask = np.ones(len(frame), dtype=bool)
    for name, values in (when or {}).items():
        mask &= (
            frame[name].isin(values).to_numpy()
            if name in frame
            else np.zeros(len(frame), dtype=bool)
        )
    return mask


def unknown_managers(
    rules: RuleSet, accepted: pd.DataFrame, refused: dict[str, str], source: str
) -> list[Rejected]:
    """Rows whose ``manager_id`` names nobody payable, when a plan pays manager overrides.

    The row itself is paid; only the override on its sales is lost, so it is reported rather
    than silently left out of every manager's team.
    """
    if not any(
        isinstance(c, Override) for plan in rules.plans.values() for c in plan.components
    ):
        return []
    manager = accepted["manager_id"].fillna("").astype(str)
    ids = accepted["employee_id"].astype(str)
    lost = (manager != "").to_numpy(dtype=bool) & ~is_in(manager, ids)  # hashed, not per id
    out = []
    for position in np.flatnonzero(lost).tolist():
        boss = str(manager.iat[position])
        why = (
            f"its roster row was rejected ({refused[boss]})"
            if boss in refused
            else "no employee has that id on the roster"
        )
        line = accepted["line"].iat[position] if "line" in accepted else None
        out.append(
            Rejected(
                source,
                int(accepted["row"].to_numpy()[position]),
                _line(line),
                "manager_id",
                boss,
                f"manager {boss!r}: {why}; employee {ids.iat[position]} is paid, but no manager "
                "override is paid on their sales",
            )
        )
    return out
