"""What was already paid this plan year, as the caller states it: checked, exact, summed.

``paid_to_date`` is a DataFrame (or a mapping) of ``employee_id, component, amount``: one
row per employee and commission, bonus, draw or override component (several rows for one
pair are added up; for a recoverable draw the net paid, advances less recoveries, is the
outstanding balance). A pair with no row counts as nothing paid. Amounts are exact
decimals in the rule set's currency (text, Decimal or int, never float, no more decimals than
the currency has). A row naming an employee or component the run does not know is an error,
not ignored: a typo there would otherwise pay the whole amount again.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from ..errors import Diagnostic, RunError
from ..rules.schema import Bonus, Commission, Draw, Override, RuleSet

PaidToDate = pd.DataFrame | Mapping[tuple[str, str], Any] | None
COLUMNS = ("employee_id", "component", "amount")


def paid_minor(
    paid: PaidToDate, rules: RuleSet, employee_ids: set[str], digits: int
) -> dict[tuple[str, str], int] | None:
    """Minor units paid before this period per (employee_id, component id), or None."""
    if paid is None:
        return None
    problems: list[str] = []
    components = {
        c.id
        for plan in rules.plans.values()
        for c in plan.components
        if isinstance(c, Commission | Bonus | Draw | Override)
    }
    out: dict[tuple[str, str], int] = {}
    for number, (employee, component, amount) in enumerate(_items(paid), start=1):
        where = f"row {number}"
        if employee not in employee_ids:
            problems.append(f"{where}: employee {employee!r} is not among the employees paid")
        if component not in components:
            known = ", ".join(sorted(components)) or "none"
            problems.append(
                f"{where}: {component!r} is not a commission, bonus, draw or override "
                f"(known: {known})"
            )
        minor = _exact_minor(amount, digits, where, problems)
        out[(employee, component)] = out.get((employee, component), 0) + minor
    if problems:
        shown = problems[:20] + (
            [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        )
        raise RunError([Diagnostic("paid_to_date", None, None, "", text) for text in shown])
    return out


def _items(paid: pd.DataFrame | Mapping[tuple[str, str], Any]) -> list[tuple[str, str, Any]]:
    if isinstance(paid, pd.DataFrame):
        missing = [c for c in COLUMNS if c not in paid.columns]
        if missing:
            raise RunError(
                f"paid_to_date needs columns {', '.join(COLUMNS)}; missing {', '.join(missing)}"
            )
        return [(str(e), str(c), a) for e, c, a in zip(*(paid[c] for c in COLUMNS), strict=True)]
    return [(str(key[0]), str(key[1]), amount) for key, amount in paid.items()]


def _exact_minor(amount: Any, digits: int, where: str, problems: list[str]) -> int:
    if isinstance(amount, float) or amount is None or isinstance(amount, bool):
        problems.append(
            f"{where}: amount {amount!r} must be exact text or Decimal, never float or empty"
        )
        return 0
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        problems.append(f"{where}: amount {str(amount)!r} is not a plain decimal number")
        return 0
    scaled = value.scaleb(digits)
    if not value.is_finite() or scaled != scaled.to_integral_value():
        problems.append(f"{where}: amount {str(amount)!r} has more than {digits} decimal places")
        return 0
    return int(scaled)
