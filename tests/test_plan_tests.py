"""Plan tests: the YAML cases shipped beside the flagship rules, their format's errors, the
diff report, and the analyst's workflow (change a rate, run `compcalc test`, see which cases
change) end to end through the CLI."""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.cli_run import REPO, cli

from compcalc.plantests import (
    CaseResult,
    PlanTestError,
    find_plan_tests,
    is_plan_test_file,
    load_plan_tests,
    load_plan_tests_text,
    run_case,
    run_plan_tests,
)
from compcalc.rules import RuleSet, load_rules

RULES = REPO / "rules" / "account_managers.yaml"
SHIPPED = sorted((REPO / "rules" / "tests").glob("*.yaml"))
LOADED = {path: load_plan_tests(path) for path in SHIPPED}
CASES = [(path.name, case.name) for path, tests in LOADED.items() for case in tests.cases]

# A regional entry rep at a small company: flat 3 %, gate 25 % of a 100,000.00 quota.
REP = (
    "{employee_id: E1, role: regional_account_manager, seniority: entry, company_size: small,"
    ' region: non_metro, annual_base: "40000.00", quota: "100000.00", hire_date: 2020-01-01}'
)


@cache
def flagship() -> RuleSet:
    return load_rules(RULES)


def case_file(tmp_path: Path, cases: str, name: str = "t.yaml") -> Path:
    """A plan-test file in ``tmp_path`` testing the flagship rules."""
    path = tmp_path / name
    path.write_text(f"rules: {RULES}\ncases:\n{cases}", encoding="utf-8")
    return path


def one_sale(amount: str, expect: str, name: str = "one sale", period: str = "2026-10") -> str:
    """A case: the rep sells ``amount`` on 2026-10-05; ``expect`` is the indented block."""
    return (
        f"  - name: {name}\n    period: {period}\n    roster: [{REP}]\n    ledger:\n"
        "      - {transaction_id: T1, employee_id: E1, date: 2026-10-05, event: sale,"
        f' amount: "{amount}"}}\n    expect:\n{expect}'
    )


# --------------------------------------------------------------------------- shipped cases


@pytest.fixture(scope="module")
def shipped() -> dict[tuple[str, str], CaseResult]:
    """Every shipped case, run once (profile cases in one batch per file)."""
    report = run_plan_tests(SHIPPED)
    assert not report.problems, report.render()
    return {(Path(case.file).name, case.name): case for case in report.cases}


@pytest.mark.parametrize(("file_name", "name"), CASES, ids=[name for _, name in CASES])
def test_shipped_plan_case(
    shipped: dict[tuple[str, str], CaseResult], file_name: str, name: str
) -> None:
    result = shipped[(file_name, name)]
    assert result.passed, result.render()


def test_the_flagship_carries_at_least_30_uniquely_named_cases() -> None:
    assert len(CASES) >= 30
    assert len({name for _, name in CASES}) == len(CASES)
    assert {tests.rules.resolve() for tests in LOADED.values()} == {RULES}
    assert find_plan_tests([RULES]) == SHIPPED


# --------------------------------------------------------------------------- format errors


def problems(text: str) -> list[str]:
    with pytest.raises(PlanTestError) as caught:
        load_plan_tests_text(text, "t.yaml")
    return [str(d).splitlines()[0] for d in caught.value.diagnostics]


def test_a_yaml_float_amount_is_refused_at_its_line_and_field() -> None:
    text = f"rules: r.yaml\ncases:\n{one_sale('1', '      totals: {E1: 1200.50}')}"
    text = text.replace('amount: "1"', "amount: 40000.10")
    assert problems(text) == [
        't.yaml:7:86: cases[0].ledger[0].amount: write amounts in quotes, as "40000.10", so '
        "they stay exact (got 40000.10)",
        't.yaml:9:20: cases[0].expect.totals.E1: write amounts in quotes, as "1200.50", so '
        "they stay exact (got 1200.50)",
    ]


