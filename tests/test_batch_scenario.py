"""Finance's batch over the shipped example, October to December 2026, through the CLI.

Run October, close it, run November with the store (paid to date = what October paid), close
it, export it, run December. November brings a refund of an October sale (Omar Haddad, E020)
and a dispute resolved on an October sale (Rafael Ortiz, E035, who also has a recoverable draw).
Every figure is worked by hand in the comments from examples/ledger/*.csv and
rules/account_managers.yaml; the store is SQLite, and PostgreSQL when a server is given.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from compcalc.cli import main

D = Decimal
ROOT = Path(__file__).resolve().parents[1]
RULES = str(ROOT / "rules" / "account_managers.yaml")
ROSTER = str(ROOT / "examples" / "roster.csv")
LEDGERS = [str(ROOT / "examples" / "ledger" / f"2026-{m}.csv") for m in ("10", "11", "12")]


@dataclasses.dataclass(frozen=True)
class Batch:
    results: dict[str, dict[str, Any]]  # period -> result JSON of its stored run
    export: list[dict[str, str]]  # November's payroll CSV rows
    rerun_closed: tuple[int, str]  # exit code and stderr of re-running closed October
    listing: str  # `compcalc runs` at the end


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def batch(new_store_url: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Batch:
    url = new_store_url()
    results: dict[str, dict[str, Any]] = {}
    for month, period in enumerate(("2026-10", "2026-11", "2026-12"), start=1):
        ledgers = [arg for path in LEDGERS[:month] for arg in ("--ledger", path)]
        code, out, err = cli(
            capsys, "run", "--rules", RULES, "--roster", ROSTER, *ledgers,
            "--period", period, "--store", url, "--format", "json",
        )  # fmt: skip
        assert code == 0, err
        results[period] = json.loads(out)
        if period != "2026-12":
            code, out, err = cli(capsys, "close", "--period", period, "--store", url)
            assert code == 0, err
    target = tmp_path / "nov.csv"
    code, _, err = cli(
        capsys, "export", "--period", "2026-11", "--format", "payroll-csv",
        "--store", url, "--out", str(target),
    )  # fmt: skip
    assert code == 0, err
    export = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    code, _, err = cli(
        capsys, "run", "--rules", RULES, "--roster", ROSTER, "--ledger", LEDGERS[0],
        "--period", "2026-10", "--store", url,
    )  # fmt: skip
    rerun = (code, err)
    code, listing, err = cli(capsys, "runs", "--store", url)
    assert code == 0, err
    return Batch(results, export, rerun, listing)


def statement(batch: Batch, period: str, employee: str) -> dict[str, Any]:
    found = [s for s in batch.results[period]["statements"] if s["employee_id"] == employee]
    assert len(found) == 1, (period, employee)
    return found[0]


def lines(batch: Batch, period: str, employee: str) -> dict[str, dict[str, Any]]:
    return {line["id"]: line for line in statement(batch, period, employee)["lines"]}


def to_date(batch: Batch, period: str, employee: str, component: str) -> dict[str, str]:
    return dict(statement(batch, period, employee)["to_date"][component])


def test_refund_of_an_october_sale_is_a_november_clawback(batch: Batch) -> None:
    # October: T2026-10-0059 36,800.00 + T2026-10-0119 56,700.00 = 93,500.00 credited,
    # 14.8 % of the 630,000.00 quota: foundation band 2 % -> 1,870.00.
    october = lines(batch, "2026-10", "E020")
    assert D(october["commission.new_credit"]["amount"]) == D("1870.00")
    november = lines(batch, "2026-11", "E020")
    clawback = november["commission.clawback"]
    # 2026-11-17: T2026-10-0059 refunded in full: 2 % x 36,800.00 = 736.00 back.
    assert clawback["amount"] == "-736.00"
    assert clawback["pay_code"] == "adjustment"
    assert clawback["transactions"] == ["T2026-10-0059"]
    assert clawback["details"]["original_periods"] == "2026-10"
    assert clawback["details"]["events"] == "T2026-10-0059: refund 2026-11-17 of 36,800.00"
    # New: T2026-11-0019 64,260.00; 2 % x (56,700.00 + 64,260.00) = 2,419.20, less 1,134.00.
    assert november["commission.new_credit"]["amount"] == "1285.20"
    figures = to_date(batch, "2026-11", "E020", "commission")
    assert figures["paid_before"] == "1,870.00"  # October, from the store
    assert figures["due_to_date"] == "2,419.20"
    assert figures["payable_this_period"] == "549.20"


def test_dispute_resolved_releases_and_the_draw_recovers(batch: Batch) -> None:
    # October, per-deal tiers (4 % of the first 10,000.00 of a deal, 6 % above):
    #   T2026-10-0033 21,590.52: 400.00 + 6 % x 11,590.52 = 1,095.4312
    #   T2026-10-0110 19,749.48: 400.00 + 6 % x  9,749.48 =   984.9688   -> 2,080.40
    # ... plus T2026-10-0032 18,400.00 held (dispute opened 2026-10-21): not paid.
    october = lines(batch, "2026-10", "E035")
    assert october["deal_commission.new_credit"]["amount"] == "2080.40"
    # The draw (mid level: 2,500.00 a month) tops October up: 2,500.00 - 2,080.40 = 419.60.
    assert october["draw.advance"]["amount"] == "419.60"
    assert to_date(batch, "2026-10", "E035", "draw")["draw_balance"] == "419.60"
    held = statement(batch, "2026-10", "E035")["held"]
    assert [note["transaction_id"] for note in held] == ["T2026-10-0032"]

    november = lines(batch, "2026-11", "E035")
    released = november["deal_commission.released"]
    # Resolved 2026-11-09: 400.00 + 6 % x 8,400.00 = 904.00, an adjustment of October.
    assert released["amount"] == "904.00"
    assert released["pay_code"] == "adjustment"
    assert released["details"]["original_periods"] == "2026-10"
    assert released["details"]["events"] == "T2026-10-0032: dispute resolved 2026-11-09"
    assert november["deal_commission.new_credit"]["amount"] == "2411.12"
    # Commission this period 904.00 + 2,411.12 = 3,315.12, which is 815.12 above the draw:
    # recovered min(balance 419.60, 815.12, limit 300.00) = 300.00; 119.60 still owed.
    assert november["draw.recovery"]["amount"] == "-300.00"
    draw = to_date(batch, "2026-11", "E035", "draw")
    assert draw["balance_before"] == "419.60"
    assert draw["draw_balance"] == "119.60"
    commission = to_date(batch, "2026-11", "E035", "deal_commission")
    assert commission["paid_before"] == "2,080.40"
    assert commission["due_to_date"] == "5,395.52"  # 2,080.40 + 3,315.12


def test_paid_to_date_over_the_quarter_is_the_due_to_date(batch: Batch) -> None:
    """What October, November and December pay adds up to December's due to date."""
    for employee, component in (("E020", "commission"), ("E035", "deal_commission")):
        paid = sum(
            (
                D(line["amount"])
                for period in ("2026-10", "2026-11", "2026-12")
                for line in statement(batch, period, employee)["lines"]
                if line["component"] == component
            ),
            D(0),
        )
        due = to_date(batch, "2026-12", employee, component)["due_to_date"]
        assert paid == D(due.replace(",", "")), employee
    # The draw's net paid (advances less recoveries) is the balance still owed.
    net = sum(
        (
            D(line["amount"])
            for period in ("2026-10", "2026-11", "2026-12")
            for line in statement(batch, period, "E035")["lines"]
            if line["component"] == "draw"
        ),
        D(0),
    )
    assert f"{net:,}" == to_date(batch, "2026-12", "E035", "draw")["draw_balance"]


