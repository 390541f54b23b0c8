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

import datetime as dt
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
class MemberCredit:
    """What team members bring to their managers' override, from their own sales.

    One entry per member: an employee whose manager the override applies to. Credit counts
    the member's dispute-free sales dated within the manager's employment, at the period's
    end (``now``), at the previous period's end (``before``) and at the last earlier
    period's end (``last``: what the earlier periods paid on, for a replay). ``cited`` are
    the sales that count now or changed since; ``earlier`` those that counted before.
    """

    rows: Int  # the members' rows in the whole roster
    now: Int
    before: Int
    last: Int
    cited: tuple[tuple[str, ...], ...]
    earlier: tuple[tuple[str, ...], ...]

    def only(self, keep: npt.NDArray[np.bool_]) -> MemberCredit:
        """The members where ``keep`` is set (a mask over :attr:`rows`)."""
        picked = np.flatnonzero(keep).tolist()
        return MemberCredit(
            self.rows[keep],
            self.now[keep],
            self.before[keep],
            self.last[keep],
            tuple(self.cited[k] for k in picked),
            tuple(self.earlier[k] for k in picked),
        )


def member_credit(
    component: Override, ctx: Context, roster: pd.DataFrame, managers: Int, rows: Int
) -> MemberCredit:
    """The credit of the team members among ``ctx``'s employees, for the override that
    applies to the ``managers`` (rows of the whole accepted ``roster``).

    ``rows`` are ``ctx.employees``' rows in ``roster``. Each member's figures come from
    their own sales and their manager's dates only, so any split of the employees into
    parts gives the same figures (summed by :func:`override_lines`).
    """
    employees, sales, kind = ctx.employees, ctx.sales, component.basis
    boss = pd.Index(roster["employee_id"].to_numpy()).get_indexer(
        employees["manager_id"].to_numpy()
    )
    boss = np.where(boss == rows, -1, boss).astype(np.int64)  # nobody is their own member
    is_manager = np.zeros(len(roster) + 1, dtype=bool)  # the extra slot serves boss == -1
    is_manager[managers] = True
    member = is_manager[boss]
    sale_boss = np.where(member[sales.employee], boss[sales.employee], 0)
    hire = roster["hire_date"].to_numpy().astype("datetime64[D]")[sale_boss]
    left = roster["termination_date"].to_numpy().astype("datetime64[D]")[sale_boss]
    counts = (
        member[sales.employee]
        & (np.isnat(hire) | (sales.date >= hire))
        & (np.isnat(left) | (sales.date <= left))
    )

    def credit(as_of: dt.date) -> tuple[Int, Int]:
        basis = np.where(counts, ctx.state(as_of).basis(kind), 0).astype(np.int64)
        total = np.zeros(len(employees), dtype=np.int64)
        np.add.at(total, sales.employee[counts], basis[counts])
        return basis, total

    now_basis, now = credit(ctx.period.end)
    before_basis, before = credit(ctx.prior_end)
    last = before
    earlier = ctx.earlier()
    if ctx.paid_to_date is None and earlier and earlier[-1].end != ctx.prior_end:
        last = credit(earlier[-1].end)[1]
    cited = group_ids(
        (now_basis != 0) | (now_basis != before_basis),
        sales.employee,
        sales.transaction_id,
        len(employees),
    )
    counted = group_ids(before_basis != 0, sales.employee, sales.transaction_id, len(employees))
    local = np.flatnonzero(member)
    return MemberCredit(
        rows=rows[local].astype(np.int64),
        now=now[local],
        before=before[local],
        last=last[local],
        cited=tuple(cited[k] for k in local.tolist()),
        earlier=tuple(counted[k] for k in local.tolist()),
    )


def merge_credits(credits: list[MemberCredit], size: int) -> MemberCredit:
    """The parts' member credits as one, indexed by roster row (``size`` rows; 0 and no
    sales for an employee who is nobody's member)."""
    rows = np.concatenate([c.rows for c in credits]) if credits else np.zeros(0, np.int64)
    if len(np.unique(rows)) != len(rows):
        raise ValueError("an employee's credit came from two parts")

    def spread(name: str) -> Int:
        out = np.zeros(size, dtype=np.int64)
        if credits:
            out[rows] = np.concatenate([getattr(c, name) for c in credits])
        return out

    cited: list[tuple[str, ...]] = [()] * size
    earlier: list[tuple[str, ...]] = [()] * size
    for part in credits:
        for k, row in enumerate(part.rows.tolist()):
            cited[row], earlier[row] = part.cited[k], part.earlier[k]
    return MemberCredit(
        np.arange(size, dtype=np.int64),
        spread("now"),
        spread("before"),
        spread("last"),
        tuple(cited),
        tuple(earlier),
    )


