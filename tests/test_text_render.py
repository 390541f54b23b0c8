"""The terminal renderers, over a hand-built result: exact key lines, widths, determinism."""

from __future__ import annotations

import dataclasses

import pytest

from compcalc.money import D
from compcalc.statements.model import Line, PeriodResult, Rejected, RuleRef, SaleNote, Statement
from compcalc.statements.text import render_explain, render_summary

BASE = RuleRef("acme-sales", "2024.1", "base")
COMMISSION = RuleRef("acme-sales", "2024.1", "commission")
PHONE = RuleRef("acme-sales", "2024.1", "phone")


def _line(rule: RuleRef, item: str, pay_code: str, label: str, amount: str, formula: str,
          transactions: tuple[str, ...] = (),
          details: tuple[tuple[str, str], ...] = ()) -> Line:
    return Line(id=f"{rule.component}.{item}", component=rule.component, kind=pay_code,
                pay_code=pay_code, item=item, label=label, amount=D(amount), rule=rule,
                formula=formula, transactions=transactions, details=details)


ADA = Statement(
    employee_id="E001", name="Ada Lovelace", role="key_account_manager", currency="USD",
    total=D("6150.00"),
    lines=(
        _line(BASE, "installment", "base", "Base salary, monthly installment", "5000.00",
              "60,000.00 / 12 = 5,000.00",
              details=(("annual", "60,000.00"), ("installments", "12"))),
        _line(COMMISSION, "new_credit", "commission", "Commission on new dispute-free sales",
              "1400.00", "28,000.00 × 5% = 1,400.00",
              transactions=tuple(f"T-{i:04d}" for i in range(1, 31)),
              details=(("rate", "5%"), ("band", "b1"), ("basis", "28,000.00"))),
        _line(COMMISSION, "clawback", "commission", "Clawback: sale T-0990 refunded", "-250.00",
              "-5,000.00 × 5% = -250.00", transactions=("T-0990",)),
    ),
    held=(SaleNote("T-0031", "2024-03-12", D("1250.00"), "held", "dispute opened 2024-03-20"),),
    excluded=(SaleNote("T-0032", "2024-03-15", D("300.00"), "excluded", "internal test order"),),
    to_date=(("commission", (("credited", "28,000.00"), ("quota", "300,000.00"),
                             ("attainment", "9.3%"), ("due", "1,150.00"), ("paid", "0.00"))),),
)
BOB = Statement(
    employee_id="E002", name="Bob Martin", role="account_manager", currency="USD",
    total=D("4100.00"),
    lines=(
        _line(BASE, "installment", "base", "Base salary, monthly installment", "3900.00",
              "46,800.00 / 12 = 3,900.00"),
        _line(PHONE, "installment", "allowance", "Phone allowance", "200.00", "200.00"),
    ),
)
REJECTED = (
    Rejected("ledger.csv", 14, 15, "amount", "12,5O", "not a number"),
    Rejected("roster.csv", 3, None, "role", "", "missing role"),
)
RESULT = PeriodResult(
    period="2024-03", period_start="2024-03-01", period_end="2024-03-31",
    ruleset_id="acme-sales", ruleset_version="2024.1", ruleset_sha256="a1" * 32,
    roster_sha256="b2" * 32, ledger_sha256="c3" * 32, engine_version="0.1.0", currency="USD",
    statements=(ADA, BOB), rejected=REJECTED,
)


# --------------------------------------------------------------------------- summary


def test_summary_header_names_the_run_and_its_inputs() -> None:
    lines = render_summary(RESULT).splitlines()
    assert lines[:5] == [
        "compcalc pay run · period 2024-03 (2024-03-01 to 2024-03-31)",
        "rules     acme-sales@2024.1  sha256:a1a1a1a1a1a1",
        "engine    compcalc 0.1.0",
        "inputs    roster sha256:b2b2b2b2b2b2  ledger sha256:c3c3c3c3c3c3",
        "currency  USD",
    ]


def test_summary_table_totals_by_pay_code_with_a_totals_row() -> None:
    lines = render_summary(RESULT).splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("employee"))
    assert lines[header:header + 6] == [
        "employee  name          role                     base  commission  bonus  allowance"
        "      total",
        "--------  ------------  -------------------  --------  ----------  -----  ---------"
        "  ---------",
        "E001      Ada Lovelace  key_account_manager  5,000.00    1,150.00      -          -"
        "   6,150.00",
        "E002      Bob Martin    account_manager      3,900.00           -      -     200.00"
        "   4,100.00",
        "--------  ------------  -------------------  --------  ----------  -----  ---------"
        "  ---------",
        "total                                        8,900.00    1,150.00      -     200.00"
        "  10,250.00",
    ]


def test_summary_counts_and_rejected_rows_in_full() -> None:
    text = render_summary(RESULT)
    assert (
        "employees       2\n"
        "lines           5\n"
        "held sales      1  (1,250.00 USD)\n"
        "excluded sales  1  (300.00 USD)\n"
        "rejected rows   2\n"
        '  ledger.csv:15: column amount: "12,5O": not a number\n'
        "  roster.csv: row 3: column role: missing role\n"
    ) in text
    assert "more (see --format json)" not in text


def test_summary_adds_engine_figures_the_counts_do_not_already_show() -> None:
    summary = (("employees", "2"), ("events_after_period_end", "3"), ("held_sales", "1"),
               ("total", "10250.00"), ("total_base", "8900.00"))
    text = render_summary(dataclasses.replace(RESULT, summary=summary, rejected=()))
    assert text.endswith(
        "employees                2\n"
        "lines                    5\n"
        "held sales               1  (1,250.00 USD)\n"
        "excluded sales           1  (300.00 USD)\n"
        "events after period end  3\n"
        "rejected rows            0\n"
    )


