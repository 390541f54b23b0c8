"""Multi-currency sales: a user-supplied dated FX table converts them into the pay currency.

Figures are worked by hand next to each assertion. The commission rate is 100 % (``rate: 1``)
in most tests, so a commission line equals the credited amount and shows the conversion's
result to the cent. Rates are never fetched: the only rates are the tables written here.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import textwrap
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import compcalc
from compcalc.engine.crediting import Money, Sales, build_sales
from compcalc.errors import InputError, RunError
from compcalc.inputs import FxTable, check_ledger, read_fx, read_ledger, read_roster
from compcalc.inputs.fx import RATE_SCALE, rate_text
from compcalc.money import Rounding
from compcalc.store.store import run_id_of

D = Decimal
ROOT = Path(__file__).resolve().parent.parent

RULES = """\
id: fx-spec
version: "1"
currency: USD
rounding: {rounding}
effective:
  from: 2026-01-01
plan_year:
  start_month: 10
dimensions:
  seniority: [mid]
  company_size: [mid]
  region: [metro]
plans:
  rep:
    components:
      - id: commission
        kind: commission
        rate: {rate}
"""


def rules(rounding: str = "half_up", rate: str = "1") -> compcalc.RuleSet:
    return compcalc.load_rules_text(RULES.format(rounding=rounding, rate=rate))


ROSTER = pd.DataFrame(
    [
        {
            "employee_id": e, "name": f"Employee {e}", "role": "rep", "seniority": "mid",
            "company_size": "mid", "region": "metro", "currency": "USD",
            "annual_base": "0.00", "quota": "100000.00", "hire_date": "2020-01-01",
            "termination_date": "", "manager_id": "",
        }
        for e in ("E1", "E2")
    ],
    dtype=str,
)  # fmt: skip

FX_ROWS = [
    ("2026-10-01", "EUR", "USD", "1.0790"),
    ("2026-11-02", "EUR", "USD", "1.0850"),
    ("2026-11-16", "EUR", "USD", "1.0832"),
    ("2026-11-02", "JPY", "USD", "0.0067"),
    ("2026-11-02", "KWD", "USD", "3.2550"),
    ("2026-11-09", "EUR", "USD", "1.0050"),  # an exact half cent on 1.00 EUR
    ("2026-11-10", "EUR", "USD", "1.0850"),
    ("2026-11-02", "GBP", "USD", "1.5"),
]


def fx_table(rows: list[tuple[str, str, str, str]] | None = None) -> pd.DataFrame:
    return pd.DataFrame(FX_ROWS if rows is None else rows, columns=["date", "from", "to", "rate"])


def ledger(*rows: tuple[str, ...]) -> pd.DataFrame:
    columns = ["transaction_id", "employee_id", "date", "event", "amount", "currency"]
    return pd.DataFrame(list(rows), columns=columns, dtype=str)


def run(
    sales: pd.DataFrame,
    fx: pd.DataFrame | FxTable | None = None,
    rule_set: compcalc.RuleSet | None = None,
    period: str = "2026-11",
) -> compcalc.PeriodResult:
    result = compcalc.run_period(rule_set or rules(), ROSTER, sales, period, fx=fx)
    for statement in result.statements:
        assert sum((line.amount for line in statement.lines), D(0)) == statement.total
    return result


def commission(result: compcalc.PeriodResult, employee: str = "E1") -> list[compcalc.Line]:
    return [line for line in result.statement(employee).lines if line.kind == "commission"]


def new_credit(result: compcalc.PeriodResult, employee: str = "E1") -> compcalc.Line:
    (line,) = [line for line in commission(result, employee) if line.item == "new_credit"]
    return line


def credited(result: compcalc.PeriodResult, employee: str = "E1") -> str:
    figures = dict(result.statement(employee).to_date)["commission"]
    return dict(figures)["credited_to_date"]


# ---------------------------------------------------------------------------------------------
# Conversions worked by hand


def test_eur_sale_converts_at_the_rate_in_force_and_the_formula_names_it() -> None:
    # 10,000.00 EUR sold 2026-11-03: the latest EUR->USD rate on or before is 2026-11-02's
    # 1.0850 (not 2026-10-01's, not 2026-11-16's): 10,000.00 x 1.0850 = 10,850.00 USD.
    result = run(ledger(("T9", "E1", "2026-11-03", "sale", "10000.00", "EUR")), fx_table())
    line = new_credit(result)
    assert line.amount == D("10850.00")
    assert line.transactions == ("T9",)
    assert line.formula.endswith(
        "; T9 10,000.00 EUR x 1.0850 (EUR->USD of 2026-11-02) = 10,850.00 USD"
    )
    assert credited(result) == "10,850.00"


def test_a_rate_dated_on_the_sale_day_applies_that_day() -> None:
    # Sold 2026-11-16, the day a new rate starts: 200.00 x 1.0832 = 216.64.
    result = run(ledger(("T1", "E1", "2026-11-16", "sale", "200.00", "EUR")), fx_table())
    assert new_credit(result).amount == D("216.64")
    assert "(EUR->USD of 2026-11-16)" in new_credit(result).formula


def test_jpy_and_kwd_sales_use_their_own_minor_digits() -> None:
    # JPY has no minor unit: 1,234,567 JPY x 0.0067 = 8,271.5989 USD -> 8,271.60.
    # KWD has three: 1.005 KWD x 3.2550 = 3.2712750 USD -> 3.27.
    sales = ledger(
        ("J1", "E1", "2026-11-05", "sale", "1234567", "JPY"),
        ("K1", "E2", "2026-11-05", "sale", "1.005", "KWD"),
    )
    result = run(sales, fx_table())
    assert new_credit(result, "E1").amount == D("8271.60")
    assert new_credit(result, "E1").formula.endswith(
        "; J1 1,234,567 JPY x 0.0067 (JPY->USD of 2026-11-02) = 8,271.60 USD"
    )
    assert new_credit(result, "E2").amount == D("3.27")
    assert "K1 1.005 KWD x 3.2550 (KWD->USD of 2026-11-02) = 3.27 USD" in (
        new_credit(result, "E2").formula
    )


@pytest.mark.parametrize(
    ("rounding", "one", "three"),
    [
        # 1.00 EUR x 1.0050 = 1.005 USD: half_up 1.01, half_even 1.00 (0 is even), down 1.00.
        # 3.00 EUR x 1.0050 = 3.015 USD: half_up 3.02, half_even 3.02 (2 is even), down 3.01.
        ("half_up", "1.01", "3.02"),
        ("half_even", "1.00", "3.02"),
        ("down", "1.00", "3.01"),
    ],
)
def test_conversion_rounds_once_with_the_rule_sets_mode(
    rounding: str, one: str, three: str
) -> None:
    sales = ledger(
        ("A", "E1", "2026-11-09", "sale", "1.00", "EUR"),
        ("B", "E2", "2026-11-09", "sale", "3.00", "EUR"),
    )
    result = run(sales, fx_table(), rules(rounding))
    assert new_credit(result, "E1").amount == D(one)
    assert new_credit(result, "E2").amount == D(three)


def test_refund_converts_at_the_sales_rate_not_the_refunds_date() -> None:
    # Sale 10,000.00 EUR on 2026-11-03 at 1.0850 = 10,850.00 USD. Refund 2,500.00 EUR on
    # 2026-11-20, when the table says 1.0832: at the SALE's rate it is 2,712.50 USD (at the
    # refund date's rate it would be 2,708.00). Credit left: 10,850.00 - 2,712.50 = 8,137.50.
    sales = ledger(
        ("T9", "E1", "2026-11-03", "sale", "10000.00", "EUR"),
        ("T9", "E1", "2026-11-20", "refund", "2500.00", "EUR"),
    )
    result = run(sales, fx_table())
    assert new_credit(result).amount == D("8137.50")
    # A month later the refund is a clawback of an earlier sale and names its converted size.
    sales = ledger(
        ("T9", "E1", "2026-11-03", "sale", "10000.00", "EUR"),
        ("T9", "E1", "2026-12-04", "refund", "2500.00", "EUR"),
    )
    december = run(sales, fx_table(), period="2026-12")
    (clawback,) = [line for line in commission(december) if line.item == "clawback"]
    assert clawback.amount == D("-2712.50")
    assert dict(clawback.details)["events"] == "T9: refund 2026-12-04 of 2,712.50"
    assert "T9 10,000.00 EUR x 1.0850 (EUR->USD of 2026-11-02)" in clawback.formula


def test_refunds_in_steps_net_exactly_to_zero() -> None:
    # 0.03 GBP x 1.5 = 0.045 -> 0.05 USD. Three refunds of 0.01 GBP: converted one by one
    # each would be 0.015 -> 0.02 (0.06 in all, more than the sale). Converted cumulatively
    # at the sale's rate: 0.015 -> 0.02, 0.03 -> 0.03, 0.045 -> 0.05, i.e. 0.02, 0.01, 0.02.
    frame = ledger(
        ("G1", "E1", "2026-11-03", "sale", "0.03", "GBP"),
        ("G1", "E1", "2026-11-04", "refund", "0.01", "GBP"),
        ("G1", "E1", "2026-11-05", "refund", "0.01", "GBP"),
        ("G1", "E1", "2026-11-06", "refund", "0.01", "GBP"),
    )
    sales = _sales(frame, read_fx(fx_table()))
    assert sales.amount.tolist() == [5]
    assert sales.refund_amount.tolist() == [2, 1, 2]
    assert sales.refund_shown.tolist() == [2, 1, 2]
    result = run(frame, fx_table())
    assert [n.status for n in result.statement("E1").excluded] == ["forfeited"]
    assert new_credit(result).amount == D("0.00")


def test_sales_in_the_pay_currency_are_untouched_and_name_no_rate() -> None:
    sales = ledger(
        ("U1", "E1", "2026-11-03", "sale", "100.00", "USD"),
        ("T9", "E1", "2026-11-03", "sale", "100.00", "EUR"),
    )
    line = new_credit(run(sales, fx_table()))
    # 100.00 + 100.00 x 1.0850 = 208.50; only the converted sale is described.
    assert line.amount == D("208.50")
    assert line.formula.count("->USD") == 1 and "U1" not in line.formula


# ---------------------------------------------------------------------------------------------
# Missing rates, no table, no inversion


def test_a_missing_rate_is_an_error_naming_the_pair_the_date_and_the_transaction() -> None:
    sales = ledger(
        ("T1", "E1", "2026-10-05", "sale", "10.00", "USD"),
        ("T2", "E1", "2026-09-30", "sale", "10.00", "EUR"),  # before the first EUR rate
        ("T3", "E1", "2026-11-05", "sale", "10.00", "CHF"),  # no CHF->USD at all
    )
    with pytest.raises(RunError) as caught:
        run(sales, read_fx(fx_table()), period="2026-11")
    message = str(caught.value)
    assert "no EUR->USD rate on or before 2026-09-30 (sale date of transaction T2)" in message
    assert "no CHF->USD rate on or before 2026-11-05 (sale date of transaction T3)" in message
    assert message.startswith("<fx>")


def test_rates_are_never_inverted() -> None:
    # A USD->EUR rate does not price an EUR sale paid in USD.
    table = fx_table([("2026-10-01", "USD", "EUR", "0.9200")])
    with pytest.raises(RunError, match="no EUR->USD rate on or before 2026-11-03"):
        run(ledger(("T1", "E1", "2026-11-03", "sale", "10.00", "EUR")), table)


def test_a_sale_after_the_period_needs_no_rate_yet() -> None:
    sales = ledger(
        ("T1", "E1", "2026-11-03", "sale", "10.00", "EUR"),
        ("T2", "E1", "2027-01-05", "sale", "10.00", "CHF"),  # after November: not looked at
    )
    assert new_credit(run(sales, fx_table())).amount == D("10.85")


def test_without_a_table_other_currencies_are_rejected_with_the_way_to_convert() -> None:
    sales = ledger(
        ("T1", "E1", "2026-11-03", "sale", "10.00", "EUR"),
        ("T2", "E1", "2026-11-03", "sale", "5.00", "USD"),
    )
    result = run(sales)
    (rejected,) = result.rejected
    assert (rejected.row, rejected.column, rejected.value) == (1, "currency", "EUR")
    assert rejected.reason == (
        "currency EUR differs from employee E1's currency USD; give an FX table "
        "(--fx FILE, or fx= in run_period) to convert it"
    )
    assert new_credit(result).amount == D("5.00")


def test_a_refund_in_another_currency_than_its_sale_is_rejected() -> None:
    sales = ledger(
        ("T1", "E1", "2026-11-03", "sale", "10.00", "EUR"),
        ("T1", "E1", "2026-11-04", "refund", "5.00", "USD"),
    )
    result = run(sales, fx_table())
    (rejected,) = result.rejected
    assert (rejected.row, rejected.column) == (2, "currency")
    assert rejected.reason == "refund in USD differs from its sale's currency EUR (row 1)"


# ---------------------------------------------------------------------------------------------
# Reading the table


def test_read_fx_sorts_collapses_identical_repeats_and_keeps_rates_exact(tmp_path: Path) -> None:
    path = tmp_path / "fx.csv"
    path.write_text(
        "date,from,to,rate\n2026-11-02,EUR,USD,1.0850\n2026-10-01,EUR,USD,1.079\n"
        "2026-11-02,EUR,USD,1.085\n2026-10-01,JPY,USD,0.0000000067\n",
        encoding="utf-8",
    )
    table = read_fx(path)
    frame = table.frame
    assert frame[["from", "to"]].values.tolist() == [["EUR", "USD"]] * 2 + [["JPY", "USD"]]
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-10-01", "2026-11-02", "2026-10-01"
    ]  # fmt: skip
    assert frame["rate"].tolist() == [10_790_000_000, 10_850_000_000, 67]
    assert [rate_text(r) for r in frame["rate"]] == ["1.0790", "1.0850", "0.0000000067"]
    assert RATE_SCALE == 10**10
    assert table.source == str(path)


def test_bad_fx_rows_are_an_error_naming_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "fx.csv"
    path.write_text(
        textwrap.dedent("""\
            date,from,to,rate
            2026-11-02,EUR,USD,1.0850
            2026-11-02,EUR,USD,1.0900
            2026-11-31,EUR,USD,1.08
            2026-11-03,EUR,usd,1.08
            2026-11-03,GBP,USD,0
            2026-11-03,GBP,USD,"1,27"
            2026-11-04,GBP,USD,-1.2
            2026-11-05,GBP,USD,1.27000000001
            2026-11-05,GBP,GBP,1
            ,GBP,USD,1.2
            2026-11-06,,USD,1.2
        """),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_fx(path)
    name = str(path)
    clash = (
        "EUR->USD on 2026-11-02 has different rates (lines 2, 3); give one rate per pair and date"
    )
    assert str(caught.value).splitlines() == [
        f'{name}:2: rate: "1.0850": {clash}',
        f'{name}:3: rate: "1.0900": {clash}',
        f'{name}:4: date: "2026-11-31": date is not a real calendar date',
        f'{name}:5: to: "usd": unknown currency \'usd\': expected an ISO 4217 code such as USD',
        f'{name}:6: rate: "0": rate must be greater than zero',
        f'{name}:7: rate: "1,27": commas are not accepted: write a decimal point and no '
        "thousands separators, e.g. 1250.00",
        f'{name}:8: rate: "-1.2": rate must be greater than zero',
        f'{name}:9: rate: "1.27000000001": has 11 decimal places; at most 10 allowed',
        f'{name}:10: to: "GBP": from and to are the same currency; a rate converts between two',
        f'{name}:11: date: "": date is empty',
        f'{name}:12: from: "": from is empty',
    ]


def test_bad_rows_of_a_frame_name_the_row() -> None:
    table = fx_table([("2026-11-02", "EUR", "USD", "1.0"), ("2026-11-02", "EUR", "USD", "x")])
    with pytest.raises(InputError) as caught:
        read_fx(table)
    (problem,) = caught.value.diagnostics
    assert str(problem) == (
        '<fx>: rate: row 2: "x": is not a plain decimal number; write digits with an '
        "optional leading minus sign and a decimal point, e.g. 1234.50"
    )


def test_missing_columns_and_float_rates_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing required column"):
        read_fx(pd.DataFrame({"date": ["2026-11-02"], "from": ["EUR"], "to": ["USD"]}))
    floats = pd.DataFrame(
        {"date": ["2026-11-02"], "from": ["EUR"], "to": ["USD"], "rate": [1.085]}
    )
    path = tmp_path / "fx.parquet"
    floats.to_parquet(path)
    with pytest.raises(InputError, match="floating point"):
        read_fx(path)


def test_the_shipped_example_table_reads() -> None:
    table = read_fx(ROOT / "examples" / "fx.csv")
    assert set(zip(table.frame["from"], table.frame["to"], strict=True)) == {
        ("EUR", "USD"), ("GBP", "USD")
    }  # fmt: skip
    dates = table.frame["date"].dt.strftime("%Y-%m-%d")
    assert dates.min() <= "2026-10-01" and dates.max() >= "2026-12-01"


# ---------------------------------------------------------------------------------------------
# Digests and determinism


def test_the_fx_digest_is_in_the_result_only_when_a_table_is_given() -> None:
    sales = ledger(("U1", "E1", "2026-11-03", "sale", "100.00", "USD"))
    plain = run(sales)
    with_fx = run(sales, fx_table())
    assert "fx_sha256" not in json.loads(plain.to_json())["inputs"]
    table = read_fx(fx_table())
    assert json.loads(with_fx.to_json())["inputs"]["fx_sha256"] == table.sha256
    assert with_fx.fx_sha256 == table.sha256 and len(table.sha256) == 64
    # The same figures, but another input: another run id. Without a table: as before.
    assert run_id_of(with_fx) != run_id_of(plain)
    assert compcalc.PeriodResult.from_dict(json.loads(with_fx.to_json())) == with_fx
    assert compcalc.PeriodResult.from_dict(json.loads(plain.to_json())) == plain


@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rng: random.Random) -> None:
    rows = [
        ("T9", "E1", "2026-11-03", "sale", "10000.00", "EUR"),
        ("T9", "E1", "2026-11-20", "refund", "2500.00", "EUR"),
        ("J1", "E2", "2026-11-05", "sale", "1234567", "JPY"),
        ("G1", "E1", "2026-10-03", "sale", "0.03", "GBP"),
        ("G1", "E1", "2026-11-04", "refund", "0.01", "GBP"),
        ("G1", "E1", "2026-11-04", "refund", "0.02", "GBP"),
        ("U1", "E2", "2026-10-20", "sale", "50.00", "USD"),
    ]
    fx_rows = [*FX_ROWS, ("2026-10-01", "GBP", "USD", "1.5")]
    base = run(ledger(*rows), fx_table(fx_rows)).to_json()
    rng.shuffle(rows)
    rng.shuffle(fx_rows)
    assert run(ledger(*rows), fx_table(fx_rows)).to_json() == base


def test_build_sales_converts_without_a_python_loop_per_row() -> None:
    # 20,000 converted sales in one call: the arithmetic is whole-column (a smoke check that
    # the conversion and its exact rounding are vectorised and agree with Decimal by hand).
    n = 20_000
    amounts = [f"{k}.{k % 100:02d}" for k in range(1, n + 1)]
    frame = pd.DataFrame(
        {
            "transaction_id": [f"T{k:05d}" for k in range(n)], "employee_id": "E1",
            "date": "2026-11-03", "event": "sale", "amount": amounts, "currency": "EUR",
        }
    )  # fmt: skip
    sales = _sales(frame, read_fx(fx_table()))
    expected = [int((D(a) * D("1.0850") * 100).quantize(D(1), ROUND_HALF_UP)) for a in amounts]
    assert sales.amount.tolist() == expected  # ids T00000.. sort like the rows


def _sales(frame: pd.DataFrame, fx: FxTable, rounding: Rounding = Rounding.HALF_UP) -> Sales:
    """The engine's sale index for a ledger frame (E1 and E2 on the roster, paid in USD)."""
    staff = read_roster(ROSTER)
    checked = check_ledger(read_ledger(frame), staff, convert=True)
    assert checked.rejected == ()
    position = pd.Series(np.arange(len(staff.frame)), index=staff.frame["employee_id"].to_numpy())
    never = np.full(len(staff.frame), np.datetime64("NaT"), dtype="datetime64[D]")
    money = Money("USD", rounding, fx, dt.date(2026, 12, 31))
    return build_sales(checked.frame, position, never, never, dt.date(2026, 10, 1), money)


