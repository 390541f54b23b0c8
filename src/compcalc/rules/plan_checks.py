"""Plan checks: rule sets that are valid but probably not what their author meant.

``compcalc validate`` refuses a rule file that breaks the rule language. ``compcalc check``
also reports what a valid plan probably does not mean, as warnings at the file, line and
column of the rule concerned, each with a short code (docs/rule-language.md, "Plan checks"):

* ``pays-less``: more sales would pay less: a retroactive band with a lower rate than the
  band below it, a negative commission or override rate, a negative bonus target or step
  payout. A tier band that is meant to pay less says so with ``decelerator: true`` and is not
  reported;
* ``band-gap``: band edges written as tables or dated values leave a gap or overlap for some
  employees (edges written as plain numbers are checked by ``validate``, as errors);
* ``unreachable-band``: a retroactive band that ends at or below the gate is never paid at;
* ``cap-below-gate``: a plan-year cap no more than what the gate already pays, or a linear
  bonus whose attainment cap is not above its floor: pay stops growing at the gate;
* ``never-pays``: a cap of 0 or less;
* ``dead-step``: a bonus step that never changes the bonus;
* ``missing-combination``: a table with no value (and no default) for some combination of
  declared dimension values the component can meet;
* ``money-decimals``: money with more decimals than the currency has;
* ``no-value``, ``dated-unused``: dated values with nothing in force when the rules take
  effect, or an entry that is never in force.

Each component is checked for every combination of the declared dimension values its tables
use (narrowed by its ``when``) and on every date one of its dated values changes. Commission
is evaluated exactly with the engine's own tier arithmetic (``engine/tiers.py``) at every band
edge, just below it and beyond the last one.

>>> rules = '''
... id: demo
... version: "1"
... currency: USD
... effective: {from: 2027-01-01}
... plans:
...   rep:
...     components:
...       - id: commission
...         kind: commission
...         tiers:
...           method: retroactive
...           bands:
...             - {id: low, from: 0, to: 0.5, rate: 0.05}
...             - {id: high, from: 0.5, rate: 0.04}
... '''
>>> [(f.severity, f.code, f.diagnostic.line) for f in check_rules_text(rules, "demo.yaml")]
[('warning', 'pays-less', 15)]
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path as FilePath
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from ..errors import Diagnostic, RuleFileError
from ..money import (
    as_fraction,
    format_amount,
    format_decimal_amount,
    format_rate,
    minor_digits,
    round_div,
    to_minor,
)
from .checks import MISSING_SHOWN
from .loader import format_path, read_rule_text
from .schema import (
    Allowance,
    BaseSalary,
    Bonus,
    Commission,
    Dated,
    Draw,
    Override,
    RuleSet,
    Table,
    Tiers,
)

__all__ = ["Finding", "check_rules", "check_rules_text", "plan_warnings"]

Path = tuple[str | int, ...]
Combo = dict[str, str]
# With ``quota: roster`` curves are drawn for this quota (major units): attainment-measured
# bands scale with it, so the shape (and whether more sales pay less) does not depend on it.
SAMPLE_QUOTA = 1_000_000


@dataclass(frozen=True)
class Finding:
    """One result of ``compcalc check``: an error (the file is invalid) or a warning."""

    severity: Literal["error", "warning"]
    code: str  # "invalid" for errors; the warning's code (see the module doc)
    diagnostic: Diagnostic

    def __str__(self) -> str:
        """``file:line:col: warning: field: message [code]`` and the line with a caret."""
        d = self.diagnostic
        where = d.source
        if d.line is not None:
            where += f":{d.line}" + (f":{d.column}" if d.column is not None else "")
        text = f"{where}: {self.severity}: " + (f"{d.field}: " if d.field else "") + d.message
        if self.severity == "warning":
            text += f" [{self.code}]"
        return text + (f"\n{d.excerpt}" if d.excerpt else "")


def check_rules(path: str | FilePath) -> list[Finding]:
    """Every error ``validate`` gives for the file at ``path``, else every plan warning.

    >>> check_rules("rules/account_managers.yaml")  # doctest: +SKIP
    []
    """
    try:
        text = read_rule_text(path)
    except RuleFileError as error:
        return [Finding("error", "invalid", d) for d in error.diagnostics]
    return check_rules_text(text, str(path))


def check_rules_text(text: str, source: str = "<rules>") -> list[Finding]:
    """Like :func:`check_rules`, for rule-file YAML given as text."""
    from . import load_rules_text

    try:
        rules = load_rules_text(text, source)
    except RuleFileError as error:
        return [Finding("error", "invalid", d) for d in error.diagnostics]
    return plan_warnings(rules)


def plan_warnings(rules: RuleSet) -> list[Finding]:
    """The warnings of a valid rule set, sorted by position (see the module doc)."""
    hits: list[_Hit] = _dated_hits(rules)
    for site in _sites(rules):
        hits += _missing_combinations(site)
        hits += _money_decimals(site)
        hits += _component_hits(site)
    findings: dict[tuple[Any, ...], Finding] = {}
    for (path, code), group in _grouped(hits).items():
        diagnostic = rules.locate(format_path(path), _message(group))
        # A component reused through a YAML alias is the same text: report it once.
        key = (diagnostic.line, diagnostic.column, code, diagnostic.message)
        findings.setdefault(key, Finding("warning", code, diagnostic))
    return sorted(findings.values(), key=_order)


def _order(finding: Finding) -> tuple[int, int, str, str]:
    d = finding.diagnostic
    return (d.line or 0, d.column or 0, d.field, d.message)


# --------------------------------------------------------------------------- hits


@dataclass(frozen=True)
class _Hit:
    """One problem for one combination and date, before hits of the same rule are merged."""

    path: Path
    code: str
    body: str
    where: str = ""  # "for seniority=mid, company_size=small from 2027-01-01", or less
    hint: str = ""


def _grouped(hits: list[_Hit]) -> dict[tuple[Path, str], list[_Hit]]:
    groups: dict[tuple[Path, str], list[_Hit]] = {}
    for hit in hits:
        groups.setdefault((hit.path, hit.code), []).append(hit)
    return groups


def _message(group: list[_Hit]) -> str:
    first = group[0]
    places = list(dict.fromkeys(hit.where for hit in group if hit.where))
    text = first.body
    if places:
        more = f" and {len(places) - 1} more" if len(places) > 1 else ""
        text += f", {places[0]}{more}"
    return text + first.hint


@dataclass(frozen=True)
class _Site:
    """One component of one plan, with what it can meet: dimension values and dates."""

    rules: RuleSet
    plan: str
    index: int
    component: Any

    @property
    def path(self) -> Path:
        return ("plans", self.plan, "components", self.index)

    @property
    def digits(self) -> int:
        return minor_digits(self.rules.currency)

    def combos(self) -> list[Combo]:
        """Every combination of the values of the dimensions the component's tables use."""
        names = list(dict.fromkeys(n for t in _tables(self.component) for n in t.by))
        choices = [self.values_of(name) for name in names]
        return [dict(zip(names, values, strict=True)) for values in itertools.product(*choices)]

    def values_of(self, name: str) -> list[str]:
        allowed = [self.plan] if name == "role" else self.rules.dimensions.get(name, [])
        when = self.component.when or {}
        return [v for v in allowed if name not in when or v in when[name]]

    @cached_property
    def dates(self) -> list[dt.date]:
        """The day the rules take effect and each later day a dated value changes."""
        start, end = self.rules.effective.from_, self.rules.effective.to
        changes = {
            entry.from_
            for _, param in _params(self.component, ())
            if isinstance(param, Dated)
            for entry in param.dated
            if start < entry.from_ and (end is None or entry.from_ <= end)
        }
        return [start, *sorted(changes)]

    def where(self, combo: Combo, day: dt.date) -> str:
        """``for seniority=mid, company_size=small from 2027-07-01``, or less, or nothing."""
        values = ", ".join(f"{k}={v}" for k, v in combo.items() if k != "role")
        parts = [f"for {values}"] if values else []
        if len(self.dates) > 1:
            parts.append(f"from {day}")
        return " ".join(parts)


