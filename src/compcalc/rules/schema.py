"""The rule language: pydantic models of a rule set, one discriminated-union member per kind.

A rule set is data. Any number in it (a rate, a band edge, an amount, a target) is a
:data:`Param`: a constant, a table keyed by employee dimensions, or a list of dated values.
``resolve.py`` turns a Param into one value per employee; no component looks values up itself.

Amounts are in major units of the rule set's currency (``55000`` or ``55000.00``); rates and
attainments are decimal fractions (``0.05`` is 5 %, ``1.2`` is 120 % of quota).
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from ..errors import Diagnostic
from ..money import Rounding, check_currency

_SLUG = r"^[a-z0-9][a-z0-9_\-]*$"
Slug = Annotated[str, Field(pattern=_SLUG, max_length=64)]
# A finite decimal number: YAML floats arrive as Decimal from the loader; NaN and inf refused.
Number = Annotated[Decimal, Field(allow_inf_nan=False)]


class Model(BaseModel):
    """Base of every rule model: immutable, unknown fields refused, no float coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- parameters


def _table_node_tag(value: Any) -> str:
    return "branch" if isinstance(value, dict) else "number"


_Cell = Annotated[Number, Tag("number")]
# A table cell or a mapping of cells, at most four dimensions deep, written out level by
# level (no recursive type: the JSON Schema for editors stays plain and errors keep their
# exact location).
_Level4 = Annotated[
    _Cell | Annotated[dict[str, Number], Tag("branch")], Discriminator(_table_node_tag)
]
_Level3 = Annotated[
    _Cell | Annotated[dict[str, _Level4], Tag("branch")], Discriminator(_table_node_tag)
]
TableNode = Annotated[
    _Cell | Annotated[dict[str, _Level3], Tag("branch")], Discriminator(_table_node_tag)
]


class Table(Model):
    """A number looked up by employee dimensions: ``values[seniority][company_size]``.

    ``default`` serves combinations the table leaves out; without it a missing combination
    that the roster uses is an error naming it.
    """

    by: list[str] = Field(min_length=1, max_length=4)
    values: dict[str, TableNode]
    default: Number | None = None

    @model_validator(mode="after")
    def _depth_matches_by(self) -> Table:
        depth = len(self.by)
        for path, leaf in _walk_table(self.values, ()):
            if len(path) != depth or isinstance(leaf, dict):
                shown = ".".join(path)
                raise ValueError(
                    f"values.{shown}: expected {depth} level(s) of keys ({' x '.join(self.by)}) "
                    "before each number"
                )
        return self

    def entries(self) -> list[tuple[tuple[str, ...], Decimal]]:
        """Every (key tuple, value) in the table, in file order."""
        return [
            (path, leaf)
            for path, leaf in _walk_table(self.values, ())
            if not isinstance(leaf, dict)
        ]


