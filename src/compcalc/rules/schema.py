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
    """Base of every rule model: immutable, unknown fields refused, no float coercion.

    A field's docstring is its description in the JSON Schema (``compcalc schema``), which
    editors show on hover.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, use_attribute_docstrings=True
    )


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
    """The dimensions to look up, outermost first: declared dimensions, or ``role``."""
    values: dict[str, TableNode]
    """One level of keys per dimension of ``by``, in that order, and a number at each leaf."""
    default: Number | None = None
    """The value of any combination ``values`` leaves out."""

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
    """The first day the entry is in force (YYYY-MM-DD)."""
    value: Annotated[
        Annotated[Number, Tag("number")] | Annotated[Table, Tag("table")],
        Discriminator(lambda v: "table" if isinstance(v, dict | Table) else "number"),
    ]
    """The value in force from that day: a number or a dimension table."""


class Dated(Model):
    """A number that changes by effective date; the run's period end picks the entry."""

    dated: list[DatedValue] = Field(min_length=1)
    """The entries, in increasing ``from`` order; the run period's last day picks one."""

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
    """How an annual amount is split into installments: monthly (12), semi_monthly (24: the
    1st-15th and 16th-end of month) or biweekly (14-day periods from ``biweekly_anchor``)."""

    MONTHLY = "monthly"
    SEMI_MONTHLY = "semi_monthly"  # 1st-15th and 16th-end of month
    BIWEEKLY = "biweekly"  # 14-day periods counted from an anchor date


class Proration(enum.StrEnum):
    """How a partly employed installment is prorated: by calendar days or by working days
    (Monday to Friday) employed."""

    CALENDAR_DAYS = "calendar_days"  # days employed / days in the pay period
    WORKING_DAYS = "working_days"  # Mon-Fri employed / Mon-Fri in the pay period


class ComponentBase(Model):
    id: Slug
    """Names the component (unique in its plan); used in line ids and ``paid_to_date``."""
    label: str | None = None
    """The text shown on statement lines."""
    when: dict[str, list[str]] | None = None
    """Only employees whose dimensions match every listed dimension (each with one of its
    listed values) get this component."""


class Periodic(ComponentBase):
    """Fields shared by components paid every pay period and prorated for hires/leavers."""

    pay_frequency: PayFrequency = PayFrequency.MONTHLY
    """How the annual amount is split into installments."""
    biweekly_anchor: dt.date | None = None
    """The first day of any biweekly pay period (required for ``biweekly``)."""
    proration: Proration = Proration.CALENDAR_DAYS
    """How an installment only partly employed is prorated."""

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
    """The annual base: ``roster`` (the roster's ``annual_base`` column) or a number."""


class Allowance(Periodic):
    """A fixed periodic amount (car, housing, health ...), prorated like base salary."""

    kind: Literal["allowance"]
    amount: Param
    """The amount per ``per``, in money."""
    per: Literal["month", "year"] = "month"
    """``month``: the annual amount is ``amount`` x 12; ``year``: ``amount`` is annual."""


class TierMethod(enum.StrEnum):
    """How bands apply: marginal (each slice at its band's rate), retroactive (everything at
    the rate of the highest band reached) or per_transaction (bands restart for each sale)."""

    MARGINAL = "marginal"  # each slice of the measure at its own band's rate
    RETROACTIVE = "retroactive"  # the whole measure at the rate of the highest band reached
    PER_TRANSACTION = "per_transaction"  # bands restart at zero for each sale (marginal within it)


class Band(Model):
    """One band of a tier table: from ``from`` (inclusive) up to ``to`` (exclusive)."""

    id: Slug
    """Names the band on statements (unique in the list)."""
    from_: Param = Field(alias="from")
    """Where the band starts, inclusive: 0 for the first band, else where the previous ends."""
    to: Param | None = None
    """Where the band ends, exclusive; left out on the last band only (open-ended)."""
    rate: Param
    """The band's rate, a decimal fraction (0.05 is 5 %)."""
    decelerator: bool | None = None
    """``true`` declares that reaching or selling within this band may pay less in all than
    selling a little less (a retroactive band with a lower rate): ``compcalc check`` then
    does not warn about it. The engine pays the same either way."""

    @field_validator("decelerator")
    @classmethod
    def _false_is_unset(cls, declared: bool | None) -> bool | None:
        # ``false`` says what leaving it out says, so both give the same rule-set digest.
        return declared or None


