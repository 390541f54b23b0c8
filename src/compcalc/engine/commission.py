"""Commission on dispute-free sales: due to date over the plan year, minus paid to date.

Each period the commission due on everything credited so far this plan year is computed from
the full ledger; the period pays the difference from what was paid before, itemised in a
fixed order so every cent has a cause:

1. ``true_up``   due at the previous period's end (known now) less what was actually paid;
2. ``clawback``  sales paid before and refunded this period;
3. ``held_back`` sales paid before and disputed this period (held until resolved);
4. ``released``  earlier sales whose dispute was resolved for the company this period;
5. ``new_credit`` sales of this period that are dispute-free at its end;
6. ``tier_true_up`` earlier credit re-rated by a step above: a retroactive band reached, or a
   gate passed (or lost), values credit from before at the new rate;
7. ``cap``       the excess over a per-period cap, deferred to later periods.

Each step's amount is the change in the (rounded) due to date (less any re-rating of earlier
credit, which goes to the tier true-up), so the lines add up exactly to
``due now - paid before`` and paying month by month adds up to paying the year at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from ..money import (
    as_fraction,
    format_amounts,
    format_percent_of,
    format_percents_of,
    format_rate,
    round_div,
    safe_ints,
)
from ..rules.resolve import Resolver
from ..rules.schema import Commission, Dated, TierMethod
from ..statements.model import Ids
from .context import Context, GroupSales, LineDraft, epoch_day, make_line, make_lines
from .tiers import (
    Outcome,
    Schedule,
    at_band,
    cumulative,
    describe,
    describe_columns,
    flat_schedule,
    per_sale_exact,
    per_transaction,
    reached_band,
    tier_schedule,
)

Int = npt.NDArray[np.int64]

STEPS = (
    ("clawback", "Clawback: paid sales refunded this period"),
    ("held_back", "Held back: paid sales disputed this period"),
    ("released", "Released: disputes resolved this period"),
    ("new_credit", "Commission on new dispute-free sales"),
)


@dataclass(frozen=True)
class Due:
    """Commission due to date per employee for one set of sale bases."""

    measure: Any  # credited basis to date per employee (minor units)
    outcome: Any  # the schedule's exact outcome (for the formula)
    raw: Any  # rounded, before gate and cap
    due: Any  # after gate and plan-year cap
    gated: Any  # bool: below the gate (for a re-rated Due: as the plan stands after the step)
    own_gated: Any  # bool: its own measure is below the gate
    capped: Any  # bool: the plan-year cap bit


class CommissionPlan:
    """A commission component resolved for one plan group of employees."""

    def __init__(
        self, component: Commission, path: str, rows: Int, ctx: Context, resolver: Resolver
    ) -> None:
        self.component, self.path, self.rows, self.ctx = component, path, rows, ctx
        self.quota = quota = ctx.quota(component, path, rows, resolver)
        if component.rate is not None:
            self.schedule: Schedule = flat_schedule(
                resolver.values(component.rate, f"{path}.rate", rows)
            )
        else:
            assert component.tiers is not None
            self.schedule = tier_schedule(
                component.tiers, resolver, f"{path}.tiers", rows, quota, ctx.digits
            )
        self.gate = (
            None
            if component.gate is None
            else resolver.values(component.gate, f"{path}.gate", rows)
        )
        self.cap = None
        if component.cap is not None:
            cap_values = resolver.values(component.cap.amount, f"{path}.cap.amount", rows)
            self.cap = ctx.to_minor(cap_values, f"{path}.cap.amount")
        # The plan's sales grouped by employee: each sum over them is one pass
        self.own_sales = ctx.group_sales(rows)
        # Words of the lines, each figure formatted once per employee (see _figures)
        self._quota = self.quota.tolist()
        self._quota_text: list[str] | None = None
        self._rates_text: list[str] | None = None
        self._rate_columns: list[list[str]] | None = None
        self._figures: dict[tuple[int, int], tuple[str, str]] = {}
        self._explained: dict[tuple[int, int], str] = {}
        self._kept: dict[int, object] = {}
        self._per_sale_table: tuple[tuple[int, ...], Int | None] | None = None

    @property
    def per_period_cap(self) -> bool:
        return self.component.cap is not None and self.component.cap.per == "period"

    def due_of(self, basis: Int) -> Due:
        """The due for the bases of the plan's own sales, in their order (``own_sales``)."""
        groups = self.own_sales.groups
        measure = np.asarray(groups.sum(basis), dtype=np.int64)
        if self._rates_each_sale:
            return self._due(measure, per_transaction(self.schedule, basis, groups))
        return self._due(measure, cumulative(self.schedule, measure))

    def due_at(self, as_of: dt.date) -> Int:
        """Due to date per employee for the plan's sales as they stood at the end of
        ``as_of`` (the replays and the true-up causes need no more of the :class:`Due`).

        From each employee's credited basis alone (:meth:`Context.measure`); when the
        schedule rates each sale on its own, from each sale's commission on its full figure
        summed once for every period end, with the few sales whose basis differs then
        re-rated (:meth:`_per_sale_exact_at`).
        """
        ctx, kind = self.ctx, self.component.basis
        if not self._rates_each_sale:
            measure = ctx.measure(as_of, kind, self.own_sales)
            due: Int = self._due(measure, cumulative(self.schedule, measure)).due
            return due
        exact = self._per_sale_exact_at(as_of)
        if exact is None:  # another date, or sums too large for the one pass
            due = self.due_of(ctx.basis(as_of, kind, at=self.own_sales)).due
            return due
        measure = (
            np.zeros(len(self.rows), dtype=np.int64)  # only a gate looks at it
            if self.gate is None
            else ctx.measure(as_of, kind, self.own_sales)
        )
        due = self._due(measure, Outcome(exact, ())).due
        return due

    def _per_sale_exact_at(self, as_of: dt.date) -> Int | None:
        """Per employee, the exact commission (``* scale``) of a per-sale schedule on the
        plan's sales at the end of ``as_of``, a period end; None when that is not cheap.

        A sale not sold by then is left out of the sums, which is right only when a basis of
        0 earns 0 (bands from 0 upwards; a negative quota under attainment bands reverses
        them): else None, and every sale is rated.
        """
        ctx, own, kind = self.ctx, self.own_sales, self.component.basis
        ends = ctx.period_ends()
        if self._per_sale_table is None or self._per_sale_table[0] != ends:
            size = len(self.rows)
            zero = per_sale_exact(self.schedule, np.zeros(size, np.int64), np.arange(size))
            table = None
            if not np.any(zero != 0):
                full = per_sale_exact(self.schedule, own.figures(kind), own.owner)
                table = own.sums_by_cutoff(full, ends)
            self._per_sale_table = (ends, table)
        table = ctx.at_period_end(as_of, self._per_sale_table[1])
        if table is None:
            return None
        owner, basis, plain = ctx.differing(as_of, kind, own)
        change = per_sale_exact(self.schedule, basis, owner)
        change = change - per_sale_exact(self.schedule, plain, owner)
        if change.dtype == object:
            return None
        exact: Int = table.copy()
        np.add.at(exact, owner, change)
        return exact

    @property
    def _rates_each_sale(self) -> bool:
        return self.schedule.method == TierMethod.PER_TRANSACTION.value

    def _due(self, measure: Int, outcome: Outcome) -> Due:
        size = len(self.rows)
        raw = round_div(outcome.exact, self.schedule.scale, self.ctx.rounding)
        gated = self._below_gate(measure)
        due = np.where(gated, 0, raw)
        capped = np.zeros(size, dtype=bool)
        if self.cap is not None and not self.per_period_cap:
            capped = due > self.cap
            due = np.minimum(due, self.cap)
        return Due(measure, outcome, raw, np.asarray(due, dtype=np.int64), gated, gated, capped)

    def rerated(self, prior: Due, final: Due) -> Due:
        """Earlier credit (``prior``) valued as the plan stands at ``final``.

        A retroactive tier reached by later credit re-rates all earlier credit, and a gate
        passed by later credit lets earlier credit earn: that difference is the period's tier
        true-up, shown on its own line rather than hidden in the new credit.
        """
        outcome, raw = prior.outcome, prior.raw
        if self.schedule.method == TierMethod.RETROACTIVE.value:
            outcome = at_band(self.schedule, prior.measure, reached_band(final.outcome))
            raw = round_div(outcome.exact, self.schedule.scale, self.ctx.rounding)
        due = np.where(final.gated, 0, raw)
        capped = np.zeros(len(due), dtype=bool)
        if self.cap is not None and not self.per_period_cap:
            capped = due > self.cap
            due = np.minimum(due, self.cap)
        due_now = np.asarray(due, dtype=np.int64)
        return Due(prior.measure, outcome, raw, due_now, final.gated, prior.own_gated, capped)

    def _below_gate(self, measure: Int) -> npt.NDArray[np.bool_]:
        if self.gate is None:
            return np.zeros(len(measure), dtype=bool)
        below = np.zeros(len(measure), dtype=bool)
        for value in set(self.gate.tolist()):
            numerator, denominator = as_fraction(value)
            where = self.gate == value
            # attainment >= gate  <=>  measure * denominator >= numerator * quota ("at or above")
            lhs = safe_ints(measure[where], denominator) * denominator
            rhs = safe_ints(self.quota[where], max(abs(numerator), 1)) * numerator
            below[where] = lhs < rhs
        return below

    def figures(self, due: Due, i: int) -> tuple[str, str]:
        """Employee ``i``'s credited basis in ``due`` and its attainment, as text (once)."""
        key = (id(due.measure), i)  # rerated dues share their measure: formatted once
        found = self._figures.get(key)
        if found is None:
            measure, quota = int(due.measure[i]), self._quota[i]
            attainment = format_percent_of(measure, quota) if quota > 0 else ""
            found = self._figures[key] = (self.ctx.money(measure), attainment)
            self._kept[key[0]] = due.measure  # keeps its id from being reused while cached
        return found

    def quota_text(self, i: int) -> str:
        if self._quota_text is None:
            self._quota_text = format_amounts(self.quota, self.ctx.digits)
        return self._quota_text[i]

    def rate_columns(self) -> list[list[str]]:
        """Per band, every employee's rate as text."""
        if self._rate_columns is None:
            self._rate_columns = [
                [format_rate(r) for r in rates.tolist()] for rates in self.schedule.shown_rates
            ]
        return self._rate_columns

    def rates_text(self, i: int) -> str:
        """``t1 5%, t2 8%``: employee ``i``'s rate in every band (the same on all lines)."""
        if self._rates_text is None:
            schedule = self.schedule
            bands = list(zip(schedule.band_ids, self.rate_columns(), strict=True))
            self._rates_text = [
                ", ".join(f"{band} {texts[k]}" for band, texts in bands)
                for k in range(len(self.rows))
            ]
        return self._rates_text[i]

    def explain(self, due: Due, i: int) -> str:
        key = (id(due), i)
        found = self._explained.get(key)
        if found is None:
            found = self._explained[key] = self._explain(due, i)
            self._kept[key[0]] = due
        return found

    def explain_all(self, due: Due, at: Sequence[int] | None = None) -> list[str]:
        """Explain the ``due`` of every employee (or of those at ``at``) at once, each figure
        formatted column by column (the new credit's line explains two dues for everyone);
        the texts in that order, kept for :meth:`explain` too."""
        digits = self.ctx.digits
        where = range(len(self.rows)) if at is None else at
        picked = None if at is None else np.asarray(at, dtype=np.int64)

        def column(values: Any) -> npt.NDArray[Any]:
            return np.asarray(values if picked is None else np.asarray(values)[picked])

        measure_text = format_amounts(column(due.measure), digits)
        attained = format_percents_of(column(due.measure), column(self.quota))
        raw_text = format_amounts(column(due.raw), digits)
        rates = self.rate_columns()
        if picked is not None:
            rates = [[texts[i] for i in where] for texts in rates]
        slices = [column(s) for s in due.outcome.slices]
        described_all = describe_columns(self.schedule, slices, rates, digits, raw_text)
        bits = (due.gated, due.own_gated, due.capped)
        flags = zip(*(column(b).tolist() for b in bits), strict=True)
        self._kept[id(due)], self._kept[id(due.measure)] = due, due.measure
        out = []
        for k, (i, (gated, own_gated, capped)) in enumerate(zip(where, flags, strict=True)):
            found = self._explained.get((id(due), i))
            if found is not None:
                out.append(found)
                continue
            figures = self._figures.get((id(due.measure), i))
            if figures is None:
                attainment = attained[k] if self._quota[i] > 0 else ""
                figures = self._figures[(id(due.measure), i)] = (measure_text[k], attainment)
            found = self._explained[(id(due), i)] = self._words(
                figures, i, described_all[k], gated, own_gated, capped
            )
            out.append(found)
        return out

    def _explain(self, due: Due, i: int) -> str:
        described = describe(
            self.schedule, due.outcome, i, self.ctx.digits, int(due.raw[i]), self.rate_columns()
        )
        return self._words(
            self.figures(due, i),
            i,
            described,
            bool(due.gated[i]),
            bool(due.own_gated[i]),
            bool(due.capped[i]),
        )

    def _words(
        self,
        figures: tuple[str, str],
        i: int,
        described: str,
        gated: bool,
        own_gated: bool,
        capped: bool,
    ) -> str:
        """``12,000.00 credited (48.0% of quota 25,000.00): ... = 600.00; below the ...``."""
        ctx = self.ctx
        measure_text, attainment = figures
        of_quota = f" ({attainment} of quota {self.quota_text(i)})" if attainment else ""
        text = f"{measure_text} credited{of_quota}: {described}"
        if gated:
            assert self.gate is not None
            gate = format_rate(self.gate[i])
            if own_gated:
                text += f"; below the {gate} gate, so {ctx.money(0)}"
            else:  # this credit meets the gate, but not once the period's changes count
                text += f"; the {gate} gate is not met after this period's changes, so 0"
        elif capped:
            assert self.cap is not None
            text += f"; capped at {ctx.money(int(self.cap[i]))} for the plan year"
        return text


