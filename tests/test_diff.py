"""``compcalc diff`` and :func:`compcalc.diff_results`: what changed, per employee and line.

Library tests build two small results from inline rule sets and check figures worked by hand.
Command-line tests run the shipped example (``rules/account_managers.yaml``) in-process: two
stored runs compared by run-id prefix, a result.json against a stored run, and a rule change
(``--rules`` / ``--rules-new``) against a copy of the shipped rules with one rate edited.

Hand-worked figures, March 2026, plan year = calendar year, replay of February:

* E1 Ada, base 60,000.00 / 12 = 5,000.00; sale T1 10,000.00 in March.
  Commission at 5 %: 500.00; at 6 %: 600.00; change +100.00.
* E2 Bob, base 48,000.00 / 12 = 4,000.00; T2 2,000.00 in February (replayed as paid), T3
  3,000.00 in March. March commission at 5 %: 150.00; at 6 %: 180.00; change +30.00.
* The new rules add a phone allowance of 1,200.00 a year: 100.00 a month, a line only the
  new run has (``added``) for both.
* Totals: Ada 5,500.00 -> 5,700.00 (+200.00), Bob 4,150.00 -> 4,280.00 (+130.00); the run
  9,650.00 -> 9,980.00 (+330.00).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import compcalc
from cli_run import Done, cli
from compcalc.statements.diff import (
    DiffError,
    ResultDiff,
    compare_results,
    diff_csv,
    diff_json,
    render_diff,
)
from compcalc.store import Store, StoreError

D = Decimal
REPO = Path(__file__).resolve().parents[1]
RULES = "rules/account_managers.yaml"
ROSTER = "examples/roster.csv"
OCTOBER = ("examples/ledger/2026-10.csv",)
NOVEMBER = ("examples/ledger/2026-10.csv", "examples/ledger/2026-11.csv")
ID12 = "[0-9a-f]{12}"

# --------------------------------------------------------------------------- library

PHONE = """\
      - id: phone
        kind: allowance
        amount: 1200.00
        per: year
"""


def rule_set(rate: str, extra: str = "", currency: str = "USD") -> compcalc.RuleSet:
    return compcalc.load_rules_text(f"""\
id: spec
version: "1"
currency: {currency}
effective:
  from: 2026-01-01
plan_year:
  start_month: 1
dimensions:
  seniority: [entry, mid, senior]