class _Terms:
    """An override component's rate and threshold per manager, and the due they give."""

    def __init__(self, component: Override, path: str, rows: Int, ctx: Context) -> None:
        self.component, self.path, self.rows, self.ctx = component, path, rows, ctx

    def at(self, resolver: Resolver) -> tuple[npt.NDArray[np.object_], Int]:
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


def _managers(employees: pd.DataFrame, rows: Int) -> Int:
    """Per employee row: the index in ``rows`` of their manager, or -1."""
    ids = employees["employee_id"].to_numpy()
    boss = pd.Index(ids).get_indexer(employees["manager_id"].to_numpy())
    boss = np.where(boss == np.arange(len(ids)), -1, boss)  # nobody is their own member
    local = np.full(len(ids) + 1, -1, dtype=np.int64)  # the extra slot serves boss == -1
    local[rows] = np.arange(len(rows))
    return local[boss].astype(np.int64)


def override_lines(
    component: Override, path: str, rows: Int, ctx: Context, credit: MemberCredit
) -> list[LineDraft]:
    """Statement lines of one override component for the managers in ``rows``.

    ``ctx`` holds the whole roster; ``credit`` is every member's (:func:`merge_credits`).
    """
    manager = _managers(ctx.employees, rows)
    in_team = np.flatnonzero(manager >= 0)
    team_now = np.zeros(len(rows), dtype=np.int64)
    team_before = np.zeros(len(rows), dtype=np.int64)
    np.add.at(team_now, manager[in_team], credit.now[in_team])
    np.add.at(team_before, manager[in_team], credit.before[in_team])
    terms = _Terms(component, path, rows, ctx)
    rate, threshold = terms.at(ctx.resolver)
    due_now = terms.due(team_now, rate, threshold)
    due_before = terms.due(team_before, rate, threshold)
    paid = _paid_before(terms, ctx, manager, in_team, credit)
    words = _Words(ctx, component, rate, threshold)
    order = in_team[np.argsort(manager[in_team], kind="stable")]  # by manager, then row
    bounds = np.searchsorted(manager[order], np.arange(len(rows) + 1))
    drafts: list[LineDraft] = []
    for i, row in enumerate(rows.tolist()):
        members = order[bounds[i] : bounds[i + 1]]  # rows are sorted by employee id
        if len(members) == 0:
            continue
        d_now, d_before, paid_i = int(due_now[i]), int(due_before[i]), int(paid[i])
        if d_before != paid_i:
            team_earlier = tuple(sorted(t for m in members.tolist() for t in credit.earlier[m]))
            drafts.append(words.true_up(row, i, d_before, paid_i, team_earlier))
        share_now = _shares(d_now, credit.now[members])
        share_before = _shares(d_before, credit.before[members])
        for k, member in enumerate(members.tolist()):
            amount = share_now[k] - share_before[k]
            now_m, before_m = int(credit.now[member]), int(credit.before[member])
            if amount == 0 and not (now_m != before_m and (d_now or d_before)):
                continue
            drafts.append(
                words.member(
                    row, i, member, amount, credit.cited[member],
                    (d_now, now_m, int(team_now[i]), share_now[k]),
                    (d_before, before_m, int(team_before[i]), share_before[k]),
                )
            )  # fmt: skip
        ctx.record_to_date(
            row,
            component.id,
            {
                "team_members": str(len(members)),
                "team_credited_to_date": ctx.money(int(team_now[i])),
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


def _paid_before(
    terms: _Terms, ctx: Context, manager: Int, in_team: Int, credit: MemberCredit
) -> Int:
    """Given by the caller, or the due at the previous period's end under the rules then.

    An override pays its whole due to date every period (no cap), so what earlier periods
    paid is the due at the last one's end, with the ledger and rules as they stood then.
    """
    if ctx.paid_to_date is not None:
        return ctx.paid(terms.component.id, terms.rows)
    earlier = ctx.earlier()
    if not earlier:
        return np.zeros(len(terms.rows), dtype=np.int64)
    rate, threshold = terms.at(ctx.resolver_at(earlier[-1].end))
    team = np.zeros(len(terms.rows), dtype=np.int64)
    np.add.at(team, manager[in_team], credit.last[in_team])
    return terms.due(team, rate, threshold)


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