def commission_lines(component: Commission, path: str, rows: Int, ctx: Context) -> list[LineDraft]:
    """Statement lines of one commission component for the employees in ``rows``."""
    plan = CommissionPlan(component, path, rows, ctx, ctx.resolver)
    own, tids = plan.own_sales, ctx.sales.transaction_id
    steps = _itemise(ctx, component.basis, own)
    dues = [plan.due_of(basis) for basis in steps.bases]
    paid = _paid_before(plan, ctx)
    ids = {item: own.ids(mask, tids) for item, mask in steps.changed.items()}
    ids["earlier"] = own.ids(steps.bases[0] != 0, tids)
    return _lines(plan, dues, paid, ids, ctx.period_events())


@dataclass(frozen=True)
class Steps:
    """Sale bases after each itemisation step, and which sales each step changed."""

    # One entry per sale of the plan, in its order (GroupSales.positions):
    bases: list[Int]  # before, after clawbacks, holds, releases, new credit (= now)
    changed: dict[str, npt.NDArray[np.bool_]]


def _itemise(ctx: Context, kind: str, own: GroupSales) -> Steps:
    """Walk each of a plan's sales (``own``, in its order) from the previous period end to
    now, one cause at a time.

    Earlier sales first take this period's refunds (clawback), then its disputes: a sale
    disputed at the end is held back, one no longer disputed is released. Sales dated in the
    period are new credit, whatever their sign (a negative margin is still new credit).
    Only the plan's own sales are walked: the columns are as long as its share of the
    ledger, not the whole of it.
    """
    at = own.positions
    before = ctx.basis(ctx.prior_end, kind, at=own)
    refunded = ctx.basis(ctx.period.end, kind, disputes_as_of=ctx.prior_end, at=own)
    now = ctx.basis(ctx.period.end, kind, at=own)
    disputed = ctx.state(ctx.period.end).disputed[at]
    # The group's sale days (taken once): a sale that is not eligible has the largest day,
    # so it is not sold now, and with no basis on any date no step changes it either way.
    day = own.sold_days()
    sold_now = (day > epoch_day(ctx.prior_end)) & (day <= epoch_day(ctx.period.end))
    earlier = ~sold_now
    moved = now != refunded
    changed = {
        "clawback": earlier & (refunded != before),
        # By the dispute's state, not the basis's direction: a negative margin falls when
        # released and rises when held.
        "held_back": earlier & moved & disputed,
        "released": earlier & moved & ~disputed,
        "new_credit": sold_now & (now != before),
    }
    after_refunds = np.where(changed["clawback"], refunded, before)
    after_holds = np.where(changed["held_back"], now, after_refunds)
    after_releases = np.where(changed["released"], now, after_holds)
    return Steps([before, after_refunds, after_holds, after_releases, now], changed)