plans:
  rep:
    components:
      - id: base
        kind: base_salary
      - id: comm
        kind: commission
        rate: {rate}
{extra}""")


ROSTER_COLUMNS = ["employee_id", "name", "role", "seniority", "company_size", "region",
                  "currency", "annual_base", "quota", "hire_date", "termination_date",
                  "manager_id"]  # fmt: skip
LEDGER_COLUMNS = ["transaction_id", "employee_id", "date", "event", "amount", "currency", "margin"]


def staff(*ids: str, currency: str = "USD") -> pd.DataFrame:
    people = {
        "E1": ["E1", "Ada", "rep", "mid", "", "", currency, "60000.00", "100000.00",
               "2020-01-01", "", ""],
        "E2": ["E2", "Bob", "rep", "mid", "", "", currency, "48000.00", "100000.00",
               "2020-01-01", "", ""],
    }  # fmt: skip
    return pd.DataFrame([people[i] for i in ids or ("E1", "E2")], columns=ROSTER_COLUMNS,
                        dtype=str)  # fmt: skip


def sales(currency: str = "USD") -> pd.DataFrame:
    rows = [
        ["T1", "E1", "2026-03-02", "sale", "10000.00", currency, ""],
        ["T2", "E2", "2026-02-10", "sale", "2000.00", currency, ""],
        ["T3", "E2", "2026-03-10", "sale", "3000.00", currency, ""],
    ]
    return pd.DataFrame(rows, columns=LEDGER_COLUMNS, dtype=str)


@pytest.fixture(scope="module")
def old() -> compcalc.PeriodResult:
    return compcalc.run_period(rule_set("0.05"), staff(), sales(), "2026-03")


@pytest.fixture(scope="module")
def new() -> compcalc.PeriodResult:
    return compcalc.run_period(rule_set("0.06", PHONE), staff(), sales(), "2026-03")


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in columns) for row in frame.to_dict("records")]


def test_a_rate_change_and_a_new_allowance_line_by_line(
    old: compcalc.PeriodResult, new: compcalc.PeriodResult
) -> None:
    diff = compcalc.diff_results(old, new)
    assert list(diff.columns) == ["employee_id", "name", "line", "pay_code", "component", "item",
                                  "currency", "amount_a", "amount_b", "change", "status"]
    assert rows(diff, "employee_id", "line", "pay_code", "amount_a", "amount_b", "change",
                "status") == [
        ("E1", "comm.new_credit", "commission", D("500.00"), D("600.00"), D("100.00"), "changed"),
        ("E1", "phone.installment", "allowance", None, D("100.00"), D("100.00"), "added"),
        ("E2", "comm.new_credit", "commission", D("150.00"), D("180.00"), D("30.00"), "changed"),
        ("E2", "phone.installment", "allowance", None, D("100.00"), D("100.00"), "added"),
    ]  # fmt: skip
    # base.installment is the same in both runs: not listed. Never a float anywhere.
    for column in ("amount_a", "amount_b", "change"):
        assert all(v is None or type(v) is Decimal for v in diff[column]), column


def test_totals_per_employee_and_for_the_run(
    old: compcalc.PeriodResult, new: compcalc.PeriodResult
) -> None:
    comparison = compare_results(old, new)
    assert rows(comparison.totals, "employee_id", "total_a", "total_b", "change", "status") == [
        ("E1", D("5500.00"), D("5700.00"), D("200.00"), "changed"),
        ("E2", D("4150.00"), D("4280.00"), D("130.00"), "changed"),
    ]
    assert rows(comparison.run_totals, "currency", "total_a", "total_b", "change") == [
        ("USD", D("9650.00"), D("9980.00"), D("330.00"))]
    assert (comparison.employees_affected, comparison.employees_compared) == (2, 2)
    assert comparison.notes == ()


def test_reversed_the_changes_flip_and_added_lines_are_removed(
    old: compcalc.PeriodResult, new: compcalc.PeriodResult
) -> None:
    back = compcalc.diff_results(new, old)
    assert rows(back, "employee_id", "line", "amount_a", "amount_b", "change", "status") == [
        ("E1", "comm.new_credit", D("600.00"), D("500.00"), D("-100.00"), "changed"),
        ("E1", "phone.installment", D("100.00"), None, D("-100.00"), "removed"),
        ("E2", "comm.new_credit", D("180.00"), D("150.00"), D("-30.00"), "changed"),
        ("E2", "phone.installment", D("100.00"), None, D("-100.00"), "removed"),
    ]


def test_an_employee_in_one_run_only(old: compcalc.PeriodResult) -> None:
    only_ada = compcalc.run_period(rule_set("0.05"), staff("E1"), sales().iloc[:1], "2026-03")
    comparison = compare_results(old, only_ada)
    assert rows(comparison.lines, "employee_id", "line", "amount_a", "amount_b", "status") == [
        ("E2", "base.installment", D("4000.00"), None, "removed"),
        ("E2", "comm.new_credit", D("150.00"), None, "removed"),
    ]
    assert rows(comparison.totals, "employee_id", "name", "total_a", "total_b", "change",
                "status") == [("E2", "Bob", D("4150.00"), None, D("-4150.00"), "removed")]
    assert (comparison.employees_affected, comparison.employees_compared) == (1, 2)


def test_identical_runs_have_no_differences(old: compcalc.PeriodResult) -> None:
    comparison = compare_results(old, old)
    assert comparison.lines.empty and comparison.totals.empty
    assert list(comparison.lines.columns)[-1] == "status"
    text = render_diff(comparison)
    assert "no differences" in text
    assert text.endswith("0 employees affected (of 2); 0 lines differ\n")


def test_different_currencies_are_refused(old: compcalc.PeriodResult) -> None:
    euros = compcalc.run_period(rule_set("0.05", currency="EUR"), staff(currency="EUR"),
                                sales("EUR"), "2026-03")  # fmt: skip
    with pytest.raises(DiffError, match="cannot compare runs in different currencies: USD"):
        compcalc.diff_results(old, euros)


def test_different_periods_are_compared_with_a_note(old: compcalc.PeriodResult) -> None:
    february = compcalc.run_period(rule_set("0.05"), staff(), sales(), "2026-02")
    comparison = compare_results(february, old)
    assert comparison.notes == (
        "the runs are for different periods: 2026-02 (2026-02-01 to 2026-02-28) and 2026-03 "
        "(2026-03-01 to 2026-03-31); lines are matched all the same",)
    assert "note: the runs are for different periods" in render_diff(comparison)
    assert "compcalc diff · periods 2026-02 and 2026-03 · currency USD" in render_diff(comparison)


def test_text_json_and_csv_renderings(
    old: compcalc.PeriodResult, new: compcalc.PeriodResult
) -> None:
    comparison = compare_results(old, new)
    text = render_diff(comparison, ("rules old.yaml", "rules new.yaml"))
    assert text == render_diff(compare_results(old, new), ("rules old.yaml", "rules new.yaml"))
    assert text.startswith("compcalc diff · period 2026-03 (2026-03-01 to 2026-03-31) · "
                           "currency USD\nold  rules old.yaml\n")
    assert ("E1        comm.new_credit    commission  500.00  600.00  +100.00  changed\n"
            "          phone.installment  allowance        -  100.00  +100.00  added\n") in text
    assert ("E2        Bob   4,150.00  4,280.00  +130.00\n"
            "--------  ----  --------  --------  -------\n"
            "total           9,650.00  9,980.00  +330.00\n") in text
    assert text.endswith("2 employees affected (of 2); 4 lines differ\n")
    assert max(len(line) for line in text.splitlines()) <= 100

    document = json.loads(diff_json(comparison, ("a", "b")))
    assert document["format"] == "compcalc.diff/1"
    assert document["lines"][1] == {
        "employee_id": "E1", "name": "Ada", "line": "phone.installment", "pay_code": "allowance",
        "component": "phone", "item": "installment", "currency": "USD", "amount_a": None,
        "amount_b": "100.00", "change": "100.00", "status": "added"}  # fmt: skip
    assert document["totals"] == [{"currency": "USD", "total_a": "9650.00",
                                   "total_b": "9980.00", "change": "330.00"}]
    assert (document["employees_affected"], document["employees_compared"]) == (2, 2)
    assert document["a"]["source"] == "a" and document["b"]["ruleset"]["id"] == "spec"

    table = diff_csv(comparison)
    assert table.split("\r\n")[:3] == [
        "employee_id,name,line,pay_code,component,item,currency,amount_a,amount_b,change,status",
        "E1,Ada,comm.new_credit,commission,comm,new_credit,USD,500.00,600.00,100.00,changed",
        "E1,Ada,phone.installment,allowance,phone,installment,USD,,100.00,100.00,added",
    ]


def test_find_run_resolves_a_unique_prefix(
    tmp_path: Path, old: compcalc.PeriodResult, new: compcalc.PeriodResult
) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        first, second = store.save_run(old), store.save_run(new)
        assert store.find_run(first.run_id[:6]).run_id == first.run_id
        assert store.find_run(second.run_id.upper()).run_id == second.run_id
        with pytest.raises(StoreError, match="is ambiguous: it matches runs"):
            store.find_run("", min_length=0)
        unknown = "0000000" if not first.run_id.startswith("0000000") else "fffffff"
        with pytest.raises(StoreError, match=rf"^no run {unknown} in the store"):
            store.find_run(unknown)
        with pytest.raises(StoreError, match="expected at least 4 hex digits"):
            store.find_run("abc")
        with pytest.raises(StoreError, match="expected at least 4 hex digits"):
            store.find_run("xyz%_")


# --------------------------------------------------------------------------- command line




def inputs(ledgers: Sequence[str], period: str) -> list[str]:
    return ["--roster", ROSTER, *[a for name in ledgers for a in ("--ledger", name)],
            "--period", period]  # fmt: skip


def edited_rules(target: Path) -> Path:
    """The shipped rules with the business development per-deal rate on the first $10,000 of
    each deal raised from 4 % to 5 %."""
    text = (REPO / RULES).read_text(encoding="utf-8")
    old = ("            - id: first_10k       # the first $10,000 of each deal\n"
           "              from: 0\n"
           "              to: 10000.00\n"
           "              rate: 0.04\n")  # fmt: skip
    assert text.count(old) == 1
    path = target / "new_rules.yaml"
    path.write_text(text.replace(old, old.replace("0.04", "0.05")), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Stored:
    url: str
    old_id: str
    new_id: str
    new_rules: Path
    old_json: Path


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    """October under the shipped and the edited rules, both saved as drafts in one store."""
    tmp = tmp_path_factory.mktemp("diff")
    url = f"sqlite:///{tmp / 'compcalc.db'}"
    new_rules = edited_rules(tmp)
    ids = []
    for rules in (RULES, str(new_rules)):
        done = cli(["run", "--rules", rules, *inputs(OCTOBER, "2026-10"), "--store", url,
                    "--out", str(tmp / Path(rules).stem)])  # fmt: skip
        assert done.code == 0, done.err
        found = re.search(f"saved draft run ({ID12}) ", done.err)
        assert found is not None, done.err
        ids.append(found.group(1))
    old_json = tmp / Path(RULES).stem / "result.json"
    return Stored(url, ids[0], ids[1], new_rules, old_json)


def library_diff(
    rules_a: str | Path, rules_b: str | Path, ledgers: Sequence[str], period: str
) -> ResultDiff:
    """The comparison the library makes of the two runs, read as the command line reads them
    (from the repository root, one ledger path or a list)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        source = ledgers[0] if len(ledgers) == 1 else list(ledgers)
        results = []
        for path in (rules_a, rules_b):  # each side read as a run of its rules reads it
            rules = compcalc.load_rules(path)
            ledger = compcalc.read_ledger(source, rules=rules)
            results.append(compcalc.run_period(rules, ROSTER, ledger, period))
    return compare_results(*results)