# ---------------------------------------------------------------------------------------------
# Command line


def test_cli_run_and_explain_with_fx(tmp_path: Path) -> None:
    ledger_path = tmp_path / "ledger.csv"
    ledger_path.write_text(
        "transaction_id,employee_id,date,event,amount,currency,margin\n"
        "T9,E001,2026-11-03,sale,10000.00,EUR,\n"
        "T10,E002,2026-11-04,sale,2000.00,GBP,\n",
        encoding="utf-8",
    )
    args = [
        "--rules", "rules/account_managers.yaml", "--roster", "examples/roster.csv",
        "--ledger", str(ledger_path), "--period", "2026-11",
    ]  # fmt: skip
    command = [sys.executable, "-m", "compcalc.cli", "run", *args]
    done = subprocess.run(
        [*command, "--fx", "examples/fx.csv", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["inputs"]["fx_sha256"] == read_fx(ROOT / "examples" / "fx.csv").sha256
    assert result["rejected"] == []
    formulas = {
        s["employee_id"]: " ".join(line["formula"] for line in s["lines"])
        for s in result["statements"]
    }
    # 10,000.00 EUR x 1.0850 (2026-11-02) = 10,850.00; 2,000.00 GBP x 1.2689 = 2,537.80.
    assert "T9 10,000.00 EUR x 1.0850 (EUR->USD of 2026-11-02) = 10,850.00 USD" in formulas["E001"]
    assert "T10 2,000.00 GBP x 1.2689 (GBP->USD of 2026-11-02) = 2,537.80 USD" in formulas["E002"]
    explain = [sys.executable, "-m", "compcalc.cli", "explain", *args, "--employee", "E001"]
    shown = subprocess.run(
        [*explain, "--fx", "examples/fx.csv"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "EUR->USD of" in shown.stdout
    # Without the table the rows are rejected and the summary says how to convert them.
    plain = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert plain.returncode == 0
    assert "give an FX table (--fx FILE" in plain.stdout
    # A table with no rate for the sale's date is an error (exit 1), naming pair and date.
    early = tmp_path / "fx.csv"
    early.write_text("date,from,to,rate\n2026-12-01,EUR,USD,1.08\n", encoding="utf-8")
    failed = subprocess.run(
        [*command, "--fx", str(early)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1
    assert f"{early}: no EUR->USD rate on or before 2026-11-03" in failed.stderr
