"""Nothing is dropped silently, and what the caller says was paid is checked.

Regression tests for a review of the engine: every input row or sale ends up paid, held,
excluded (with a reason) or rejected (with its row), and ``paid_to_date`` is parsed exactly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import compcalc
from test_engine_examples import (
    D,
    emp,
    ledger,
    opened,
    refund,
    roster,
    rules,
    run,
    sale,
)

FLAT = """
- id: comm
  kind: commission
  rate: 0.10
"""


def test_roster_rows_refused_on_reading_are_reported_and_their_sales_say_why() -> None:
    staff = roster(emp("E1"), emp("E2", hire_date="2026-13-01"), emp("E3", annual_base="1,000"))
    sales = ledger(sale("T1", "2026-03-05", "100.00"), sale("T2", "2026-03-06", "100.00", emp="E2"))
    result = run(rules(FLAT), staff, sales)
    assert [s.employee_id for s in result.statements] == ["E1"]
    by_column = {(r.source, r.row, r.column): r.reason for r in result.rejected}
    assert "hire_date" in {column for _, _, column in by_column}
    assert "annual_base" in {column for _, _, column in by_column}
    ledger_reason = by_column[("<ledger>", 2, "employee_id")]
    assert ledger_reason.startswith("employee E2's roster row was rejected")
    assert "hire_date" in ledger_reason or "date" in ledger_reason
    assert result.summary and dict(result.summary)["rejected_rows"] == "3"


def test_a_roster_with_every_row_refused_rejects_its_sales_instead_of_failing() -> None:
    """Found in review: with no roster row accepted, a sale for the refused employee made
    the run read a roster position that does not exist (IndexError). Now the sale is
    rejected with its reason, like any other refused employee's."""
    staff = roster(emp("E1", hire_date="2026-13-01"))
    result = run(rules(FLAT), staff, ledger(sale("T1", "2026-03-05", "100.00")))
    assert result.statements == ()
    by_column = {(r.source, r.row, r.column): r.reason for r in result.rejected}
    assert by_column[("<ledger>", 1, "employee_id")].startswith("employee E1's roster row")
    assert dict(result.summary)["rejected_rows"] == "2"


def test_excluded_sales_of_someone_not_employed_in_the_period_are_still_shown() -> None:
    staff = roster(emp("E1", termination_date="2026-02-15"), emp("E2", hire_date="2026-04-01"))
    sales = ledger(sale("T1", "2026-03-10", "100.00"), sale("T2", "2026-03-10", "50.00", emp="E2"))
    result = run(rules(FLAT), staff, sales)
    notes = {
        s.employee_id: [(n.transaction_id, n.status) for n in s.excluded] for s in result.statements
    }
    assert notes == {"E1": [("T1", "excluded")], "E2": [("T2", "excluded")]}
    assert dict(result.summary)["excluded_sales"] == "2"


def test_sales_of_an_employee_no_sales_component_applies_to_are_excluded_with_a_reason() -> None:
    only_seniors = FLAT + "  when: {seniority: [senior]}\n"
    result = run(
        rules(only_seniors),
        roster(emp("E1", seniority="mid")),
        ledger(sale("T1", "2026-03-05", "100.00")),
    )
    (note,) = result.statement("E1").excluded
    assert (note.transaction_id, note.status) == ("T1", "excluded")
    assert "no commission or bonus of plan 'rep' applies" in note.reason


def test_held_note_shows_what_is_left_after_a_partial_refund() -> None:
    sales = ledger(
        sale("T1", "2026-03-01", "10000.00"),
        refund("T1", "2026-03-02", "4000.00"),
        opened("T1", "2026-03-03"),
    )
    result = run(rules(FLAT), sales=sales)
    (note,) = result.statement("E1").held
    assert note.amount == D("6000.00")
    assert dict(result.summary)["held_amount"] == "6000.00"


def test_a_sale_refunded_in_full_while_disputed_is_forfeited_not_held() -> None:
    sales = ledger(
        sale("T1", "2026-03-01", "1000.00"),
        opened("T1", "2026-03-02"),
        refund("T1", "2026-03-03", "1000.00"),
    )
    statement = run(rules(FLAT), sales=sales).statement("E1")
    assert statement.held == ()
    assert [(n.transaction_id, n.status) for n in statement.excluded] == [("T1", "forfeited")]


