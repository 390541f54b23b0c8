"""Model an offer: the band check, on-target pay, the payout curve and expected pay.

>>> import compcalc                                                          # doctest: +SKIP
>>> rules = compcalc.load_rules("rules/account_managers.yaml")               # doctest: +SKIP
>>> result = compcalc.model_offer(rules, role="key_account_manager", seniority="senior",
...     company_size="large", region="metro", base="104000", quota="1200000")  # doctest: +SKIP
>>> result.band.position, result.band.compa_ratio, result.ote             # doctest: +SKIP
('inside', Decimal('0.9858'), Decimal('143000.00'))
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import CompcalcError, Diagnostic
from ..inputs import Ledger, Roster
from ..money import minor_digits
from ..rules.digest import ruleset_digest
from ..rules.schema import BaseSalary, Bonus, Commission, Draw, Override, RuleSet
from .attainment import AttainmentSamples, NormalAttainment, grid, past_attainment
from .bands import BandRow, band_for
from .payout import AnnualPay, Hire, annual_pay, plan_year_of

STEP = Decimal("0.05")
TOP = Decimal("2")
CORE_DIMENSIONS = ("seniority", "company_size", "region")
RATIO_PLACES = 4
Money = Annotated[Decimal, Field(allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Offer(_Model):
    """A candidate offer: the plan (role), the employee's dimensions, annual base and quota.

    Money is exact: text, int or Decimal in major units (``"104000"``), never a float.
    """

    role: str
    seniority: str
    company_size: str
    region: str
    base: Money = Field(gt=0)
    quota: Money | None = Field(default=None, ge=0)
    label: str = ""
    # Values of any further dimension the rules declare (e.g. {"segment": "retail"}).
    dimensions: dict[str, str] = Field(default_factory=dict)

    @field_validator("base", "quota", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("money must be exact: give text, an int or a Decimal, not a float")
        return value

    def dimensions_for(self, rules: RuleSet) -> dict[str, str]:
        """The offer's dimension values that the rules use."""
        core = {"seniority": self.seniority, "company_size": self.company_size,
                "region": self.region}  # fmt: skip
        return {**{k: v for k, v in core.items() if k in rules.dimensions}, **self.dimensions}

    def describe(self) -> str:
        words = f"{self.seniority} {self.role.replace('_', ' ')}, {self.company_size} company, "
        words += self.region.replace("_", "-")
        return f"{self.label}: {words}" if self.label else words


class BandCheck(_Model):
    """Where the offer's base sits in its salary band."""

    min: Money
    mid: Money
    max: Money
    effective_from: dt.date
    effective_to: dt.date | None
    position: Literal["below", "inside", "above"]
    outside_by: Money  # how far below the minimum or above the maximum; 0 inside
    compa_ratio: Decimal  # base / midpoint, rounded half up to 4 decimals
    range_penetration: Decimal | None  # (base - min) / (max - min), 4 decimals; None if min = max
    from_default: bool = False


class CurvePoint(_Model):
    """Total annual pay at one quota attainment, split as the statements would pay it."""

    attainment: Decimal  # fraction of quota: 1.05 is 105 %
    base: Money
    variable: Money  # commission, bonuses, draws
    allowances: Money
    total: Money
    components: tuple[tuple[str, Money], ...]  # per component id, the year's pay


class Expected(_Model):
    """Annual pay under a distribution of attainment (percentiles by nearest rank)."""

    source: str
    samples: int
    mean: Money
    p10: Money
    median: Money
    p90: Money
    attainment_p10: Decimal
    attainment_median: Decimal
    attainment_p90: Decimal