def _sites(rules: RuleSet) -> Iterator[_Site]:
    for plan_key, plan in rules.plans.items():
        for index, component in enumerate(plan.components):
            site = _Site(rules, plan_key, index, component)
            if "role" not in (component.when or {}) or site.values_of("role"):
                yield site


def _params(node: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    """Every Param (number, table or dated values) below ``node`` with its path."""
    if isinstance(node, Decimal | Table | Dated):
        yield path, node
    elif isinstance(node, BaseModel):
        for name, info in type(node).model_fields.items():
            value = getattr(node, name)
            if value is not None and name != "when":
                yield from _params(value, (*path, info.alias or name))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _params(item, (*path, index))


def _tables(component: Any) -> Iterator[Table]:
    for _, param in _params(component, ()):
        if isinstance(param, Table):
            yield param
        elif isinstance(param, Dated):
            yield from (e.value for e in param.dated if isinstance(e.value, Table))


def _value(param: Any, day: dt.date, combo: Combo) -> Decimal | None:
    """A Param's value for one combination on ``day``; None where the rules give none."""
    if isinstance(param, Dated):
        in_force = [entry for entry in param.dated if entry.from_ <= day]
        if not in_force:
            return None
        param = in_force[-1].value
    if isinstance(param, Table):
        node: Any = param.values
        for name in param.by:  # one level of keys per dimension
            if not isinstance(node, dict) or combo[name] not in node:
                return param.default
            node = node[combo[name]]
        return node if isinstance(node, Decimal) else param.default
    return Decimal(param)


def _resolves(site: _Site, day: dt.date, combo: Combo) -> bool:
    return all(_value(p, day, combo) is not None for _, p in _params(site.component, ()))


# --------------------------------------------------------------------------- tables, dates


def _missing_combinations(site: _Site) -> list[_Hit]:
    """A table with no value (and no default) for combinations the component can meet."""
    hits = []
    for path, param in _params(site.component, site.path):
        tables = [(path, param)] if isinstance(param, Table) else []
        if isinstance(param, Dated):
            tables = [
                ((*path, "dated", k, "value"), entry.value)
                for k, entry in enumerate(param.dated)
                if isinstance(entry.value, Table)
            ]
        for where, table in tables:
            if table.default is not None:
                continue
            present = {keys for keys, _ in table.entries()}
            choices = [site.values_of(name) for name in table.by]
            missing = [keys for keys in itertools.product(*choices) if keys not in present]
            if missing:
                shown = "; ".join(
                    ", ".join(f"{n}={v}" for n, v in zip(table.by, keys, strict=True))
                    for keys in missing[:MISSING_SHOWN]
                )
                more = len(missing) - MISSING_SHOWN
                shown += f" and {more} more" if more > 0 else ""
                body = (
                    f"the table has no value for {shown} and no default: a run stops for any "
                    "employee with these values (add them, or a 'default')"
                )
                hits.append(_Hit(where, "missing-combination", body))
    return hits


def _dated_hits(rules: RuleSet) -> list[_Hit]:
    """Dated values with nothing in force when the rules take effect, or entries never used."""
    start, end = rules.effective.from_, rules.effective.to
    hits = []
    for site in _sites(rules):
        for path, param in _params(site.component, site.path):
            if not isinstance(param, Dated):
                continue
            entries = param.dated
            if entries[0].from_ > start:
                body = (
                    f"no value is in force from {start} (when the rules take effect) until "
                    f"{entries[0].from_}: a run of a period ending before then stops"
                )
                hits.append(_Hit((*path, "dated", 0, "from"), "no-value", body))
            for k, entry in enumerate(entries):
                following = entries[k + 1].from_ if k + 1 < len(entries) else None
                if following is not None and following <= start:
                    body = (
                        f"this entry is never in force: the entry from {following} replaces it "
                        f"by the time the rules take effect ({start})"
                    )
                    hits.append(_Hit((*path, "dated", k), "dated-unused", body))
                elif end is not None and entry.from_ > end:
                    body = f"this entry is never in force: it starts after the rules end ({end})"
                    hits.append(_Hit((*path, "dated", k), "dated-unused", body))
    return hits


def _money_params(site: _Site) -> list[tuple[Path, Any]]:
    """The Params of a component that are money (so must fit the currency's minor unit)."""
    c = site.component
    fields: list[Path] = [("quota",), ("cap", "amount"), ("target", "amount"), ("threshold",)]
    if isinstance(c, BaseSalary):
        fields.append(("annual",))
    if isinstance(c, Allowance | Draw):
        fields += [("amount",), ("recovery_limit",)]
    if isinstance(c, Commission) and c.tiers is not None and c.tiers.measure == "amount":
        for i in range(len(c.tiers.bands)):
            fields += [("tiers", "bands", i, "from"), ("tiers", "bands", i, "to")]
    params = dict(_params(c, ()))
    if isinstance(c, Bonus):
        params.pop(("cap",), None)  # a bonus cap is attainment, not money
    return [((*site.path, *f), params[f]) for f in fields if f in params]


def _numbers(param: Any) -> Iterator[Decimal]:
    if isinstance(param, Dated):
        for entry in param.dated:
            yield from _numbers(entry.value)
    elif isinstance(param, Table):
        yield from (value for _, value in param.entries())
        if param.default is not None:
            yield param.default
    else:
        yield Decimal(param)


def _money_decimals(site: _Site) -> list[_Hit]:
    digits, currency = site.digits, site.rules.currency
    hits = []
    for path, param in _money_params(site):
        bad = [n for n in _numbers(param) if n.scaleb(digits) != n.scaleb(digits).to_integral()]
        if bad:
            body = (
                f"{bad[0]} has more than {digits} decimal places for {currency}: a run that "
                "needs it stops"
            )
            hits.append(_Hit(path, "money-decimals", body))
    return hits


# --------------------------------------------------------------------------- components


def _component_hits(site: _Site) -> list[_Hit]:
    """Per date and combination of dimension values: bands, caps, gates, steps, curves."""
    component = site.component
    if not isinstance(component, Commission | Bonus | Override):
        return []
    hits: list[_Hit] = []
    for day in site.dates:
        combos = [{**c, "role": site.plan} for c in site.combos()]
        combos = [c for c in combos if _resolves(site, day, c)]
        if isinstance(component, Bonus | Override):
            check = _bonus_hits if isinstance(component, Bonus) else _override_hits
            for combo in combos:
                hits += check(site, day, combo)
            continue
        whole = []
        for combo in combos:
            found = _band_edges(site, component.tiers, day, combo)
            found += _cap_and_gate(site, component, day, combo)
            hits += found
            if not any(h.code == "band-gap" for h in found):
                whole.append(combo)
        if whole:
            hits += _Curve(site, component, day, whole).hits()
    return hits


def _band_edges(site: _Site, tiers: Tiers | None, day: dt.date, combo: Combo) -> list[_Hit]:
    """Bands as resolved for one combination: from 0, each above its start, contiguous."""
    if tiers is None:
        return []
    where, bands, tail = site.where(combo, day), tiers.bands, ": a run stops for such employees"
    path = (*site.path, "tiers", "bands")
    lows = [_value(b.from_, day, combo) for b in bands]
    highs = [None if b.to is None else _value(b.to, day, combo) for b in bands]
    hits = []
    if lows[0] != 0:
        body = f"the first band {bands[0].id!r} starts at {lows[0]}, not 0"
        hits.append(_Hit((*path, 0, "from"), "band-gap", body, where, tail))
    for i, band in enumerate(bands):
        low, high = lows[i], highs[i]
        if high is not None and low is not None and high <= low:
            body = f"band {band.id!r} ends at {high}, not above where it starts ({low})"
            hits.append(_Hit((*path, i, "to"), "band-gap", body, where, tail))
        if high is not None and i + 1 < len(bands) and lows[i + 1] != high:
            after = bands[i + 1].id
            start = lows[i + 1] or Decimal(0)
            kind, side = ("a gap", "after") if start > high else ("an overlap", "before")
            body = f"{kind}: band {after!r} starts at {start}, {side} {band.id!r} ends ({high})"
            hits.append(_Hit((*path, i + 1, "from"), "band-gap", body, where, tail))
    return hits


def _cap_and_gate(site: _Site, c: Commission, day: dt.date, combo: Combo) -> list[_Hit]:
    """A cap of 0 or less; retroactive bands wholly below the gate."""
    where, hits = site.where(combo, day), []
    if c.cap is not None:
        cap = _value(c.cap.amount, day, combo)
        if cap is not None and cap <= 0:
            shown = format_decimal_amount(cap, site.digits)
            body = f"the cap is {shown}: this commission never pays anything"
            hits.append(_Hit((*site.path, "cap", "amount"), "never-pays", body, where))
    if c.gate is None or c.tiers is None or c.tiers.method.value != "retroactive":
        return hits
    gate = _value(c.gate, day, combo)
    if c.tiers.measure == "amount":
        quota = None if c.quota == "roster" else _value(c.quota, day, combo)
        if gate is None or quota is None:
            return hits  # where the gate falls among money bands depends on each quota
        money = format_decimal_amount(quota, site.digits)
        gate, shown = gate * quota, f"the gate ({format_rate(gate)} of quota {money})"
    else:
        shown = f"the gate ({format_rate(gate or Decimal(0))} of quota)"
    for i, band in enumerate(c.tiers.bands):
        high = None if band.to is None else _value(band.to, day, combo)
        if gate is not None and high is not None and high <= gate:
            body = (
                f"band {band.id!r} is never paid at: it ends at or below {shown}, so nothing "
                "is due while attainment is in it, and from the gate on a higher band's rate "
                "applies to everything"
            )
            hits.append(_Hit((*site.path, "tiers", "bands", i), "unreachable-band", body, where))
    return hits


def _bonus_hits(site: _Site, day: dt.date, combo: Combo) -> list[_Hit]:
    bonus: Bonus = site.component
    where, hits, path = site.where(combo, day), [], site.path
    field = "amount" if bonus.target.amount is not None else "percent_of_base"
    value = _value(getattr(bonus.target, field), day, combo)
    if value is not None and value < 0:
        body = f"more sales pay less: the target is negative ({value})"
        hits.append(_Hit((*path, "target", field), "pays-less", body, where))
    floor = None if bonus.floor is None else _value(bonus.floor, day, combo)
    if bonus.cap is not None and floor is not None:
        cap = _value(bonus.cap, day, combo)
        if cap is not None and cap <= floor:
            body = (
                f"the cap ({format_rate(cap)}) is not above the floor ({format_rate(floor)}): "
                "nothing is paid below the floor and from it on the bonus stays at the target "
                f"x {format_rate(cap)}, whatever is sold"
            )
            hits.append(_Hit((*path, "cap"), "cap-below-gate", body, where))
    return hits + _step_hits(site, day, combo)


def _step_hits(site: _Site, day: dt.date, combo: Combo) -> list[_Hit]:
    """Steps with a negative payout, and steps another step makes pointless."""
    where, hits, path = site.where(combo, day), [], site.path
    steps = [
        (s.id, _value(s.at, day, combo), _value(s.payout, day, combo))
        for s in site.component.steps or []
    ]
    for n, (step, at, payout) in enumerate(steps):
        if at is None or payout is None:
            continue
        if payout < 0:
            body = (
                f"more sales pay less: reaching step {step!r} pays a negative share of the "
                f"target ({format_rate(payout)})"
            )
            hits.append(_Hit((*path, "steps", n, "payout"), "pays-less", body, where))
        better = [
            (other, other_at, other_payout)
            for m, (other, other_at, other_payout) in enumerate(steps)
            if m != n and other_at is not None and other_payout is not None
            and (other_at, -other_payout, m) < (at, -payout, n)
            and other_at <= at and other_payout >= payout
        ]
        if better:
            other, other_at, other_payout = better[0]
            body = (
                f"step {step!r} (at {format_rate(at)}, payout {format_rate(payout)}) never changes "
                f"the bonus: step {other!r} is reached at {format_rate(other_at)} and pays "
                f"{format_rate(other_payout)}; a step bonus pays the largest payout reached"
            )
            hits.append(_Hit((*path, "steps", n), "dead-step", body, where))
    return hits


def _override_hits(site: _Site, day: dt.date, combo: Combo) -> list[_Hit]:
    rate = _value(site.component.rate, day, combo)
    if rate is None or rate >= 0:
        return []
    body = f"more team sales pay the manager less: the rate is negative ({format_rate(rate)})"
    return [_Hit((*site.path, "rate"), "pays-less", body, site.where(combo, day))]


# --------------------------------------------------------------------------- commission curve


class _Curve:
    """Commission due to date as a function of credited sales, for a group of combinations.

    Evaluated exactly with the engine's tier arithmetic at 0, at every band edge and gate and
    one minor unit below them, and beyond the last edge: between those points the due is
    linear, so a fall anywhere shows between two neighbouring points.
    """

    def __init__(self, site: _Site, component: Commission, day: dt.date, combos: list[Combo]):
        from ..engine.tiers import flat_schedule, tier_schedule
        from .resolve import Resolver

        self.site, self.component, self.day, self.combos = site, component, day, combos
        digits, path = site.digits, format_path(site.path)
        resolver = Resolver(pd.DataFrame(combos, dtype=str), day)
        rows = np.arange(len(combos), dtype=np.int64)
        self.known_quota = component.quota != "roster"
        quotas = [
            _value(component.quota, day, c) if self.known_quota else Decimal(SAMPLE_QUOTA)
            for c in combos
        ]
        self.quota = [to_minor(q or Decimal(0), digits, site.rules.rounding) for q in quotas]
        if component.rate is not None:
            self.schedule = flat_schedule(resolver.values(component.rate, f"{path}.rate", rows))
        else:
            assert component.tiers is not None
            self.schedule = tier_schedule(
                component.tiers, resolver, f"{path}.tiers", rows,
                np.array(self.quota, dtype=np.int64), digits,
            )  # fmt: skip
        self.broken = bool(resolver.problems)  # reported by the checks above
        gate = component.gate
        self.gates = [None if gate is None else _value(gate, day, c) for c in combos]
        cap = component.cap
        self.caps = [
            None if cap is None or cap.per != "plan_year" else _value(cap.amount, day, c)
            for c in combos
        ]
        tiers = component.tiers
        self.per_deal = tiers is not None and tiers.method.value == "per_transaction"
        self.attainment = tiers is not None and tiers.measure == "attainment"
        # With roster quotas, only masks that do not depend on the quota's size apply.
        self.mask_gate = not self.per_deal and (self.known_quota or self.attainment)
        self.mask_cap = not self.per_deal and (self.known_quota or not self.attainment)

    def hits(self) -> list[_Hit]:
        if self.broken:
            return []
        points = [self._points(r) for r in range(len(self.combos))]
        width = max(len(p) for p in points)
        padded = [p + [p[-1]] * (width - len(p)) for p in points]
        columns = [self.due([row[k] for row in padded]) for k in range(width)]
        hits: list[_Hit] = []
        for r in range(len(self.combos)):
            dues = [column[r] for column in columns]
            hits += self._falls(r, padded[r], dues)
            hits += self._cap_below_gate(r)
        return hits

    def _points(self, r: int) -> list[int]:
        scale = self.schedule.edge_scale
        points = {0}
        for low in self.schedule.lower[1:]:
            at = -(-int(low[r]) // scale)
            points |= {at - 1, at}
        gate = self._gate_point(r)
        if gate is not None:
            points |= {gate - 1, gate}
        # Beyond the last edge: twice it, or the quota when there is no edge (a flat rate).
        points.add(2 * max(points) if max(points) > 0 else max(self.quota[r], 1))
        return sorted(p for p in points if p >= 0)

    def _gate_point(self, r: int) -> int | None:
        """The least credited (minor units) that meets the gate."""
        gate = self.gates[r]
        if gate is None:
            return None
        numerator, denominator = as_fraction(gate)
        return -(-numerator * self.quota[r] // denominator)

    def due(self, measure: Sequence[int], masked: bool = True) -> list[int]:
        """Exact due (times the schedule's scale) for one measure per combination."""
        from ..engine.tiers import Groups, cumulative, per_transaction

        size = len(self.combos)
        credited = np.array(measure, dtype=object if max(measure) >= 2**60 else np.int64)
        if self.per_deal:
            outcome = per_transaction(self.schedule, credited, Groups(np.arange(size), size))
        else:
            outcome = cumulative(self.schedule, credited)
        dues = [int(v) for v in outcome.exact.tolist()]
        if not masked:
            return dues
        for r in range(size):
            gate = self._gate_point(r)
            if self.mask_gate and gate is not None and measure[r] < gate:
                dues[r] = 0
            cap = self.caps[r]
            if self.mask_cap and cap is not None:
                limit = to_minor(cap, self.site.digits, self.site.rules.rounding)
                dues[r] = min(dues[r], limit * self.schedule.scale)
        return dues

    def _falls(self, r: int, points: list[int], dues: list[int]) -> list[_Hit]:
        hits, seen = [], set()
        for k in range(len(points) - 1):
            if points[k + 1] <= points[k] or dues[k + 1] >= dues[k]:
                continue
            band = self._band_at(r, points[k + 1])
            if band in seen:
                continue
            seen.add(band)
            hit = self._fall(r, band, (points[k], dues[k]), (points[k + 1], dues[k + 1]))
            if hit is not None:
                hits.append(hit)
        return hits

    def _band_at(self, r: int, point: int) -> int:
        scaled = point * self.schedule.edge_scale
        return max(j for j, low in enumerate(self.schedule.lower) if int(low[r]) <= scaled)

    def _fall(
        self, r: int, band: int, before: tuple[int, int], after: tuple[int, int]
    ) -> _Hit | None:
        site, tiers, combo = self.site, self.component.tiers, self.combos[r]
        where, credited = site.where(combo, self.day), self._credited
        falls = "the commission due falls from {} to {}".format(*self._shown(before[1], after[1]))
        between = credited(before[0], after[0]) + self._quota_note(r)
        if tiers is None:
            body = f"more sales pay less: {falls} ({between})"
            return _Hit((*site.path, "rate"), "pays-less", body, where)
        chosen = tiers.bands[band]
        if chosen.decelerator:
            return None
        low = int(self.schedule.lower[band][r])
        if before[0] * self.schedule.edge_scale < low:
            edge = _value(chosen.from_, self.day, combo) or Decimal(0)
            shown = f"{format_rate(edge)} of quota" if self.attainment else self._major(edge)
            body = f"more sales pay less: reaching band {chosen.id!r} at {shown}, {falls}"
        else:
            body = f"more sales pay less: within band {chosen.id!r} {falls}"
        body += f" ({between})"
        hint = "; if that is intended, declare 'decelerator: true' on the band"
        return _Hit((*site.path, "tiers", "bands", band), "pays-less", body, where, hint)

    def _cap_below_gate(self, r: int) -> list[_Hit]:
        """A plan-year cap no more than what is due at the gate (quota given in the rules)."""
        gate, cap = self._gate_point(r), self.caps[r]
        if gate is None or cap is None or not self.known_quota or cap <= 0:
            return []
        at_gate = self.due([gate if i == r else 0 for i in range(len(self.combos))], False)[r]
        limit = to_minor(cap, self.site.digits, self.site.rules.rounding) * self.schedule.scale
        if limit > at_gate:
            return []
        body = (
            f"the plan-year cap ({self._major(cap)}) is no more than the {self._shown(at_gate)[0]} "
            f"already due at the gate ({format_amount(gate, self.site.digits)} credited): from "
            "the gate on the commission is the cap, whatever is sold"
        )
        where = self.site.where(self.combos[r], self.day)
        return [_Hit((*self.site.path, "cap", "amount"), "cap-below-gate", body, where)]

    def _shown(self, *exact: int) -> list[str]:
        """Exact dues as the engine pays them, rounded once to the minor unit by the rule
        set's rounding; exactly, should rounding hide the difference between them."""
        digits, scale = self.site.digits, self.schedule.scale
        paid = round_div(np.array(exact, dtype=object), scale, self.site.rules.rounding).tolist()
        if len(set(paid)) == len(paid):
            return [format_amount(int(units), digits) for units in paid]
        return [format_decimal_amount(Decimal(e) / scale / (10**digits), digits) for e in exact]

    def _major(self, amount: Decimal) -> str:
        return format_decimal_amount(amount, self.site.digits)

    def _credited(self, less: int, more: int) -> str:
        shown = [format_amount(m, self.site.digits) for m in (less, more)]
        if self.per_deal:
            return f"for a deal of {shown[0]} and one of {shown[1]}"
        return f"at {shown[0]} and {shown[1]} credited"

    def _quota_note(self, r: int) -> str:
        if not (self.attainment or self.gates[r] is not None):
            return ""
        quota = format_amount(self.quota[r], self.site.digits)
        return f", quota {quota}" if self.known_quota else f", for a quota of {quota}"