def test_diff_two_stored_runs_by_prefix(stored: Stored) -> None:
    done = cli(["diff", stored.old_id[:8], stored.new_id[:8], "--store", stored.url])
    assert (done.code, done.err) == (0, "")
    out = done.out
    assert out.startswith("compcalc diff · period 2026-10 (2026-10-01 to 2026-10-31) · "
                          "currency USD\n"
                          f"old  run {stored.old_id} (draft)\n")  # fmt: skip
    assert f"\nnew  run {stored.new_id} (draft)\n" in out
    expected = library_diff(RULES, stored.new_rules, OCTOBER, "2026-10")
    assert expected.employees_affected > 0
    assert out == render_diff(expected, (f"run {stored.old_id} (draft)",
                                         f"run {stored.new_id} (draft)"))  # fmt: skip
    assert re.search(r"\n\d+ employees affected \(of \d+\); \d+ lines differ\n$", out)


def test_diff_json_of_stored_runs_is_exact_and_consistent(stored: Stored) -> None:
    done = cli(["diff", stored.old_id[:6], stored.new_id, "--store", stored.url,
                "--format", "json"])  # fmt: skip
    assert (done.code, done.err) == (0, "")
    document = json.loads(done.out)
    roster = {row["employee_id"]: row["role"] for row in
              csv.DictReader((REPO / ROSTER).open(encoding="utf-8"))}  # fmt: skip
    assert document["lines"], "the rate change pays someone differently"
    # Only business development managers' commission lines moved: a hand-checkable fact of
    # the edit (their per-deal rate on the first $10,000).
    assert {roster[line["employee_id"]] for line in document["lines"]} == {
        "business_development_manager"}
    # Commission lines moved (a draw topping commission up to a minimum may move in step).
    assert "commission" in {line["pay_code"] for line in document["lines"]}
    for line in document["lines"]:
        before, after = (D(line[side] or "0") for side in ("amount_a", "amount_b"))
        assert after - before == D(line["change"]) != 0
    by_employee: dict[str, Decimal] = {}
    for line in document["lines"]:
        by_employee[line["employee_id"]] = by_employee.get(line["employee_id"], D(0)) + D(
            line["change"])
    assert {e["employee_id"]: D(e["change"]) for e in document["employees"]} == by_employee
    (total,) = document["totals"]
    assert D(total["change"]) == sum(by_employee.values()) > 0  # a higher rate pays more
    assert document["employees_affected"] == len(by_employee)


