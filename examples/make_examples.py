"""Generate the shipped example roster and sales ledgers for rules/account_managers.yaml.

Deterministic: the same seed always writes the same bytes, so the committed CSVs can be
regenerated and compared. Pure standard library. Run from anywhere:

    python examples/make_examples.py            # writes examples/roster.csv, examples/ledger/*.csv
    python examples/make_examples.py --summary  # also prints attainment to date per employee

Writes:
    examples/roster.csv            40 employees of the fictional Meridian Group
    examples/ledger/2026-10.csv    events dated in October 2026 (first month of the plan year)
    examples/ledger/2026-11.csv    events dated in November 2026
    examples/ledger/2026-12.csv    events dated in December 2026

Most sales are random volume that lands each employee on a chosen attainment of the annual
quota by the end of December. The example deliberately compresses much of a year's selling into
the plan year's first quarter so every band, gate and cap shows up within three statements.
On top of that volume come the scripted scenarios walked through in examples/README.md; the
checks at the bottom of this file assert that each scenario really shows what the README says.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

SEED = 20261001
HERE = Path(__file__).resolve().parent
MONTHS = ((2026, 10), (2026, 11), (2026, 12))
CURRENCY = "USD"

# Annual base ranges in dollars by seniority and company size, from the seeds (see the comment
# block above `plans:` in rules/account_managers.yaml). Metro in the upper half, non-metro lower.
BASE_RANGE = {
    "entry": {"small": (38_000, 44_000), "mid": (43_000, 50_000), "large": (48_000, 55_000)},
    "mid": {"small": (50_000, 57_000), "mid": (55_000, 63_000), "large": (60_000, 72_000)},
    "senior": {"small": (78_000, 88_000), "mid": (86_000, 96_000), "large": (94_000, 111_000)},
}
# A typical deal in dollars per role: sets how many sales the volume is cut into.
TYPICAL_DEAL = {
    "national_account_manager": 45_000,
    "regional_account_manager": 24_000,
    "key_account_manager": 60_000,
    "relationship_account_manager": 26_000,
    "business_development_manager": 24_000,
}
MAX_DEALS_PER_MONTH = 8

NAM = "national_account_manager"
RAM = "regional_account_manager"
KAM = "key_account_manager"
REL = "relationship_account_manager"
BDM = "business_development_manager"


@dataclass(frozen=True)
class Person:
    employee_id: str
    name: str
    role: str
    seniority: str
    company_size: str
    region: str
    # Attainment of the annual quota reached by the random volume at the end of December, and
    # the share of that volume sold in October and in November (December gets the rest).
    target: str
    shares: tuple[str, str] = ("0.30", "0.34")
    hire_date: dt.date | None = None  # None: drawn before the plan year
    termination_date: dt.date | None = None
    manager_id: str = ""


# The Meridian Group: three operating companies (company_size small, mid, large), sales staff in
# metro and non-metro offices. Olivia Bennett leads national accounts group-wide; Natalie
# Fischer leads the key account team.
PEOPLE = (
    # national account managers: retroactive tiers, 50 % gate, President's Club at 100 %
    Person("E001", "Olivia Bennett", NAM, "senior", "large", "metro", "1.08", ("0.30", "0.35")),
    Person("E002", "Marcus Reyes", NAM, "mid", "large", "non_metro", "0.5000", ("0.32", "0.36"),
           manager_id="E001"),
    Person("E003", "Priya Raman", NAM, "senior", "mid", "metro", "0.4998", ("0.30", "0.35"),
           manager_id="E001"),
    Person("E004", "Daniel Okafor", NAM, "mid", "mid", "non_metro", "0.86", ("0.30", "0.35"),
           manager_id="E001"),
    Person("E005", "Hannah Whitfield", NAM, "senior", "small", "metro", "0.66", manager_id="E001"),
    Person("E006", "Luis Carvalho", NAM, "entry", "small", "non_metro", "0.35", manager_id="E001"),
    Person("E007", "Grace Liu", NAM, "mid", "small", "metro", "0.57", manager_id="E001"),
    # regional account managers: flat rate by seniority x company size, 25 % gate
    Person("E008", "Samuel Brooks", RAM, "senior", "large", "metro", "0.95"),
    Person("E009", "Aisha Mensah", RAM, "mid", "large", "non_metro", "0.80", ("0.40", "0.30")),
    Person("E010", "Tom Kowalski", RAM, "entry", "mid", "non_metro", "0.40", ("0.30", "0.36")),
    Person("E011", "Rosa Delgado", RAM, "mid", "mid", "metro", "0.75", ("0.40", "0.30")),
    Person("E012", "Kevin Nguyen", RAM, "senior", "small", "non_metro", "0.60", ("0.45", "0.38"),
           termination_date=dt.date(2026, 12, 12)),
    Person("E013", "Emily Carter", RAM, "entry", "small", "metro", "0.20"),
    Person("E014", "Jamal Wright", RAM, "mid", "small", "non_metro", "0.55"),
    Person("E015", "Sofia Romano", RAM, "senior", "mid", "non_metro", "0.70"),
    Person("E016", "Ben Adler", RAM, "entry", "large", "metro", "0.35", ("0.28", "0.32")),
    # key account managers: marginal tiers, accelerator, decelerator, plan-year cap
    Person("E017", "Natalie Fischer", KAM, "senior", "large", "metro", "1.56", ("0.33", "0.33")),
    Person("E018", "Ethan Park", KAM, "mid", "large", "metro", "1.22", manager_id="E017"),
    Person("E019", "Chloe Martin", KAM, "senior", "mid", "non_metro", "1.10", manager_id="E017"),
    Person("E020", "Omar Haddad", KAM, "mid", "mid", "metro", "0.30", manager_id="E017"),
    Person("E021", "Isabel Costa", KAM, "entry", "small", "non_metro", "0.40", manager_id="E017"),
    Person("E022", "Ryan Mitchell", KAM, "entry", "large", "metro", "0.62", manager_id="E017"),
    Person("E023", "Mei Tanaka", KAM, "senior", "small", "metro", "0.90", manager_id="E017"),
    Person("E024", "Victor Hale", KAM, "mid", "small", "non_metro", "0.71", manager_id="E017"),
    Person("E025", "Laura Jensen", KAM, "entry", "mid", "metro", "0.46", manager_id="E017"),
    Person("E026", "Andre Dubois", KAM, "senior", "large", "non_metro", "1.04", manager_id="E017"),
    # relationship account managers: linear bonus instead of commission (floor 50 %, cap 150 %)
    Person("E027", "Fatima Noor", REL, "senior", "large", "metro", "1.62"),
    Person("E028", "Connor Walsh", REL, "mid", "mid", "non_metro", "0.82"),
    Person("E029", "Julia Santos", REL, "entry", "small", "metro", "0.31"),
    Person("E030", "Henry Osei", REL, "mid", "large", "metro", "0.56"),
    Person("E031", "Anna Kowalczyk", REL, "senior", "mid", "non_metro", "1.12"),
    Person("E032", "Diego Alvarez", REL, "entry", "large", "non_metro", "0.45"),
    Person("E033", "Megan O'Brien", REL, "senior", "small", "metro", "0.95"),
    # business development managers: per-deal tiers, monthly cap, year-end step bonus
    Person("E034", "Lucas Schmidt", BDM, "senior", "large", "metro", "0.12", ("0.40", "0.40")),
    Person("E035", "Zoe Adams", BDM, "mid", "mid", "metro", "0.26"),
    Person("E036", "Arjun Mehta", BDM, "entry", "small", "non_metro", "0.42"),
    Person("E037", "Clara Moreau", BDM, "mid", "large", "non_metro", "0.45"),
    Person("E038", "Noah Brennan", BDM, "senior", "small", "metro", "0.36"),
    Person("E039", "Yuki Sato", BDM, "entry", "mid", "metro", "0.40"),
    Person("E040", "Elena Petrova", BDM, "mid", "small", "non_metro", "0.04", ("0.00", "0.30"),
           hire_date=dt.date(2026, 11, 16)),
)


@dataclass(frozen=True)
class Scripted:
    """A sale walked through in the README, with the events that follow it."""

    key: str
    employee_id: str
    date: dt.date
    amount: str  # as written in the CSV (the bad row keeps its thousands separator)
    events: tuple[tuple[dt.date, str, str], ...] = ()  # (date, event, amount or "")
    note: str = ""


SCRIPTED = (
    Scripted("dispute_released", "E035", dt.date(2026, 10, 7), "18400.00",
             ((dt.date(2026, 10, 21), "dispute_opened", ""),
              (dt.date(2026, 11, 9), "dispute_resolved", ""))),
    Scripted("dispute_held", "E009", dt.date(2026, 11, 4), "27350.00",
             ((dt.date(2026, 11, 18), "dispute_opened", ""),)),
    Scripted("full_refund_clawback", "E020", dt.date(2026, 10, 13), "36800.00",
             ((dt.date(2026, 11, 17), "refund", "36800.00"),)),
    Scripted("partial_refund", "E011", dt.date(2026, 11, 10), "42000.00",
             ((dt.date(2026, 12, 8), "refund", "8400.00"),)),
    Scripted("new_hire_sale", "E040", dt.date(2026, 11, 24), "14250.00"),
    Scripted("after_termination", "E012", dt.date(2026, 12, 15), "12600.00"),
    Scripted("period_cap", "E034", dt.date(2026, 10, 20), "142500.00"),
    Scripted("bad_amount", "E028", dt.date(2026, 12, 9), "1,250.00",
             note="thousands separator: a deliberate reject"),
)


@dataclass
class Employee:
    person: Person
    annual_base: int
    quota: int
    hire_date: dt.date


@dataclass
class Row:
    date: dt.date
    employee_id: str
    event: str
    amount: str
    margin: str = ""
    key: str = ""  # scripted sale key, or the key an event refers to
    transaction_id: str = ""
    order: int = field(default=0)  # sales before events on the same day


# --------------------------------------------------------------------------- roster


def draw_roster(rng: random.Random) -> list[Employee]:
    employees = []
    for person in PEOPLE:
        low, high = BASE_RANGE[person.seniority][person.company_size]
        middle = (low + high) // 2
        low, high = (middle, high) if person.region == "metro" else (low, middle)
        base = rng.randint(low // 500, high // 500) * 500
        half_multiple = rng.randint(16, 24)  # quota of 8 to 12 times base, in steps of 0.5
        quota = (base * half_multiple // 2 + 5_000) // 10_000 * 10_000
        hire = person.hire_date or dt.date(rng.randint(2014, 2025), rng.randint(1, 12),
                                           rng.randint(1, 28))
        employees.append(Employee(person, base, quota, hire))
    return employees


def write_roster(employees: list[Employee], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["employee_id", "name", "role", "seniority", "company_size", "region",
                         "currency", "annual_base", "quota", "hire_date", "termination_date",
                         "manager_id"])
        for emp in employees:
            p = emp.person
            writer.writerow([p.employee_id, p.name, p.role, p.seniority, p.company_size,
                             p.region, CURRENCY, f"{emp.annual_base}.00", f"{emp.quota}.00",
                             emp.hire_date.isoformat(),
                             p.termination_date.isoformat() if p.termination_date else "",
                             p.manager_id])


# --------------------------------------------------------------------------- ledger


def cents_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def weekdays(year: int, month: int, first: dt.date | None, last: dt.date | None) -> list[dt.date]:
    days = [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    return [d for d in days if d.weekday() < 5
            and (first is None or d >= first) and (last is None or d <= last)]


def split(total_cents: int, parts: int, rng: random.Random) -> list[int]:
    """Cut an amount into ``parts`` random pieces that add up to it exactly."""
    weights = [rng.randint(50, 150) for _ in range(parts)]
    pieces = [total_cents * w // sum(weights) for w in weights[:-1]]
    pieces.append(total_cents - sum(pieces))
    return pieces


def volume_sales(emp: Employee, rng: random.Random) -> dict[tuple[int, int], list[Row]]:
    """Random sales landing the employee on ``target`` x quota by the end of December."""
    p = emp.person
    total = emp.quota * 100 * int(Decimal(p.target) * 10_000) // 10_000  # exact: quota % 10k == 0
    oct_share, nov_share = Decimal(p.shares[0]), Decimal(p.shares[1])
    cumulative = [int(total * oct_share), int(total * (oct_share + nov_share)), total]
    out: dict[tuple[int, int], list[Row]] = {}
    previous = 0
    for (year, month), cum in zip(MONTHS, cumulative, strict=True):
        month_cents, previous = cum - previous, cum
        out[(year, month)] = []
        if month_cents == 0:
            continue
        deals = round(month_cents / 100 / TYPICAL_DEAL[p.role])
        deals = max(1, min(MAX_DEALS_PER_MONTH, deals))
        # Sales fall on working days inside the employment (terminated staff: before the exit).
        last = p.termination_date - dt.timedelta(days=1) if p.termination_date else None
        days = weekdays(year, month, emp.hire_date, last)
        for cents in split(month_cents, deals, rng):
            margin = cents * rng.randint(18, 42) // 100
            out[(year, month)].append(
                Row(rng.choice(days), p.employee_id, "sale", cents_text(cents), cents_text(margin))
            )
    return out


Ledgers = dict[tuple[int, int], list[Row]]


def build_ledgers(employees: list[Employee], rng: random.Random) -> Ledgers:
    ledgers: Ledgers = {m: [] for m in MONTHS}
    for emp in employees:
        for key, rows in volume_sales(emp, rng).items():
            ledgers[key].extend(rows)
    for s in SCRIPTED:
        margin = "" if "," in s.amount else cents_text(int(Decimal(s.amount) * 100) * 30 // 100)
        ledgers[(s.date.year, s.date.month)].append(
            Row(s.date, s.employee_id, "sale", s.amount, margin, key=s.key))
        for when, event, amount in s.events:
            ledgers[(when.year, when.month)].append(
                Row(when, s.employee_id, event, amount, key=s.key, order=1))
    ids: dict[str, str] = {}
    for (year, month), rows in ledgers.items():
        rows.sort(key=lambda r: (r.date, r.order, r.employee_id, r.amount))
        count = 0
        for row in rows:
            if row.event == "sale":
                count += 1
                row.transaction_id = f"T{year}-{month:02d}-{count:04d}"
                if row.key:
                    ids[row.key] = row.transaction_id
            else:
                row.transaction_id = ids[row.key]  # events follow their sale's month
    return ledgers


def write_ledger(rows: list[Row], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["transaction_id", "employee_id", "date", "event", "amount", "currency",
                         "margin"])
        for row in rows:
            writer.writerow([row.transaction_id, row.employee_id, row.date.isoformat(), row.event,
                             row.amount, CURRENCY, row.margin])


# --------------------------------------------------------------------------- checks
# A small independent reading of the crediting rules (dispute-free, refunds, employment dates),
# used only to prove the scenarios land where the README says. Not the engine.


def credited_to_date(rows: list[Row], employees: dict[str, Employee], end: dt.date
                     ) -> dict[str, dict[str, Decimal]]:
    """Per employee, per sale transaction id: the credited amount as of ``end``."""
    sales: dict[str, Row] = {}
    net: dict[str, Decimal] = {}
    disputed: set[str] = set()
    for row in sorted(rows, key=lambda r: (r.date, r.order)):
        if row.date > end or "," in row.amount:
            continue
        tid = row.transaction_id
        if row.event == "sale":
            emp = employees[row.employee_id]
            term = emp.person.termination_date
            if row.date < emp.hire_date or (term is not None and row.date > term):
                continue
            sales[tid], net[tid] = row, Decimal(row.amount)
        elif row.event == "dispute_opened":
            disputed.add(tid)
        elif row.event == "dispute_resolved":
            disputed.discard(tid)
        elif row.event == "refund" and tid in net:
            net[tid] -= Decimal(row.amount)
    out: dict[str, dict[str, Decimal]] = {e: {} for e in employees}
    for tid, row in sales.items():
        if tid not in disputed and net[tid] > 0:
            out[row.employee_id][tid] = net[tid]
    return out


def per_deal_commission(amount: Decimal) -> Decimal:
    """$10,000 x 4 % + the rest x 6 %, as in the business_development_manager plan."""
    first = min(amount, Decimal(10_000))
    return first * Decimal("0.04") + (amount - first) * Decimal("0.06")


def check(employees: list[Employee], ledgers: Ledgers, show: bool) -> None:
    by_id = {e.person.employee_id: e for e in employees}
    all_rows = [r for rows in ledgers.values() for r in rows]
    ends = [dt.date(y, m, calendar.monthrange(y, m)[1]) for y, m in MONTHS]
    credited = [credited_to_date(all_rows, by_id, end) for end in ends]
    attainment = {
        eid: [sum(c[eid].values(), Decimal(0)) / by_id[eid].quota for c in credited]
        for eid in by_id
    }
    # National: one exactly at the 50 % gate (only in December), one just under it.
    assert attainment["E002"][2] == Decimal("0.5") and attainment["E002"][1] < Decimal("0.5")
    assert Decimal("0.499") < attainment["E003"][2] < Decimal("0.5")
    assert attainment["E001"][1] < 1 < attainment["E001"][2]  # President's Club in December
    # Key accounts: several past the accelerator, one past the decelerator; Omar stays in the
    # foundation band so his clawback is exactly 2 % of the refunded sale.
    assert sum(attainment[e.person.employee_id][2] > 1 for e in employees
               if e.person.role == KAM) >= 4
    assert attainment["E017"][2] > Decimal("1.5")
    assert all(a < Decimal("0.5") for a in attainment["E020"])
    # Regional scenario people are over the 25 % gate from October on, so every effect shows.
    for eid in ("E009", "E011", "E012"):
        assert all(a >= Decimal("0.25") for a in attainment[eid]), eid
    # No month-end attainment sits exactly on one of its plan's band edges, gates or steps,
    # except Marcus's gate.
    edges = {NAM: ("0.5", "0.8", "1.0"), RAM: ("0.25",), KAM: ("0.5", "1.0", "1.5"),
             REL: ("0.5", "1.5"), BDM: ("1.0", "1.2")}
    for eid, values in attainment.items():
        role_edges = {Decimal(x) for x in edges[by_id[eid].person.role]}
        assert eid == "E002" or not role_edges.intersection(values), eid
    # BDM per-deal commission by month: Lucas over his $8,000 cap in October only and the
    # deferred excess fits in November; Zoe (with her released sale) never near her $6,000 cap.
    bdm_month = {}
    for eid in ("E034", "E035", "E040"):
        due = [sum((per_deal_commission(a) for a in c[eid].values()), Decimal(0))
               for c in credited]
        bdm_month[eid] = [due[0], due[1] - due[0], due[2] - due[1]]
    assert bdm_month["E034"][0] > 8000 and bdm_month["E034"][0] + bdm_month["E034"][1] <= 16000
    assert bdm_month["E034"][2] <= 8000
    assert max(bdm_month["E035"]) < 6000 and max(bdm_month["E040"]) < 6000
    if show:
        print("employee  role                          quota        Oct      Nov      Dec")
        for eid, emp in by_id.items():
            a = " ".join(f"{x:8.4f}" for x in attainment[eid])
            print(f"{eid}      {emp.person.role:29} {emp.quota:>10}  {a}")
        for eid, months in bdm_month.items():
            print(eid, "per-deal commission by month:", [f"{m:.2f}" for m in months])
        print("sales:", sum(r.event == "sale" for r in all_rows), "rows:", len(all_rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true", help="print attainment to date")
    args = parser.parse_args()
    rng = random.Random(SEED)
    employees = draw_roster(rng)
    ledgers = build_ledgers(employees, rng)
    check(employees, ledgers, args.summary)
    write_roster(employees, HERE / "roster.csv")
    (HERE / "ledger").mkdir(exist_ok=True)
    for (year, month), rows in ledgers.items():
        write_ledger(rows, HERE / "ledger" / f"{year}-{month:02d}.csv")


if __name__ == "__main__":
    main()