def test_summary_lists_only_the_first_rejected_rows() -> None:
    many = tuple(Rejected("ledger.csv", i, i + 1, "amount", "x", "not a number") for i in range(25))
    text = render_summary(dataclasses.replace(RESULT, rejected=many))
    assert "rejected rows   25\n" in text
    assert '  ledger.csv:10: column amount: "x": not a number\n' in text
    assert "ledger.csv:11:" not in text
    assert text.endswith("  … and 15 more (see --format json)\n")


def test_summary_uses_the_currency_minor_digits() -> None:
    base, phone = BOB.lines
    yen = dataclasses.replace(
        BOB, currency="JPY", total=D("412000"),
        lines=(dataclasses.replace(base, amount=D("392000")),
               dataclasses.replace(phone, amount=D("20000"))),
    )
    text = render_summary(dataclasses.replace(RESULT, currency="JPY", statements=(yen,),
                                              rejected=()))
    assert ("E002      Bob Martin  account_manager  392,000           -      -     20,000"
            "  412,000") in text


def test_summary_is_deterministic_plain_and_fits_the_terminal() -> None:
    text = render_summary(RESULT)
    assert text == render_summary(RESULT)
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_summary_clips_roles_then_names_to_fit() -> None:
    long_name = dataclasses.replace(BOB, name="Maximiliana Alexandra Hohenzollern-Sigmaringen")
    text = render_summary(dataclasses.replace(RESULT, statements=(ADA, long_name)))
    # the role column gives way first (down to 14), then the name
    assert "\nE001      Ada Lovelace             key_account_m…  5,000.00" in text
    assert "\nE002      Maximiliana Alexandra …  account_manag…  3,900.00" in text
    assert max(len(line) for line in text.splitlines()) == 100


# --------------------------------------------------------------------------- explain


def test_explain_shows_each_line_with_rule_formula_and_details() -> None:
    text = render_explain(RESULT, "E001")
    assert text.splitlines()[0] == "Statement for E001 · Ada Lovelace · key_account_manager"
    assert (
        "  1. Base salary, monthly installment" + " " * 51 + "5,000.00\n"
        "     rule          acme-sales@2024.1 / base\n"
        "     line          base.installment (pay code base)\n"
        "     formula       60,000.00 / 12 = 5,000.00\n"
        "     details       annual: 60,000.00\n"
        "                   installments: 12\n"
    ) in text


def test_explain_right_aligns_a_negative_clawback() -> None:
    lines = render_explain(RESULT, "E001").splitlines()
    clawback = next(line for line in lines if line.startswith("  3. "))
    assert clawback == "  3. Clawback: sale T-0990 refunded" + " " * 54 + "-250.00"
    assert len(clawback) == 96
    assert "     formula       -5,000.00 × 5% = -250.00" in lines


def test_explain_wraps_and_truncates_transactions() -> None:
    text = render_explain(RESULT, "E001")
    assert (
        "     transactions  T-0001, T-0002, T-0003, T-0004, T-0005, T-0006, T-0007, T-0008,"
        " T-0009,\n"
        "                   T-0010, T-0011, T-0012, T-0013, T-0014, T-0015, T-0016, T-0017,"
        " T-0018,\n"
        "                   T-0019, T-0020, T-0021, T-0022, T-0023, T-0024,"
        " … and 6 more (30 in all)\n"
    ) in text
    assert "T-0025" not in text


def test_explain_shows_held_excluded_to_date_and_the_total_check() -> None:
    text = render_explain(RESULT, "E001")
    assert (
        "Held sales, not paid this period (1)\n"
        "  T-0031  2024-03-12  1,250.00  held  dispute opened 2024-03-20\n"
    ) in text
    assert (
        "Excluded sales (1)\n"
        "  T-0032  2024-03-15  300.00  excluded  internal test order\n"
    ) in text
    assert (
        "To date\n"
        "  commission\n"
        "    credited: 28,000.00 · quota: 300,000.00 · attainment: 9.3% · due: 1,150.00"
        " · paid: 0.00\n"
    ) in text
    assert text.endswith("Total" + " " * 83 + "6,150.00 USD\nlines sum to total: yes\n")


def test_explain_omits_empty_sections() -> None:
    text = render_explain(RESULT, "E002")
    assert "Held sales" not in text
    assert "Excluded sales" not in text
    assert "To date" not in text
    assert "details" not in text
    assert "transactions" not in text


def test_explain_says_when_lines_do_not_sum_to_the_total() -> None:
    wrong = dataclasses.replace(BOB, total=D("4000.00"))
    text = render_explain(dataclasses.replace(RESULT, statements=(ADA, wrong)), "E002")
    assert text.endswith(
        "lines sum to total: NO (lines sum to 4,100.00, total is 4,000.00)\n")


def test_explain_fits_a_100_column_terminal_and_is_deterministic() -> None:
    long_label = dataclasses.replace(
        ADA.lines[2], label="Clawback of commission on a sale refunded after payment: " * 3,
        formula="x " * 120)
    statement = dataclasses.replace(ADA, lines=(*ADA.lines[:2], long_label))
    result = dataclasses.replace(RESULT, statements=(statement, BOB))
    text = render_explain(result, "E001")
    assert text == render_explain(result, "E001")
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_explain_unknown_employee_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="E999"):
        render_explain(RESULT, "E999")