def test_diff_a_result_json_against_a_stored_run(stored: Stored) -> None:
    same = cli(["diff", str(stored.old_json), stored.old_id[:10], "--store", stored.url])
    assert (same.code, same.err) == (0, "")
    assert "no differences" in same.out
    assert f"old  {stored.old_json}\n" in same.out
    directory = cli(["diff", str(stored.old_json.parent), stored.new_id[:10],
                     "--store", stored.url, "--format", "csv"])  # fmt: skip
    assert directory.code == 0
    header, *lines = directory.out.split("\r\n")[:-1]
    assert header == ("employee_id,name,line,pay_code,component,item,currency,amount_a,"
                      "amount_b,change,status")  # fmt: skip
    assert lines and all(re.fullmatch(r".*,-?\d+\.\d{2},-?\d+\.\d{2},-?\d+\.\d{2},changed", row)
                         for row in lines)  # fmt: skip


def test_rules_new_shows_the_impact_of_a_rule_change(tmp_path: Path) -> None:
    new_rules = edited_rules(tmp_path)
    argv = ["diff", "--rules", RULES, "--rules-new", str(new_rules), *inputs(NOVEMBER, "2026-11")]
    text = cli(argv)
    assert (text.code, text.err) == (0, "")
    expected = library_diff(RULES, new_rules, NOVEMBER, "2026-11")
    sources = (f"rules {RULES}", f"rules {new_rules}")
    assert text.out == render_diff(expected, sources)
    as_json = cli([*argv, "--format", "json"])
    assert as_json == Done(0, diff_json(expected, sources), "")
    as_csv = cli([*argv, "--format", "csv"])
    assert as_csv == Done(0, diff_csv(expected), "")
    assert len(as_csv.out.split("\r\n")) - 2 == len(json.loads(as_json.out)["lines"]) > 0