def test_unknown_fields_and_bad_amount_text_are_named() -> None:
    text = (
        "rules: r.yaml\ncases:\n  - name: x\n    period: 2026-10\n"
        f"    roster: [{REP}]\n    expcet: {{totals: {{E1: '1'}}}}\n"
        "  - name: y\n    period: 2026-10\n"
        f"    roster: [{REP}]\n    expect: {{lines: {{E1: {{base.installment: '1,250.00'}}}}}}\n"
    )
    assert problems(text) == [
        't.yaml:3:5: cases[0]: missing required field "expect"',
        't.yaml:6:5: cases[0]: unknown field "expcet" (did you mean "expect"?); allowed fields: '
        "name, period, roster, ledger, paid_to_date, fx, profile, attainment, deals_per_month, "
        "expect",
        't.yaml:10:45: cases[1].expect.lines.E1["base.installment"]: expected an amount as '
        'plain decimal text such as "1234.50" (got "1,250.00")',
    ]


def test_a_case_must_be_a_run_or_a_profile_and_state_something() -> None:
    text = (
        "rules: r.yaml\ncases:\n  - name: x\n    expect: {totals: {E1: '1'}}\n"
        f"  - name: y\n    period: 2026-13\n    roster: [{REP}]\n    expect: {{}}\n"
        f"  - name: z\n    period: 2026-10\n    roster: [{REP}]\n    expect: {{}}\n"
        "  - name: z\n    profile: {role: r, seniority: s, company_size: c, region: g,"
        " base: '1'}\n    attainment: '1'\n    expect: {totals: {E1: '1'}}\n"
    )
    assert problems(text) == [
        "t.yaml:3:5: cases[0]: a case needs 'period' and 'roster' (a pay run), or 'profile' "
        "and 'attainment' (an offer's plan year)",
        't.yaml:6:13: cases[1].period: month must be 01 to 12 (got "2026-13")',
        "t.yaml:9:5: cases[2]: 'expect' states nothing to check",
        "t.yaml:13:5: cases[3]: a profile case expects annual pay ('annual', 'components'), "
        "not totals",
    ]


def test_case_names_must_be_unique_within_a_file() -> None:
    case = one_sale("40000.00", "      totals: {E1: '1'}\n")
    assert problems(f"rules: r.yaml\ncases:\n{case}{case}") == [
        "t.yaml:10:11: cases[1].name: case name 'one sale' is already used on line 3; names "
        "must be unique"
    ]


def test_ids_a_case_lacks_are_refused_where_they_are_written() -> None:
    expect = (
        "      totals: {E9: '1'}\n"
        "      held: {E1: [T1, T7]}\n"
        "      rejected: {roster: [E2], ledger: [T2]}\n"
    )
    case = one_sale("1.00", expect).replace(
        "    expect:", "    paid_to_date: [{employee_id: E3, component: commission, amount: '0'}]"
        "\n    expect:"
    )
    assert problems(f"rules: r.yaml\ncases:\n{case}") == [
        "t.yaml:8:34: cases[0].paid_to_date[0].employee_id: no employee 'E3' in this case's "
        "roster (it has E1)",
        "t.yaml:10:20: cases[0].expect.totals.E9: no employee 'E9' in this case's roster (it "
        "has E1)",
        "t.yaml:11:23: cases[0].expect.held.E1[1]: no transaction 'T7' in this case's ledger "
        "(it has T1)",
        "t.yaml:12:27: cases[0].expect.rejected.roster[0]: no employee 'E2' in this case's "
        "roster (it has E1)",
        "t.yaml:12:41: cases[0].expect.rejected.ledger[0]: no transaction 'T2' in this case's "
        "ledger (it has T1)",
    ]


def test_an_exclusion_status_must_be_one_a_statement_shows() -> None:
    case = one_sale("1.00", "      excluded: {E1: {T1: forfieted}}\n")
    assert problems(f"rules: r.yaml\ncases:\n{case}") == [
        "t.yaml:9:27: cases[0].expect.excluded.E1.T1: expected one of forfeited, excluded, "
        'not_clawed_back, got "forfieted"'
    ]


def test_a_test_file_naming_no_rule_file_is_refused_at_its_rules_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("rules: ../nope.yaml\ncases:\n" + one_sale("1.00", "      totals: {E1: '1'}\n"))
    with pytest.raises(PlanTestError) as caught:
        load_plan_tests(path)
    assert str(caught.value).splitlines()[0] == (
        f"{path}:1:8: rules: no rule file {tmp_path.parent / 'nope.yaml'} (the path is relative "
        "to this test file)"
    )


# --------------------------------------------------------------------------- the diff