def test_november_export_has_the_adjustment_rows(batch: Batch) -> None:
    rows = {(r["employee_id"], r["pay_code"]): r["amount"] for r in batch.export}
    assert rows[("E020", "adjustment")] == "-736.00"
    assert rows[("E020", "commission")] == "1285.20"
    assert rows[("E035", "adjustment")] == "904.00"
    assert rows[("E035", "draw")] == "-300.00"
    for employee in ("E020", "E035"):
        total = sum((D(r["amount"]) for r in batch.export if r["employee_id"] == employee), D(0))
        assert total == D(statement(batch, "2026-11", employee)["total"])


def test_a_closed_period_is_never_rewritten(batch: Batch) -> None:
    code, err = batch.rerun_closed
    assert code == 1
    assert "2026-10 is closed" in err


def test_runs_lists_the_quarter(batch: Batch) -> None:
    header, *rows = batch.listing.splitlines()
    assert header.split() == ["run", "period", "status", "rules", "ledger", "currency", "total"]
    assert [row.split()[1:3] for row in rows] == [
        ["2026-10", "closed"],
        ["2026-11", "closed"],
        ["2026-12", "draft"],
    ]
    for row, period in zip(rows, ("2026-10", "2026-11", "2026-12"), strict=True):
        total = sum((D(s["total"]) for s in batch.results[period]["statements"]), D(0))
        assert row.split()[-1] == f"{total:,}"