def test_rules_new_on_margin_reads_each_side_as_its_own_run(tmp_path: Path) -> None:
    """The rules in force pay on no margin, the new ones on margin: the comparison's first side
    is the run in force (a margin that is no number refuses nothing there), the second reads
    and checks the margin (and refuses that sale)."""
    text = (REPO / OCTOBER[0]).read_text(encoding="utf-8").splitlines(keepends=True)
    header = text[0].rstrip("\n").split(",")
    cells = text[1].rstrip("\n").split(",")
    cells[header.index("margin")] = "n/a"
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("".join([text[0], ",".join(cells) + "\n", *text[2:]]), encoding="utf-8")
    margin = tmp_path / "margin_rules.yaml"
    shipped = (REPO / RULES).read_text(encoding="utf-8")
    margin.write_text(shipped.replace("basis: amount", "basis: margin"), encoding="utf-8")
    given = inputs([str(ledger)], "2026-10")
    in_force = json.loads(cli(["run", "--rules", RULES, *given, "--format", "json"]).out)
    assert in_force["rejected"] == []
    done = cli(["diff", "--rules", RULES, "--rules-new", str(margin), *given, "--format", "json"])
    assert (done.code, done.err) == (0, "")
    a, b = (json.loads(done.out)[side]["inputs"]["ledger_sha256"] for side in "ab")
    assert a == in_force["inputs"]["ledger_sha256"]
    new = json.loads(cli(["run", "--rules", str(margin), *given, "--format", "json"]).out)
    assert b == new["inputs"]["ledger_sha256"] != a
    assert [r["column"] for r in new["rejected"]] == ["margin"]
    expected = library_diff(RULES, margin, [str(ledger)], "2026-10")
    assert done.out == diff_json(expected, (f"rules {RULES}", f"rules {margin}"))