def test_notes_spanning_lines_stay_under_their_case() -> None:
    note = "the run stopped: r.yaml:14:9: rate: the table has no value\n  14 |  rate:\n     |  ^"
    result = CaseResult("t.yaml", 3, "x", "r.yaml", "error", (), (note,))
    assert result.render().splitlines() == [
        "ERROR  x  (t.yaml:3)",
        "  the run stopped: r.yaml:14:9: rate: the table has no value",
        "    14 |  rate:",
        "       |  ^",
    ]


def test_a_failing_case_shows_expected_and_actual_of_each_stated_figure(tmp_path: Path) -> None:
    expect = (
        "      exact_lines: true\n"
        "      lines: {E1: {commission.new_credit: '1250.00', base.installment: '3333.33',"
        " car.installment: '500.00', comission.true_up: '0.00'}}\n"
        "      totals: {E1: '4983.33'}\n"
        "      held: {E1: [T1]}\n"
        "      to_date: {E1: {commission.due_to_date: '1200.00', comission.attainment: '40%'}}\n"
    )
    path = case_file(tmp_path, one_sale("40000.00", expect))
    report = run_plan_tests([path])
    assert not report.ok
    (result,) = report.cases
    assert result.status == "fail"
    # 40,000 x 3 % = 1,200.00; base 3,333.33; health 450.00; no car at entry level
    # E1's total (1,200.00 + 3,333.33 + 450.00 = 4,983.33) and base line are right: not shown
    assert result.render().splitlines() == [
        f"FAIL  one sale  ({path}:3)",
        "  --- expected",
        f"  +++ actual ({RULES})",
        "  - E1 car.installment 500.00",
        "  + E1 car.installment: no such line; there are base.installment, "
        "commission.new_credit, health.installment",
        "  - E1 comission.true_up 0.00",
        "  + E1 comission.true_up: no such line; there are base.installment, "
        "commission.new_credit, health.installment",
        "  - E1 commission.new_credit 1250.00",
        "  + E1 commission.new_credit 1200.00",
        "  + E1 health.installment 450.00",
        "  - E1 held: T1",
        "  + E1 held: (none)",
        "  - E1 to date comission.attainment: 40%",
        "  + E1 to date comission.attainment: no such component with to-date figures (did you "
        "mean commission?)",
    ]
    assert report.summary() == "1 case: 0 passed, 1 failed, 0 errors"


def test_a_misspelt_line_or_figure_names_the_one_probably_meant(tmp_path: Path) -> None:
    expect = (
        "      lines: {E1: {commission.newcredit: '1200.00'}}\n"
        "      formulas: {E1: {base.instalment: '40,000.00 / 12'}}\n"
        "      to_date: {E1: {commission.due_todate: '1200.00'}}\n"
    )
    (result,) = run_plan_tests([case_file(tmp_path, one_sale("40000.00", expect))]).cases
    assert [m.actual for m in result.mismatches] == [
        "E1 commission.newcredit: no such line (did you mean commission.new_credit?)",
        "E1 base.instalment formula: no such line (did you mean base.installment?)",
        "E1 to date commission.due_todate: no such to-date figure of commission (did you mean "
        "due_to_date?)",
    ]


def test_rejected_rows_always_count_and_say_where_they_are(tmp_path: Path) -> None:
    case = one_sale("40000.00", "      lines: {E1: {commission.new_credit: '1200.00'}}\n")
    case = case.replace(
        "    expect:",
        "      - {transaction_id: T2, employee_id: E1, date: 2026-10-06, event: sale,"
        " amount: '1,250.00'}\n    expect:",
    )
    path = case_file(tmp_path, case)
    (result,) = run_plan_tests([path]).cases
    assert result.render().splitlines()[3:] == [
        "  - rejected ledger rows: (none)",
        "  + rejected ledger rows: T2",
        f"  rejected ledger row 2 ({path}:8): commas are not accepted: write a decimal point "
        "and no thousands separators, e.g. 1250.00",
    ]


