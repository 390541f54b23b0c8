"""Distributions of quota attainment, for the pay an offer can be expected to bring.

Three sources, each giving attainments as exact decimal fractions (1.05 is 105 % of quota):

* :class:`AttainmentSamples`: values the user gives (a CSV with an ``attainment`` column);
* :class:`NormalAttainment`: a normal distribution with a mean and standard deviation, sampled
  with a seeded :class:`numpy.random.Generator` (the same seed, the same samples);
* :func:`past_attainment`: what the role's employees reached in a past ledger, annualised.

Every attainment is rounded to :data:`RESOLUTION` (1 % of quota) and floored at zero, so a
thousand samples need at most a few hundred engine evaluations.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import CompcalcError, Diagnostic
from ..inputs import Ledger, Roster
from ..periods import parse_period, plan_year_start
from ..rules.schema import Bonus, Commission, RuleSet

RESOLUTION = Decimal("0.01")
MAX_SAMPLES = 100_000


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AttainmentSamples(_Model):
    """Attainments given as data: each a fraction of quota (``1.05`` is 105 %)."""

    values: tuple[Annotated[Decimal, Field(allow_inf_nan=False)], ...] = Field(min_length=1)
    source: str = "given attainments"


class NormalAttainment(_Model):
    """Attainment ~ normal(mean, sd), ``samples`` draws from a generator seeded with ``seed``."""

    mean: Annotated[Decimal, Field(allow_inf_nan=False, ge=0)]
    sd: Annotated[Decimal, Field(allow_inf_nan=False, ge=0)]
    samples: int = Field(default=1000, ge=1, le=MAX_SAMPLES)
    seed: int = Field(default=0, ge=0)

    def draw(self) -> AttainmentSamples:
        """The samples, reproducibly: the same mean, sd, count and seed give the same values.

        >>> NormalAttainment(mean=Decimal("1"), sd=Decimal("0"), samples=2).draw().values
        (Decimal('1.00'), Decimal('1.00'))
        """
        generator = np.random.Generator(np.random.PCG64(self.seed))
        # Sampling a ratio (not money); each draw becomes an exact 1 % step at once.
        drawn = generator.normal(float(self.mean), float(self.sd), self.samples)  # float-ok
        exact = (Decimal(repr(float(x))) for x in drawn)  # float-ok: shortest repr, then exact
        values = tuple(x.quantize(RESOLUTION, ROUND_HALF_EVEN) for x in exact)
        return AttainmentSamples(
            values=values,
            source=f"normal, mean {_pct(self.mean)}, sd {_pct(self.sd)}, "
            f"{self.samples} samples, seed {self.seed}",
        )


Distribution = AttainmentSamples | NormalAttainment


def grid(samples: AttainmentSamples) -> list[Decimal]:
    """Each sample rounded to the 1 % grid and floored at zero, in the order given."""
    return [max(Decimal(0), v.quantize(RESOLUTION, ROUND_HALF_EVEN)) for v in samples.values]


def read_attainments(path: str | Path) -> AttainmentSamples:
    """Attainments from a CSV file with an ``attainment`` column (fractions: 0.95, 1.10).

    Every bad cell is reported with its file, line and column; a percent sign is refused
    rather than guessed (write 95 % as 0.95).
    """
    source = str(path)
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = [name.strip() for name in rows[0]] if rows else []
    if "attainment" not in header:
        found = ", ".join(header) or "none"
        raise CompcalcError(
            [Diagnostic(source, 1, None, "", f"needs a column 'attainment'; found {found}")]
        )
    column = header.index("attainment")
    values, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        cell = row[column].strip() if column < len(row) else ""
        try:
            value = Decimal(cell)
            ok = value.is_finite() and value >= 0 and "e" not in cell.lower()
        except InvalidOperation:
            ok = False
        if ok:
            values.append(value)
        else:
            problems.append(Diagnostic(
                source, line, column + 1, "attainment",
                f"expected a fraction of quota such as 0.95 or 1.10, got {cell!r}",
            ))  # fmt: skip
    if problems:
        raise CompcalcError(problems)
    if not values:
        raise CompcalcError([Diagnostic(source, None, None, "", "has no attainment values")])
    return AttainmentSamples(values=tuple(values), source=f"{len(values)} attainments in {source}")


def past_attainment(
    rules: RuleSet, role: str, roster: Roster, ledger: Ledger, period: str
) -> AttainmentSamples:
    """What the role's employees attained in a past ledger, up to ``period``, annualised.

    The period is run through the engine (disputes, refunds and splits count as they pay);
    each employee's credited sales to date over their quota, times 12 over the months of the
    plan year elapsed, is one sample.
    """
    from ..engine.run import run_period

    result = run_period(rules, roster, ledger, period)
    span = parse_period(period)
    year_start = plan_year_start(span.end, rules.plan_year.start_month)
    months = (span.end.year - year_start.year) * 12 + span.end.month - year_start.month + 1
    measured = _measured_component(rules, role)
    values = []
    for statement in result.statements:
        figures = dict(dict(statement.to_date).get(measured, ()))
        if statement.role != role or "quota" not in figures:
            continue
        credited = Decimal(figures["credited_to_date"].replace(",", ""))
        quota = Decimal(figures["quota"].replace(",", ""))
        if quota > 0:
            values.append(credited * 12 / (quota * months))
    if not values:
        raise CompcalcError(
            f"the ledger has no {role} with a quota and sales up to {period} to learn "
            "attainment from"
        )
    return AttainmentSamples(
        values=tuple(values),
        source=f"{len(values)} {role}s' attainment to {period} in {ledger.source}, "
        f"annualised x 12/{months}",
    )


def _measured_component(rules: RuleSet, role: str) -> str:
    for component in rules.plans[role].components:
        if isinstance(component, Commission | Bonus):
            return component.id
    raise CompcalcError(f"plan {role} has no commission or bonus measured against a quota")


def _pct(value: Decimal) -> str:
    return f"{(value * 100).normalize():f} %"
