"""Property-based tests (hypothesis) of the engine's invariants.

Strategies build small but varied inputs: a rule set as YAML text (flat rate or tiers,
marginal / retroactive / per_transaction, measured in money or quota attainment, optional gate
and cap, a bonus and an allowance), a roster of 1-6 employees and a consistent ledger of up to
60 events (disputes alternate opened -> resolved after the sale, refunds never exceed it), all in
plan year 2026 (``plan_year: {start_month: 1}``). The properties:

1. conservation: lines add up to totals, totals to the summary, amounts in minor digits;
2. determinism: shuffled input rows and repeated runs give byte-identical JSON;
3. monotonicity: one more dispute-free sale never lowers the commission due to date;
4. paying month by month adds up to paying the year at once (caps per period deferred);
5. the money helpers: allocate, round_div, to_minor / from_minor;
6. crediting: a sale with an open dispute at the period end earns nothing and is held.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import compcalc
from compcalc import money
from compcalc.money import Rounding

YEAR = 2026
YEAR_START = dt.date(YEAR, 1, 1)
CURRENCIES = {"USD": 2, "JPY": 0, "KWD": 3}
SENIORITY = ("entry", "mid", "senior")
COMPANY_SIZE = ("small", "mid", "large")
REGION = ("metro", "non_metro")
ROSTER_COLUMNS = [
    "employee_id",
    "name",
    "role",
    "seniority",
    "company_size",
    "region",
    "currency",
    "annual_base",
    "quota",
    "hire_date",
    "termination_date",
    "manager_id",
]
LEDGER_COLUMNS = ["transaction_id", "employee_id", "date", "event", "amount", "currency", "margin"]
PAID_KINDS = ("commission", "bonus")

D = Decimal
RATES = tuple(
    D(r)
    for r in (
        "0",
        "0.01",
        "0.02",
        "0.025",
        "0.03",
        "0.0375",
        "0.05",
        "0.065",
        "0.08",
        "0.1",
        "0.125",
    )
)
ATTAINMENT_EDGES = tuple(D(e) for e in ("0.25", "0.5", "0.8", "1", "1.2", "1.5"))
AMOUNT_EDGES = tuple(D(e) for e in ("250", "1000", "2500", "5000", "12000"))

# Examples per property are tuned so the file runs in about a minute; set
# COMPCALC_PROPERTY_SCALE=10 (say) for a deeper search.
SCALE = max(1, int(os.environ.get("COMPCALC_PROPERTY_SCALE", "1")))


def tuned(examples: int) -> settings:
    """Settings of one property: no deadline (runs replay periods), no example database file."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# =============================================================================== YAML emitter


def _scalar(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | dt.date):
        return str(value)
    return json.dumps(value)  # every string quoted: "1" stays text, not a number