def test_a_run_that_stops_is_an_error_unless_the_case_expects_it(tmp_path: Path) -> None:
    stop = "      error: is outside rule set\n"
    outside = one_sale("1.00", "      totals: {E1: '1'}\n", "outside", period="2027-10")
    expected = one_sale("1.00", stop, "expected", period="2027-10")
    completes = one_sale("1.00", stop, "completes")
    report = run_plan_tests([case_file(tmp_path, outside + expected + completes)])
    stopped, passed, failed = report.cases
    assert stopped.status == "error"
    assert stopped.notes == (
        "the run stopped: period 2027-10 is outside rule set 'account-managers' "
        "(effective 2026-10-01 to 2027-09-30)",
    )
    assert passed.passed
    assert failed.diff().splitlines()[2:] == [
        "- error: containing is outside rule set",
        "+ error: none, the run completed",
    ]
    assert report.summary() == "3 cases: 1 passed, 1 failed, 1 error"


def test_a_profile_for_a_plan_the_rules_lack_is_an_error(tmp_path: Path) -> None:
    case = (
        "  - name: no such plan\n    profile: {role: sales_rep, seniority: mid,"
        " company_size: mid, region: metro, base: '50000', quota: '100000'}\n"
        "    attainment: '1'\n    expect: {annual: {total: '1'}}\n"
    )
    (result,) = run_plan_tests([case_file(tmp_path, case)]).cases
    assert result.status == "error"
    assert "the rules have no plan 'sales_rep'" in result.notes[0]


