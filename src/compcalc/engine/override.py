"""Manager overrides: a rate on the credited sales of a manager's direct reports.

The team of a manager is every accepted roster row whose ``manager_id`` is the manager's
``employee_id`` (direct reports only; a row naming itself as its manager is not its own team
member). A member's sale counts with the same dispute-free crediting as commission (held,
refunded and excluded sales do not) and only when dated within the manager's own employment.

Due to date is ``round(rate x max(0, team credited to date - threshold))``, paid to date like
commission: each period pays ``due now - paid before``. To show it line by line per member,
the due is shared among the members in proportion to each one's credit to date (largest
remainder, ties to the lower employee id, :func:`money.allocate`); a member's line is their
share now less their share at the previous period's end (as known now), and one true-up line
carries ``due at the previous end as known now - paid before``. The lines therefore add up
exactly to ``due now - paid before``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..money import allocate, as_fraction, format_rate, round_div, safe_ints
from ..rules.resolve import Resolver
from ..rules.schema import Override
from .context import Context, LineDraft, group_ids, make_line
from .draw import money_param

Int = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Team:
    """Who reports to whom, and which sales count for which manager."""

    manager: Int  # per employee row: local index of their manager in ``rows``, or -1
    sale_manager: Int  # per sale: local index of the manager it counts for, or -1


@dataclass(frozen=True)
class Credit:
    """Credit at one as-of date: per employee (as a member) and per manager (team total)."""

    basis: Int  # per sale, counted ones only (0 elsewhere)
    member: Int  # per employee row
    team: Int  # per local manager


class OverridePlan:
    """An override component resolved for the managers in ``rows``."""

    def __init__(self, component: Override, path: str, rows: Int, ctx: Context) -> None:
        self.component, self.path, self.rows, self.ctx = component, path, rows, ctx
        self.team = _team(ctx, rows)

    def credit(self, as_of_basis: Int) -> Credit:
        counts = self.team.sale_manager >= 0
        basis = np.where(counts, as_of_basis, 0).astype(np.int64)
        member = np.zeros(len(self.ctx.employees), dtype=np.int64)
        np.add.at(member, self.ctx.sales.employee[counts], basis[counts])
        team = np.zeros(len(self.rows), dtype=np.int64)
        np.add.at(team, self.team.sale_manager[counts], basis[counts])
        return Credit(basis, member, team)

    def terms(self, resolver: Resolver) -> tuple[npt.NDArray[np.object_], Int]:
        """Rate and threshold per manager under ``resolver``'s rules."""
        component, path, rows = self.component, self.path, self.rows
        rate = resolver.values(component.rate, f"{path}.rate", rows)
        if component.threshold is None:
            threshold = np.zeros(len(rows), dtype=np.int64)
        else:
            threshold = money_param(
                self.ctx, resolver, component.threshold, f"{path}.threshold", rows
            )
        return rate, threshold

    def due(self, team: Int, rate: npt.NDArray[np.object_], threshold: Int) -> Int:
        """round(rate x max(0, team - threshold)) per manager, exactly."""
        excess = np.maximum(team - threshold, 0).astype(np.int64)
        due = np.zeros(len(team), dtype=np.int64)
        for value in sorted(set(rate.tolist())):
            numerator, denominator = as_fraction(value)
            where = rate == value
            product = safe_ints(excess[where], abs(numerator)) * numerator
            due[where] = round_div(product, denominator, self.ctx.rounding)
        return due


def _team(ctx: Context, rows: Int) -> Team:
    employees = ctx.employees
    ids = employees["employee_id"].to_numpy()
    boss = pd.Index(ids).get_indexer(employees["manager_id"].to_numpy())
    boss = np.where(boss == np.arange(len(ids)), -1, boss)  # nobody is their own member
    local = np.full(len(ids) + 1, -1, dtype=np.int64)  # the extra slot serves boss == -1
    local[rows] = np.arange(len(rows))
    manager = local[boss]
    sales = ctx.sales
    sale_boss = boss[sales.employee]
    sale_manager = manager[sales.employee]
    hire = employees["hire_date"].to_numpy().astype("datetime64[D]")
    termination = employees["termination_date"].to_numpy().astype("datetime64[D]")
    boss_hire, boss_left = hire[sale_boss], termination[sale_boss]
    in_employment = (np.isnat(boss_hire) | (sales.date >= boss_hire)) & (
        np.isnat(boss_left) | (sales.date <= boss_left)
    )
    sale_manager = np.where((sale_manager >= 0) & in_employment, sale_manager, -1)
    return Team(manager.astype(np.int64), sale_manager.astype(np.int64))


