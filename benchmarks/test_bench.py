"""totals.sql against hand-computed figures and against compcalc; the benchmark's own checks.

Run with ``python3 -m pytest benchmarks -q`` (DuckDB is the ``bench`` extra: skipped without it).
"""

from __future__ import annotations

from pathlib import Path

import bench_batch
import generate
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("duckdb")

ROSTER = {
    "employee_id": ["R1", "B1"],
    "name": ["Regional One", "Developer One"],
    "role": ["regional_account_manager", "business_development_manager"],
    "seniority": ["entry", "entry"],
    "company_size": ["small", "small"],
    "region": ["non_metro", "non_metro"],
    "currency": ["USD", "USD"],
    "annual_base": ["48000.00", "40000.00"],
    "quota": ["100000.00", "250000.00"],
    "hire_date": ["2020-01-06", "2021-03-01"],
    "termination_date": ["", ""],
    "manager_id": ["", ""],
}
LEDGER = [  # transaction_id, employee_id, date, event, amount
    ("T1", "R1", "2026-10-05", "sale", "30000.00"),
    ("T2", "B1", "2026-10-12", "sale", "120000.00"),
    ("T3", "B1", "2027-01-20", "sale", "5000.00"),
    ("T4", "B1", "2027-02-03", "sale", "50000.00"),
    ("T5", "R1", "2027-02-10", "sale", "8000.00"),
    ("T5", "R1", "2027-02-20", "dispute_opened", ""),
]


def write_inputs(folder: Path, roster: pa.Table, ledger: pa.Table) -> Path:
    pq.write_table(roster, folder / "roster.parquet")
    pq.write_table(ledger, folder / "ledger.parquet")
    return folder


@pytest.fixture(scope="module")
def by_hand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    columns = list(zip(*LEDGER, strict=True))
    ledger = {
        name: list(values)
        for name, values in zip(
            ("transaction_id", "employee_id", "date", "event", "amount"), columns, strict=True
        )
    }
    ledger["currency"] = ["USD"] * len(LEDGER)
    ledger["margin"] = [""] * len(LEDGER)
    return write_inputs(tmp_path_factory.mktemp("by_hand"), pa.table(ROSTER), pa.table(ledger))


@pytest.mark.parametrize(
    ("period", "regional", "developer"),
    [
        # R1: base 48,000.00 / 12 = 4,000.00, health (small) 450.00, then 475.00 from January;
        # 3 % commission once 25 % of the 100,000.00 quota is credited: 30,000.00 in October
        # pays 900.00. T5 (February) is disputed at February's end: held, nothing paid.
        # B1: base 40,000.00 monthly with cumulative rounding (3,333.33, 3,333.34, 3,333.33,
        # 3,333.33, 3,333.34), health as R1. T2 earns 10,000 x 4 % + 110,000 x 6 % = 7,000.00,
        # capped at 4,000.00 in October; November pays the deferred 3,000.00 (the cap is 4,000.00
        # and the draw 2,000.00: nothing to advance, no balance to recover); December pays no
        # commission, so the draw advances 2,000.00; January's T3 earns 200.00, so 1,800.00 more
        # is advanced (balance 3,800.00); February's T4 earns 400 + 40,000 x 6 % = 2,800.00,
        # 800.00 above the draw, of which 300.00 (the limit) is recovered.
        ("2026-10", 4000_00 + 450_00 + 900_00, 3333_33 + 450_00 + 4000_00),
        ("2026-11", 4000_00 + 450_00, 3333_34 + 450_00 + 3000_00),
        ("2026-12", 4000_00 + 450_00, 3333_33 + 450_00 + 2000_00),
        ("2027-01", 4000_00 + 475_00, 3333_33 + 475_00 + 200_00 + 1800_00),
        ("2027-02", 4000_00 + 475_00, 3333_34 + 475_00 + 2800_00 - 300_00),
    ],
)
def test_sql_pays_the_hand_computed_figures(
    by_hand: Path, period: str, regional: int, developer: int
) -> None:
    sql = bench_batch.run_duckdb(by_hand, period, 1, bench_batch.QUERY)["employees"]
    assert sql["R1"][-1] == regional
    assert sql["B1"][-1] == developer
    ours = bench_batch.run_compcalc(by_hand, period)["employees"]
    assert bench_batch.differences(ours, sql) == []


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.Generator(np.random.PCG64(generate.SEED))
    roster = generate.make_roster(300, rng)
    ledger = generate.make_ledger(roster, 12_000, rng)
    return write_inputs(tmp_path_factory.mktemp("generated"), roster, ledger)


@pytest.mark.parametrize("period", ["2026-10", "2026-12", "2027-03", "2027-09"])
def test_sql_equals_compcalc_on_generated_data(generated: Path, period: str) -> None:
    ours = bench_batch.run_compcalc(generated, period)
    sql = bench_batch.run_duckdb(generated, period, 1, bench_batch.QUERY)
    assert ours["rejected_count"] == 0
    assert len(ours["employees"]) == 300
    assert bench_batch.differences(ours["employees"], sql["employees"]) == []


def test_generated_data_needs_the_clawback_window(generated: Path, tmp_path: Path) -> None:
    """Without the 90-day window the SQL is wrong on the generated ledger: it is exercised."""
    query = bench_batch.QUERY.read_text(encoding="utf-8").replace("sold_on + 90", "sold_on + 900")
    (tmp_path / "no_window.sql").write_text(query, encoding="utf-8")
    ours = bench_batch.run_compcalc(generated, "2027-09")["employees"]
    sql = bench_batch.run_duckdb(generated, "2027-09", 1, tmp_path / "no_window.sql")
    assert bench_batch.differences(ours, sql["employees"]) != []


def test_generated_inputs_are_exact_and_inside_the_sql_scope(generated: Path) -> None:
    inputs = bench_batch.inspect_inputs(generated, "2027-09")
    assert inputs["ledger_rows"] == 12_000
    assert inputs["employees"] == 300
    assert inputs["problems"] == []


def test_a_mismatch_names_the_employee_and_both_splits() -> None:
    ours = {"E1": [100, 0, 50, 0, 0, 0, 150], "E2": [1, 0, 0, 0, 0, 0, 1]}
    sql = {"E1": [100, 0, 49, 0, 0, 0, 149], "E2": [1, 0, 0, 0, 0, 0, 1], "E3": [0] * 7}
    assert bench_batch.differences(ours, sql) == [
        "E1: compcalc total 1.50 (base 1.00, allowances 0.00, commission 0.50, bonus 0.00, "
        "draw 0.00, override 0.00); DuckDB total 1.49 (base 1.00, allowances 0.00, commission "
        "0.49, bonus 0.00, draw 0.00, override 0.00)",
        "E3: compcalc no statement; DuckDB total 0.00 (base 0.00, allowances 0.00, commission "
        "0.00, bonus 0.00, draw 0.00, override 0.00)",
    ]


def test_hires_during_the_plan_year_are_out_of_scope(by_hand: Path, tmp_path: Path) -> None:
    roster = pa.table({**ROSTER, "hire_date": ["2026-11-16", "2021-03-01"]})
    ledger = pq.read_table(by_hand / "ledger.parquet")
    folder = write_inputs(tmp_path, roster, ledger)
    problems = bench_batch.inspect_inputs(folder, "2027-02")["problems"]
    assert problems == ["1 employee(s) hired after 2026-10-01 (proration)"]