def _paid_before(plan: CommissionPlan, ctx: Context) -> Int:
    """What was paid in earlier periods: given by the caller, or replayed period by period.

    The replay uses the rules as they were in force at each earlier period's end, so a rate
    changed since then shows up as a true-up now rather than being assumed paid.
    """
    if ctx.paid_to_date is not None:
        return ctx.paid(plan.component.id, plan.rows)
    walk = _replay(plan.component, plan.path, plan.rows, ctx)
    if not walk:
        return np.zeros(len(plan.rows), dtype=np.int64)
    return walk[-1].paid.copy()


@dataclass(frozen=True)
class Replayed:
    """One earlier period of the replay: its end, the due at that end, paid through it."""

    end: dt.date
    due: Int  # due to date at the period's end, under the rules then in force
    paid: Int  # paid through this period (a per-period cap defers the rest)


def _replay(component: Commission, path: str, rows: Int, ctx: Context) -> list[Replayed]:
    """The earlier periods of the plan year replayed, oldest first (one walk per run).

    Each period is valued under the rules in force at its end and pays its due to date less
    what the periods before it paid (at most the per-period cap). The walk is kept on the
    run's context, keyed by component, path and rows, so the commission, its true-up causes
    and the draw share it, and a later caller whose earlier periods extend it only adds the
    periods it lacks: the months are replayed once, not once per caller and earlier month.

    >>> _replay(component, path, rows, ctx)[-1].paid  # doctest: +SKIP
    array([120000, 0, 53125])
    """
    earlier = ctx.earlier()
    key = (component.id, path, rows.tobytes())
    walk: list[Replayed] = ctx._replays.get(key, [])
    shared = min(len(walk), len(earlier))
    if any(walk[k].end != earlier[k].end for k in range(shared)):
        walk = []  # another sequence of periods: replay it from the start of the year
    ctx._replays[key] = walk
    paid = walk[-1].paid if walk else np.zeros(len(rows), dtype=np.int64)
    plans: dict[tuple[int, ...], CommissionPlan] = {}
    for period in earlier[len(walk) :]:
        then = _plan_as_of(component, path, rows, ctx, period.end, plans)
        due = then.due_at(period.end)
        payable = due - paid
        if then.per_period_cap and then.cap is not None:
            payable = np.minimum(payable, then.cap)
        paid = np.asarray(paid + payable, dtype=np.int64)
        walk.append(Replayed(period.end, due, paid))
    return walk[: len(earlier)]