class OfferResult(_Model):
    """Everything an HR partner needs to judge an offer, every amount exact."""

    offer: Offer
    ruleset_id: str
    ruleset_version: str
    ruleset_sha256: str
    currency: str
    locale: str
    plan_year_start: dt.date
    plan_year_end: dt.date
    quota: Money | None
    band: BandCheck
    base: Money  # annual base the plan pays
    target_variable: Money  # variable pay at 100 % of quota
    ote: Money  # on-target earnings: base + target variable
    pay_mix: tuple[int, int]  # base and variable as whole percentages of OTE
    allowances: Money
    total_at_target: Money  # OTE + allowances
    variable_components: tuple[str, ...]
    allowance_components: tuple[str, ...]
    curve: tuple[CurvePoint, ...]
    expected: Expected | None = None
    notes: tuple[str, ...] = ()

    def at(self, attainment: Decimal | str) -> CurvePoint:
        """The curve point at ``attainment`` (a fraction, as on the curve)."""
        wanted = Decimal(attainment)
        for point in self.curve:
            if point.attainment == wanted:
                return point
        raise KeyError(f"no curve point at attainment {wanted}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: decimals and dates as text."""
        data: dict[str, Any] = json.loads(self.model_dump_json())
        data["verdict"] = verdict(self)
        return data

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, two-space indent, trailing newline."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class PastLedger:
    """Attainment learnt from a past roster and ledger up to ``period`` (see
    :func:`~compcalc.offers.attainment.past_attainment`)."""

    roster: Roster
    ledger: Ledger
    period: str


Distribution = AttainmentSamples | NormalAttainment | PastLedger


def model_offer(
    rules: RuleSet,
    offer: Offer | None = None,
    *,
    as_of: dt.date | None = None,
    distribution: Distribution | None = None,
    step: Decimal | str = STEP,
    deals_per_month: int = 1,
    **fields: Any,
) -> OfferResult:
    """Model one offer under ``rules``: give an :class:`Offer` or its fields as keywords.

    The payout curve runs the plan through the engine month by month for the plan year
    containing ``as_of`` (default: the first the rules cover), from 0 % to 200 % of quota in
    steps of ``step`` (5 % or finer). ``distribution`` adds expected pay: given attainments,
    a seeded normal distribution, or a past ledger.
    """
    if offer is None:
        offer = Offer(**fields)
    elif fields:
        raise TypeError("give an Offer or its fields, not both")
    return compare_offers(
        rules, [offer], as_of=as_of, distribution=distribution, step=step,
        deals_per_month=deals_per_month,
    )[0]  # fmt: skip


def compare_offers(
    rules: RuleSet,
    offers: Sequence[Offer],
    *,
    as_of: dt.date | None = None,
    distribution: Distribution | None = None,
    step: Decimal | str = STEP,
    deals_per_month: int = 1,
) -> list[OfferResult]:
    """Model several offers side by side; their curves run through the engine together."""
    step = _check_step(Decimal(step))
    if deals_per_month < 1:
        raise CompcalcError("deals per month must be 1 or more")
    year = plan_year_of(rules, as_of)
    day = as_of or year.start
    attainments = [step * k for k in range(int(TOP / step) + 1)]
    plans = []
    drawn: dict[str, AttainmentSamples] = {}  # per role: a distribution is sampled once
    for offer in offers:
        band = band_for(rules, offer.role, offer.dimensions_for(rules), day)
        quota = _quota(rules, offer)
        samples = None
        if distribution is not None:
            if offer.role not in drawn:
                drawn[offer.role] = _as_samples(distribution, rules, offer.role)
            samples = grid(drawn[offer.role])
        wanted = list(dict.fromkeys([*attainments, *(samples or [])]))
        plans.append((offer, band, quota, samples, wanted))
    hires = [
        _hire(offer, quota, a, rules) for offer, _b, quota, _s, wanted in plans for a in wanted
    ]
    pays = iter(annual_pay(rules, hires, year, deals_per_month))
    results = []
    for offer, band, quota, samples, wanted in plans:
        by_attainment = {a: next(pays) for a in wanted}
        results.append(
            _result(rules, offer, band, quota, year, attainments, by_attainment, samples,
                    drawn.get(offer.role), deals_per_month)
        )
    return results


def read_offers(path: str | Path, rules: RuleSet) -> list[Offer]:
    """Offers from a CSV file: ``label`` (optional), ``role``, ``seniority``, ``company_size``,
    ``region``, ``base``, ``quota`` (optional), and any further dimension the rules declare.
    Every bad cell is reported with its file, line and column."""
    source = str(path)
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    header = [name.strip() for name in rows[0]] if rows else []
    needed = ["role", *CORE_DIMENSIONS, "base"]
    missing = [name for name in needed if name not in header]
    if missing:
        raise CompcalcError([Diagnostic(
            source, 1, None, "", f"missing column(s) {', '.join(missing)}; a row needs "
            "label (optional), role, seniority, company_size, region, base, quota (optional)",
        )])  # fmt: skip
    digits = minor_digits(rules.currency)
    offers, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[k].strip() if k < len(row) else "") for k, name in enumerate(header)}
        money = {}
        for name in ("base", "quota"):
            text = cells.get(name, "")
            if name == "quota" and not text:
                continue
            if not _MONEY.fullmatch(text) or len(text.partition(".")[2]) > digits:
                problems.append(Diagnostic(
                    source, line, header.index(name) + 1, name,
                    f"expected an amount such as 104000 or 104000.00, got {text!r}",
                ))  # fmt: skip
            else:
                money[name] = Decimal(text)
        if "base" not in money:
            continue
        extra = {k: v for k, v in cells.items() if k in rules.dimensions and k not in needed}
        offers.append(Offer(
            role=cells["role"], seniority=cells["seniority"],
            company_size=cells["company_size"], region=cells["region"],
            base=money["base"], quota=money.get("quota"),
            label=cells.get("label", "") or f"line {line}", dimensions=extra,
        ))  # fmt: skip
    if problems:
        raise CompcalcError(problems)
    if not offers:
        raise CompcalcError([Diagnostic(source, None, None, "", "has no offers")])
    return offers