@settings(max_examples=3, deadline=None)  # each example is two runs of the engine
@given(cents=st.integers(min_value=25_000_00, max_value=99_999_99))
@example(cents=25_000_50)  # 750.015: the half cent goes up, to 750.02
@example(cents=33_333_33)  # 999.9999 -> 1,000.00
def test_margin_is_zero_one_cent_off_fails(cents: int) -> None:
    """Over the gate, commission is the sale x 3 % rounded half up once; stating exactly that
    passes, stating a cent more fails with that one figure in the diff."""
    amount = Decimal(cents).scaleb(-2)
    due = (amount * Decimal("0.03")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    for stated, passes in ((due, True), (due + Decimal("0.01"), False)):
        text = "cases:\n" + one_sale(
            f"{amount}", f"      lines: {{E1: {{commission.new_credit: '{stated}'}}}}\n"
        )
        (case,) = load_plan_tests_text(f"rules: {RULES}\n{text}", "p.yaml").cases
        result = run_case(case, flagship(), "am.yaml")
        assert result.passed is passes
        if not passes:
            assert [(m.expected, m.actual) for m in result.mismatches] == [
                (f"E1 commission.new_credit {stated}", f"E1 commission.new_credit {due}")
            ]


def test_a_case_reads_its_ledger_as_a_run_of_its_rules_does() -> None:
    """The flagship pays on no margin: a margin that is not a number refuses nothing in a
    plan test, as in ``compcalc run`` (the margin is not read)."""
    expect = "      lines: {E1: {commission.new_credit: '1500.00'}}\n"
    text = "cases:\n" + one_sale("50000.00", expect).replace(
        'amount: "50000.00"}', 'amount: "50000.00", margin: "n/a"}'
    )
    assert 'margin: "n/a"' in text
    (case,) = load_plan_tests_text(f"rules: {RULES}\n{text}", "p.yaml").cases
    result = run_case(case, flagship(), "am.yaml")
    assert result.passed, result.mismatches


# --------------------------------------------------------------------------- finding tests


def test_rule_files_lead_to_the_tests_that_name_them(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    rules = tmp_path / "am.yaml"
    shutil.copy(RULES, rules)
    mine = tmp_path / "tests" / "a.yaml"
    mine.write_text("rules: ../am.yaml\ncases: []\n", encoding="utf-8")
    (tmp_path / "tests" / "b.yaml").write_text("rules: ../other.yaml\ncases: []\n")
    assert not is_plan_test_file(rules)
    assert is_plan_test_file(mine)
    assert find_plan_tests([rules]) == [mine]
    assert find_plan_tests([tmp_path, mine]) == [mine]  # a folder follows its rule files
    assert find_plan_tests([tmp_path / "tests"]) == [mine, tmp_path / "tests" / "b.yaml"]
    with pytest.raises(PlanTestError) as caught:
        find_plan_tests([tmp_path / "nope.yaml", tmp_path / "tests" / "b.yaml"])
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: no such file or folder"


def test_cli_reports_unreadable_paths_in_plain_words(tmp_path: Path) -> None:
    done = cli(["test", str(tmp_path)])
    assert (done.code, done.out) == (1, "")
    assert done.err == f"{tmp_path}: no plan-test files (*.yaml with cases) here\n"


# --------------------------------------------------------------------------- the workflow


# The test files that hold regional account managers: with or without sales, at the edited
# combination (mid level, small company) and at others. The other files hold no regional rep at
# the edited combination; running them again would only repeat the shipped cases above.
WORKFLOW_FILES = ("base_and_allowances.yaml", "commission.yaml", "offers.yaml")


def copy_rules(tmp_path: Path) -> Path:
    """The flagship rules and the test files above, copied as an analyst's working copy."""
    (tmp_path / "rules" / "tests").mkdir(parents=True)
    shutil.copy(RULES, tmp_path / "rules")
    for name in WORKFLOW_FILES:
        shutil.copy(REPO / "rules" / "tests" / name, tmp_path / "rules" / "tests")
    return tmp_path / "rules" / "account_managers.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def blocks(out: str) -> dict[str, list[str]]:
    """Each case's lines of output by name; FAIL blocks keep their diff."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if line.startswith(("PASS  ", "FAIL  ", "ERROR  ")):
            status, _, rest = line.partition("  ")
            current = found.setdefault(rest.split("  (")[0], [status])
        elif line.startswith("  "):
            current.append(line.strip())
    return found


def test_changing_a_rate_fails_exactly_the_cases_it_changes(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    # regional account managers, mid level at a small company: 3.5 % -> 4 %
    edit(rules, "mid:    {small: 0.0350,", "mid:    {small: 0.0400,")
    done = cli(["test", "rules/account_managers.yaml"], cwd=tmp_path)
    assert done.code == 1, done.err
    cases = blocks(done.out)
    failed = {name: lines for name, lines in cases.items() if lines[0] != "PASS"}
    assert failed == {
        "regional rep passing the gate is paid the waiting commission as a tier true-up": [
            "FAIL",
            "--- expected",
            f"+++ actual ({Path('rules/account_managers.yaml')})",
            "- E1 commission.new_credit 1750.00",  # 50,000 x 4 % = 2,000.00
            "+ E1 commission.new_credit 2000.00",
            "- E1 commission.tier_true_up 2100.00",  # 60,000 x 4 % = 2,400.00
            "+ E1 commission.tier_true_up 2400.00",
            "- E1 to date commission.due_to_date: 3,850.00",  # 110,000 x 4 %
            "+ E1 to date commission.due_to_date: 4,400.00",
        ],
        "mid regional rep at quota earns the flat rate on the year": [
            "FAIL",
            "--- expected",
            f"+++ actual ({Path('rules/account_managers.yaml')})",
            "- annual total 80625.00",  # 55,000 + 400,000 x 4 % + 11,625
            "+ annual total 82625.00",
            "- annual variable 14000.00",
            "+ annual variable 16000.00",
        ],
    }
    total = len([case for case in CASES if case[0] in WORKFLOW_FILES])
    assert len(cases) == total
    # the same rep with no sales (base_and_allowances.yaml) still passes
    assert cases["regional mid-level rep's October pays base, health and car allowance only"] == [
        "PASS"
    ]
    assert done.out.endswith(f"{total} cases: {total - 2} passed, 2 failed, 0 errors\n")


def test_what_if_runs_the_cases_against_an_edited_copy(tmp_path: Path) -> None:
    edited = tmp_path / "edited.yaml"
    shutil.copy(RULES, edited)
    # national account managers' top band: 5 % -> 6 %
    edit(edited, "from: 1.0\n              rate: 0.05", "from: 1.0\n              rate: 0.06")
    tests = REPO / "rules" / "tests" / "offers.yaml"
    done = cli(["test", str(tests), "--rules", str(edited)])
    assert done.code == 1
    failed = {name: lines[1:] for name, lines in blocks(done.out).items() if lines[0] != "PASS"}
    assert failed == {
        # the year reaches 100 % in September: 900,000 x 6 % = 54,000.00 (was 45,000.00);
        # variable 54,000.00 + 3,000.00; total 95,000.00 + 57,000.00 + 13,425.00
        "senior national account manager exactly at quota": [
            "--- expected",
            f"+++ actual ({edited})",
            "- annual total 156425.00",
            "+ annual total 165425.00",
            "- annual variable 48000.00",
            "+ annual variable 57000.00",
            "- component commission 45000.00",
            "+ component commission 54000.00",
        ],
    }
    assert done.out.endswith("8 cases: 7 passed, 1 failed, 0 errors\n")