def _lines(
    plan: CommissionPlan,
    dues: list[Due],
    paid: Int,
    ids: dict[str, list[Ids]],
    events: dict[int, str],
) -> list[LineDraft]:
    # What earlier credit is worth after each step (re-rated by a retroactive band or a gate
    # reached in that step): the difference is the tier true-up, the rest is the step's own.
    worth = [plan.rerated(dues[k - 1], dues[k]) for k in range(1, len(dues))]
    causes = _true_up_causes(plan, dues[0], paid)
    ctx = plan.ctx
    # Python ints once per column, not a NumPy scalar per use
    due_at = [d.due.tolist() for d in dues]
    worth_at = [w.due.tolist() for w in worth]
    paid_at = paid.tolist()
    rows = plan.rows.tolist()
    # A line kind at a time for every employee with such a line (an employee's own lines
    # keep their order: true-up, the steps, tier true-up, cap; statements sort by component
    # only, stably).
    drafts: list[LineDraft] = []
    for i, row in enumerate(rows):
        if due_at[0][i] != paid_at[i]:
            drafts.extend(
                _true_up_line(plan, due_at[0][i], paid_at[i], row, ids["earlier"][i], causes[:, i])
            )
    for step, (item, label) in enumerate(STEPS, start=1):
        drafts += _step_lines(plan, item, label, dues[step], worth[step - 1], ids[item], events)
    for i, row in enumerate(rows):
        rerates = [
            (dues[step - 1], worth[step - 1])
            for step in range(1, len(STEPS) + 1)
            if worth_at[step - 1][i] != due_at[step - 1][i]
        ]
        if rerates:
            drafts.extend(_tier_true_up_line(plan, rerates, i, row, ids["earlier"][i]))
    deferred = [0] * len(paid_at)  # by a per-period cap (Python ints: exact at any size)
    for i, row in enumerate(rows):
        cap_lines = _cap_line(plan, dues[-1], paid, i, row)
        if cap_lines:
            drafts.extend(cap_lines)
            deferred[i] = -sum(int(d.line.amount.scaleb(ctx.digits)) for d in cap_lines)
    _record_to_date(plan, dues[-1], paid_at, deferred)
    return drafts


