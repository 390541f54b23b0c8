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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..money import as_fraction, format_amounts, format_rate, round_div, safe_ints
from ..rules.resolve import Resolver
from ..rules.schema import Override
from .context import Context, LineDraft, make_line, make_lines
from .crediting import allocate_shares
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
    cited: tuple[Sequence[str], ...]
    earlier: tuple[Sequence[str], ...]

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
    # The members' sales only, grouped by member: every column below is as long as the
    # members' share of the ledger, and each total is one pass over it.
    local = np.flatnonzero(member)
    team = ctx.group_sales(local)
    # The manager's dates per member, then per sale (``owner`` is sorted: read in order),
    # against the sales' days as the basis reads them: a sale not sold (and eligible) by
    # a date has no basis there, whatever it is compared with here.
    member_boss = boss[local]
    hire = _days(roster["hire_date"], np.iinfo(np.int32).min)[member_boss][team.owner]
    left = _days(roster["termination_date"], np.iinfo(np.int32).max)[member_boss][team.owner]
    sold = team.sold_days()
    counts = (sold >= hire) & (sold <= left)
    del hire, left

    def credit(as_of: dt.date) -> tuple[Int, Int]:
        basis = np.where(counts, ctx.basis(as_of, kind, at=team), 0).astype(np.int64, copy=False)
        return basis, np.asarray(team.groups.sum(basis), dtype=np.int64)

    now_basis, now = credit(ctx.period.end)
    before_basis, before = credit(ctx.prior_end)
    last = before
    earlier = ctx.earlier()
    if ctx.paid_to_date is None and earlier and earlier[-1].end != ctx.prior_end:
        last = credit(earlier[-1].end)[1]
    ids = sales.transaction_id
    return MemberCredit(
        rows=rows[local].astype(np.int64),
        now=now,
        before=before,
        last=last,
        cited=tuple(team.ids((now_basis != 0) | (now_basis != before_basis), ids)),
        earlier=tuple(team.ids(before_basis != 0, ids)),
    )


def _days(dates: pd.Series, missing: int) -> npt.NDArray[np.int64]:
    """Each date in days since 1970 (as the sales' days count), ``missing`` where there is
    none."""
    days = dates.to_numpy().astype("datetime64[D]")
    return np.where(np.isnat(days), missing, days.astype(np.int64))


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

    cited: list[Sequence[str]] = [()] * size
    earlier: list[Sequence[str]] = [()] * size
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
    Every figure is computed, and every amount formatted, over whole columns; the loop
    over managers only puts the lines in order.
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
    order = in_team[np.argsort(manager[in_team], kind="stable")]  # by manager, then row
    boss = manager[order]
    bounds = np.searchsorted(boss, np.arange(len(rows) + 1)).tolist()
    team = _Team(
        order, boss, credit.now[order], credit.before[order],
        _shares(due_now[boss], credit.now[order], boss),
        _shares(due_before[boss], credit.before[order], boss),
    )  # fmt: skip
    moved = team.now != team.before
    shown = (team.share_now != team.share_before) | (
        moved & ((due_now[boss] != 0) | (due_before[boss] != 0))
    )
    figures = _Figures(ctx, rate, threshold, team_now, team_before, due_now, due_before, paid)
    words = _Words(ctx, component, figures)
    member_lines = words.members(rows, team, shown, credit.cited)
    drafts: list[LineDraft] = []
    for i, row in enumerate(rows.tolist()):
        start, end = bounds[i], bounds[i + 1]
        if start == end:
            continue
        d_before, paid_i = int(due_before[i]), int(paid[i])
        if d_before != paid_i:
            members = order[start:end].tolist()
            team_earlier = tuple(sorted(t for m in members for t in credit.earlier[m]))
            drafts.append(words.true_up(row, d_before, paid_i, team_earlier))
        drafts.extend(line for line in member_lines[start:end] if line is not None)
        ctx.record_to_date(row, component.id, figures.to_date(i, end - start))
    return drafts


@dataclass(frozen=True)
class _Team:
    """The override's team members, grouped by manager: one entry per member."""

    member: Int  # the member's row in ctx.employees
    manager: Int  # the index of their manager in the override's rows
    now: Int  # the member's credit to date
    before: Int  # ... and at the previous period's end
    share_now: Int  # the member's share of the manager's due to date
    share_before: Int  # ... and of the due at the previous period's end


def _shares(due: Int, credit: Int, manager: Int) -> Int:
    """Each manager's ``due`` shared by their members' credit to date (negative credit counts
    as none), largest remainder, ties to the earlier member: :func:`money.allocate` per
    manager, over the whole column. A due of 0 or a team with no credit shares nothing.

    >>> _shares(np.array([10, 10, 10, 5]), np.array([1, 1, 1, -3]), np.array([0, 0, 0, 1]))
    array([4, 3, 3, 0])
    """
    weight = np.maximum(credit, 0).astype(np.int64)
    out = np.zeros(len(due), dtype=np.int64)
    if len(due) == 0:
        return out
    total = np.zeros(int(manager.max()) + 1, dtype=np.int64)
    np.add.at(total, manager, weight)
    shared = (due != 0) & (total[manager] > 0)
    if shared.any():
        out[shared] = allocate_shares(due[shared], weight[shared], manager[shared])
    return out


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