def to_yaml(value: Any, indent: int = 0) -> list[str]:
    """Block-style YAML lines for nested dicts / lists of Decimal, int, date and str."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(to_yaml(item, indent + 1))
            else:
                lines.append(
                    f"{pad}{key}: {_scalar(item) if not isinstance(item, dict | list) else '{}'}"
                )
        return lines
    for item in value:
        if isinstance(item, dict):
            sub = to_yaml(item, indent + 1)
            sub[0] = f"{pad}- {sub[0].lstrip()}"
            lines.extend(sub)
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines


# =============================================================================== rule sets


@dataclass(frozen=True)
class RuleCase:
    """A generated rule set: its YAML text, loaded model and the facts tests branch on."""

    text: str
    rules: compcalc.RuleSet
    currency: str
    digits: int
    basis: str
    cap_per: str | None  # "period", "plan_year" or None

    def __repr__(self) -> str:  # shrunk examples print the YAML, which is what a reader needs
        return f"RuleCase(\n{self.text})"


@st.composite
def commissions(
    draw: st.DrawFn,
    nondecreasing: bool,
    caps: Sequence[str | None],
    gates: bool = True,
    margin: bool = True,
) -> dict[str, Any]:
    """A commission component: flat rate (constant or by seniority) or tiers."""
    component: dict[str, Any] = {
        "id": "commission",
        "kind": "commission",
        "label": "Commission",
        "basis": draw(st.sampled_from(("amount", "margin") if margin else ("amount",))),
        "quota": "roster",
    }
    if draw(st.booleans()):
        if draw(st.booleans()):
            component["rate"] = draw(st.sampled_from(RATES[1:]))
        else:
            rates = draw(st.lists(st.sampled_from(RATES), min_size=3, max_size=3))
            component["rate"] = {
                "by": ["seniority"],
                "values": dict(zip(SENIORITY, rates, strict=True)),
            }
    else:
        method = draw(st.sampled_from(("marginal", "retroactive", "per_transaction")))
        measure = (
            "amount"
            if method == "per_transaction"
            else draw(st.sampled_from(("amount", "attainment")))
        )
        pool = AMOUNT_EDGES if measure == "amount" else ATTAINMENT_EDGES
        edges = sorted(draw(st.sets(st.sampled_from(pool), max_size=3)))
        rates = draw(
            st.lists(st.sampled_from(RATES), min_size=len(edges) + 1, max_size=len(edges) + 1)
        )
        if nondecreasing:
            rates = sorted(rates)
        lows = [D(0), *edges]
        bands = []
        for index, (low, rate) in enumerate(zip(lows, rates, strict=True)):
            band: dict[str, Any] = {"id": f"b{index}", "from": low}
            if index < len(edges):
                band["to"] = edges[index]
            band["rate"] = rate
            bands.append(band)
        component["tiers"] = {"method": method, "measure": measure, "bands": bands}
    if gates and draw(st.booleans()):
        component["gate"] = draw(st.sampled_from([D("0.05"), D("0.1"), D("0.3"), D("0.5")]))
    cap = draw(st.sampled_from(list(caps)))
    if cap is not None:
        component["cap"] = {
            "per": cap,
            "amount": draw(st.sampled_from([D(50), D(300), D(1000), D(4000)])),
        }
    return component


@st.composite
def bonuses(draw: st.DrawFn) -> dict[str, Any]:
    method = draw(st.sampled_from(("linear", "step", "fixed")))
    bonus: dict[str, Any] = {"id": "bonus", "kind": "bonus", "label": "Bonus", "method": method}
    if draw(st.booleans()):
        bonus["target"] = {"amount": draw(st.sampled_from([D(500), D(2000), D(7500)]))}
    else:
        bonus["target"] = {
            "percent_of_base": draw(st.sampled_from([D("0.05"), D("0.1"), D("0.125")]))
        }
    bonus["quota"] = "roster"
    if method == "step":
        ats = sorted(
            draw(
                st.sets(
                    st.sampled_from([D("0.2"), D("0.5"), D("1"), D("1.3")]), min_size=1, max_size=3
                )
            )
        )
        payouts = sorted(
            draw(
                st.lists(
                    st.sampled_from([D("0.25"), D("0.5"), D("0.75"), D("1")]),
                    min_size=len(ats),
                    max_size=len(ats),
                )
            )
        )
        bonus["steps"] = [
            {"id": f"s{i}", "at": at, "payout": p}
            for i, (at, p) in enumerate(zip(ats, payouts, strict=True))
        ]
    elif draw(st.booleans()):
        bonus["floor"] = draw(st.sampled_from([D("0.1"), D("0.5"), D("1")]))
    if method == "linear" and draw(st.booleans()):
        bonus["cap"] = draw(st.sampled_from([D("1"), D("1.5")]))
    bonus["pay"] = draw(st.sampled_from(("to_date", "year_end")))
    return bonus


@st.composite
def allowances(draw: st.DrawFn) -> dict[str, Any]:
    allowance: dict[str, Any] = {"id": "car", "kind": "allowance", "label": "Car allowance"}
    if draw(st.booleans()):
        allowance["when"] = {"region": ["metro"]}
    allowance["per"] = draw(st.sampled_from(("month", "year")))
    allowance["amount"] = draw(st.sampled_from([D(250), D(1000), D(7001)]))
    return allowance


@st.composite
def rule_cases(
    draw: st.DrawFn,
    *,
    nondecreasing: bool = False,
    caps: Sequence[str | None] = (None, "period", "plan_year"),
    extras: bool = True,
    margin: bool = True,
    currencies: Sequence[str] = tuple(CURRENCIES),
) -> RuleCase:
    """A whole rule set: plan ``rep`` (base, commission, bonus?, allowance?) and ``lead``."""
    currency = draw(st.sampled_from(list(currencies)))
    base: dict[str, Any] = {
        "id": "base",
        "kind": "base_salary",
        "label": "Base salary",
        "annual": "roster",
        "pay_frequency": draw(st.sampled_from(("monthly", "semi_monthly"))),
    }
    commission = draw(commissions(nondecreasing, caps, margin=margin))
    components = [base, commission]
    if extras and draw(st.booleans()):
        components.append(draw(bonuses()))
    allowance = draw(allowances())
    if extras and draw(st.booleans()):
        components.append(allowance)
    rounding = draw(st.sampled_from([r.value for r in Rounding]))
    lead = [dict(base, pay_frequency="monthly"), allowance]
    return rule_case(currency, rounding, components, lead)


def rule_case(
    currency: str, rounding: str, rep: list[dict[str, Any]], lead: list[dict[str, Any]]
) -> RuleCase:
    """Render, load and describe a rule set with plans ``rep`` and ``lead``."""
    data = {
        "id": "prop",
        "version": "1",
        "currency": currency,
        "rounding": rounding,
        "effective": {"from": YEAR_START, "to": dt.date(YEAR, 12, 31)},
        "plan_year": {"start_month": 1},
        "dimensions": {
            "seniority": list(SENIORITY),
            "company_size": list(COMPANY_SIZE),
            "region": list(REGION),
        },
        "plans": {"rep": {"components": rep}, "lead": {"components": lead}},
    }
    text = "\n".join(to_yaml(data)) + "\n"
    rules = compcalc.load_rules_text(text, "<generated>")
    commission = next(c for c in rep if c["kind"] == "commission")
    cap = commission.get("cap")
    return RuleCase(
        text,
        rules,
        currency,
        CURRENCIES[currency],
        commission["basis"],
        None if cap is None else cap["per"],
    )


# =============================================================================== roster / ledger


def major(units: int, digits: int) -> str:
    """Minor units as the text a ledger or roster cell holds: 1234 -> "12.34" (USD)."""
    return format(Decimal(units).scaleb(-digits), "f")


def day(offset: int) -> dt.date:
    return YEAR_START + dt.timedelta(days=offset)


@dataclass(frozen=True)
class Employee:
    employee_id: str
    role: str
    hire: dt.date
    termination: dt.date | None

    def employed_on(self, when: dt.date) -> bool:
        return self.hire <= when and (self.termination is None or when <= self.termination)


@st.composite
def rosters(
    draw: st.DrawFn, currency: str, min_size: int = 1
) -> tuple[pd.DataFrame, list[Employee]]:
    digits = CURRENCIES[currency]
    size = draw(st.integers(min_size, 6))
    rows, people = [], []
    for index in range(size):
        employee_id = f"E{index + 1:02d}"
        role = "rep" if index == 0 else draw(st.sampled_from(("rep", "rep", "lead")))
        if draw(st.integers(0, 3)) == 0:
            hire = day(draw(st.integers(0, 180)))
        else:
            hire = dt.date(2020, 3, 1)
        termination = None
        if draw(st.integers(0, 4)) == 0:
            termination = max(hire, day(draw(st.integers(0, 364))))
        base = draw(st.integers(30_000, 120_000)) * 10**digits + draw(
            st.integers(0, 10**digits - 1)
        )
        quota = draw(st.sampled_from([2_000, 10_000, 40_000, 150_000])) * 10**digits
        rows.append(
            {
                "employee_id": employee_id,
                "name": f"Person {index + 1}",
                "role": role,
                "seniority": draw(st.sampled_from(SENIORITY)),
                "company_size": draw(st.sampled_from(COMPANY_SIZE)),
                "region": draw(st.sampled_from(REGION)),
                "currency": currency,
                "annual_base": major(base, digits),
                "quota": major(quota, digits),
                "hire_date": hire.isoformat(),
                "termination_date": "" if termination is None else termination.isoformat(),
                "manager_id": "" if index == 0 else "E01",
            }
        )
        people.append(Employee(employee_id, role, hire, termination))
    return pd.DataFrame(rows, columns=ROSTER_COLUMNS, dtype=object), people


@dataclass(frozen=True)
class Sale:
    """One generated transaction with its later events, for the tests' own expectations."""

    transaction_id: str
    employee_id: str
    date: dt.date
    amount: int  # minor units
    disputes: tuple[dt.date, ...]  # alternate opened, resolved, opened ...
    refunds: tuple[tuple[dt.date, int], ...]

    def eligible(self, seller: Employee) -> bool:
        """Sold in this plan year while the seller was employed (else excluded for good)."""
        return self.date >= YEAR_START and seller.employed_on(self.date)

    def open_dispute_at(self, when: dt.date) -> bool:
        return sum(1 for d in self.disputes if d <= when) % 2 == 1


