"""What every component sees during one run: employees, sales, dates, resolver, money rules."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise, repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import Diagnostic
from ..inputs.fx import rate_text
from ..inputs.ledger import percent_text
from ..money import Rounding, format_amount, from_minor, from_minor_all, minor_digits
from ..periods import Period, earlier_periods
from ..rules.resolve import Resolver
from ..rules.schema import ComponentBase, RuleSet
from ..statements.model import Ids, Line, PriorRun, RuleRef, Texts
from .crediting import (
    IgnoredEvents,
    Sales,
    SaleState,
    period_events,
    state_at,
)
from .tiers import Groups

Int = npt.NDArray[np.int64]

PAY_CODES = {
    "base_salary": "base",
    "commission": "commission",
    "bonus": "bonus",
    "allowance": "allowance",
    "draw": "draw",
    "override": "override",
}
# Lines that correct what earlier (closed) periods paid carry the pay code "adjustment" and
# name the original period: a true-up, a clawback, a sale held back or released.
ADJUSTMENT_ITEMS = frozenset({"true_up", "clawback", "held_back", "released"})


@dataclass
class Context:
    """The frozen inputs of one run, plus caches of sale states by as-of date."""

    rules: RuleSet
    employees: pd.DataFrame  # accepted roster rows, sorted by employee_id, RangeIndex
    period: Period
    year_start: dt.date
    year_end: dt.date
    sales: Sales
    resolver: Resolver
    digits: int
    rounding: Rounding
    paid_to_date: dict[tuple[str, str], int] | None
    rules_sha256: str = ""
    # Refunds and disputes the clawback window keeps from taking paid commission back.
    ignored: IgnoredEvents | None = None
    # The closed runs whose payments make up paid_to_date (from the store), oldest first.
    history: tuple[PriorRun, ...] = ()
    # Employees that some commission or bonus applies to (their sales can earn).
    covered: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # Employees with a commission paid on margin: their sales need a margin to earn.
    on_margin: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # Year-to-date figures per employee row and component, shown on statements.
    to_date: dict[int, list[tuple[str, tuple[tuple[str, str], ...]]]] = field(default_factory=dict)
    _states: dict[tuple[dt.date, dt.date | None], SaleState] = field(default_factory=dict)
    _resolvers: dict[dt.date, Resolver] = field(default_factory=dict)
    # Credited bases off the period end, as (positions, values) where they differ from the
    # plain basis (see basis)
    _bases: dict[tuple[dt.date, str, dt.date | None], tuple[npt.NDArray[Any], Int]] = field(
        default_factory=dict
    )
    # The roster rows of the sales in _bases (period ends' only), for the groups to pick theirs
    _differing_employees: dict[tuple[dt.date, str], npt.NDArray[Any]] = field(
        default_factory=dict
    )
    _events: dict[int, str] | None = None
    # Replays of earlier periods, shared by every caller within the run (commission, its
    # true-up causes, the draw): keyed by component, path and rows; see commission._replay.
    # Shared too by the copies dataclasses.replace makes (the replay does not depend on the
    # run's own period or paid_to_date).
    _replays: dict[Any, Any] = field(default_factory=dict)
    _group_sales: weakref.WeakValueDictionary[bytes, GroupSales] = field(
        default_factory=weakref.WeakValueDictionary
    )

    def record_to_date(self, row: int, component_id: str, figures: dict[str, str]) -> None:
        """Keep one component's year-to-date figures for an employee's statement."""
        self.to_date.setdefault(row, []).append((component_id, tuple(sorted(figures.items()))))

    def record_to_date_all(
        self, rows: Sequence[int], component_id: str, figures: Mapping[str, str | Sequence[str]]
    ) -> None:
        """:meth:`record_to_date` for the employees at ``rows``, each figure one text for
        all or one per employee (put in key order once)."""
        to_date = self.to_date
        for row, named in zip(rows, key_ordered(figures, len(rows)), strict=True):
            to_date.setdefault(row, []).append((component_id, named))

    @property
    def prior_end(self) -> dt.date:
        return self.period.start - dt.timedelta(days=1)

    def state(self, as_of: dt.date, disputes_as_of: dt.date | None = None) -> SaleState:
        key = (as_of, disputes_as_of)
        if key not in self._states:
            self._states[key] = state_at(self.sales, as_of, self.rounding, disputes_as_of)
        return self._states[key]

    def group_sales(self, rows: Int) -> GroupSales:
        """The sales of the employees at ``rows`` grouped by employee: a component's plan, its
        replayed month ends and its true-up share one while any of them holds it (weakly
        kept, so the run never holds one no plan uses)."""
        key = rows.astype(np.int64).tobytes()
        found = self._group_sales.get(key)
        if found is None:
            found = GroupSales(self.sales, rows, len(self.employees))
            self._group_sales[key] = found
        return found

    def basis(
        self,
        as_of: dt.date,
        kind: str,
        disputes_as_of: dt.date | None = None,
        at: GroupSales | None = None,
    ) -> Int:
        """Each sale's credited basis (``amount`` or ``margin``) at the end of ``as_of``, with
        disputes as they stood at ``disputes_as_of`` when given (see :func:`state_at`); only
        those of a group's sales when ``at`` is given, in its order.

        Only the period end keeps its whole sale state (its flags and refunds: its lines and
        notes itemise it); every as-of date's basis, the period end's too, is kept only where
        it differs from the sales' full figure on the sales made by then (the refunded and
        disputed ones, a few in a hundred): a few MB a month instead of a column. A plan
        replaying its month ends asks for its own sales only (``at``), so the replays of all
        plans together cost about one pass over the ledger a month, not one per plan.
        """
        differ, values = self._differences(as_of, kind, disputes_as_of)
        if at is None:
            out = self._plain_basis(as_of, kind)
            out[differ] = values
        else:
            out = at.plain_basis(as_of, kind)
            found, hit = at.find(differ)
            out[found] = values[hit]
        return out

    def measure(self, as_of: dt.date, kind: str, at: GroupSales) -> Int:
        """Each of a group's employees' credited basis at the end of ``as_of``: the sum of
        :meth:`basis` over their sales, in employee order.

        At a period end of the plan year the group's full figures are summed once for every
        period end together (:meth:`GroupSales.plain_measures`), and only the sales whose
        basis differs from their full figure (refunded, disputed: a few in a hundred) are
        corrected, sale by sale: no pass over the group's sales per period end.
        """
        table = self.at_period_end(as_of, at.plain_measures(kind, self.period_ends()))
        if table is None:  # another date, or sums too large for the one pass
            return np.asarray(at.groups.sum(self.basis(as_of, kind, at=at)), dtype=np.int64)
        out: Int = table.copy()
        owner, basis, plain = self.differing(as_of, kind, at)
        np.add.at(out, owner, basis - plain)
        return out

    def period_ends(self) -> tuple[int, ...]:
        """The plan year's period ends up to this period's (days since 1970), ascending: the
        dates the components value their sales at."""
        ends = {period.end for period in self.earlier()} | {self.prior_end, self.period.end}
        return tuple(sorted(epoch_day(end) for end in ends))

    def at_period_end(self, as_of: dt.date, table: Int | None) -> Int | None:
        """The row of ``table`` (one per :meth:`period_ends`) for ``as_of``; None when there is
        no table or ``as_of`` is not a period end."""
        ends, as_of_day = self.period_ends(), epoch_day(as_of)
        if table is None or as_of_day not in ends:
            return None
        row: Int = table[ends.index(as_of_day)]
        return row

    def differing(self, as_of: dt.date, kind: str, at: GroupSales) -> tuple[Int, Int, Int]:
        """The group's sales whose basis at the end of ``as_of`` differs from their full
        figure where sold (refunded, disputed or not positive): each one's employee (the
        group's index), its basis and that plain basis."""
        differ, values = self._differences(as_of, kind, None)
        key = (as_of, kind)
        if key not in self._differing_employees:  # each group reads them: looked up once
            self._differing_employees[key] = self.sales.employee[differ]
        owner = at.owner_of(self._differing_employees[key])
        mine = owner >= 0
        positions = differ[mine]
        figures = self.sales.margin if kind == "margin" else self.sales.amount
        plain = sold_figures(figures[positions], self.sales.sold_day[positions], as_of)
        return owner[mine].astype(np.int64), values[mine], plain

    def _differences(
        self, as_of: dt.date, kind: str, disputes_as_of: dt.date | None
    ) -> tuple[npt.NDArray[Any], Int]:
        """The sales whose basis at ``as_of`` differs from their plain basis, and that basis
        (:meth:`SaleState.differences`), found once per date."""
        key = (as_of, kind, disputes_as_of)
        if key not in self._bases:
            if as_of == self.period.end and disputes_as_of is None:  # its state is kept
                state = self.state(as_of)
            else:
                state = state_at(self.sales, as_of, self.rounding, disputes_as_of)
            differ, values = state.differences(kind)
            self._bases[key] = (_narrow(differ), values)
            del state
        return self._bases[key]

    def _plain_basis(self, as_of: dt.date, kind: str) -> Int:
        """Each sale's full amount or margin if sold (and eligible) by ``as_of``, else 0: what
        the basis would be with no refund and no dispute."""
        sales = self.sales
        figures = sales.margin if kind == "margin" else sales.amount
        return sold_figures(figures, sales.sold_day, as_of)

    def period_events(self) -> dict[int, str]:
        """This period's refund and dispute events per sale position, in words, after the
        sale's transaction id (computed once)."""
        if self._events is None:
            self._events = period_events(self.sales, self.prior_end, self.period.end, self.digits)
        return self._events

    def sale_periods_all(self, groups: Sequence[Int]) -> list[str]:
        """For each group of sale positions, the months its sales were sold (and first paid)
        in, ``2026-10, 2026-11``: every group's distinct months found in one sort, each month
        written once."""
        if not groups:
            return []
        at = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
        owner = np.repeat(np.arange(len(groups), dtype=np.int64), [len(g) for g in groups])
        dated = self.sales.date[at].astype("datetime64[M]")
        if np.isnat(dated).any():  # no month number: each group on its own
            return [
                ", ".join(np.datetime_as_string(np.unique(dated[owner == k]), unit="M").tolist())
                for k in range(len(groups))
            ]
        months = dated.astype(np.int64)
        low = int(months.min()) if len(months) else 0
        span = int(months.max()) - low + 1 if len(months) else 1
        pairs = np.unique(owner * span + (months - low))  # by group, then month
        month = pairs % span + low
        names = np.datetime_as_string(month.astype("datetime64[M]"), unit="M").tolist()
        bounds = np.searchsorted(pairs // span, np.arange(len(groups) + 1)).tolist()
        return [", ".join(names[start:stop]) for start, stop in pairwise(bounds)]

    def sale_origins(self, sales: Int) -> list[str]:
        """Where each of the sales at positions ``sales`` got its amount.

        A converted sale: ``T9 10,000.00 EUR x 1.0850 (EUR->USD of 2026-11-02) = 10,850.00
        USD``; a split sale: ``T1 60% share of 100.00 = 60.00``. Sales taken whole in the pay
        currency say nothing.
        """
        table = self.sales
        texts: list[str] = []
        if table.has_origin is None:
            return texts
        for i in sales[table.has_origin[sales]].tolist():
            tid = table.transaction_id[i]
            if int(table.rate[i]) != 0:
                currency = str(table.sale_currency[i])
                texts.append(
                    f"{tid} {format_amount(int(table.sale_total[i]), minor_digits(currency))} "
                    f"{currency} x {rate_text(int(table.rate[i]))} "
                    f"({currency}->{self.rules.currency} of {table.rate_date[i]}) = "
                    f"{self.money(int(table.total[i]))} {self.rules.currency}"
                )
            if bool(table.split[i]):
                share = percent_text(np.array([int(table.share[i])], dtype=np.int64)).iat[0]
                texts.append(
                    f"{tid} {share}% share of {self.money(int(table.total[i]))} = "
                    f"{self.money(int(table.amount[i]))}"
                )
        return texts

    def true_up_cause(self, *, correction: int, dated: int = 0, deferred: int = 0) -> str:
        """A true-up's causes in words, each with its amount (they add up to the true-up).

        ``correction`` is what closed periods should have paid on today's data less what they
        paid: a rule change when the store's history shows another rule set, else a ledger
        correction. The words are the same whether paid to date came from the store or from
        a replay, so the two give byte-identical results.
        """
        causes = []
        if correction:
            changed = [r for r in self.history if r.ruleset_sha256 != self.rules_sha256]
            if changed:
                then = ", ".join(
                    f"{r.period} under version {r.ruleset_version} ({r.ruleset_sha256[:12]})"
                    for r in changed
                )
                ruleset = f"version {self.rules.version} ({self.rules_sha256[:12]})"
                causes.append(
                    f"rule change {self.money(correction)}: {then} closed; this run uses "
                    f"{ruleset} (ledger rows dated in closed periods may have changed too)"
                )
            else:
                periods = ", ".join(p.label for p in self.earlier())
                causes.append(
                    f"ledger correction {self.money(correction)}: sales or events dated in "
                    f"{periods} were added or changed after those periods were paid"
                )
        if dated:
            causes.append(
                f"dated rule value {self.money(dated)}: a number dated from an earlier period "
                "re-rates that period's credit"
            )
        if deferred:
            causes.append(
                f"per-period cap {self.money(deferred)}: commission deferred by the cap, paid "
                "as it fits"
            )
        return "; ".join(causes)

    def resolver_at(self, as_of: dt.date) -> Resolver:
        """Rules as in force on ``as_of`` (for replaying what earlier periods paid)."""
        if as_of == self.period.end:
            return self.resolver
        if as_of not in self._resolvers:
            self._resolvers[as_of] = Resolver(
                self.employees, as_of, self.resolver.source, self.resolver.problems
            )
        return self._resolvers[as_of]

    def quota(self, component: Any, path: str, rows: Int, resolver: Resolver) -> Int:
        """Annual quota per employee in minor units: the roster's, or the rule's number."""
        if component.quota == "roster":
            return self.employees["quota_minor"].fillna(0).to_numpy(dtype=np.int64)[rows]
        values = resolver.values(component.quota, f"{path}.quota", rows)
        return self.to_minor(values, f"{path}.quota")

    def earlier(self) -> list[Period]:
        return earlier_periods(self.period, self.rules.plan_year.start_month)

    def rule(self, component: ComponentBase) -> RuleRef:
        return _rule_ref(self.rules.id, self.rules.version, component.id, self.rules_sha256)

    def money(self, minor: int) -> str:
        return format_amount(minor, self.digits)

    def amount(self, minor: int) -> Decimal:
        return from_minor(minor, self.digits)

    def to_minor(self, values: npt.NDArray[np.object_], path: str) -> Int:
        """Money Decimals (major units) to exact minor units; too many decimals is a problem."""
        # Once per distinct value (resolved per dimension combination), not per employee.
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        scaled = [v.scaleb(self.digits) for v in uniques.tolist()]
        if any(s != s.to_integral_value() for s in scaled):
            self.resolver.problems.append(
                Diagnostic(
                    self.resolver.source,
                    None,
                    None,
                    path,
                    f"an amount has more than {self.digits} decimal places "
                    f"for {self.rules.currency}",
                )
            )
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.array([int(s) for s in scaled], dtype=np.int64)[codes]

    def paid(self, component_id: str, rows: Int) -> Int:
        """Paid to date this plan year, as given by the caller (0 where not given)."""
        assert self.paid_to_date is not None
        ids = self.employees["employee_id"].to_numpy()[rows]
        return np.array([self.paid_to_date.get((e, component_id), 0) for e in ids], dtype=np.int64)


@dataclass
class LineDraft:
    """A line before it joins its statement: the employee row and the finished Line."""

    row: int
    line: Line


_DECIMAL_EXACT = 10**27  # as in money.from_minor: scaleb alone is exact below this


@lru_cache(maxsize=1024)
def _rule_ref(ruleset: str, version: str, component: str, sha256: str) -> RuleRef:
    """One (immutable) RuleRef per component, shared by all its lines."""
    return RuleRef(ruleset, version, component, sha256)


@lru_cache(maxsize=4096)
def _line_kind(kind: str, item: str) -> str:
    """A line's pay code: its component kind's, or ``adjustment`` for a correction."""
    return "adjustment" if item in ADJUSTMENT_ITEMS else PAY_CODES[kind]


def make_line(
    ctx: Context,
    component: Any,
    row: int,
    item: str,
    label: str,
    amount: int,
    formula: str,
    transactions: Sequence[str] = (),
    details: dict[str, str] | None = None,
    suffix: str = "",
) -> LineDraft:
    """Build one statement line for employee ``row`` with its rule reference.

    >>> make_line(ctx, component, 0, "installment", "Base salary", 458333, "...")  # doctest: +SKIP
    LineDraft(row=0, line=Line(id='base.installment', ..., amount=Decimal('4583.33'), ...))
    """
    component_id = component.id
    return LineDraft(
        row,
        Line(
            f"{component_id}.{item}.{suffix}" if suffix else f"{component_id}.{item}",
            component_id,
            component.kind,
            _line_kind(component.kind, item),
            item,
            label,
            # from_minor's exact fast path, inline: one line per employee and item adds up
            Decimal(int(amount)).scaleb(-ctx.digits)
            if -_DECIMAL_EXACT < amount < _DECIMAL_EXACT
            else from_minor(amount, ctx.digits),
            _rule_ref(ctx.rules.id, ctx.rules.version, component_id, ctx.rules_sha256),
            formula,
            transactions,
            tuple(sorted(details.items())) if details else (),
        ),
    )


def make_lines(
    ctx: Context,
    component: Any,
    item: str,
    rows: Sequence[int],
    amounts: Sequence[int],
    formulas: Sequence[str],
    label: str | Sequence[str],
    details: Mapping[str, str | Sequence[str]] | Sequence[Mapping[str, str]] | None = None,
    transactions: Sequence[Sequence[str]] | None = None,
    suffix: str | Sequence[str] = "",
    *,
    ordered_details: Sequence[tuple[tuple[str, str], ...]] | None = None,
) -> list[LineDraft]:
    """:func:`make_line` over columns, one line per entry of ``rows``: the same lines, with
    what is the same on all of them (rule reference, pay code, id, label, each constant
    detail) worked out once and the details put in key order once, not sorted line by line.

    ``label``, ``suffix`` and each value of ``details`` are one text for every line or one
    per line (or ``details`` is one mapping per line, for lines whose figures differ);
    ``transactions`` (default: none) one sequence of ids per line; ``amounts`` Python ints
    (minor units). ``ordered_details`` (instead of ``details``): each line's ``(key, value)``
    pairs already in key order, as a caller building them column by column has them.
    """
    n = len(rows)
    digits = ctx.digits
    component_id = component.id
    ref = _rule_ref(ctx.rules.id, ctx.rules.version, component_id, ctx.rules_sha256)
    kind, pay_code = component.kind, _line_kind(component.kind, item)
    ids: Iterable[str]
    if isinstance(suffix, str):
        ids = repeat(f"{component_id}.{item}.{suffix}" if suffix else f"{component_id}.{item}", n)
    else:
        ids = [f"{component_id}.{item}.{s}" if s else f"{component_id}.{item}" for s in suffix]
    labels = repeat(label, n) if isinstance(label, str) else label
    money = from_minor_all(amounts, digits)
    named: Iterable[tuple[tuple[str, str], ...]]
    if ordered_details is not None:
        named = ordered_details
    elif details is None or isinstance(details, Mapping):
        named = key_ordered(details or {}, n)
    else:
        named = [tuple(sorted(own.items())) for own in details]
    cited: Iterable[Sequence[str]] = repeat((), n) if transactions is None else transactions
    return [
        LineDraft(row, Line(i, component_id, kind, pay_code, item, lab, amount, ref, f, t, d))
        for row, i, lab, amount, f, t, d in zip(
            rows, ids, labels, money, formulas, cited, named, strict=True
        )
    ]


def key_ordered(
    values: Mapping[str, str | Sequence[str]], n: int
) -> Iterable[tuple[tuple[str, str], ...]]:
    """``n`` tuples of ``(key, value)`` in key order, as ``tuple(sorted(d.items()))`` gives
    for the dict of each entry; a value is one text for all or a column of ``n``.

    >>> list(key_ordered({"rate": "5%", "band": ["t1", "t2"]}, 2))
    [(('band', 't1'), ('rate', '5%')), (('band', 't2'), ('rate', '5%'))]
    """
    pairs = [
        repeat((key, value), n)
        if isinstance(value, str)
        else zip(repeat(key, n), value, strict=True)
        for key, value in sorted(values.items())
    ]
    return zip(*pairs, strict=True) if pairs else repeat((), n)


def sold_figures(figures: Int, sold_day: npt.NDArray[np.int32], as_of: dt.date) -> Int:
    """``figures`` where the sale is sold (and eligible) by ``as_of``, else 0 (``sold_day``:
    the :attr:`Sales.sold_day` of the sales the figures are of)."""
    # A Python int: compared in 32 bits, no 64-bit copy of the column
    return figures * (sold_day <= epoch_day(as_of))


def epoch_day(date: dt.date) -> int:
    """``date`` in days since 1970 (as :attr:`Sales.sold_day` counts)."""
    return int(np.datetime64(date, "D").astype(np.int64))


class GroupSales:
    """The sales of a group of employees (a plan's rows), grouped by employee (stable).

    A plan sums its sales' bases per employee at every month end it replays; with its sales
    in this order each sum is one pass (:class:`~.tiers.Groups`), and their full figures and
    sale days, taken once, give each month end's plain basis without touching the ledger.
    """

    def __init__(self, sales: Sales, rows: Int, employees: int) -> None:
        self._sales = sales
        small = np.int32 if employees < 2**31 else np.int64
        local: npt.NDArray[np.signedinteger[Any]] = np.full(employees, -1, dtype=small)
        local[rows] = np.arange(len(rows))
        self._local = local  # roster row -> the employee's index in the group (-1: not in it)
        # Each employee's run of the sales grouped by employee (found once per run, shared
        # by every group), taken in the group's order: no pass over the whole ledger here.
        runs = sales.by_employee
        first, count = runs.of_rows(np.asarray(rows, dtype=np.int64))
        self._starts = np.zeros(len(rows) + 1, dtype=np.int64)  # where each one's sales begin
        np.cumsum(count, out=self._starts[1:])
        self.owner = np.repeat(np.arange(len(rows), dtype=small), count)  # sorted local index
        where = np.arange(int(self._starts[-1]), dtype=np.int64)
        where += (first - self._starts[:-1])[self.owner]
        # Positions in 32 bits when they fit (a plan's share of the ledger)
        self.positions = _narrow(runs.order[where])  # the group's sales, by employee
        del where
        self.groups = Groups(self.owner, len(rows))
        self._figures: dict[str, Int] = {}
        self._sold_day: npt.NDArray[np.int32] | None = None
        self._plain_measures: dict[tuple[str, tuple[int, ...]], Int | None] = {}

    def __len__(self) -> int:
        return len(self.positions)

    def figures(self, kind: str) -> Int:
        """The group's sales' full ``amount`` or ``margin``, in the group's order."""
        if kind not in self._figures:
            column = self._sales.margin if kind == "margin" else self._sales.amount
            self._figures[kind] = np.asarray(column[self.positions], dtype=np.int64)
        return self._figures[kind]

    def plain_basis(self, as_of: dt.date, kind: str) -> Int:
        """Full figure if sold (and eligible) by ``as_of``, else 0, in the group's order."""
        return sold_figures(self.figures(kind), self.sold_days(), as_of)

    def sold_days(self) -> npt.NDArray[np.int32]:
        """The group's sales' :attr:`Sales.sold_day`, in its order (taken once)."""
        if self._sold_day is None:
            self._sold_day = self._sales.sold_day[self.positions]
        return self._sold_day

    def plain_measures(self, kind: str, cutoffs: tuple[int, ...]) -> Int | None:
        """Per employee, the sum of the full figures of the sales sold (and eligible) by each
        of the ``cutoffs``: row ``k`` holds what ``groups.sum(plain_basis(...))`` gives at
        ``cutoffs[k]`` (see :meth:`sums_by_cutoff`; kept per kind)."""
        key = (kind, cutoffs)
        if key not in self._plain_measures:
            self._plain_measures[key] = self.sums_by_cutoff(self.figures(kind), cutoffs)
        return self._plain_measures[key]

    def sums_by_cutoff(self, values: Int, cutoffs: tuple[int, ...]) -> Int | None:
        """Per employee, the sum of ``values`` (one per sale of the group, in its order) over
        the sales sold (and eligible) by each of the ``cutoffs`` (days since 1970, ascending):
        one row per cutoff, all from one pass (each sale counted in the first cutoff it is
        sold by, then the counts summed along the cutoffs).

        The pass sums in float64, exact while every sum stays below 2**53 (checked: the
        largest value times the number of sales); None when it might not.
        """
        size, width = self.groups.size, len(cutoffs) + 1
        if values.dtype == object:
            return None
        peak = int(np.abs(values).max()) if len(values) else 0
        if peak * len(values) >= 2**53:
            return None
        # 0 .. len(cutoffs): the first cutoff the sale is sold by (the last: none)
        first = np.searchsorted(np.asarray(cutoffs, dtype=np.int32), self.sold_days())
        cell = self.owner.astype(np.int64) * width
        cell += first
        del first
        counted = np.bincount(cell, weights=values, minlength=size * width)
        del cell
        by_cutoff = counted.reshape(size, width)[:, :-1].astype(np.int64)
        table: Int = np.cumsum(by_cutoff, axis=1).T.copy()  # cutoff by cutoff
        return table

    def owner_of(self, employees: npt.NDArray[np.integer]) -> npt.NDArray[np.signedinteger[Any]]:
        """The group's index of each of ``employees`` (roster rows; -1: not in the group)."""
        owners: npt.NDArray[np.signedinteger[Any]] = self._local[employees]
        return owners

    def ids(self, mask: npt.NDArray[np.bool_], ids: Texts) -> list[Ids]:
        """For each employee of the group, the ids (``ids``: the sales' transaction ids) of its
        sales where ``mask`` is set (one flag per sale of the group, in its order), sorted.

        The group's order has them so already: by employee, then by position among the
        sales, which rises with the transaction id. No sort, and no column as long as the
        ledger.
        """
        # Picked by the mask in the columns' own (32-bit) types: no 64-bit positions of them
        owners = self.owner[mask]
        bounds = np.searchsorted(owners, np.arange(self.groups.size + 1)).tolist()
        at = _narrow(self.positions[mask])  # the lines keep it to the end
        return [Ids(ids, start, end, at) for start, end in pairwise(bounds)]

    def find(
        self, positions: npt.NDArray[np.integer], employees: npt.NDArray[np.integer] | None = None
    ) -> tuple[Int, npt.NDArray[np.bool_]]:
        """Where the sales at ``positions`` that are the group's fall in its order, and which
        of ``positions`` those are (``employees``: their roster rows, when known)."""
        if employees is None:
            employees = self._sales.employee[positions]
        owner = self._local[employees]
        hit = owner >= 0
        place = self._sales.by_employee.place[positions[hit]]
        return self._starts[owner[hit]] + place, hit


_INT32 = np.iinfo(np.int32)


def _narrow(values: Int) -> npt.NDArray[np.signedinteger[Any]]:
    """``values`` as int32 when every one fits (sale positions in a ledger of fewer than two
    billion rows, minor units of sales under about 21 million dollars), else as they are:
    exact either way.

    >>> _narrow(np.array([0, 2**31 - 1])).dtype, _narrow(np.array([2**31])).dtype
    (dtype('int32'), dtype('int64'))
    """
    if values.dtype == np.int32:
        return values
    if len(values) and (values.min() < _INT32.min or values.max() > _INT32.max):
        return values
    return values.astype(np.int32)