def _walk_table(node: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    if not isinstance(node, dict):
        return [(path, node)]
    if not node:
        return [(path, node)]
    out: list[tuple[tuple[str, ...], Any]] = []
    for key, child in node.items():
        out.extend(_walk_table(child, (*path, key)))
    return out


class DatedValue(Model):
    """A value in force from ``from`` (inclusive) until the next entry's date."""

    from_: dt.date = Field(alias="from")
    value: Annotated[
        Annotated[Number, Tag("number")] | Annotated[Table, Tag("table")],
        Discriminator(lambda v: "table" if isinstance(v, dict | Table) else "number"),
    ]


class Dated(Model):
    """A number that changes by effective date; the run's period end picks the entry."""

    dated: list[DatedValue] = Field(min_length=1)

    @field_validator("dated")
    @classmethod
    def _dates_increase(cls, entries: list[DatedValue]) -> list[DatedValue]:
        for before, after in itertools.pairwise(entries):
            if after.from_ <= before.from_:
                raise ValueError(
                    f"dated entries must be in increasing date order: {after.from_} "
                    f"does not come after {before.from_}"
                )
        return entries


def _param_tag(value: Any) -> str:
    # Called on raw input while validating and on model instances while serialising.
    if isinstance(value, Dated) or (isinstance(value, dict) and "dated" in value):
        return "dated"
    if isinstance(value, Table | dict):
        return "table"
    return "number"


Param = Annotated[
    Annotated[Number, Tag("number")]
    | Annotated[Table, Tag("table")]
    | Annotated[Dated, Tag("dated")],
    Discriminator(_param_tag),
]
"""A constant, a dimension table, or dated values (each entry a constant or a table)."""

RosterOr = Literal["roster"]


# --------------------------------------------------------------------------- shared parts


class PayFrequency(enum.StrEnum):
    MONTHLY = "monthly"
    SEMI_MONTHLY = "semi_monthly"  # 1st-15th and 16th-end of month
    BIWEEKLY = "biweekly"  # 14-day periods counted from an anchor date


class Proration(enum.StrEnum):
    CALENDAR_DAYS = "calendar_days"  # days employed / days in the pay period
    WORKING_DAYS = "working_days"  # Mon-Fri employed / Mon-Fri in the pay period


class ComponentBase(Model):
    id: Slug
    label: str | None = None
    # Only employees whose dimensions match every listed value get this component.
    when: dict[str, list[str]] | None = None


class Periodic(ComponentBase):
    """Fields shared by components paid every pay period and prorated for hires/leavers."""

    pay_frequency: PayFrequency = PayFrequency.MONTHLY
    biweekly_anchor: dt.date | None = None
    proration: Proration = Proration.CALENDAR_DAYS

    @model_validator(mode="after")
    def _anchor_for_biweekly(self) -> Periodic:
        if self.pay_frequency is PayFrequency.BIWEEKLY and self.biweekly_anchor is None:
            raise ValueError("biweekly pay needs biweekly_anchor: the first day of any pay period")
        return self


# --------------------------------------------------------------------------- components


class BaseSalary(Periodic):
    """Annual base pay, paid per installment and prorated inside hire/termination periods."""

    kind: Literal["base_salary"]
    annual: RosterOr | Param = "roster"


class Allowance(Periodic):
    """A fixed periodic amount (car, housing, health ...), prorated like base salary."""

    kind: Literal["allowance"]
    amount: Param
    per: Literal["month", "year"] = "month"


class TierMethod(enum.StrEnum):
    MARGINAL = "marginal"  # each slice of the measure at its own band's rate
    RETROACTIVE = "retroactive"  # the whole measure at the rate of the highest band reached
    PER_TRANSACTION = "per_transaction"  # bands restart at zero for each sale (marginal within it)


class Band(Model):
    id: Slug
    from_: Param = Field(alias="from")
    to: Param | None = None  # open-ended when omitted (only the last band)
    rate: Param


class Tiers(Model):
    method: TierMethod
    # What band edges are written in: money ("amount") or fraction of quota ("attainment").
    measure: Literal["amount", "attainment"] = "attainment"
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _last_band_open(self) -> Tiers:
        for band in self.bands[:-1]:
            if band.to is None:
                raise ValueError(
                    f"band {band.id!r} needs 'to': only the last band may be open-ended"
                )
        if self.bands[-1].to is not None:
            raise ValueError(f"the last band {self.bands[-1].id!r} must be open-ended (no 'to')")
        ids = [band.id for band in self.bands]
        if len(set(ids)) != len(ids):
            raise ValueError(f"band ids must be unique, got {ids}")
        return self


class Cap(Model):
    amount: Param
    # plan_year: the excess is forfeited. period: the excess is deferred to later periods of
    # the same plan year; what is still deferred when the plan year ends is forfeited.
    per: Literal["period", "plan_year"] = "plan_year"


class Commission(ComponentBase):
    """Commission on dispute-free sales, due to date over the plan year, minus paid to date."""

    kind: Literal["commission"]
    basis: Literal["amount", "margin"] = "amount"
    quota: RosterOr | Param = "roster"
    rate: Param | None = None  # a flat rate, or give tiers
    tiers: Tiers | None = None
    gate: Param | None = None  # minimum attainment (fraction); "at or above" qualifies
    cap: Cap | None = None

    @model_validator(mode="after")
    def _rate_or_tiers(self) -> Commission:
        if (self.rate is None) == (self.tiers is None):
            raise ValueError("give exactly one of 'rate' (a flat rate) or 'tiers'")
        return self


class BonusTarget(Model):
    amount: Param | None = None  # annual target in money
    percent_of_base: Param | None = None  # annual target as a fraction of annual base

    @model_validator(mode="after")
    def _exactly_one(self) -> BonusTarget:
        if (self.amount is None) == (self.percent_of_base is None):
            raise ValueError("give exactly one of 'amount' or 'percent_of_base'")
        return self


class BonusStep(Model):
    id: Slug
    at: Param  # attainment fraction that reaches the step ("at or above")
    payout: Param  # fraction of the target paid once the step is reached


class Bonus(ComponentBase):
    """A bonus on quota attainment: fixed, stepped or linear, optionally instead of commission."""

    kind: Literal["bonus"]
    method: Literal["fixed", "step", "linear"]
    target: BonusTarget
    quota: RosterOr | Param = "roster"
    steps: list[BonusStep] | None = None
    floor: Param | None = None  # no bonus at all below this attainment (any method)
    cap: Param | None = None  # linear: attainment counted at most this much
    # to_date: pay what is due to date each period (true-up); year_end: only in the last period.
    pay: Literal["to_date", "year_end"] = "to_date"

    @model_validator(mode="after")
    def _steps_for_step(self) -> Bonus:
        if self.method == "step" and not self.steps:
            raise ValueError("a step bonus needs 'steps'")
        if self.method != "step" and self.steps:
            raise ValueError(f"'steps' only applies to method step, not {self.method}")
        if self.method != "linear" and self.cap is not None:
            raise ValueError("'cap' only applies to method linear")
        return self


class Draw(ComponentBase):
    """A monthly draw against commission: an advance when commission falls short of it.

    Each run compares the draw with the commission the run pays on the components in
    ``against``. Short of the draw, the draw pays the difference (an advance). A recoverable
    draw keeps the advances as a balance and takes it back from later commission above the
    draw, at most ``recovery_limit`` a period; a non-recoverable draw forgives them.
    """

    kind: Literal["draw"]
    amount: Param  # money per month, prorated for joining and leaving months
    recoverable: bool
    recovery_limit: Param | None = None  # money per period; none: no limit
    # Commission component ids of the same plan; none: every commission of the plan.
    against: list[Slug] | None = Field(default=None, min_length=1)
    proration: Proration = Proration.CALENDAR_DAYS

    @model_validator(mode="after")
    def _limit_needs_recovery(self) -> Draw:
        if not self.recoverable and self.recovery_limit is not None:
            raise ValueError(
                "'recovery_limit' only applies to a recoverable draw (recoverable: true)"
            )
        if self.against is not None and len(set(self.against)) != len(self.against):
            raise ValueError(f"'against' lists a component twice: {self.against}")
        return self


class Override(ComponentBase):
    """A manager's override: a rate on the credited sales of their direct reports.

    The team is every roster row whose ``manager_id`` is the manager's employee id. Due to
    date is ``rate x max(0, team credited to date - threshold)``, paid to date each period.
    """

    kind: Literal["override"]
    rate: Param
    threshold: Param | None = None  # money per plan year; none: from the first dollar
    basis: Literal["amount", "margin"] = "amount"


Component = Annotated[
    BaseSalary | Commission | Bonus | Allowance | Draw | Override,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- salary bands


class SalaryRange(Model):
    """One salary band: the minimum, midpoint and maximum of annual base, in money."""

    min: Number = Field(ge=0)
    mid: Number = Field(gt=0)
    max: Number = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> SalaryRange:
        if not self.min <= self.mid <= self.max:
            raise ValueError(
                f"a band needs min <= mid <= max, got min {self.min}, mid {self.mid}, "
                f"max {self.max}"
            )
        return self


def _band_node_tag(value: Any) -> str:
    if isinstance(value, SalaryRange):
        return "range"
    # A band's numbers are scalars; a level of keys holds mappings (a dimension value may
    # itself be called "mid", as company_size mid is).
    nested = (dict, SalaryRange)
    if isinstance(value, dict) and value and not any(isinstance(v, nested) for v in value.values()):
        return "range"
    return "branch"


_Range = Annotated[SalaryRange, Tag("range")]
# Keys level by level like a Table (at most four dimensions), a {min, mid, max} at the end.
_BandLevel4 = Annotated[
    _Range | Annotated[dict[str, SalaryRange], Tag("branch")], Discriminator(_band_node_tag)
]
_BandLevel3 = Annotated[
    _Range | Annotated[dict[str, _BandLevel4], Tag("branch")], Discriminator(_band_node_tag)
]
BandNode = Annotated[
    _Range | Annotated[dict[str, _BandLevel3], Tag("branch")], Discriminator(_band_node_tag)
]


class SalaryBands(Model):
    """Salary bands in force from ``from`` to ``to`` (both inclusive; open-ended without ``to``).

    ``values`` is keyed by the dimensions in ``by`` (``role`` may be one of them), level by
    level, down to a ``{min, mid, max}``; ``default`` serves combinations left out. ``roles``
    limits the entry to some plans (none: every plan).
    """

    from_: dt.date = Field(alias="from")
    to: dt.date | None = None
    roles: list[Slug] | None = Field(default=None, min_length=1)
    by: list[str] = Field(min_length=1, max_length=4)
    values: dict[str, BandNode]
    default: SalaryRange | None = None

    @model_validator(mode="after")
    def _dates_and_depth(self) -> SalaryBands:
        if self.to is not None and self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        if len(set(self.by)) != len(self.by):
            raise ValueError(f"'by' lists a dimension twice: {self.by}")
        depth = len(self.by)
        for path, leaf in _walk_table(self.values, ()):
            if len(path) != depth or not isinstance(leaf, SalaryRange):
                raise ValueError(
                    f"values.{'.'.join(path)}: expected {depth} level(s) of keys "
                    f"({' x '.join(self.by)}) before each {{min, mid, max}}"
                )
        return self

    def entries(self) -> list[tuple[tuple[str, ...], SalaryRange]]:
        """Every (key tuple, band) in file order."""
        return [
            (path, leaf)
            for path, leaf in _walk_table(self.values, ())
            if isinstance(leaf, SalaryRange)
        ]

    def in_force(self, day: dt.date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


# --------------------------------------------------------------------------- the rule set


class Effective(Model):
    from_: dt.date = Field(alias="from")
    to: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Effective:
        if self.to is not None and self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        return self


class PlanYear(Model):
    start_month: int = Field(default=1, ge=1, le=12)


class Plan(Model):
    description: str | None = None
    components: list[Component] = Field(min_length=1)

    @field_validator("components")
    @classmethod
    def _unique_ids(cls, components: list[Component]) -> list[Component]:
        ids = [c.id for c in components]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"component ids must be unique within a plan; repeated: {duplicates}")
        return components


class Clawback(Model):
    """How long after a sale a refund or dispute may still take back paid commission.

    A refund or dispute dated more than ``window_days`` days after its sale does not claw back
    or hold a sale that has been paid: its commission (and its credit towards quotas, bonuses
    and overrides) is final. Refunds of sales not paid yet still reduce them.
    """

    window_days: int = Field(ge=0, le=36600)


class RuleSet(Model):
    """A whole rule set: currency, rounding, dimensions and a plan per role."""

    id: Slug
    version: str = Field(min_length=1, max_length=64)
    name: str | None = None
    currency: str
    rounding: Rounding = Rounding.HALF_UP
    locale: str = "en_US"
    effective: Effective
    plan_year: PlanYear = PlanYear()
    # No clawback limit unless given: a refund or dispute at any time in the plan year counts.
    clawback: Clawback | None = None
    # Allowed values of each employee dimension the rules use (role is implicit: plan keys).
    dimensions: dict[str, list[str]] = Field(default_factory=dict)
    plans: dict[Slug, Plan] = Field(min_length=1)
    # Salary bands (min, mid, max of annual base) by role and dimensions, effective-dated.
    bands: list[SalaryBands] | None = Field(default=None, min_length=1)
    # Free-form blocks to hold YAML anchors (&car) that plans reuse with aliases (*car);
    # the engine never reads this key itself.
    shared: dict[str, Any] | None = None
    # Where the rules were read from, so a problem found during a run can point at its line.
    _source: str = PrivateAttr(default="<rules>")
    _positions: Any = PrivateAttr(default=None)

    def locate(self, field: str, message: str) -> Diagnostic:
        """A diagnostic for ``field`` (``plans.kam.components[1].rate``) at its file:line:col."""
        if self._positions is None:
            return Diagnostic(self._source, None, None, field, message)
        path: list[str | int] = []
        for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field):
            path.append(int(index) if index else name)
        return self._positions.diagnostic(tuple(path), message)  # type: ignore[no-any-return]

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, code: str) -> str:
        return check_currency(code)

    @field_validator("dimensions")
    @classmethod
    def _dimension_names(cls, dims: dict[str, list[str]]) -> dict[str, list[str]]:
        if "role" in dims:
            raise ValueError("'role' is implicit: its values are the plan names; do not list it")
        for name, values in dims.items():
            if not values:
                raise ValueError(f"dimension {name!r} lists no values")
            if len(set(values)) != len(values):
                raise ValueError(f"dimension {name!r} lists a value twice")
        return dims

    def dimension_values(self) -> dict[str, list[str]]:
        """Every dimension with its allowed values, role included."""
        return {"role": sorted(self.plans), **self.dimensions}
