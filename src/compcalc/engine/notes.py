"""Sales that earn nothing this period, and why: held (disputed) and excluded ones.

Shown on the statement so nobody has to guess where a sale went. Only the few sales with
something to say are visited; credited sales are not.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..money import from_minor
from ..statements.model import SaleNote
from .context import Context
from .crediting import refunded_between


def sale_notes(ctx: Context) -> tuple[dict[int, list[SaleNote]], dict[int, list[SaleNote]]]:
    """Per employee row: held sales at the period end, and sales excluded or forfeited now."""
    sales = ctx.sales
    now = ctx.state(ctx.period.end)
    end = np.datetime64(ctx.period.end, "D")
    start = np.datetime64(ctx.period.start, "D")
    held: dict[int, list[SaleNote]] = defaultdict(list)
    excluded: dict[int, list[SaleNote]] = defaultdict(list)
    for i in np.flatnonzero(now.sold & now.disputed).tolist():
        reason = f"dispute opened {now.dispute_since[i]}, not resolved by {ctx.period.end}"
        held[int(sales.employee[i])].append(_note(ctx, i, "held", reason))
    forfeited_now = (
        now.sold
        & (now.credited_amount == 0)
        & ~now.disputed
        & refunded_between(sales, ctx.prior_end, ctx.period.end)
    )
    for i in np.flatnonzero(forfeited_now).tolist():
        excluded[int(sales.employee[i])].append(
            _note(ctx, i, "forfeited", "refunded in full this period")
        )
    touched = (sales.date >= start) & (sales.date <= end) | refunded_between(
        sales, ctx.prior_end, ctx.period.end
    )
    for i in np.flatnonzero(touched & (sales.excluded_reason != "")).tolist():
        excluded[int(sales.employee[i])].append(
            _note(ctx, i, "excluded", str(sales.excluded_reason[i]))
        )
    return held, excluded


def _note(ctx: Context, i: int, status: str, reason: str) -> SaleNote:
    sales = ctx.sales
    return SaleNote(
        transaction_id=str(sales.transaction_id[i]),
        date=str(sales.date[i]),
        amount=from_minor(int(sales.amount[i]), ctx.digits),
        status=status,
        reason=reason,
    )