def _step_lines(
    plan: CommissionPlan,
    item: str,
    label: str,
    after: Due,
    valued: Due,
    cited: list[Ids],
    events: dict[int, str],
) -> list[LineDraft]:
    """One step's lines (``item``): due after the step less what the credit before it is
    worth now, for every employee with a new credit, or an amount or sales to show."""
    ctx = plan.ctx
    amounts = (np.asarray(after.due, dtype=np.int64) - valued.due).tolist()
    if item == "new_credit":
        at = list(range(len(amounts)))
    else:
        at = [i for i, (a, c) in enumerate(zip(amounts, cited, strict=True)) if a or c]
    if not at:
        return []
    picked = [amounts[i] for i in at]
    due_text, worth_text = plan.explain_all(after, at), plan.explain_all(valued, at)
    money = format_amounts(np.asarray(picked, dtype=np.int64), ctx.digits)
    formulas = [
        f"due on {d}; less due on {w}; = {m}" + (_origins(ctx, cited[i]) if cited[i] else "")
        for i, d, w, m in zip(at, due_text, worth_text, money, strict=True)
    ]
    details = _step_details(plan, after, at, cited, events, item)
    rows = plan.rows.tolist()
    return make_lines(
        ctx, plan.component, item, [rows[i] for i in at], picked, formulas, label,
        transactions=[cited[i] for i in at], ordered_details=details,
    )  # fmt: skip


