"""Draws against commission: a monthly floor, advanced when commission falls short of it.

Each run settles the draw against ``c``, what the run pays on the commission components the
draw is ``against`` (every line of theirs this period, true-ups and clawbacks included, so
``c`` may be negative), and ``D``, the draw of the calendar months whose last day falls in the
run's period (a month only partly employed is prorated like base salary):

* ``c < D`` and ``D > 0``: the draw pays an **advance** of ``D - c``;
* ``c > D``: a recoverable draw **recovers** ``min(balance, c - D, recovery_limit)`` from the
  commission above the draw, as a negative line.

A recoverable draw's balance is the advances not yet recovered:
``balance_k = balance_(k-1) + advance_k - recovery_k``, which without a limit is
``max(0, balance_(k-1) + D_k - c_k)``. The net paid on the draw to date (advances less
recoveries) *is* the balance, so with ``paid_to_date`` the balance needs no other state.
Without it, every earlier period of the plan year is replayed: its draw under the rules in
force then, its commission payments as :func:`commission.replayed_payments` replays them (the
commission's own replay, walked once per run and shared, so linear in the months).
A non-recoverable draw forgives every advance: its balance is always 0.

Each run pays commission + draw >= D whenever D > 0: the draw is a floor, not a bonus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import Diagnostic
from ..money import format_amounts, round_div, safe_ints
from ..periods import Period, employed_days, monthly_installments
from ..rules.resolve import Resolver
from ..rules.schema import Commission, Draw, Proration
from .commission import replayed_payments
from .context import Context, LineDraft, make_line

Int = npt.NDArray[np.int64]
NO_LIMIT = np.iinfo(np.int64).max
PAY_CODE = {"draw": "draw", "override": "override"}


@dataclass(frozen=True)
class Against:
    """A commission component a draw is against, with the plan rows it applies to."""

    component: Commission
    path: str
    rows: Int  # employee rows (global) the commission applies to


@dataclass(frozen=True)
class DrawAmount:
    """The draw of one run period per employee, and how proration reached it (for words)."""

    amount: Int
    shown: list[str]


def money_param(ctx: Context, resolver: Resolver, value: object, path: str, rows: Int) -> Int:
    """A money Param per employee in minor units; a negative amount is a rule problem."""
    minor = ctx.to_minor(resolver.values(value, path, rows), path)
    if np.any(minor < 0):
        ctx.resolver.problems.append(
            Diagnostic(ctx.resolver.source, None, None, path, "the amount must not be negative")
        )
    return minor


def draw_amount(
    component: Draw,
    path: str,
    rows: Int,
    ctx: Context,
    period: Period,
    resolver: Resolver,
    words: bool = True,
) -> DrawAmount:
    """The draw of ``period``: each calendar month ending in it, prorated when partly employed.

    ``words=False`` leaves ``shown`` empty (a replayed period needs only the amounts).

    >>> draw_amount(component, path, rows, ctx, ctx.period, ctx.resolver).shown  # doctest: +SKIP
    ['2,000.00', '1,000.00 (2,000.00 x 15/30 calendar days employed in 2026-11 = 1,000.00)']
    """
    monthly = money_param(ctx, resolver, component.amount, f"{path}.amount", rows)
    frame = ctx.employees.iloc[rows]
    hire = frame["hire_date"].to_numpy().astype("datetime64[D]")
    termination = frame["termination_date"].to_numpy().astype("datetime64[D]")
    working = component.proration is Proration.WORKING_DAYS
    unit = "working days" if working else "calendar days"
    total = np.zeros(len(rows), dtype=np.int64)
    parts: list[list[str]] = [[] for _ in rows]
    for month in monthly_installments(period):
        employed, days = employed_days(month, hire, termination, working)
        prorated = round_div(safe_ints(monthly, days) * employed, days, ctx.rounding)
        amount = np.where(employed == days, monthly, prorated).astype(np.int64)
        total += amount
        if not words:
            continue
        for i in np.flatnonzero(employed != days).tolist():
            parts[i].append(
                f"{ctx.money(int(monthly[i]))} x {int(employed[i])}/{days} {unit} employed "
                f"in {month.label} = {ctx.money(int(amount[i]))}"
            )
    shown: list[str] = []
    if not words:
        return DrawAmount(total, shown)
    for text, part in zip(format_amounts(total, ctx.digits), parts, strict=True):
        shown.append(f"{text} ({'; '.join(part)})" if part else text)
    return DrawAmount(total, shown)


@dataclass(frozen=True)
class Settlement:
    advance: Int
    recovery: Int
    balance: Int  # after this period (0 for a non-recoverable draw)


def settle(draw: Int, commission: Int, balance: Int, limit: Int, recoverable: bool) -> Settlement:
    """One period of the draw, for every employee at once."""
    advance = np.where(draw > 0, np.maximum(draw - commission, 0), 0).astype(np.int64)
    if not recoverable:
        zero = np.zeros(len(draw), dtype=np.int64)
        return Settlement(advance, zero, zero)
    above = np.maximum(commission - draw, 0)
    recovery = np.maximum(np.minimum(np.minimum(np.maximum(balance, 0), above), limit), 0)
    recovery = recovery.astype(np.int64)
    return Settlement(advance, recovery, (balance + advance - recovery).astype(np.int64))


def draw_lines(
    component: Draw,
    path: str,
    rows: Int,
    ctx: Context,
    against: list[Against],
    drafts: list[LineDraft],
) -> list[LineDraft]:
    """Statement lines of one draw for the employees in ``rows``.

    ``drafts`` holds the lines already computed for the plan this period: the commission of
    the components in ``against`` is read from them, so the draw nets exactly what is paid.
    """
    local = np.full(len(ctx.employees), -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    ids = {a.component.id for a in against}
    commission = np.zeros(len(rows), dtype=np.int64)
    for draft in drafts:  # one step per line emitted, not per ledger row
        if draft.line.component in ids and local[draft.row] >= 0:
            commission[local[draft.row]] += int(draft.line.amount.scaleb(ctx.digits))
    now = draw_amount(component, path, rows, ctx, ctx.period, ctx.resolver)
    limit = _limit(component, path, rows, ctx, ctx.resolver)
    before, forgiven = _before(component, path, rows, ctx, against, local)
    result = settle(now.amount, commission, before, limit, component.recoverable)
    drafts_out: list[LineDraft] = []
    names = ", ".join(sorted(ids))
    left = ctx.employees["termination_date"].to_numpy()[rows].astype("datetime64[D]")
    texts = _Texts(ctx, now, commission, before, result, limit)
    for i, row in enumerate(rows.tolist()):
        words = _Words(ctx, component, now, i, texts, names)
        details = words.details()
        if texts.advance[i] > 0:
            drafts_out.append(words.advance(row, details))
        if texts.recovery[i] > 0:
            drafts_out.append(words.recovery(row, details))
        _record(ctx, component, row, words, forgiven, i, result, left[i])
    return drafts_out


def _limit(component: Draw, path: str, rows: Int, ctx: Context, resolver: Resolver) -> Int:
    if component.recovery_limit is None:
        return np.full(len(rows), NO_LIMIT, dtype=np.int64)
    return money_param(ctx, resolver, component.recovery_limit, f"{path}.recovery_limit", rows)


def _before(
    component: Draw,
    path: str,
    rows: Int,
    ctx: Context,
    against: list[Against],
    local: Int,
) -> tuple[Int, Int]:
    """The balance before this period, and (non-recoverable) the advances forgiven so far.

    With ``paid_to_date`` the net paid on the draw is the balance (recoverable) or the
    advances forgiven (non-recoverable). Without it, the earlier periods are replayed.
    """
    zero = np.zeros(len(rows), dtype=np.int64)
    if ctx.paid_to_date is not None:
        paid = ctx.paid(component.id, rows)
        return (paid, zero) if component.recoverable else (zero, paid)
    earlier = ctx.earlier()
    if not earlier:
        return zero, zero
    paid_commission = [np.zeros(len(rows), dtype=np.int64) for _ in earlier]
    for target in against:
        # The commission's own replay (of all its rows, shared with the commission's lines:
        # each employee's replay is their own), read for the draw's employees.
        chosen = local[target.rows] >= 0
        mine = target.rows[chosen]
        if len(mine) == 0:
            continue
        for total, paid in zip(
            paid_commission,
            replayed_payments(target.component, target.path, target.rows, ctx),
            strict=True,
        ):
            total[local[mine]] += paid[chosen]
    balance, forgiven = zero, zero
    for period, commission in zip(earlier, paid_commission, strict=True):
        resolver = ctx.resolver_at(period.end)
        draw = draw_amount(component, path, rows, ctx, period, resolver, words=False).amount
        limit = _limit(component, path, rows, ctx, resolver)
        step = settle(draw, commission, balance, limit, component.recoverable)
        balance, forgiven = step.balance, forgiven + step.advance
    return balance, (zero if component.recoverable else forgiven)


class _Texts:
    """The draw's figures per employee as Python ints and as text, formatted column-wise."""

    def __init__(
        self,
        ctx: Context,
        draw: DrawAmount,
        commission: Int,
        before: Int,
        result: Settlement,
        limit: Int,
    ) -> None:
        digits = ctx.digits
        self.commission, self.commission_text = commission.tolist(), format_amounts(
            commission, digits
        )
        self.before, self.before_text = before.tolist(), format_amounts(before, digits)
        self.after, self.after_text = result.balance.tolist(), format_amounts(
            result.balance, digits
        )
        self.limit = limit.tolist()
        self.advance, self.recovery = result.advance.tolist(), result.recovery.tolist()
        self.draw_minor, self.draw_minor_text = draw.amount.tolist(), format_amounts(
            draw.amount, digits
        )