def parse_amount(text: str, rules: RuleSet, what: str) -> Decimal:
    """An amount typed by a person (``104000``, ``104000.00``, ``104,000``) as an exact Decimal."""
    plain = text.strip().replace(",", "").replace("_", "")
    digits = minor_digits(rules.currency)
    if not _MONEY.fullmatch(plain) or len(plain.partition(".")[2]) > digits:
        raise CompcalcError(
            f"{what} {text!r} is not an amount; write it like 104000 or 104000.00 "
            f"({rules.currency}, at most {digits} decimals)"
        )
    return Decimal(plain)


_MONEY = re.compile(r"\d+(\.\d+)?")


# --------------------------------------------------------------------------- the figures


def verdict(result: OfferResult) -> str:
    """One sentence for the reader: inside the band, or below/above it and by how much."""
    band, offer = result.band, result.offer
    money = _money_formatter(result)
    where = f"{money(offer.base)} base"
    if band.position == "inside":
        return (
            f"Inside the band: {where} is between the minimum {money(band.min)} and the "
            f"maximum {money(band.max)} (compa-ratio {_percent(band.compa_ratio)})."
        )
    edge = "minimum" if band.position == "below" else "maximum"
    limit = band.min if band.position == "below" else band.max
    return (
        f"{band.position.capitalize()} the band: {where} is {money(band.outside_by)} "
        f"{band.position} the band's {edge} of {money(limit)}. An offer outside the band "
        "needs an exception under pay policy."
    )


def _result(
    rules: RuleSet,
    offer: Offer,
    band: BandRow,
    quota: Decimal | None,
    year: Any,
    attainments: list[Decimal],
    pays: Mapping[Decimal, AnnualPay],
    samples: list[Decimal] | None,
    drawn: AttainmentSamples | None,
    deals_per_month: int,
) -> OfferResult:
    curve = tuple(_point(a, pays[a]) for a in attainments)
    target = pays[Decimal(1)]
    ote = target.base + target.variable
    base_share = _rounded(Fraction(target.base) / Fraction(ote), 2) if ote else Decimal(1)
    mix = int(base_share * 100)
    components = [c for c in rules.plans[offer.role].components]
    variable_ids = tuple(c.id for c in components if isinstance(c, Commission | Bonus | Draw))
    allowance_ids = tuple(c.id for c in components if c.kind == "allowance" and
                          dict(target.by_component).get(c.id))  # fmt: skip
    expected = None
    if samples is not None and drawn is not None:
        expected = _expected(samples, pays, drawn.source, rules)
    return OfferResult(
        offer=offer,
        ruleset_id=rules.id,
        ruleset_version=rules.version,
        ruleset_sha256=ruleset_digest(rules),
        currency=rules.currency,
        locale=rules.locale,
        plan_year_start=year.start,
        plan_year_end=year.end,
        quota=quota,
        band=_band_check(offer.base, band),
        base=target.base,
        target_variable=target.variable,
        ote=ote,
        pay_mix=(mix, 100 - mix),
        allowances=target.allowances,
        total_at_target=target.total,
        variable_components=variable_ids,
        allowance_components=allowance_ids,
        curve=curve,
        expected=expected,
        notes=tuple(_notes(rules, offer, band, year, deals_per_month)),
    )


def _band_check(base: Decimal, band: BandRow) -> BandCheck:
    position: Literal["below", "inside", "above"] = "inside"
    outside = Decimal(0)
    if base < band.min:
        position, outside = "below", band.min - base
    elif base > band.max:
        position, outside = "above", base - band.max
    spread = band.max - band.min
    return BandCheck(
        min=band.min,
        mid=band.mid,
        max=band.max,
        effective_from=band.effective_from,
        effective_to=band.effective_to,
        position=position,
        outside_by=outside,
        compa_ratio=_rounded(Fraction(base) / Fraction(band.mid), RATIO_PLACES),
        range_penetration=(
            _rounded(Fraction(base - band.min) / Fraction(spread), RATIO_PLACES) if spread else None
        ),
        from_default=band.default,
    )