def _step_details(
    plan: CommissionPlan,
    due: Due,
    at: Sequence[int],
    cited: list[Ids],
    events: dict[int, str],
    item: str,
) -> list[tuple[tuple[str, str], ...]]:
    """The details of the step lines of the employees at ``at``, each line's in key order
    (``attainment``, ``credited_to_date``, ``events``, ``highest_band``, ``method``,
    ``original_periods``, ``quota``, ``rates``; the events and the sales' months only on a
    clawback, hold or release citing sales), built column by column."""
    method = ("method", plan.schedule.method)
    highest = _highest_bands(plan, due, at)
    shown = [] if item == "new_credit" else [k for k, i in enumerate(at) if cited[i]]
    months_of = plan.ctx.sale_periods_all([cited[at[k]].positions() for k in shown])
    periods = dict(zip(shown, months_of, strict=True))
    out = []
    for k, i in enumerate(at):
        credited, attainment = plan.figures(due, i)
        pairs = [("attainment", attainment)] if attainment else []
        pairs.append(("credited_to_date", credited))
        months = periods.get(k)
        if months is not None:
            pairs.extend(_events(cited[i], events, item).items())
        band = highest[k]
        if band is not None:
            pairs.append(("highest_band", band))
        pairs.append(method)
        if months is not None:
            pairs.append(("original_periods", months))
        if attainment:  # a quota above zero
            pairs.append(("quota", plan.quota_text(i)))
        pairs.append(("rates", plan.rates_text(i)))
        out.append(tuple(pairs))
    return out


def _highest_bands(plan: CommissionPlan, due: Due, at: Sequence[int]) -> list[str | None]:
    """The highest band each employee at ``at`` has credit in (None: none, or a flat rate)."""
    schedule = plan.schedule
    if schedule.method == "flat":
        return [None] * len(at)
    picked = np.asarray(at, dtype=np.int64)
    highest = np.full(len(at), -1, dtype=np.int64)
    for band, credit in enumerate(due.outcome.slices):
        highest[np.asarray(np.asarray(credit)[picked] > 0, dtype=bool)] = band
    names = list(schedule.band_ids)
    return [names[b] if b >= 0 else None for b in highest.tolist()]


def _true_up_causes(plan: CommissionPlan, due0: Due, paid: Int) -> Any:
    """Split each employee's true-up (due to the previous period's end as known now, less
    paid) into its causes, exactly: rows ``correction, dated, deferred`` of a 3 x n array.

    * ``correction``: what the earlier periods would have paid on today's ledger under the rules
      then in force (a replay), less what they did pay: ledger rows added or changed after a
      period closed, or the rule set changed. Zero when paid to date is itself the replay.
    * ``deferred``: the replay's due at the previous end less the replay's payments: commission
      a per-period cap deferred.
    * ``dated``: today's rules value earlier credit otherwise than the rules then in force (a
      number dated from a past period).

    The three add up to the true-up. Only computed when some true-up is due.
    """
    ctx = plan.ctx
    causes = np.zeros((3, len(plan.rows)), dtype=np.int64)
    if ctx.period.start <= ctx.year_start or bool(np.all(due0.due == paid)):
        return causes
    walk = _replay(plan.component, plan.path, plan.rows, ctx)
    if walk and walk[-1].end == ctx.prior_end:
        due_then = walk[-1].due  # the replay valued the previous end under its rules
    else:
        then = CommissionPlan(
            plan.component, plan.path, plan.rows, ctx, ctx.resolver_at(ctx.prior_end)
        )
        due_then = then.due_at(ctx.prior_end)
    replayed = paid if ctx.paid_to_date is None else _paid_before(plan, replace_paid(ctx))
    causes[0] = replayed - paid
    causes[1] = due0.due - due_then
    causes[2] = due_then - replayed
    return causes