class Tiers(Model):
    """A tiered rate schedule: contiguous bands from 0, only the last one open-ended."""

    method: TierMethod
    """How the bands apply."""
    measure: Literal["amount", "attainment"] = "attainment"
    """What band edges are written in: fractions of the annual quota or money."""
    bands: list[Band] = Field(min_length=1)
    """The bands, in increasing order."""

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
    """The most commission paid, per plan year or per period."""

    amount: Param
    """The cap, in money."""
    per: Literal["period", "plan_year"] = "plan_year"
    """``plan_year``: the due to date never exceeds the cap and the excess is forfeited.
    ``period``: no run pays more; the excess is deferred to later periods of the plan year
    (and forfeited if still deferred when it ends)."""


class Commission(ComponentBase):
    """Commission on dispute-free sales, due to date over the plan year, minus paid to date."""

    kind: Literal["commission"]
    basis: Literal["amount", "margin"] = "amount"
    """What a credited sale is worth: its amount less refunds, or its margin."""
    quota: RosterOr | Param = "roster"
    """The annual quota: ``roster`` (the roster's ``quota`` column) or money."""
    rate: Param | None = None
    """A flat rate on every credited unit; give exactly one of ``rate`` or ``tiers``."""
    tiers: Tiers | None = None
    """A tiered rate schedule; give exactly one of ``rate`` or ``tiers``."""
    gate: Param | None = None
    """The minimum attainment to date (a fraction of quota) before anything is paid; at or
    above qualifies."""
    cap: Cap | None = None
    """The most commission paid, per plan year or per period."""

    @model_validator(mode="after")
    def _rate_or_tiers(self) -> Commission:
        if (self.rate is None) == (self.tiers is None):
            raise ValueError("give exactly one of 'rate' (a flat rate) or 'tiers'")
        return self


