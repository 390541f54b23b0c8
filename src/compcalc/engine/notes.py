"""Sales that earn nothing this period, and why: held (disputed) and excluded ones.

Shown on the statement so nobody has to guess where a sale went. Only the few sales with
something to say are visited; credited sales are not.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import repeat

import numpy as np
import numpy.typing as npt

from ..money import from_minor_all
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
    end = ctx.period.end
    since = now.dispute_since(on_hold).tolist()
    worded = {opened: f"dispute opened {opened}, not resolved by {end}" for opened in set(since)}
    reasons = [worded[opened] for opened in since]  # each day worded once
    _notes(ctx, on_hold, "held", reasons, held, sales.amount[on_hold] - now.refunded_at(on_hold))
    refunded_now = refunded_between(sales, ctx.prior_end, ctx.period.end)
    forfeited = np.flatnonzero(now.sold & ~left & refunded_now)
    _notes(ctx, forfeited, "forfeited", "refunded in full this period", excluded)
    touched = events_between(sales, ctx.prior_end, ctx.period.end)
    ineligible = np.flatnonzero(touched & ~sales.eligible)
    earlier_year = (sales.date[ineligible] < np.datetime64(ctx.year_start, "D")).tolist()
    reasons = [
        str(sales.excluded_reason[i]) + (
            "; its refund or dispute events this period are not settled by this plan "
            "year's commission (cross-year adjustments are not supported yet)"
            if earlier else ""
        )
        for i, earlier in zip(ineligible.tolist(), earlier_year, strict=True)
    ]  # fmt: skip
    _notes(ctx, ineligible, "excluded", reasons, excluded)
    uncovered = ~ctx.covered[sales.employee] & sales.eligible
    sold_now = (sales.date > np.datetime64(ctx.prior_end, "D")) & (
        sales.date <= np.datetime64(ctx.period.end, "D")
    )
    no_plan = np.flatnonzero(uncovered & sold_now)
    roles = ctx.employees["role"].to_numpy(dtype=object)[sales.employee[no_plan]].tolist()
    reasons = [f"no commission or bonus of plan '{r}' applies to this employee" for r in roles]
    _notes(ctx, no_plan, "excluded", reasons, excluded)
    no_margin = ctx.on_margin[sales.employee] & ~sales.has_margin & sales.eligible
    reason = "no margin given for this sale; commission is paid on margin, so it earns none"
    _notes(ctx, np.flatnonzero(no_margin & sold_now), "excluded", reason, excluded)
    _late_event_notes(ctx, excluded)
    return held, excluded


def _notes(
    ctx: Context,
    at: npt.NDArray[np.integer],
    status: str,
    reasons: list[str] | str,
    into: dict[int, list[SaleNote]],
    amounts: npt.NDArray[np.integer] | None = None,
) -> None:
    """A note for each of the sales at positions ``at``, in their order, added to its
    employee's list in ``into``: its own reason (or one for all) and amount (default: the
    sale's). Ids, dates and amounts are read for all of them at once, not sale by sale."""
    if not len(at):
        return
    sales = ctx.sales
    ids = sales.transaction_id.take(at)
    dates = np.datetime_as_string(sales.date[at], unit="D").tolist()
    units = (sales.amount[at] if amounts is None else amounts).tolist()
    why = repeat(reasons, len(at)) if isinstance(reasons, str) else reasons
    digits = ctx.digits
    money = from_minor_all(units, digits)
    notes = list(map(SaleNote, ids, dates, money, repeat(status, len(at)), why))
    # Each employee's notes in their order, handed over a run at a time
    employee = sales.employee[at]
    order = np.argsort(employee, kind="stable")
    owner = employee[order]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    bounds = [*starts.tolist(), len(order)]
    ranked = [notes[k] for k in order.tolist()]
    for row, begin, stop in zip(owner[starts].tolist(), bounds[:-1], bounds[1:], strict=True):
        into[row].extend(ranked[begin:stop])


def _late_event_notes(ctx: Context, notes: dict[int, list[SaleNote]]) -> None:
    """Refunds and disputes of this period that the clawback window keeps from paid sales."""
    ignored = ctx.ignored
    if ignored is None:
        return
    sales = ctx.sales
    window = ignored.window_days
    found = ignored.between(ctx.prior_end, ctx.period.end)
    at = ignored.sale[found]
    reasons = []
    for k, i in zip(found.tolist(), at.tolist(), strict=True):
        days = int((ignored.date[k] - sales.date[i]).astype(int))
        if ignored.event[k] == "refund":
            what = f"refund {ignored.date[k]} of {ctx.money(int(ignored.amount[k]))}"
            effect = "the sale had been paid, so nothing is clawed back"
        else:
            what = f"dispute opened {ignored.date[k]}"
            effect = "the paid sale is not held back and keeps earning"
        reasons.append(
            f"{what} is {days} days after the sale, outside the {window}-day clawback window: "
            f"{effect}"
        )
    _notes(ctx, at, "not_clawed_back", reasons, notes)