def replace_paid(ctx: Context) -> Context:
    """The same run, with earlier periods replayed rather than taken as given."""
    import dataclasses

    return dataclasses.replace(ctx, paid_to_date=None)


def _true_up_line(
    plan: CommissionPlan,
    due0: int,
    paid: int,
    row: int,
    earlier: Sequence[str],
    causes: Int,
) -> list[LineDraft]:
    """Due at the previous period's end, as known now, less what was actually paid."""
    if due0 == paid:
        return []
    ctx = plan.ctx
    formula = (
        f"due to {ctx.prior_end} as known now {ctx.money(due0)} "
        f"- paid to date {ctx.money(paid)} = {ctx.money(due0 - paid)}"
    )
    label = "True-up of earlier periods"
    details = {
        "cause": ctx.true_up_cause(
            correction=int(causes[0]), dated=int(causes[1]), deferred=int(causes[2])
        ),
        "original_periods": ", ".join(p.label for p in ctx.earlier()),
    }
    return [
        make_line(
            ctx, plan.component, row, "true_up", label, due0 - paid, formula, earlier, details
        )
    ]


def _tier_true_up_line(
    plan: CommissionPlan,
    rerates: list[tuple[Due, Due]],
    i: int,
    row: int,
    earlier: Sequence[str],
) -> list[LineDraft]:
    """Earlier credit re-rated this period: a retroactive band or a gate reached (or lost)."""
    if not rerates:
        return []
    ctx = plan.ctx
    amount = sum(int(valued.due[i]) - int(prior.due[i]) for prior, valued in rerates)
    parts = [
        f"earlier credit now due {plan.explain(valued, i)}; was due {plan.explain(prior, i)}"
        for prior, valued in rerates
    ]
    formula = "; ".join(parts) + f"; = {ctx.money(amount)}"
    label = "Tier true-up: earlier credit re-rated"
    details = {"method": plan.schedule.method}
    return [
        make_line(
            ctx, plan.component, row, "tier_true_up", label, amount, formula, earlier, details
        )
    ]


def _record_to_date(
    plan: CommissionPlan, final: Due, paid: list[int], deferred: list[int]
) -> None:
    """Every employee's year-to-date figures of the plan (``paid``: paid before; ``deferred``:
    by a cap; Python ints, exact at any size), each column formatted once; the quota and
    attainment where the quota is above zero, the deferral where a cap deferred."""
    ctx, digits = plan.ctx, plan.ctx.digits
    rows = plan.rows.tolist()
    due = final.due.tolist()
    shown = [plan.figures(final, i) for i in range(len(rows))]
    payable = [d - p - x for d, p, x in zip(due, paid, deferred, strict=True)]
    columns: dict[str, list[str]] = {
        "credited_to_date": [credited for credited, _ in shown],
        "due_to_date": format_amounts(final.due, digits),  # int64 as it is
        "paid_before": format_amounts(_exact(paid), digits),
        "payable_this_period": format_amounts(_exact(payable), digits),
    }
    of_quota = [bool(attainment) for _, attainment in shown]
    capped = [x != 0 for x in deferred]
    deferred_text = format_amounts(_exact(deferred), digits) if any(capped) else []
    kinds = list(zip(of_quota, capped, strict=True))
    for quota, cap in sorted(set(kinds)):
        at = [i for i, kind in enumerate(kinds) if kind == (quota, cap)]
        figures: dict[str, str | Sequence[str]] = {
            key: [column[i] for i in at] for key, column in columns.items()
        }
        if quota:  # a quota above zero
            figures["quota"] = [plan.quota_text(i) for i in at]
            figures["attainment"] = [shown[i][1] for i in at]
        if cap:
            figures["deferred_by_cap"] = [deferred_text[i] for i in at]
        ctx.record_to_date_all([rows[i] for i in at], plan.component.id, figures)


