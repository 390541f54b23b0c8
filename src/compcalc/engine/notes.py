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
from .crediting import events_between, refunded_between


def sale_notes(ctx: Context) -> tuple[dict[int, list[SaleNote]], dict[int, list[SaleNote]]]:
    """Per employee row: held sales at the period end, and sales excluded or forfeited now."""
    sales = ctx.sales
    now = ctx.state(ctx.period.end)
    # Flags, not amounts, over every sale (a byte a sale, not eight); amounts only where named
    left = now.left  # something remains after refunds
    held: dict[int, list[SaleNote]] = defaultdict(list)
    excluded: dict[int, list[SaleNote]] = defaultdict(list)
    on_hold = np.flatnonzero(now.sold & now.disputed & left)
    since = now.dispute_since(on_hold).tolist()
    remaining = (sales.amount[on_hold] - now.refunded_at(on_hold)).tolist()
    for i, opened, left_now in zip(on_hold.tolist(), since, remaining, strict=True):
        reason = f"dispute opened {opened}, not resolved by {ctx.period.end}"
        held[int(sales.employee[i])].append(_note(ctx, i, "held", reason, left_now))
    refunded_now = refunded_between(sales, ctx.prior_end, ctx.period.end)
    for i in np.flatnonzero(now.sold & ~left & refunded_now).tolist():
        note = _note(ctx, i, "forfeited", "refunded in full this period", int(sales.amount[i]))
        excluded[int(sales.employee[i])].append(note)
    touched = events_between(sales, ctx.prior_end, ctx.period.end)
    for i in np.flatnonzero(touched & ~sales.eligible).tolist():
        reason = str(sales.excluded_reason[i])
        if sales.date[i] < np.datetime64(ctx.year_start, "D"):
            reason += (
                "; its refund or dispute events this period are not settled by this plan "
                "year's commission (cross-year adjustments are not supported yet)"
            )
        excluded[int(sales.employee[i])].append(
            _note(ctx, i, "excluded", reason, int(sales.amount[i]))
        )
    uncovered = ~ctx.covered[sales.employee] & sales.eligible
    sold_now = (sales.date > np.datetime64(ctx.prior_end, "D")) & (
        sales.date <= np.datetime64(ctx.period.end, "D")
    )
    for i in np.flatnonzero(uncovered & sold_now).tolist():
        role = str(ctx.employees["role"].iat[int(sales.employee[i])])
        reason = f"no commission or bonus of plan '{role}' applies to this employee"
        excluded[int(sales.employee[i])].append(
            _note(ctx, i, "excluded", reason, int(sales.amount[i]))
        )
    no_margin = ctx.on_margin[sales.employee] & ~sales.has_margin & sales.eligible
    for i in np.flatnonzero(no_margin & sold_now).tolist():
        reason = "no margin given for this sale; commission is paid on margin, so it earns none"
        excluded[int(sales.employee[i])].append(
            _note(ctx, i, "excluded", reason, int(sales.amount[i]))
        )
    _late_event_notes(ctx, excluded)
    return held, excluded


def _late_event_notes(ctx: Context, notes: dict[int, list[SaleNote]]) -> None:
    """Refunds and disputes of this period that the clawback window keeps from paid sales."""
    ignored = ctx.ignored
    if ignored is None:
        return
    sales = ctx.sales
    window = ignored.window_days
    for k in ignored.between(ctx.prior_end, ctx.period.end).tolist():
        i = int(ignored.sale[k])
        days = int((ignored.date[k] - sales.date[i]).astype(int))
        if ignored.event[k] == "refund":
            what = f"refund {ignored.date[k]} of {ctx.money(int(ignored.amount[k]))}"
            effect = "the sale had been paid, so nothing is clawed back"
        else:
            what = f"dispute opened {ignored.date[k]}"
            effect = "the paid sale is not held back and keeps earning"
        reason = (
            f"{what} is {days} days after the sale, outside the {window}-day clawback window: "
            f"{effect}"
        )
        notes[int(sales.employee[i])].append(
            _note(ctx, i, "not_clawed_back", reason, int(sales.amount[i]))
        )


def _note(ctx: Context, i: int, status: str, reason: str, amount: int) -> SaleNote:
    sales = ctx.sales
    return SaleNote(
        transaction_id=str(sales.transaction_id[i]),
        date=str(sales.date[i]),
        amount=from_minor(amount, ctx.digits),
        status=status,
        reason=reason,
    )