def test_events_on_a_sale_from_the_previous_plan_year_are_reported() -> None:
    sales = ledger(
        sale("T1", "2025-12-20", "1000.00"),
        opened("T1", "2025-12-22"),
        refund("T1", "2026-01-05", "1000.00"),
    )
    (note,) = run(rules(FLAT), sales=sales, period="2026-01").statement("E1").excluded
    assert note.status == "excluded"
    assert "before this plan year began" in note.reason
    assert "not settled by this plan year's commission" in note.reason


def test_a_step_bonus_below_its_floor_pays_nothing() -> None:
    step = """
    - id: bonus
      kind: bonus
      method: step
      target: {amount: 1000}
      floor: 0.9
      steps:
        - {id: half, at: 0.5, payout: 0.5}
    """
    result = run(rules(step), sales=ledger(sale("T1", "2026-03-01", "60000.00")))
    line = next(line for line in result.statement("E1").lines if line.component == "bonus")
    assert line.amount == D("0.00")
    assert "below the 90% floor" in line.formula


def test_per_period_cap_excess_in_the_last_period_of_the_year_is_said_to_be_forfeited() -> None:
    capped = FLAT + "  cap: {amount: 1000, per: period}\n"
    result = run(
        rules(capped), sales=ledger(sale("T1", "2026-12-01", "30000.00")), period="2026-12"
    )
    cap = next(line for line in result.statement("E1").lines if line.item == "cap")
    assert cap.amount == D("-2000.00")
    assert "forfeited: the plan year ends with this period" in cap.formula


def test_paid_to_date_rows_for_one_pair_are_added_up() -> None:
    paid = pd.DataFrame(
        {"employee_id": ["E1", "E1"], "component": ["comm", "comm"], "amount": ["500.00", "500.00"]}
    )
    sales = ledger(sale("T1", "2026-02-01", "10000.00"))
    result = run(rules(FLAT), sales=sales, paid_to_date=paid)
    assert all(line.item != "true_up" for line in result.statement("E1").lines)


@pytest.mark.parametrize(
    ("employee", "component", "amount", "message"),
    [
        ("E9", "comm", "1.00", "employee 'E9' is not among the employees paid"),
        ("E1", "commision", "1.00",
         "'commision' is not a commission, bonus, draw or override (known: comm)"),
        ("E1", "comm", "1,000", "is not a plain decimal number"),
        ("E1", "comm", "999.995", "has more than 2 decimal places"),
        ("E1", "comm", None, "never float or empty"),
    ],
)
def test_paid_to_date_that_cannot_be_trusted_stops_the_run(
    employee: str, component: str, amount: str | None, message: str
) -> None:
    paid = pd.DataFrame(
        {
            "employee_id": [employee],
            "component": [component],
            "amount": pd.Series([amount], dtype=object),
        }
    )
    with pytest.raises(compcalc.RunError) as caught:
        run(rules(FLAT), paid_to_date=paid)
    assert message in str(caught.value)


def test_a_true_up_line_names_the_earlier_sales_it_settles() -> None:
    paid = pd.DataFrame({"employee_id": ["E1"], "component": ["comm"], "amount": ["400.00"]})
    result = run(rules(FLAT), sales=ledger(sale("T1", "2026-02-01", "5000.00")), paid_to_date=paid)
    line = next(line for line in result.statement("E1").lines if line.item == "true_up")
    assert (line.amount, line.transactions) == (D("100.00"), ("T1",))


def test_a_ledger_too_large_to_total_exactly_is_refused() -> None:
    sales = ledger(*[sale(f"T{i}", "2026-03-01", "999999999999999.99") for i in range(100)])
    with pytest.raises(compcalc.RunError, match="64-bit"):
        run(rules(FLAT), sales=sales)


def test_an_impossible_period_date_names_the_period() -> None:
    with pytest.raises(compcalc.RunError, match=r"period '2026-02-30\.\.2026-03-01'"):
        run(rules(FLAT), period="2026-02-30..2026-03-01")