class BonusTarget(Model):
    """The annual target bonus: exactly one of ``amount`` or ``percent_of_base``."""

    amount: Param | None = None
    """The annual target in money."""
    percent_of_base: Param | None = None
    """The annual target as a fraction of the annual base (0.15 is 15 %)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> BonusTarget:
        if (self.amount is None) == (self.percent_of_base is None):
            raise ValueError("give exactly one of 'amount' or 'percent_of_base'")
        return self


class BonusStep(Model):
    """A step of a step bonus."""

    id: Slug
    """Names the step on statements."""
    at: Param
    """The attainment that reaches the step; at or above qualifies."""
    payout: Param
    """The fraction of the target paid once the step is reached."""


class Bonus(ComponentBase):
    """A bonus on quota attainment: fixed, stepped or linear, optionally instead of commission."""

    kind: Literal["bonus"]
    method: Literal["fixed", "step", "linear"]
    """fixed: the target once the floor is reached; step: the target x the payout of the best
    step reached; linear: the target x attainment (at most ``cap``)."""
    target: BonusTarget
    """The annual target bonus."""
    quota: RosterOr | Param = "roster"
    """The annual quota: ``roster`` (the roster's ``quota`` column) or money."""
    steps: list[BonusStep] | None = None
    """The steps of a ``step`` bonus (required for it, refused for the others)."""
    floor: Param | None = None
    """No bonus at all while attainment is below it (any method); at or above qualifies."""
    cap: Param | None = None
    """``linear`` only: attainment is counted at most up to this value."""
    pay: Literal["to_date", "year_end"] = "to_date"
    """``to_date``: each period pays due to date less paid to date; ``year_end``: paid only in
    the period holding the plan year's last day."""

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
    amount: Param
    """The draw per calendar month, in money; prorated for joining and leaving months."""
    recoverable: bool
    """``true``: advances are a balance recovered from later commission; ``false``: forgiven."""
    recovery_limit: Param | None = None
    """At most this much is recovered in one run (money); none: no limit."""
    against: list[Slug] | None = Field(default=None, min_length=1)
    """The commission components of the same plan the draw nets; none: every commission."""
    proration: Proration = Proration.CALENDAR_DAYS
    """How a month only partly employed is prorated."""

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
    """The override rate on the team's credit above the threshold."""
    threshold: Param | None = None
    """Team credit per plan year that earns nothing (money); none: from the first dollar."""
    basis: Literal["amount", "margin"] = "amount"
    """What team credit is measured in: sale amounts or margin."""


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
    """The first day the entry is in force."""
    to: dt.date | None = None
    """The last day the entry is in force; none: open-ended."""
    roles: list[Slug] | None = Field(default=None, min_length=1)
    """The plans the entry is for; none: every plan."""
    by: list[str] = Field(min_length=1, max_length=4)
    """The dimensions (declared ones, or ``role``) keying ``values``, outermost first."""
    values: dict[str, BandNode]
    """One level of keys per dimension of ``by``, down to a ``{min, mid, max}``."""
    default: SalaryRange | None = None
    """The band of any combination ``values`` leaves out."""

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
    """The dates the rule set applies to."""

    from_: dt.date = Field(alias="from")
    """The first day the rules apply."""
    to: dt.date | None = None
    """The last day the rules apply; none: open-ended."""

    @model_validator(mode="after")
    def _ordered(self) -> Effective:
        if self.to is not None and self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        return self


class PlanYear(Model):
    """The frame of everything "to date": quotas are annual for the plan year."""

    start_month: int = Field(default=1, ge=1, le=12)
    """The month the plan year begins: 10 means October to September."""


class Plan(Model):
    """How one role is paid: roster rows whose ``role`` is the plan's key."""

    description: str | None = None
    """Free text for readers."""
    components: list[Component] = Field(min_length=1)
    """What the plan pays, in statement order; component ids unique in the plan."""

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
    """How many days after a sale a refund or dispute may still take paid commission back."""


class RuleSet(Model):
    """A whole rule set: currency, rounding, dimensions and a plan per role."""

    id: Slug
    """Names the rule set (a slug)."""
    version: str = Field(min_length=1, max_length=64)
    """The rule set's version, as text (quote it: "2027.1")."""
    name: str | None = None
    """A title for readers."""
    currency: str
    """The ISO 4217 code of all money in the rules and of every employee's pay."""
    rounding: Rounding = Rounding.HALF_UP
    """How each figure is rounded to the currency's minor unit."""
    locale: str = "en_US"
    """The locale statements are meant for."""
    effective: Effective
    """The dates the rules apply to."""
    plan_year: PlanYear = PlanYear()
    """When the plan year starts."""
    clawback: Clawback | None = None
    """How long refunds and disputes may take paid commission back; none: all plan year."""
    dimensions: dict[str, list[str]] = Field(default_factory=dict)
    """The allowed values of each employee dimension (a roster column) the rules use; ``role``
    is implicit (its values are the plan keys)."""
    plans: dict[Slug, Plan] = Field(min_length=1)
    """One plan per role: the key is the roster's ``role`` value."""
    bands: list[SalaryBands] | None = Field(default=None, min_length=1)
    """Salary bands (min, mid, max of annual base) by role and dimensions, effective-dated."""
    shared: dict[str, Any] | None = None
    """Free-form blocks holding YAML anchors (``&car``) that plans reuse (``*car``); the
    engine never reads it."""
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

    @property
    def uses_margin(self) -> bool:
        """Whether a component pays or measures on the ledger's ``margin`` (a commission or an
        override with ``basis: margin``): a ledger read for rules that do not leaves the
        column unread (:func:`compcalc.read_ledger` with ``rules=``)."""
        return any(
            getattr(component, "basis", "amount") == "margin"
            for plan in self.plans.values()
            for component in plan.components
        )
