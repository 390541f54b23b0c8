"""Seeded synthetic inputs for the flagship plan at scale: a roster and a plan year's ledger.

    python benchmarks/generate.py --employees 50000 --rows 1000000 --out benchmarks/data/1m

writes ``roster.parquet`` and ``ledger.parquet`` (text columns, the form compcalc and DuckDB
both read) into ``--out``. Everything comes from one ``numpy.random.PCG64`` seed, vectorised:
the same arguments always give the same files.

The roster spreads employees over the five roles of ``rules/account_managers.yaml`` and its
seniority x company size x region bands (base drawn inside the band; quota by role and
seniority), everyone hired before the plan year (so base and allowances are twelve equal
installments: the benchmark is about the ledger). About one employee in ten is a national or
key account manager and the others report to one of them (team overrides).

The ledger holds ``--rows`` events over the plan year October 2026 to September 2027: sales
(lognormal amounts, margin 20-40 %) on every day of the year, about 5 % of them disputed a few
days later, of which about half are resolved for the company, a third refunded in full (then
resolved) and the rest still open; about 1 % partly refunded without a dispute; and, for the
90-day clawback window, about 0.5 % partly refunded and 0.3 % disputed 80 to 140 days after
the sale when that is still in the plan year (either side of the window; most of those
disputes resolved later). Follow-up events
that would fall after the plan year's last day are dated on it. Each employee sells in
proportion to quota x a performance drawn per employee (lognormal, median 90 %), so
attainments spread from about half to over 150 % of quota and every band, gate, cap and step
of the plan is reached by someone. Event rows are counted exactly: the number of sales is
chosen so the total comes out at ``--rows``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20261001
YEAR_START = dt.date(2026, 10, 1)
YEAR_DAYS = 365  # 2026-10-01 .. 2027-09-30

NAM, RAM, KAM, REL, BDM = (
    "national_account_manager",
    "regional_account_manager",
    "key_account_manager",
    "relationship_account_manager",
    "business_development_manager",
)
ROLES = np.array([NAM, KAM, RAM, REL, BDM])
ROLE_WEIGHTS = np.array([0.04, 0.06, 0.35, 0.25, 0.30])
MANAGER_ROLES = 2  # the first two roles (NAM, KAM) manage teams
SENIORITY = np.array(["entry", "mid", "senior"])
COMPANY_SIZE = np.array(["small", "mid", "large"])
REGION = np.array(["metro", "non_metro"])
# Band minimum and maximum in dollars by seniority x company size (non-metro; metro adds 5 %),
# as in the rule set's `bands:`.
BAND = np.array([
    [[38_000, 41_500], [43_000, 47_000], [48_000, 52_000]],
    [[50_000, 54_000], [55_000, 59_500], [60_000, 67_000]],
    [[78_000, 84_000], [86_000, 92_000], [94_000, 104_000]],
])  # fmt: skip
QUOTA = {  # annual quota in dollars by role and seniority
    NAM: (800_000, 950_000, 1_100_000),
    KAM: (900_000, 1_100_000, 1_300_000),
    RAM: (400_000, 500_000, 600_000),
    REL: (350_000, 450_000, 550_000),
    BDM: (250_000, 320_000, 400_000),
}
# Each employee sells quota x performance a year (before disputes and refunds); performance is
# lognormal with this median and spread: about 5 % of people above 150 % of quota.
PERFORMANCE_MEDIAN, PERFORMANCE_SIGMA = 0.9, 0.3
DISPUTED = 0.05
RESOLVED, REFUNDED = 0.50, 0.33  # of the disputed; the rest stay open
PARTLY_REFUNDED = 0.01
# Late events, 80 to 140 days after the sale: either side of the 90-day clawback window.
LATE_REFUNDED, LATE_DISPUTED, LATE_RESOLVED = 0.005, 0.003, 0.6
LATE_DAYS = (80, 141)
EVENTS = np.array(["sale", "dispute_opened", "refund", "dispute_resolved"])

Ints = npt.NDArray[np.int64]


def make_roster(employees: int, rng: np.random.Generator) -> pa.Table:
    """``employees`` rows in the roster's columns (text), ids E0000001 ..."""
    role = rng.choice(len(ROLES), size=employees, p=ROLE_WEIGHTS)
    role[: min(employees, 2)] = np.arange(min(employees, 2))  # at least one NAM and one KAM
    seniority = rng.integers(0, 3, employees)
    size = rng.integers(0, 3, employees)
    metro = rng.integers(0, 2, employees)
    low, high = BAND[seniority, size, 0], BAND[seniority, size, 1]
    base_dollars = low + (rng.random(employees) * (high - low)).astype(np.int64)
    base_dollars = np.where(metro == 0, base_dollars * 105 // 100, base_dollars)
    quota = np.array([QUOTA[str(r)][s] for r, s in zip(ROLES[role], seniority, strict=True)])
    ids = np.char.add("E", np.char.zfill(np.arange(1, employees + 1).astype(str), 7))
    managers = np.flatnonzero(role < MANAGER_ROLES)
    boss = managers[rng.integers(0, managers.size, employees)]
    manager = np.where(role < MANAGER_ROLES, "", ids[boss])
    hired = YEAR_START - dt.timedelta(days=1)
    offsets = rng.integers(0, 3650, employees)
    hire = (np.datetime64(hired) - offsets.astype("timedelta64[D]")).astype(str)
    columns = {
        "employee_id": ids,
        "name": np.char.add("Employee ", ids),
        "role": ROLES[role],
        "seniority": SENIORITY[seniority],
        "company_size": COMPANY_SIZE[size],
        "region": REGION[metro],
        "currency": np.full(employees, "USD"),
        "annual_base": np.char.add(base_dollars.astype(str), ".00"),
        "quota": np.char.add(quota.astype(str), ".00"),
        "hire_date": hire,
        "termination_date": np.full(employees, ""),
        "manager_id": manager,
    }
    return _table(columns)


def _cents_text(cents: Ints) -> npt.NDArray[np.str_]:
    """Minor units as plain decimal text: 123456 -> "1234.56" (exact, no float)."""
    whole = (cents // 100).astype(str)
    part = np.char.zfill((cents % 100).astype(str), 2)
    return np.char.add(np.char.add(whole, "."), part)


def make_ledger(roster: pa.Table, rows: int, rng: np.random.Generator) -> pa.Table:
    """Exactly ``rows`` events over the plan year for the roster's employees, in date order.

    A few more sales than needed are drawn, then the ledger is cut after its ``rows``-th event
    in date order: a follow-up event always comes after its sale, so no event loses its sale.
    """
    last = YEAR_DAYS - 1  # 2027-09-30: follow-ups due later are dated on it
    # Events per sale on average: the sale, a dispute (opened, then resolved or refunded and
    # resolved), a partial refund, and the late refunds and disputes that fit in the year.
    late_fit = (YEAR_DAYS - (LATE_DAYS[0] + LATE_DAYS[1] - 1) / 2) / YEAR_DAYS
    per_sale = (
        1
        + DISPUTED * (1 + RESOLVED + 2 * REFUNDED)
        + PARTLY_REFUNDED
        + late_fit * (LATE_REFUNDED + LATE_DISPUTED * (1 + LATE_RESOLVED))
    )
    sales = int(rows / per_sale * 1.01) + 10
    # Who sells: each employee in proportion to quota x performance, so attainments spread.
    quota = np.char.partition(_strings(roster, "quota"), ".")[:, 0].astype(np.int64)
    performance = PERFORMANCE_MEDIAN * np.exp(rng.normal(0.0, PERFORMANCE_SIGMA, quota.size))
    volume = quota * performance  # expected dollars sold in the year, per employee
    employee = rng.choice(quota.size, size=sales, p=volume / volume.sum())
    day = rng.integers(0, YEAR_DAYS, sales)
    # Deal sizes (lognormal, sigma 0.8) with the mean that makes the expected volumes come out.
    mu = np.log(volume.sum() / sales) - 0.8**2 / 2
    amount = np.maximum(np.round(rng.lognormal(mu, 0.8, sales) * 100), 100).astype(np.int64)
    margin = amount * rng.integers(20, 41, sales) // 100
    fate, outcome = rng.random(sales), rng.random(sales)
    disputed = fate < DISPUTED
    resolved = disputed & (outcome < RESOLVED)
    refunded = disputed & (outcome >= RESOLVED) & (outcome < RESOLVED + REFUNDED)
    edge = np.cumsum([DISPUTED, PARTLY_REFUNDED, LATE_REFUNDED, LATE_DISPUTED])
    partly = (fate >= edge[0]) & (fate < edge[1])
    opened = np.minimum(day + rng.integers(1, 15, sales), last)
    closed = np.minimum(opened + rng.integers(1, 25, sales), last)
    late = day + rng.integers(*LATE_DAYS, sales)
    late_refund = (fate >= edge[1]) & (fate < edge[2]) & (late <= last)
    late_dispute = (fate >= edge[2]) & (fate < edge[3]) & (late <= last)
    late_close = np.minimum(late + rng.integers(5, 31, sales), last)
    late_resolved = late_dispute & (outcome < LATE_RESOLVED)
    settled = resolved | refunded
    parts: list[tuple[Ints, Ints, int, Ints | None, Ints | None]] = [
        (np.arange(sales), day, 0, amount, margin),
        (np.flatnonzero(disputed), opened[disputed], 1, None, None),
        (np.flatnonzero(refunded), closed[refunded], 2, amount[refunded], None),
        (np.flatnonzero(settled), closed[settled], 3, None, None),
        (np.flatnonzero(partly), closed[partly], 2, amount[partly] // 4, None),
        (np.flatnonzero(late_refund), late[late_refund], 2, amount[late_refund] // 5, None),
        (np.flatnonzero(late_dispute), late[late_dispute], 1, None, None),
        (np.flatnonzero(late_resolved), late_close[late_resolved], 3, None, None),
    ]
    sale = np.concatenate([p[0] for p in parts])
    if sale.size < rows:
        raise ValueError(f"drew {sale.size} events, fewer than {rows}: raise the margin")
    when = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([np.full(p[0].size, p[2]) for p in parts])
    amounts = np.concatenate(
        [_cents_text(p[3]) if p[3] is not None else _empty(p[0]) for p in parts]
    )
    margins = np.concatenate(
        [_cents_text(p[4]) if p[4] is not None else _empty(p[0]) for p in parts]
    )
    order = np.lexsort((kind, sale, when))[:rows]  # date order, a sale before its follow-ups
    employees = _strings(roster, "employee_id")
    columns = {
        "transaction_id": np.char.add("T", np.char.zfill(sale[order].astype(str), 9)),
        "employee_id": employees[employee[sale[order]]],
        "date": (np.datetime64(YEAR_START) + when[order].astype("timedelta64[D]")).astype(str),
        "event": EVENTS[kind[order]],
        "amount": amounts[order],
        "currency": np.full(rows, "USD"),
        "margin": margins[order],
    }
    return _table(columns)


def _strings(table: pa.Table, column: str) -> npt.NDArray[np.str_]:
    values: npt.NDArray[np.str_] = table.column(column).to_numpy(zero_copy_only=False).astype(str)
    return values


def _empty(like: Ints) -> npt.NDArray[np.str_]:
    return np.full(like.size, "")


def _table(columns: dict[str, npt.NDArray[np.str_]]) -> pa.Table:
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="ledger events")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True, help="directory for the two files")
    args = parser.parse_args()
    rng = np.random.Generator(np.random.PCG64(args.seed))
    roster = make_roster(args.employees, rng)
    ledger = make_ledger(roster, args.rows, rng)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, table in (("roster", roster), ("ledger", ledger)):
        partial = args.out / f".{name}.parquet.partial"
        pq.write_table(table, partial)
        partial.replace(args.out / f"{name}.parquet")  # atomic: never a half-written input
    print(
        f"wrote {args.out}/roster.parquet ({roster.num_rows} employees), "
        f"{args.out}/ledger.parquet ({ledger.num_rows} events)"
    )


if __name__ == "__main__":
    main()