@st.composite
def sales(
    draw: st.DrawFn,
    transaction_id: str,
    employee_ids: Sequence[str],
    digits: int,
    max_day: int = 200,
) -> tuple[Sale, list[dict[str, str]]]:
    employee_id = draw(st.sampled_from(list(employee_ids)))
    # Now and then a sale from before the plan year (excluded; its later events still come).
    sold = draw(st.integers(0, max_day) | st.integers(-20, -1))
    amount = draw(st.integers(1, 20_000 * 10**digits))
    margin = draw(st.none() | st.integers(-amount // 2, amount))
    disputes: list[dt.date] = []
    cursor = sold
    for _ in range(draw(st.integers(0, 3))):
        cursor += draw(st.integers(1, 40))
        disputes.append(day(cursor))
    refunds: list[tuple[dt.date, int]] = []
    left = amount
    for _ in range(draw(st.integers(0, 2))):
        if left == 0:
            break
        part = draw(st.integers(1, left) | st.just(left))
        left -= part
        refunds.append((day(sold + draw(st.integers(0, 60))), part))
    sale = Sale(transaction_id, employee_id, day(sold), amount, tuple(disputes), tuple(refunds))
    return sale, sale_rows(sale, digits, margin)


def sale_rows(sale: Sale, digits: int, margin: int | None = None) -> list[dict[str, str]]:
    """The ledger rows (text cells, currency filled in later) of one generated sale."""

    def row(event: str, when: dt.date, amount: str = "", margin_text: str = "") -> dict[str, str]:
        return {
            "transaction_id": sale.transaction_id,
            "employee_id": sale.employee_id,
            "date": when.isoformat(),
            "event": event,
            "amount": amount,
            "margin": margin_text,
        }

    rows = [
        row(
            "sale",
            sale.date,
            major(sale.amount, digits),
            "" if margin is None else major(margin, digits),
        )
    ]
    rows += [
        row("dispute_opened" if i % 2 == 0 else "dispute_resolved", when)
        for i, when in enumerate(sale.disputes)
    ]
    rows += [row("refund", when, major(part, digits)) for when, part in sale.refunds]
    return rows


def ledger_frame(rows: Iterable[dict[str, str]], currency: str) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=LEDGER_COLUMNS, dtype=object)
    frame["currency"] = currency
    return frame.fillna("")


@st.composite
def ledgers(
    draw: st.DrawFn, currency: str, employee_ids: Sequence[str], max_sales: int = 10
) -> tuple[pd.DataFrame, list[Sale]]:
    """Up to ``max_sales`` sales, each with at most 3 dispute events and 2 refunds (<= 60 rows)."""
    digits = CURRENCIES[currency]
    generated = [
        draw(sales(f"T{i:03d}", employee_ids, digits))
        for i in range(draw(st.integers(0, max_sales)))
    ]
    rows = [r for _, sale_rows_ in generated for r in sale_rows_]
    assert len(rows) <= 60
    return ledger_frame(rows, currency), [sale for sale, _ in generated]


@dataclass(frozen=True)
class World:
    case: RuleCase
    roster: pd.DataFrame
    people: list[Employee]
    ledger: pd.DataFrame
    sales: list[Sale]

    @cached_property
    def roster_data(self) -> compcalc.Roster:
        """The roster read once per example (reading costs more than a run)."""
        return compcalc.read_roster(self.roster)

    @cached_property
    def ledger_data(self) -> compcalc.Ledger:
        """The ledger read once per example, for its rules (as a run reads a frame)."""
        return compcalc.read_ledger(self.ledger, rules=self.case.rules)

    def __repr__(self) -> str:
        return (
            f"World(\n--- rules\n{self.case.text}--- roster\n{self.roster.to_csv(index=False)}"
            f"--- ledger\n{self.ledger.to_csv(index=False)})"
        )


@st.composite
def worlds(draw: st.DrawFn, **rule_options: Any) -> World:
    case = draw(rule_cases(**rule_options))
    roster, people = draw(rosters(case.currency))
    ledger, sold = draw(ledgers(case.currency, [p.employee_id for p in people]))
    return World(case, roster, people, ledger, sold)


def smallest_world(currency: str = "USD") -> World:
    """One employee on a flat 5 % commission, an empty ledger: the plainest possible run."""
    base = {"id": "base", "kind": "base_salary", "annual": "roster"}
    commission = {"id": "commission", "kind": "commission", "basis": "amount", "rate": D("0.05")}
    case = rule_case(currency, "half_up", [base, commission], [base])
    digits = CURRENCIES[currency]
    roster = pd.DataFrame(
        [
            {
                "employee_id": "E01",
                "name": "Person 1",
                "role": "rep",
                "seniority": "mid",
                "company_size": "mid",
                "region": "metro",
                "currency": currency,
                "annual_base": major(60_000 * 10**digits, digits),
                "quota": major(10_000 * 10**digits, digits),
                "hire_date": "2020-03-01",
                "termination_date": "",
                "manager_id": "",
            }
        ],
        columns=ROSTER_COLUMNS,
        dtype=object,
    )
    people = [Employee("E01", "rep", dt.date(2020, 3, 1), None)]
    return World(case, roster, people, ledger_frame([], currency), [])


# =============================================================================== helpers


def run(
    world: World,
    period: str,
    ledger: pd.DataFrame | compcalc.Ledger | None = None,
    roster: pd.DataFrame | compcalc.Roster | None = None,
) -> compcalc.PeriodResult:
    result = compcalc.run_period(
        world.case.rules,
        world.roster_data if roster is None else roster,
        world.ledger_data if ledger is None else ledger,
        period,
    )
    # The generators only make valid rows: a rejected row means the generator is wrong.
    assert result.rejected == (), result.rejected
    return result


def month_end(month: int) -> dt.date:
    return dt.date(YEAR, month, calendar.monthrange(YEAR, month)[1])


def year_to(month: int) -> str:
    """The one-period range from the plan year's start to the end of ``month``."""
    return f"{YEAR_START.isoformat()}..{month_end(month).isoformat()}"


def lines_total(
    result: compcalc.PeriodResult,
    employee_id: str,
    kinds: Sequence[str] = PAID_KINDS,
    items: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> Decimal:
    """Sum of an employee's lines of the given kinds (0 when they have no statement)."""
    wanted = None if items is None else set(items)
    total = Decimal(0)
    for statement in result.statements:
        if statement.employee_id != employee_id:
            continue
        for line in statement.lines:
            if (
                line.kind in kinds
                and line.item not in exclude
                and (wanted is None or line.item in wanted)
            ):
                total += line.amount
    return total


def places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


# =============================================================================== 1. conservation


@tuned(30)
@given(world=worlds(), month=st.integers(1, 12))
def test_lines_add_up_to_totals_in_minor_units(world: World, month: int) -> None:
    result = run(world, f"{YEAR}-{month:02d}")
    digits = world.case.digits
    assert result.currency == world.case.currency
    grand = Decimal(0)
    for statement in result.statements:
        assert statement.currency == world.case.currency
        assert sum((line.amount for line in statement.lines), Decimal(0)) == statement.total
        assert places(statement.total) == digits, (statement.employee_id, statement.total)
        for line in statement.lines:
            assert places(line.amount) == digits, (statement.employee_id, line.id, line.amount)
        for note in (*statement.held, *statement.excluded):
            assert places(note.amount) == digits, note
        ids = [line.id for line in statement.lines]
        assert len(ids) == len(set(ids)), ids
        grand += statement.total
    summary = dict(result.summary)
    assert Decimal(summary["total"]) == grand
    by_code: dict[str, Decimal] = defaultdict(Decimal)
    for statement in result.statements:
        for line in statement.lines:
            by_code[line.pay_code] += line.amount
    for code, amount in by_code.items():
        assert Decimal(summary[f"total_{code}"]) == amount
    frame = result.to_frame()
    assert sum(frame["amount"], Decimal(0)) == grand


@tuned(10)
@example(world=smallest_world("USD"), month=1)
@given(world=worlds(currencies=("USD", "KWD")), month=st.integers(1, 12))
def test_summary_amounts_have_minor_digits(world: World, month: int) -> None:
    summary = dict(run(world, f"{YEAR}-{month:02d}").summary)
    for key, value in summary.items():
        if key == "total" or key.startswith("total_") or key.endswith("_amount"):
            assert places(Decimal(value)) == world.case.digits, (key, value)


# =============================================================================== 2. determinism


@tuned(15)
@given(data=st.data(), world=worlds(), month=st.integers(1, 12))
def test_row_order_and_repetition_do_not_change_the_bytes(
    data: st.DataObject, world: World, month: int
) -> None:
    period = f"{YEAR}-{month:02d}"
    first = run(world, period).to_json()
    assert run(world, period).to_json() == first
    ledger_order = data.draw(st.permutations(range(len(world.ledger))), label="ledger order")
    roster_order = data.draw(st.permutations(range(len(world.roster))), label="roster order")
    shuffled = run(
        world,
        period,
        ledger=world.ledger.iloc[list(ledger_order)],
        roster=world.roster.iloc[list(roster_order)],
    )
    assert shuffled.to_json() == first


# =============================================================================== 3. monotonicity


@tuned(25)
@given(
    data=st.data(),
    world=worlds(nondecreasing=True, caps=(None,), extras=False),
    month=st.integers(1, 6),
)
def test_one_more_clean_sale_never_lowers_commission_due(
    data: st.DataObject, world: World, month: int
) -> None:
    """Non-decreasing rates, no cap, with or without a gate: due to date only goes up."""
    period = year_to(month)  # starts with the plan year: paid before is 0, lines = due to date
    reps = [p for p in world.people if p.role == "rep"]
    person = data.draw(st.sampled_from(reps), label="employee")
    digits = world.case.digits
    # Mostly while employed (so the sale counts); sometimes any day (excluded: must not matter).
    first = max(person.hire, YEAR_START)
    last = min(person.termination or month_end(month), month_end(month))
    if first > last or data.draw(st.integers(0, 4), label="any day") == 0:
        first, last = YEAR_START, month_end(month)
    when = first + dt.timedelta(days=data.draw(st.integers(0, (last - first).days), label="day"))
    amount = data.draw(st.integers(1, 30_000 * 10**digits), label="amount")
    margin = data.draw(st.integers(0, amount), label="margin")
    extra = Sale("T999", person.employee_id, when, amount, (), ())
    more = pd.concat(
        [world.ledger, ledger_frame(sale_rows(extra, digits, margin), world.case.currency)],
        ignore_index=True,
    )
    before = lines_total(run(world, period), person.employee_id, ("commission",))
    after = lines_total(run(world, period, ledger=more), person.employee_id, ("commission",))
    assert after >= before, (person, extra, before, after)


# =============================================================================== 4. month by month


@tuned(15)
@given(world=worlds(), months=st.integers(1, 5))
def test_month_by_month_adds_up_to_the_year_at_once(world: World, months: int) -> None:
    monthly = [run(world, f"{YEAR}-{m:02d}") for m in range(1, months + 1)]
    at_once = run(world, year_to(months))
    for person in world.people:
        employee_id = person.employee_id
        summed = sum((lines_total(r, employee_id) for r in monthly), Decimal(0))
        due = lines_total(at_once, employee_id, exclude=("cap",))
        if world.case.cap_per != "period":
            assert summed == lines_total(at_once, employee_id), (employee_id, summed)
            continue
        # Per-period cap: what is not paid yet is deferred, shown by this month's cap line.
        deferred = -lines_total(monthly[-1], employee_id, ("commission",), items=("cap",))
        assert deferred >= 0
        assert summed <= due, (employee_id, summed, due)
        assert summed + deferred == due, (employee_id, summed, deferred, due)


# =============================================================================== 5. money helpers


@tuned(200)
@given(
    total=st.integers(-(10**15), 10**15),
    weights=st.lists(st.integers(0, 10**9), min_size=1, max_size=12).filter(any),
)
def test_allocate_sums_and_stays_within_a_unit(total: int, weights: list[int]) -> None:
    shares = money.allocate(total, weights)
    assert len(shares) == len(weights)
    assert sum(shares) == total
    weight_sum = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        # |share - total * weight / weight_sum| < 1, in integers
        assert abs(share * weight_sum - total * weight) < weight_sum


def _reference(numerator: int, denominator: int, rounding: Rounding) -> int:
    with localcontext() as ctx:
        ctx.prec = 200
        exact = Decimal(numerator) / Decimal(denominator)
        return int(exact.quantize(Decimal(1), rounding=rounding.decimal_mode))


ROUNDINGS = st.sampled_from(list(Rounding))
# What the engine ever gives round_div in int64: products kept under 2**62 by money.safe_ints.
INT64_SAFE = 2**62 - 1


@tuned(200)
@given(
    numerators=st.lists(st.integers(-INT64_SAFE, INT64_SAFE), min_size=1, max_size=20),
    denominator=st.integers(1, INT64_SAFE) | st.sampled_from([1, 2, 3, 10, 100, 1000, 7]),
    rounding=ROUNDINGS,
)
def test_round_div_int64_matches_decimal(
    numerators: list[int], denominator: int, rounding: Rounding
) -> None:
    got = money.round_div(np.array(numerators, dtype=np.int64), denominator, rounding)
    assert got.dtype == np.int64
    assert got.tolist() == [_reference(n, denominator, rounding) for n in numerators]


@tuned(200)
@given(
    numerators=st.lists(st.integers(-(10**40), 10**40), min_size=1, max_size=20),
    denominators=st.lists(st.integers(1, 10**30), min_size=1, max_size=20),
    rounding=ROUNDINGS,
    per_element=st.booleans(),
)
def test_round_div_python_ints_matches_decimal(
    numerators: list[int], denominators: list[int], rounding: Rounding, per_element: bool
) -> None:
    size = min(len(numerators), len(denominators))
    numerators = numerators[:size]
    dens: list[int] = denominators[:size] if per_element else [denominators[0]] * size
    array = np.array(numerators, dtype=object)
    given_den: Any = np.array(dens, dtype=object) if per_element else dens[0]
    got = money.round_div(array, given_den, rounding)
    assert [int(v) for v in got.tolist()] == [
        _reference(n, d, rounding) for n, d in zip(numerators, dens, strict=True)
    ]


@tuned(200)
@example(numerator=2**62 + 1, denominator=2**62 + 3, rounding=Rounding.HALF_UP)
@given(
    numerator=st.integers(-(2**63) + 1, 2**63 - 1),
    denominator=st.integers(1, 2**63 - 1),
    rounding=ROUNDINGS,
)
def test_round_div_full_int64_range(numerator: int, denominator: int, rounding: Rounding) -> None:
    got = money.round_div(np.array([numerator], dtype=np.int64), denominator, rounding)
    assert int(got[0]) == _reference(numerator, denominator, rounding)


@tuned(200)
@given(units=st.integers(-(10**18), 10**18), digits=st.sampled_from([0, 2, 3]), rounding=ROUNDINGS)
def test_minor_units_round_trip(units: int, digits: int, rounding: Rounding) -> None:
    amount = money.from_minor(units, digits)
    assert places(amount) == digits
    assert amount == Decimal(units).scaleb(-digits)
    assert money.to_minor(amount, digits, rounding) == units


@tuned(200)
@given(
    value=st.decimals(
        min_value=-(10**12), max_value=10**12, places=6, allow_nan=False, allow_infinity=False
    ),
    digits=st.sampled_from([0, 2, 3]),
    rounding=ROUNDINGS,
)
def test_to_minor_rounds_once_like_quantize(
    value: Decimal, digits: int, rounding: Rounding
) -> None:
    units = money.to_minor(value, digits, rounding)
    quantum = Decimal(1).scaleb(-digits)
    with localcontext() as ctx:
        ctx.prec = 60
        expected = value.quantize(quantum, rounding=rounding.decimal_mode)
    assert money.from_minor(units, digits) == expected
    assert abs(money.from_minor(units, digits) - value) < quantum


def test_currency_digits() -> None:
    assert {code: money.minor_digits(code) for code in CURRENCIES} == CURRENCIES


# =============================================================================== 6. crediting


@tuned(25)
@given(world=worlds(), month=st.integers(1, 12))
def test_open_dispute_at_period_end_earns_nothing_and_is_held(world: World, month: int) -> None:
    end = month_end(month)
    result = run(world, f"{YEAR}-{month:02d}")
    people = {p.employee_id: p for p in world.people}
    expected: dict[str, set[str]] = defaultdict(set)
    for sale in world.sales:
        refunded = sum(part for when, part in sale.refunds if when <= end)
        if (
            sale.eligible(people[sale.employee_id])
            and sale.date <= end
            and sale.open_dispute_at(end)
            and refunded < sale.amount  # refunded in full while disputed: forfeited, not held
        ):
            expected[sale.employee_id].add(sale.transaction_id)
    held_anywhere = {tid for tids in expected.values() for tid in tids}
    statements = {s.employee_id: s for s in result.statements}
    for employee_id, tids in expected.items():
        assert employee_id in statements, employee_id
        assert {n.transaction_id for n in statements[employee_id].held} == tids
        assert all(n.status == "held" for n in statements[employee_id].held)
    for statement in result.statements:
        if statement.employee_id not in expected:
            assert statement.held == (), statement.held
        for line in statement.lines:
            if line.item in ("new_credit", "released"):
                assert not held_anywhere & set(line.transactions), (line.id, line.transactions)
    # And it counts in nothing: the due to date is the same without the held sales at all.
    if held_anywhere:
        kept = world.ledger[~world.ledger["transaction_id"].isin(held_anywhere)]
        with_held, without = run(world, year_to(month)), run(world, year_to(month), ledger=kept)
        for person in world.people:
            employee_id = person.employee_id
            assert lines_total(with_held, employee_id) == lines_total(without, employee_id)