def _expected(
    samples: list[Decimal],
    pays: Mapping[Decimal, AnnualPay],
    source: str,
    rules: RuleSet,
) -> Expected:
    totals = sorted((pays[a].total, a) for a in samples)
    attainments = sorted(samples)
    n = len(samples)
    digits = minor_digits(rules.currency)
    mean = _rounded(Fraction(sum((t for t, _ in totals), Decimal(0))) / n, digits)
    return Expected(
        source=source,
        samples=n,
        mean=mean,
        p10=totals[_rank(10, n)][0],
        median=totals[_rank(50, n)][0],
        p90=totals[_rank(90, n)][0],
        attainment_p10=attainments[_rank(10, n)],
        attainment_median=attainments[_rank(50, n)],
        attainment_p90=attainments[_rank(90, n)],
    )


def _rank(percent: int, n: int) -> int:
    """Nearest-rank percentile: the smallest sample with at least ``percent`` % at or below."""
    return max(1, -(-percent * n // 100)) - 1


def _as_samples(distribution: Distribution, rules: RuleSet, role: str) -> AttainmentSamples:
    if isinstance(distribution, NormalAttainment):
        return distribution.draw()
    if isinstance(distribution, PastLedger):
        return past_attainment(
            rules, role, distribution.roster, distribution.ledger, distribution.period
        )
    return distribution


def _quota(rules: RuleSet, offer: Offer) -> Decimal | None:
    """The offer's quota; required when the plan measures attainment against the roster's."""
    plan = rules.plans[offer.role]
    uses = [c for c in plan.components if isinstance(c, Commission | Bonus)]
    margin = [c.id for c in plan.components if isinstance(c, Commission | Override)
              and c.basis == "margin"]  # fmt: skip
    if margin:
        raise CompcalcError(
            f"plan {offer.role} pays {', '.join(margin)} on margin; an offer is modelled on "
            "sales amounts only"
        )
    if offer.quota is None and any(c.quota == "roster" for c in uses):
        raise CompcalcError(
            f"plan {offer.role} measures sales against the employee's annual quota; give the "
            "quota of the offer (--quota AMOUNT, e.g. --quota 1200000)"
        )
    if offer.quota is None and uses:
        raise CompcalcError(
            f"plan {offer.role} sets its quota in the rules; give the quota it comes to for "
            "this offer (--quota AMOUNT) so attainment can be turned into sales"
        )
    return offer.quota


def _hire(offer: Offer, quota: Decimal | None, attainment: Decimal, rules: RuleSet) -> Hire:
    dims = tuple(sorted(offer.dimensions_for(rules).items()))
    return Hire(offer.role, dims, offer.base, quota or Decimal(0), attainment)


def _point(attainment: Decimal, pay: AnnualPay) -> CurvePoint:
    return CurvePoint(
        attainment=attainment,
        base=pay.base,
        variable=pay.variable,
        allowances=pay.allowances,
        total=pay.total,
        components=pay.by_component,
    )


def _notes(
    rules: RuleSet, offer: Offer, band: BandRow, year: Any, deals_per_month: int
) -> list[str]:
    plan = rules.plans[offer.role]
    deals = "one deal" if deals_per_month == 1 else f"{deals_per_month} equal deals"
    notes = [
        f"Pay is what compcalc's monthly runs pay for the plan year {year.start} to "
        f"{year.end}, for someone hired on {year.start} who sells {deals} a month of equal "
        "size, with no refunds or disputes."
    ]
    for component in plan.components:
        if isinstance(component, Override):
            notes.append(
                f"{component.label or component.id} is not included: it depends on a team's "
                "sales."
            )
        elif isinstance(component, Draw) and component.recoverable:
            notes.append(
                f"{component.label or component.id}: advances still outstanding at the plan "
                "year's end are written off, so at low attainment they count as pay."
            )
        elif isinstance(component, BaseSalary) and component.annual != "roster":
            notes.append("The plan pays base from the rules, not the offer's base.")
    if band.default:
        notes.append("The band is the rule set's default band for combinations not listed.")
    return notes


def _check_step(step: Decimal) -> Decimal:
    if not (0 < step <= STEP) or (1 / step) != (1 / step).to_integral_value():
        raise CompcalcError(
            f"the curve's step {step} must be 5 % (0.05) or finer and divide 100 % evenly "
            "(e.g. 0.05, 0.025, 0.01)"
        )
    return step


def _rounded(value: Fraction, places: int) -> Decimal:
    """An exact ratio rounded half up to ``places`` decimals (no float on the way)."""
    scaled = value * 10**places
    whole = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    if scaled < 0:
        whole = -((-scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator))
    return Decimal(whole).scaleb(-places)


def _percent(value: Decimal) -> str:
    from .render import percent_text

    return percent_text(value)


def _money_formatter(result: OfferResult) -> Any:
    from .render import money_text

    return lambda amount: money_text(amount, result.currency, result.locale)