class _Words:
    """The formulas and details of one employee's draw lines, with the real numbers."""

    def __init__(
        self, ctx: Context, component: Draw, draw: DrawAmount, i: int, texts: _Texts,
        against: str,
    ) -> None:  # fmt: skip
        self.ctx, self.component, self.i, self.texts = ctx, component, i, texts
        self.commission, self.commission_text = texts.commission[i], texts.commission_text[i]
        self.draw, self.draw_minor = draw.shown[i], texts.draw_minor[i]
        self.before, self.after = texts.before[i], texts.after[i]
        self.against = against
        self.label = component.label or "Draw"

    def details(self) -> dict[str, str]:
        texts, i = self.texts, self.i
        details = {
            "draw": self.draw,
            "commission_this_period": self.commission_text,
            "against": self.against,
            "recoverable": "yes" if self.component.recoverable else "no",
        }
        if self.component.recoverable:
            details["balance_before"] = texts.before_text[i]
            details["draw_balance"] = texts.after_text[i]
            if texts.limit[i] != NO_LIMIT:
                details["recovery_limit"] = self.ctx.money(texts.limit[i])
        return details

    def advance(self, row: int, details: dict[str, str]) -> LineDraft:
        money, texts, i = self.ctx.money, self.texts, self.i
        amount = texts.advance[i]
        formula = (
            f"draw {self.draw} - commission this period {self.commission_text} "
            f"({self.against}) = advance {money(amount)}; "
        )
        if self.component.recoverable:
            formula += (
                f"balance {texts.before_text[i]} + {money(amount)} = {texts.after_text[i]}, "
                "recovered from later commission above the draw"
            )
        else:
            formula += "non-recoverable: forgiven, never recovered"
        label = f"{self.label}: advance (commission below the draw)"
        return make_line(self.ctx, self.component, row, "advance", label, amount, formula,
                          (), details)  # fmt: skip

    def recovery(self, row: int, details: dict[str, str]) -> LineDraft:
        money, texts, i = self.ctx.money, self.texts, self.i
        amount, limit = texts.recovery[i], texts.limit[i]
        before, after = texts.before_text[i], texts.after_text[i]
        above = money(self.commission - self.draw_minor)
        bound = f", limit {money(limit)}" if limit != NO_LIMIT else ""
        recovered = money(amount)
        formula = (
            f"commission this period {self.commission_text} ({self.against}) - draw "
            f"{self.draw} = {above} above the draw; recovered min(balance "
            f"{before}, {above}{bound}) = {recovered}; balance "
            f"{before} - {recovered} = {after}"
        )
        label = f"{self.label}: recovery of earlier advances"
        return make_line(self.ctx, self.component, row, "recovery", label, -amount, formula,
                          (), details)  # fmt: skip


def _record(
    ctx: Context,
    component: Draw,
    row: int,
    words: _Words,
    forgiven: Int,
    i: int,
    result: Settlement,
    left: np.datetime64,
) -> None:
    """The draw's figures on the statement's to-date section, balance first."""
    money, texts = ctx.money, words.texts
    after = words.after
    figures = {
        "draw_this_period": texts.draw_minor_text[i],
        "commission_this_period": words.commission_text,
        "recoverable": "yes" if component.recoverable else "no",
        "draw_balance": texts.after_text[i],
    }
    if component.recoverable:
        figures["balance_before"] = texts.before_text[i]
        if ctx.period.end >= ctx.year_end and after > 0:
            figures["written_off_at_plan_year_end"] = texts.after_text[i]
    else:
        figures["advances_forgiven_to_date"] = money(int(forgiven[i]) + texts.advance[i])
    # ``left``: the employee's termination date (NaT while employed), read once per draw
    if after and not np.isnat(left) and left <= np.datetime64(ctx.period.end, "D"):
        figures["left_with_balance"] = texts.after_text[i]
    ctx.record_to_date(row, component.id, figures)