def test_a_sale_without_margin_under_a_margin_commission_is_excluded_with_a_reason() -> None:
    on_margin = FLAT + "  basis: margin\n"
    sales = ledger(
        sale("T1", "2026-03-01", "1000.00", margin="200.00"), sale("T2", "2026-03-02", "1000.00")
    )
    statement = run(rules(on_margin), sales=sales).statement("E1")
    line = next(line for line in statement.lines if line.item == "new_credit")
    assert (line.amount, line.transactions) == (D("20.00"), ("T1",))
    (note,) = statement.excluded
    assert note.transaction_id == "T2" and "no margin given" in note.reason


def test_a_margin_the_rules_do_not_use_is_left_unread_and_said() -> None:
    """Read for rules that pay on no margin, the ledger's margin column is left unread as an
    unknown column is (named, not parsed, not digested); for rules that do, it is read."""
    flat, on_margin = rules(FLAT), rules(FLAT + "  basis: margin\n")
    assert (flat.uses_margin, on_margin.uses_margin) == (False, True)
    sales = ledger(
        sale("T1", "2026-03-01", "1000.00", margin="abc"),
        sale("T2", "2026-03-02", "500.00", margin="200.00"),
    )
    unread = compcalc.read_ledger(sales, rules=flat)
    assert unread.without_margin and unread.unread_columns == ("margin",)
    assert unread.frame["margin_minor"].isna().all() and not unread.rejected
    assert unread.sha256 == compcalc.read_ledger(sales.drop(columns=["margin"])).sha256
    read = compcalc.read_ledger(sales)  # no rules: every column compcalc knows
    assert not read.without_margin and read.unread_columns == ()
    assert [(r.row, r.column) for r in read.rejected] == [(1, "margin")]
    assert read.sha256 != unread.sha256
    both = compcalc.read_ledger(sales, rules=[flat, on_margin])
    assert (both.sha256, both.rejected) == (read.sha256, read.rejected)
    # A run given the frame reads it for its rules: the flat commission pays on both sales,
    # the margin commission refuses T1's margin and pays on T2's.
    flat_lines = run(flat, sales=sales).statement("E1").lines
    flat_line = next(x for x in flat_lines if x.item == "new_credit")
    assert (flat_line.amount, flat_line.transactions) == (D("150.00"), ("T1", "T2"))
    result = run(on_margin, sales=sales)
    assert [(r.row, r.column) for r in result.rejected] == [(1, "margin")]
    margin_line = next(x for x in result.statement("E1").lines if x.item == "new_credit")
    assert (margin_line.amount, margin_line.transactions) == (D("20.00"), ("T2",))
    with pytest.raises(compcalc.errors.InputError, match="margin column was left unread"):
        run(on_margin, sales=unread)


def test_margin_rules_refuse_a_ledger_any_of_whose_files_had_its_margin_left_unread(
    tmp_path: Path,
) -> None:
    flat, on_margin = rules(FLAT), rules(FLAT + "  basis: margin\n")
    with_margin = tmp_path / "a.csv"
    ledger(sale("T1", "2026-03-01", "1000.00", margin="200.00")).to_csv(with_margin, index=False)
    without = tmp_path / "b.csv"
    frame = ledger(sale("T2", "2026-03-02", "500.00")).drop(columns=["margin"])
    frame.to_csv(without, index=False)
    both = compcalc.read_ledger([with_margin, without], rules=flat)
    assert both.without_margin
    with pytest.raises(compcalc.errors.InputError, match="margin column was left unread"):
        run(on_margin, sales=both)
    assert not compcalc.read_ledger([with_margin, without], rules=on_margin).without_margin


def test_the_statement_pages_list_a_deal_whose_margin_the_run_did_not_read(
    tmp_path: Path,
) -> None:
    from compcalc.statements.html import read_deals

    path = tmp_path / "l.csv"
    ledger(sale("T1", "2026-03-01", "1000.00", margin="n/a")).to_csv(path, index=False)
    result = run(rules(FLAT), sales=compcalc.read_ledger(path, rules=rules(FLAT)))
    assert not result.rejected
    deals = read_deals([str(path)], rejected=result.rejected)
    assert [(e.event, e.amount) for e in deals["T1"]] == [("sale", D("1000.00"))]