class _Figures:
    """An override's per-manager figures, and each amount as text (formatted once)."""

    def __init__(
        self,
        ctx: Context,
        rate: npt.NDArray[np.object_],
        threshold: Int,
        team_now: Int,
        team_before: Int,
        due_now: Int,
        due_before: Int,
        paid: Int,
    ) -> None:
        digits = ctx.digits
        self.rate, self.threshold = rate, threshold
        self.team_now, self.team_before = team_now, team_before
        self.due_now, self.due_before = due_now, due_before
        self.rate_text = [format_rate(value) for value in rate.tolist()]
        self.threshold_text = format_amounts(threshold, digits)
        self.team_now_text = format_amounts(team_now, digits)
        self.team_before_text = format_amounts(team_before, digits)
        self.due_now_text = format_amounts(due_now, digits)
        self.due_before_text = format_amounts(due_before, digits)
        self.paid_text = format_amounts(paid, digits)
        self.payable_text = format_amounts(due_now - paid, digits)

    def to_date(self, i: int, members: int) -> dict[str, str]:
        """Manager ``i``'s year-to-date figures for the statement."""
        return {
            "team_members": str(members),
            "team_credited_to_date": self.team_now_text[i],
            "threshold": self.threshold_text[i],
            "rate": self.rate_text[i],
            "due_to_date": self.due_now_text[i],
            "paid_before": self.paid_text[i],
            "payable_this_period": self.payable_text[i],
        }


class _Words:
    """Formulas and details of override lines, with the real numbers."""

    def __init__(self, ctx: Context, component: Override, figures: _Figures) -> None:
        self.ctx, self.component, self.figures = ctx, component, figures
        self.label = component.label or "Team override"
        self.credited = "credited margin" if component.basis == "margin" else "credited"
        employees = ctx.employees
        self.ids = employees["employee_id"].astype(str).to_numpy()
        self.names = employees["name"].astype(str).to_numpy()
        self._due: dict[tuple[int, bool], str] = {}

    def due(self, i: int, now: bool) -> str:
        """Manager ``i``'s due to date (``now``) or at the previous period's end, in words."""
        found = self._due.get((i, now))
        if found is not None:
            return found
        f = self.figures
        team = int(f.team_now[i] if now else f.team_before[i])
        team_text = f.team_now_text[i] if now else f.team_before_text[i]
        due_text = f.due_now_text[i] if now else f.due_before_text[i]
        rate, threshold = f.rate_text[i], int(f.threshold[i])
        if threshold == 0:
            text = f"{rate} x team {self.credited} {team_text} = {due_text}"
        elif team <= threshold:
            text = (
                f"team {self.credited} {team_text} not above the threshold "
                f"{f.threshold_text[i]}: {self.ctx.money(0)}"
            )
        else:
            text = (
                f"{rate} x (team {self.credited} {team_text} - threshold "
                f"{f.threshold_text[i]}) = {due_text}"
            )
        self._due[(i, now)] = text
        return text

    def members(
        self,
        rows: Int,
        team: _Team,
        shown: npt.NDArray[np.bool_],
        cited: tuple[Sequence[str], ...],
    ) -> list[LineDraft | None]:
        """The member lines, one per team entry (None where no line is shown)."""
        digits, f = self.ctx.digits, self.figures
        picked = np.flatnonzero(shown)
        boss = team.manager[picked]
        texts = [
            format_amounts(values, digits)
            for values in (
                team.now[picked], team.before[picked], team.share_now[picked],
                team.share_before[picked], team.share_now[picked] - team.share_before[picked],
            )
        ]  # fmt: skip
        out: list[LineDraft | None] = [None] * len(shown)
        prior_end = self.ctx.prior_end
        entries, managers = picked.tolist(), boss.tolist()
        members = team.member[picked].tolist()
        who = [str(self.ids[m]) for m in members]
        names = [str(self.names[m]) for m in members]
        now, before, share_now, share_before, amount = texts
        formulas = [
            f"due to date {self.due(i, True)}; {w}'s share {f.due_now_text[i]} x {now[k]} / "
            f"{f.team_now_text[i]} = {share_now[k]}; less due to {prior_end} as known now "
            f"{self.due(i, False)}; {w}'s share {f.due_before_text[i]} x {before[k]} / "
            f"{f.team_before_text[i]} = {share_before[k]}; = {amount[k]}"
            for k, (i, w) in enumerate(zip(managers, who, strict=True))
        ]
        details = {
            "member": who,
            "member_name": names,
            "member_credited_to_date": now,
            "team_credited_to_date": [f.team_now_text[i] for i in managers],
            "threshold": [f.threshold_text[i] for i in managers],
            "rate": [f.rate_text[i] for i in managers],
            "due_to_date": [f.due_now_text[i] for i in managers],
            "share": "due shared by credit to date, largest remainder",
        }
        row_of = rows.tolist()
        drafts = make_lines(
            self.ctx, self.component, "member", [row_of[i] for i in managers],
            (team.share_now[picked] - team.share_before[picked]).tolist(), formulas,
            [f"{self.label}: {w} {name}" for w, name in zip(who, names, strict=True)],
            details, [cited[m] for m in members], suffix=who,
        )  # fmt: skip
        for entry, draft in zip(entries, drafts, strict=True):
            out[entry] = draft
        return out

    def true_up(self, row: int, due: int, paid: int, transactions: Sequence[str]) -> LineDraft:
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