def override_lines(component: Override, path: str, rows: Int, ctx: Context) -> list[LineDraft]:
    """Statement lines of one override component for the managers in ``rows``."""
    plan = OverridePlan(component, path, rows, ctx)
    kind = component.basis
    now = plan.credit(ctx.state(ctx.period.end).basis(kind))
    before = plan.credit(ctx.state(ctx.prior_end).basis(kind))
    rate, threshold = plan.terms(ctx.resolver)
    due_now = plan.due(now.team, rate, threshold)
    due_before = plan.due(before.team, rate, threshold)
    paid = _paid_before(plan, ctx)
    sales = ctx.sales
    cited = group_ids(
        (now.basis != 0) | (now.basis != before.basis),
        sales.employee,
        sales.transaction_id,
        len(ctx.employees),
    )
    earlier = group_ids(before.basis != 0, sales.employee, sales.transaction_id, len(ctx.employees))
    words = _Words(ctx, component, rate, threshold)
    drafts: list[LineDraft] = []
    for i, row in enumerate(rows.tolist()):
        members = np.flatnonzero(plan.team.manager == i)  # rows are sorted by employee id
        if len(members) == 0:
            continue
        d_now, d_before, paid_i = int(due_now[i]), int(due_before[i]), int(paid[i])
        if d_before != paid_i:
            team_earlier = tuple(sorted(t for m in members.tolist() for t in earlier[m]))
            drafts.append(words.true_up(row, i, d_before, paid_i, team_earlier))
        share_now = _shares(d_now, now.member[members])
        share_before = _shares(d_before, before.member[members])
        for k, member in enumerate(members.tolist()):
            amount = share_now[k] - share_before[k]
            changed = int(now.member[member]) != int(before.member[member])
            if amount == 0 and not (changed and (d_now or d_before)):
                continue
            drafts.append(
                words.member(
                    row, i, member, amount, cited[member],
                    (d_now, int(now.member[member]), int(now.team[i]), share_now[k]),
                    (d_before, int(before.member[member]), int(before.team[i]), share_before[k]),
                )
            )  # fmt: skip
        ctx.record_to_date(
            row,
            component.id,
            {
                "team_members": str(len(members)),
                "team_credited_to_date": ctx.money(int(now.team[i])),
                "threshold": ctx.money(int(threshold[i])),
                "rate": format_rate(rate[i]),
                "due_to_date": ctx.money(d_now),
                "paid_before": ctx.money(paid_i),
                "payable_this_period": ctx.money(d_now - paid_i),
            },
        )
    return drafts


def _shares(due: int, credit: Int) -> list[int]:
    """``due`` shared by credit to date (negative credit counts as none), largest remainder."""
    weights = [max(int(c), 0) for c in credit.tolist()]
    if due == 0 or sum(weights) == 0:
        return [0] * len(weights)
    return allocate(due, weights)


def _paid_before(plan: OverridePlan, ctx: Context) -> Int:
    """Given by the caller, or the due at the previous period's end under the rules then.

    An override pays its whole due to date every period (no cap), so what earlier periods
    paid is the due at the last one's end, with the ledger and rules as they stood then.
    """
    if ctx.paid_to_date is not None:
        return ctx.paid(plan.component.id, plan.rows)
    earlier = ctx.earlier()
    if not earlier:
        return np.zeros(len(plan.rows), dtype=np.int64)
    end = earlier[-1].end
    rate, threshold = plan.terms(ctx.resolver_at(end))
    team = plan.credit(ctx.state(end).basis(plan.component.basis)).team
    return plan.due(team, rate, threshold)


class _Words:
    """Formulas and details of override lines, with the real numbers."""

    def __init__(
        self, ctx: Context, component: Override, rate: npt.NDArray[np.object_], threshold: Int
    ) -> None:
        self.ctx, self.component, self.rate, self.threshold = ctx, component, rate, threshold
        self.label = component.label or "Team override"
        self.credited = "credited margin" if component.basis == "margin" else "credited"
        employees = ctx.employees
        self.ids = employees["employee_id"].astype(str).to_numpy()
        self.names = employees["name"].astype(str).to_numpy()

    def due(self, i: int, team: int, due: int) -> str:
        money, rate = self.ctx.money, format_rate(self.rate[i])
        threshold = int(self.threshold[i])
        if threshold == 0:
            return f"{rate} x team {self.credited} {money(team)} = {money(due)}"
        if team <= threshold:
            return (
                f"team {self.credited} {money(team)} not above the threshold "
                f"{money(threshold)}: {money(0)}"
            )
        return (
            f"{rate} x (team {self.credited} {money(team)} - threshold {money(threshold)}) "
            f"= {money(due)}"
        )

    def member(
        self,
        row: int,
        i: int,
        member: int,
        amount: int,
        transactions: tuple[str, ...],
        now: tuple[int, int, int, int],
        before: tuple[int, int, int, int],
    ) -> LineDraft:
        ctx, money = self.ctx, self.ctx.money
        who = str(self.ids[member])
        due_now, credit_now, team_now, share_now = now
        due_before, credit_before, team_before, share_before = before
        formula = (
            f"due to date {self.due(i, team_now, due_now)}; {who}'s share "
            f"{money(due_now)} x {money(credit_now)} / {money(team_now)} = "
            f"{money(share_now)}; less due to {ctx.prior_end} as known now "
            f"{self.due(i, team_before, due_before)}; {who}'s share {money(due_before)} x "
            f"{money(credit_before)} / {money(team_before)} = {money(share_before)}; "
            f"= {money(amount)}"
        )
        details = {
            "member": who,
            "member_name": str(self.names[member]),
            "member_credited_to_date": money(credit_now),
            "team_credited_to_date": money(team_now),
            "threshold": money(int(self.threshold[i])),
            "rate": format_rate(self.rate[i]),
            "due_to_date": money(due_now),
            "share": "due shared by credit to date, largest remainder",
        }
        label = f"{self.label}: {who} {self.names[member]}"
        return make_line(
            ctx, self.component, row, "member", label, amount, formula, transactions, details,
            suffix=who,
        )  # fmt: skip

    def true_up(
        self, row: int, i: int, due: int, paid: int, transactions: tuple[str, ...]
    ) -> LineDraft:
        ctx, money = self.ctx, self.ctx.money
        formula = (
            f"due to {ctx.prior_end} as known now {money(due)} - paid to date {money(paid)} "
            f"= {money(due - paid)}"
        )
        details = {
            "cause": ctx.true_up_cause(correction=due - paid),
            "original_periods": ", ".join(p.label for p in ctx.earlier()),
        }
        label = "True-up of earlier periods"
        return make_line(
            ctx, self.component, row, "true_up", label, due - paid, formula, transactions,
            details,
        )  # fmt: skip