def test_rules_new_with_the_store_uses_its_paid_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert cli(["run", "--rules", RULES, *inputs(OCTOBER, "2026-10"), "--store", url]).code == 0
    new_rules = edited_rules(tmp_path)
    argv = ["diff", "--rules", RULES, "--rules-new", str(new_rules),
            *inputs(NOVEMBER, "2026-11"), "--store", url]  # fmt: skip
    waiting = cli(argv)
    assert (waiting.code, waiting.out) == (1, "")
    assert waiting.err == ("compcalc: period 2026-11 cannot be compared on the store's paid to "
                           "date while earlier period(s) 2026-10 are not closed\n")  # fmt: skip
    assert cli(["close", "--period", "2026-10", "--store", url]).code == 0
    done = cli(argv)
    assert (done.code, done.err) == (0, "")
    # Paid to date is what the store says October paid, under the rules in force then: the
    # new rate re-rates October's deals too, so the change exceeds the replayed comparison's.
    replayed = library_diff(RULES, new_rules, NOVEMBER, "2026-11")
    grand = re.search(r"\ntotal\s+\S+\s+\S+\s+(\S+)\n", done.out)
    replay_grand = replayed.run_totals.iloc[0]["change"]
    assert grand is not None
    assert D(grand.group(1).replace(",", "")) > replay_grand > 0


def test_an_unknown_run_id_is_one_line_naming_it(stored: Stored) -> None:
    unknown = "0000000" if not stored.old_id.startswith("0000000") else "fffffff"
    done = cli(["diff", stored.old_id[:8], unknown, "--store", stored.url])
    assert done == Done(1, "", f"compcalc: no run {unknown} in the store {stored.url}\n")


def test_a_missing_default_store_is_not_created(tmp_path: Path) -> None:
    done = cli(["diff", "abcd1234", "abcd5678"], cwd=tmp_path)
    assert done == Done(1, "", "compcalc: no store at compcalc.db: no run has been saved there\n")
    assert not (tmp_path / "compcalc.db").exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["diff"], "expected two runs to compare, got 0"),
    (["diff", "abcd1234"], "expected two runs to compare, got 1"),
    (["diff", "abcd1234", "nope.json"],
     "'nope.json' is neither a result.json file nor a run id (at least 4 hex digits)"),
    (["diff", "abcd1234", "abcd5678", "--rules", RULES],
     "give two runs or --rules with --rules-new, not both"),
    (["diff", "--rules", RULES, "--period", "2026-11"],
     "a rule change needs --rules-new, --roster, --ledger too"),
])  # fmt: skip
def test_diff_usage_errors_exit_2(argv: list[str], message: str) -> None:
    done = cli(argv)
    assert (done.code, done.out) == (2, "")
    assert done.err.startswith("usage: compcalc diff")
    assert done.err.endswith(f"compcalc diff: error: {message}\n")


def test_a_file_that_is_not_a_result_is_a_plain_message(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"statements": []}\n', encoding="utf-8")
    done = cli(["diff", "x.json", "x.json"], cwd=tmp_path)
    assert done == Done(
        1, "", "compcalc: x.json: not a result.json written by `compcalc run` (missing 'period')\n")


def test_rules_new_converts_with_fx_and_notes_rejected_rows(tmp_path: Path) -> None:
    # A business development manager's EUR deal of 10,000.00 sold 2026-11-03: converted at the
    # 2026-11-02 rate of examples/fx.csv; the higher first-$10,000 rate (4 % -> 5 %) applies.
    eur = tmp_path / "eur.csv"
    eur.write_text(
        "transaction_id,employee_id,date,event,amount,currency,margin\n"
        "X1,E036,2026-11-03,sale,10000.00,EUR,\n",
        encoding="utf-8",
    )
    new_rules = edited_rules(tmp_path)
    ledgers = (*NOVEMBER, str(eur))
    argv = ["diff", "--rules", RULES, "--rules-new", str(new_rules), *inputs(ledgers, "2026-11")]
    converted = cli([*argv, "--fx", str(REPO / "examples" / "fx.csv"), "--format", "json"])
    assert (converted.code, converted.err) == (0, "")
    document = json.loads(converted.out)
    assert not any("rejected" in note for note in document["notes"])
    (line,) = [li for li in document["lines"] if li["employee_id"] == "E036"
               and li["line"] == "deal_commission.new_credit"]  # fmt: skip
    assert D(line["change"]) > 0
    unconverted = cli([*argv, "--format", "json"])
    notes = json.loads(unconverted.out)["notes"]
    assert any(
        note.startswith("the old run rejected 1 input row(s), which neither pays nor compares")
        and "give an FX table" in note
        for note in notes
    ), notes
    assert cli(["diff", "a", "b", "--fx", "x.csv"]).code == 2  # --fx only with --rules-new