def _exact(values: list[int]) -> npt.NDArray[Any]:
    """Python ints as an int64 column where they fit, else as Python ints (object): money
    figures stay exact at any size (a list of ints past int64 is not made float).

    >>> _exact([1, -2]).dtype, _exact([1, 2**63]).dtype
    (dtype('int64'), dtype('O'))
    """
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return np.array(values, dtype=object)


def _cap_line(plan: CommissionPlan, final: Due, paid: Int, i: int, row: int) -> list[LineDraft]:
    if not plan.per_period_cap or plan.cap is None:
        return []
    ctx = plan.ctx
    payable = int(final.due[i]) - int(paid[i])
    cap = int(plan.cap[i])
    if payable <= cap:
        return []
    fate = (
        "forfeited: the plan year ends with this period"
        if ctx.period.end >= ctx.year_end
        else "deferred to later periods of the plan year"
    )
    formula = (
        f"payable {ctx.money(payable)} is over the per-period cap {ctx.money(cap)}: "
        f"{ctx.money(payable - cap)} {fate}"
    )
    return [make_line(ctx, plan.component, row, "cap", "Per-period cap", cap - payable, formula)]


def _events(cited: Ids, events: dict[int, str], item: str) -> dict[str, str]:
    """The ledger events behind a clawback, hold or release: ``T7: refund 2026-11-17 ...``
    (``events``: :meth:`Context.period_events`, by sale position)."""
    if item == "new_credit":
        return {}
    said = [events[p] for p in cited.positions().tolist() if p in events]
    return {"events": "; ".join(said)} if said else {}


def _plan_as_of(
    component: Commission,
    path: str,
    rows: Int,
    ctx: Context,
    as_of: dt.date,
    plans: dict[tuple[int, ...], CommissionPlan],
) -> CommissionPlan:
    """The plan under the rules in force on ``as_of``, resolved once per rule state.

    Only dated values change a component between dates, so two dates that pick the same
    entry of every dated value in it share one resolved plan (schedules, gates, caps). A date
    before some dated value's first entry is resolved on its own, so its problem is reported.
    """
    state = _dated_state(component, as_of)
    if state is None:
        return CommissionPlan(component, path, rows, ctx, ctx.resolver_at(as_of))
    if state not in plans:
        plans[state] = CommissionPlan(component, path, rows, ctx, ctx.resolver_at(as_of))
    return plans[state]


def _dated_state(node: object, as_of: dt.date) -> tuple[int, ...] | None:
    """How many entries of each dated value in ``node`` are in force on ``as_of`` (in field
    order), or None when some dated value has none yet.

    >>> _dated_state(Dated.model_validate({"dated": [{"from": "2026-01-01", "value": 1},
    ...     {"from": "2027-01-01", "value": 2}]}), dt.date(2026, 6, 30))  # doctest: +SKIP
    (1,)
    """
    out: list[int] = []
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Dated):
            count = sum(1 for entry in item.dated if entry.from_ <= as_of)
            if count == 0:
                return None
            out.append(count)
            stack.extend(reversed([entry.value for entry in item.dated]))
        elif isinstance(item, BaseModel):
            stack.extend(reversed(list(item.__dict__.values())))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return tuple(out)


def replayed_payments(component: Commission, path: str, rows: Int, ctx: Context) -> list[Int]:
    """What each earlier period of the plan year paid on ``component``, replayed, oldest first.

    One array per period of ``ctx.earlier()``, in the order of ``rows``: the differences of
    the replay's paid through successive periods (the walk :func:`_paid_before` reads), so the
    payments add up exactly to what the replay says was paid before this period (a draw needs
    each period's own commission).

    >>> replayed_payments(component, path, rows, ctx)  # doctest: +SKIP
    [array([50000, 0]), array([12500, 30000])]
    """
    payments: list[Int] = []
    before = np.zeros(len(rows), dtype=np.int64)
    for step in _replay(component, path, rows, ctx):
        payments.append(np.asarray(step.paid - before, dtype=np.int64))
        before = step.paid
    return payments


def _origins(ctx: Context, cited: Ids) -> str:
    """Appended to a line's formula: each converted sale's FX rate and its date, and each
    split sale's share (nothing for whole sales in the pay currency)."""
    if ctx.sales.has_origin is None:  # no sale converted or split: nothing to say
        return ""
    return "".join(f"; {text}" for text in ctx.sale_origins(cited.positions()))
