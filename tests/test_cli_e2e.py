"""End to end through the command line on the shipped example, with golden snapshots.

Everything here runs the real ``compcalc`` on ``rules/account_managers.yaml``,
``examples/roster.csv`` and ``examples/ledger/2026-1{0,1,2}.csv`` (or on copies and broken
variants of them written into ``tmp_path``), mostly in-process through
:func:`compcalc.cli.main` and, where a separate process matters (no traceback on the real
stderr, same bytes under another hash seed), through the installed ``compcalc`` command.

Golden snapshots
----------------
``tests/golden/2026-10.json``, ``2026-11.json`` and ``2026-12.json`` are the canonical JSON
(``compcalc run ... --format json``) of the shipped example for each month, given the ledgers
of the plan year so far, run from the repository root with the relative paths of the
README (so the ``source`` of a rejected row reads ``examples/ledger/2026-12.csv``). The tests
compare them byte for byte. After an intended change of output, regenerate them with

    COMPCALC_UPDATE_GOLDEN=1 python -m pytest tests/test_cli_e2e.py -k golden

review the diff (every changed figure should be explainable) and commit the new files.

Each real run takes about half a second, so the example runs are made once per module
(``example_runs``) and shared by the tests that only read their output.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import compcalc
from cli_run import Done, cli
from compcalc.rules.digest import ruleset_digest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("COMPCALC_UPDATE_GOLDEN") == "1"

RULES = "rules/account_managers.yaml"
ROSTER = "examples/roster.csv"
LEDGERS = ("examples/ledger/2026-10.csv", "examples/ledger/2026-11.csv",
           "examples/ledger/2026-12.csv")
MONTHS = ("2026-10", "2026-11", "2026-12")
# The ledger files of the plan year so far, for each month's run.
SO_FAR = {month: LEDGERS[: i + 1] for i, month in enumerate(MONTHS)}
OUTSIDE = ("compcalc: period {} is outside rule set 'account-managers' "
           "(effective 2026-10-01 to 2027-09-30)\n")

D = Decimal




def _command() -> list[str]:
    """The installed console script for this interpreter, else on PATH, else ``-m``."""
    beside = Path(sys.executable).with_name("compcalc")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("compcalc")
    return [found] if found else [sys.executable, "-m", "compcalc.cli"]


def command(argv: Sequence[str], cwd: Path = REPO, hash_seed: str = "0") -> Done:
    """``compcalc ARGV`` as a separate process of the installed command."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([*_command(), *argv], capture_output=True, text=True,
                          encoding="utf-8", check=False, cwd=cwd, env=env)
    return Done(done.returncode, done.stdout, done.stderr)


def run_args(month: str, *extra: str, ledgers: Sequence[str] | None = None,
             rules: str = RULES, roster: str = ROSTER) -> list[str]:
    chosen = SO_FAR[month] if ledgers is None else ledgers
    ledger_args = [arg for name in chosen for arg in ("--ledger", name)]
    return ["--rules", rules, "--roster", roster, *ledger_args, "--period", month, *extra]


def statement(result: dict[str, Any], employee: str) -> dict[str, Any]:
    return next(s for s in result["statements"] if s["employee_id"] == employee)


def line(result: dict[str, Any], employee: str, line_id: str) -> dict[str, Any]:
    lines = statement(result, employee)["lines"]
    found = [item for item in lines if item["id"] == line_id]
    assert len(found) == 1, (employee, line_id, [item["id"] for item in lines])
    return found[0]


def amount(result: dict[str, Any], employee: str, line_id: str) -> Decimal:
    return D(line(result, employee, line_id)["amount"])


def component_sum(result: dict[str, Any], employee: str, pay_code: str) -> Decimal:
    lines = statement(result, employee)["lines"]
    return sum((D(item["amount"]) for item in lines if item["pay_code"] == pay_code), D(0))


@pytest.fixture(scope="module")
def example_runs() -> dict[str, Done]:
    """``compcalc run ... --format json`` for each month of the example, run once."""
    return {month: cli(["run", *run_args(month, "--format", "json")]) for month in MONTHS}


@pytest.fixture(scope="module")
def results(example_runs: dict[str, Done]) -> dict[str, dict[str, Any]]:
    for month, done in example_runs.items():
        assert (done.code, done.err) == (0, ""), month
    return {month: json.loads(done.out) for month, done in example_runs.items()}


def _golden(month: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GOLDEN / f"{month}.json").read_text(encoding="utf-8"))
    return loaded


# --------------------------------------------------------------------------- validate


def test_validate_the_shipped_rules(results: dict[str, dict[str, Any]]) -> None:
    done = command(["validate", RULES])
    digest = ruleset_digest(compcalc.load_rules(REPO / RULES))
    assert (done.code, done.err) == (0, "")
    assert done.out == (f"ok  {RULES}  (id=account-managers, version=2026-27.1, "
                        f"sha256={digest[:12]})\n")
    # ... the same digest a run records
    assert results["2026-11"]["ruleset"] == {
        "id": "account-managers", "version": "2026-27.1", "sha256": digest}


# --------------------------------------------------------------------------- determinism


def test_run_json_is_byte_identical_across_processes(example_runs: dict[str, Done]) -> None:
    first = command(["run", *run_args("2026-11", "--format", "json")], hash_seed="0")
    second = command(["run", *run_args("2026-11", "--format", "json")], hash_seed="4242")
    assert (first.code, first.err) == (0, "")
    assert (second.code, second.err) == (0, "")
    assert first.out == second.out
    assert first.out == example_runs["2026-11"].out  # and the same in-process


@pytest.mark.parametrize("order", [(2, 1, 0), (1, 2, 0), (2, 0, 1)])
def test_the_order_of_ledger_files_does_not_matter(
    order: tuple[int, int, int], example_runs: dict[str, Done]
) -> None:
    done = cli(["run", *run_args("2026-12", "--format", "json",
                                 ledgers=[LEDGERS[i] for i in order])])
    assert (done.code, done.err) == (0, "")
    assert done.out == example_runs["2026-12"].out


def test_ledger_columns_compcalc_does_not_use_are_named_and_change_nothing(
    tmp_path: Path, example_runs: dict[str, Done]
) -> None:
    """An export with more columns than compcalc reads (a customer, a note) gives the same
    statements and the same ledger digest, and the run says which columns it left unread."""
    (tmp_path / "rules").mkdir()
    shutil.copyfile(REPO / RULES, tmp_path / RULES)
    (tmp_path / ROSTER).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / ROSTER, tmp_path / ROSTER)
    for name in LEDGERS[:2]:
        header, *rows = (REPO / name).read_text(encoding="utf-8").splitlines(keepends=True)
        wide = [f'Customer {k},"a note, with a comma",{row}' for k, row in enumerate(rows)]
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("Customer,Note," + header + "".join(wide), encoding="utf-8")
    done = cli(["run", *run_args("2026-11", "--format", "json")], cwd=tmp_path)
    assert done.code == 0
    assert done.err == (
        f"compcalc: ledger {LEDGERS[0]} + {LEDGERS[1]}: column(s) Customer, Note not read "
        "(compcalc does not use them; its digest does not cover them)\n"
    )
    assert done.out == example_runs["2026-11"].out


def _copy_example_shuffled(target: Path, seed: int) -> None:
    """The rule file, roster and ledgers under ``target`` at the same relative paths, with the
    data rows of the roster and of every ledger in a shuffled order (headers stay first)."""
    shuffle = random.Random(seed).shuffle
    (target / "rules").mkdir()
    shutil.copyfile(REPO / RULES, target / RULES)
    for name in (ROSTER, *LEDGERS):
        header, *rows = (REPO / name).read_text(encoding="utf-8").splitlines(keepends=True)
        shuffle(rows)
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(header + "".join(rows), encoding="utf-8")


def test_shuffled_rows_give_the_same_bytes(
    tmp_path: Path, example_runs: dict[str, Done]
) -> None:
    _copy_example_shuffled(tmp_path, seed=20261130)
    shuffled = cli(["run", *run_args("2026-11", "--format", "json")], cwd=tmp_path)
    assert (shuffled.code, shuffled.err) == (0, "")
    # November has no rejected rows, so nothing in the result names a line: all bytes agree,
    # the order-independent input digests included.
    assert shuffled.out == example_runs["2026-11"].out


def test_shuffled_rows_give_the_same_statements_and_a_moved_reject(
    tmp_path: Path, results: dict[str, dict[str, Any]]
) -> None:
    _copy_example_shuffled(tmp_path, seed=20261231)
    done = cli(["run", *run_args("2026-12", "--format", "json")], cwd=tmp_path)
    assert (done.code, done.err) == (0, "")
    shuffled, original = json.loads(done.out), results["2026-12"]
    for key in ("statements", "summary", "inputs", "ruleset", "period"):
        assert shuffled[key] == original[key], key
    # The bad row moved: its reject names its new line, which really holds it.
    (reject,) = shuffled["rejected"]
    moved_line = (tmp_path / LEDGERS[2]).read_text(encoding="utf-8").splitlines()[
        reject["line"] - 1]
    assert moved_line.startswith('T2026-12-0060,E028,2026-12-09,sale,"1,250.00",')
    (before,) = original["rejected"]
    assert {**reject, "line": 0, "row": 0} == {**before, "line": 0, "row": 0}


# --------------------------------------------------------------------------- --out


def test_out_dir_gets_the_json_of_stdout_and_no_temporary_files(
    tmp_path: Path, example_runs: dict[str, Done]
) -> None:
    out_dir = tmp_path / "payroll" / "2026-11"
    done = command(["run", *run_args("2026-11", "--format", "json", "--out", str(out_dir))])
    assert done.code == 0
    assert done.err == f"wrote {out_dir / 'result.json'}\n"
    assert done.out == example_runs["2026-11"].out
    assert (out_dir / "result.json").read_bytes() == done.out.encode("utf-8")
    assert os.listdir(out_dir) == ["result.json"]  # dot-files (temporaries) included


def test_out_dir_replaces_an_old_result_and_text_format_still_writes_json(
    tmp_path: Path, example_runs: dict[str, Done]
) -> None:
    (tmp_path / "result.json").write_text("stale\n")
    done = cli(["run", *run_args("2026-11", "--out", str(tmp_path))])
    assert done.code == 0
    assert done.out.startswith("compcalc pay run · period 2026-11 (2026-11-01 to 2026-11-30)\n")
    assert (tmp_path / "result.json").read_text(encoding="utf-8") == example_runs["2026-11"].out
    assert os.listdir(tmp_path) == ["result.json"]


# --------------------------------------------------------------------------- explain


def _explain_blocks(text: str) -> list[str]:
    """The numbered statement lines of ``compcalc explain`` output, one text block each."""
    body = text.split("\nLines\n", 1)[1].split("\n\n", 1)[0]
    return re.split(r"\n(?=\s+\d+\. )", body)


def test_explain_shows_the_clawback_of_the_refunded_sale() -> None:
    done = cli(["explain", *run_args("2026-11", "--employee", "E020")])
    assert (done.code, done.err) == (0, "")
    assert done.out.startswith("Statement for E020 · Omar Haddad · key_account_manager\n"
                               "period 2026-11 (2026-11-01 to 2026-11-30) · currency USD\n")
    (clawback,) = [block for block in _explain_blocks(done.out) if "Clawback" in block]
    first, *rest = clawback.splitlines()
    assert re.fullmatch(r"\s+\d+\. Clawback: paid sales refunded this period\s+-736\.00", first)
    assert "     line          commission.clawback (pay code adjustment)" in rest
    assert "     transactions  T2026-10-0059" in rest
    assert "  T2026-10-0059  2026-10-13  36,800.00  forfeited  refunded in full this period\n" \
        in done.out
    assert re.search(r"\nTotal\s+6,282\.54 USD\nlines sum to total: yes\n\Z", done.out)


def test_explain_an_unknown_employee_in_the_example() -> None:
    done = cli(["explain", *run_args("2026-10", "--employee", "E040")])  # hired in November
    assert done.code == 1
    assert done.out == ""
    assert done.err.startswith("compcalc: no statement for employee 'E040' in 2026-10; "
                               "did you mean ")
    assert done.err.endswith("known ids: E001, E002, E003, E004, E005, E006, E007, E008, "
                             "… (39 in all)\n")


# --------------------------------------------------------------------------- rejected rows


def test_the_december_summary_lists_the_rejected_row(results: dict[str, dict[str, Any]]) -> None:
    done = cli(["run", *run_args("2026-12")])
    assert (done.code, done.err) == (0, "")
    bad_line = (REPO / LEDGERS[2]).read_text(encoding="utf-8").splitlines()[61]
    assert bad_line.startswith('T2026-12-0060,E028,2026-12-09,sale,"1,250.00",')  # line 62
    assert done.out.endswith(
        "rejected rows            1\n"
        '  examples/ledger/2026-12.csv:62: column amount: "1,250.00": commas are not accepted: '
        "write a decimal point and no thousands separators, e.g. 1250.00\n")
    assert results["2026-12"]["rejected"] == [{
        "source": "examples/ledger/2026-12.csv", "row": 61, "line": 62, "column": "amount",
        "value": "1,250.00",
        "reason": "commas are not accepted: write a decimal point and no thousands separators, "
                  "e.g. 1250.00"}]
    assert results["2026-12"]["summary"]["rejected_rows"] == "1"


BAD_LEDGER = """\
transaction_id,employee_id,date,event,amount,currency,margin
T1,E034,2026-10-05,sale,1000.00,USD,
T2,E034,2026-10-06,sale,1e3,USD,
T3,E034,2026-10-07,sale,"12,50",USD,
T4,E034,2026-10-08,sale,"$1,000",USD,
T5,E034,2026-10-09,sale,,USD,
T6,E999,2026-10-10,sale,500.00,USD,
T404,E034,2026-10-11,refund,100.00,USD,
"""

# line, column, value, a phrase the reason must contain
BAD_ROWS = [
    (3, "amount", "1e3", "scientific notation"),
    (4, "amount", "12,50", "commas are not accepted"),
    (5, "amount", "$1,000", "currency symbols are not accepted"),
    (6, "amount", "", "amount is empty"),
    (7, "employee_id", "E999", "not on the roster"),
    (8, "transaction_id", "T404", "no sale event for transaction T404"),
]


def test_a_bad_ledger_runs_and_reports_every_unusable_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_LEDGER, encoding="utf-8")
    done = cli(["run", *run_args("2026-10", "--format", "json", ledgers=[str(bad)])])
    assert (done.code, done.err) == (0, "")
    result = json.loads(done.out)
    rejected = [(r["line"], r["column"], r["value"], r["reason"]) for r in result["rejected"]]
    assert [r[:3] for r in rejected] == [b[:3] for b in BAD_ROWS]
    for (_, _, _, reason), (line_no, _, _, phrase) in zip(rejected, BAD_ROWS, strict=True):
        assert phrase in reason, line_no
    assert {(r["source"], r["row"]) for r in result["rejected"]} == {
        (str(bad), line_no - 1) for line_no, *_ in BAD_ROWS}
    assert result["summary"]["rejected_rows"] == "6"
    # The one good row is paid: per deal, 4 % of the first 10,000.00.
    paid = line(result, "E034", "deal_commission.new_credit")
    assert (paid["amount"], paid["transactions"]) == ("40.00", ["T1"])

    text = cli(["run", *run_args("2026-10", ledgers=[str(bad)])])
    assert text.code == 0
    listed = text.out.split("rejected rows            6\n", 1)[1].splitlines()
    assert [row.split(": ")[0:2] for row in listed] == [
        [f"  {bad}:{line_no}", f"column {column}"] for line_no, column, *_ in BAD_ROWS]


# --------------------------------------------------------------------------- bad rules


def _bad_rules(target: Path) -> tuple[Path, int, int, int]:
    """The flagship with its first 3 % rate written ``12%`` and ``rounding`` given twice.

    Returns the file, the line and column of ``12%`` and the line of the first ``rounding``
    (the duplicate is on the next line).
    """
    lines = (REPO / RULES).read_text(encoding="utf-8").splitlines(keepends=True)
    rounding = next(i for i, text in enumerate(lines) if text.startswith("rounding: half_up"))
    lines.insert(rounding + 1, "rounding: half_even\n")
    rate = next(i for i, text in enumerate(lines) if text.strip() == "rate: 0.03")
    lines[rate] = lines[rate].replace("0.03", "12%")
    target.write_text("".join(lines), encoding="utf-8")
    return target, rate + 1, lines[rate].index("12%") + 1, rounding + 1


def test_validate_a_bad_rule_file(tmp_path: Path) -> None:
    path, line_no, column, first = _bad_rules(tmp_path / "account_managers.yaml")
    done = command(["validate", path.name], cwd=tmp_path)
    assert done.code == 1
    assert done.out == ""
    assert "Traceback" not in done.err
    assert (f'account_managers.yaml:{first + 1}:1: duplicate key "rounding"; '
            f"first defined on line {first}\n" in done.err)
    assert (f"account_managers.yaml:{line_no}:{column}: plans.national_account_manager."
            'components[1].tiers.bands[0].rate: expected a decimal number, got "12%"\n'
            in done.err)
    assert done.err.endswith("compcalc: 1 of 1 rule file(s) have problems\n")


def test_run_with_a_bad_rule_file_exits_1(tmp_path: Path) -> None:
    path, line_no, column, first = _bad_rules(tmp_path / "account_managers.yaml")
    done = cli(["run", *run_args("2026-10", rules=str(path))])
    assert (done.code, done.out) == (1, "")
    assert f"{path}:{line_no}:{column}: " in done.err
    assert f'{path}:{first + 1}:1: duplicate key "rounding"' in done.err
    assert "Traceback" not in done.err


# --------------------------------------------------------------------------- period


@pytest.mark.parametrize("period", ["2026-09", "2027-10"])
def test_a_period_outside_the_rule_set_is_a_plain_message(period: str) -> None:
    done = cli(["run", *run_args(period, ledgers=LEDGERS[:1])])
    assert (done.code, done.out, done.err) == (1, "", OUTSIDE.format(period))


def test_explain_a_period_outside_the_rule_set() -> None:
    done = cli(["explain", *run_args("2027-10", "--employee", "E001", ledgers=LEDGERS)])
    assert (done.code, done.out, done.err) == (1, "", OUTSIDE.format("2027-10"))


# --------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("month", MONTHS)
def test_golden(month: str, example_runs: dict[str, Done]) -> None:
    golden = GOLDEN / f"{month}.json"
    produced = example_runs[month].out.encode("utf-8")
    if UPDATE_GOLDEN:
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(produced)
        return
    assert golden.is_file(), f"{golden} is missing; COMPCALC_UPDATE_GOLDEN=1 writes it"
    assert produced == golden.read_bytes(), (
        f"{month}: the output differs from {golden.name}; if the change is intended, "
        "rerun with COMPCALC_UPDATE_GOLDEN=1 and review the diff")


@pytest.mark.parametrize("month", MONTHS)
def test_golden_statements_add_up(month: str) -> None:
    result = _golden(month)
    totals = D(0)
    for item in result["statements"]:
        lines_sum = sum((D(entry["amount"]) for entry in item["lines"]), D(0))
        assert lines_sum == D(item["total"]), (month, item["employee_id"])
        totals += D(item["total"])
    summary = result["summary"]
    assert D(summary["total"]) == totals
    # every pay code's total (base, commission, bonus, allowance, draw, override, ...)
    by_code = [D(value) for key, value in summary.items() if key.startswith("total_")]
    assert sum(by_code, D(0)) == totals
    assert int(summary["employees"]) == len(result["statements"])
    assert int(summary["lines"]) == sum(len(item["lines"]) for item in result["statements"])
    assert int(summary["rejected_rows"]) == len(result["rejected"])


def test_golden_october_spot_figures() -> None:
    october = _golden("2026-10")
    assert {s["employee_id"] for s in october["statements"]} == {
        f"E{n:03d}" for n in range(1, 40)}  # E040 is hired in November
    # Zoe Adams: T2026-10-0032 (18,400.00) disputed, held; her other deals pay 2,080.40.
    zoe = statement(october, "E035")
    assert [(h["transaction_id"], h["amount"]) for h in zoe["held"]] == [
        ("T2026-10-0032", "18400.00")]
    assert amount(october, "E035", "deal_commission.new_credit") == D("2080.40")
    # Omar Haddad: 1,870.00 of October commission (T2026-10-0059 at 2 % is 736.00 of it).
    assert amount(october, "E020", "commission.new_credit") == D("1870.00")
    assert "T2026-10-0059" in line(october, "E020", "commission.new_credit")["transactions"]
    # Lucas Schmidt: 11,406.00 earned, the monthly cap of 8,000.00 defers 3,406.00.
    assert amount(october, "E034", "deal_commission.new_credit") == D("11406.00")
    assert amount(october, "E034", "deal_commission.cap") == D("-3406.00")
    assert component_sum(october, "E034", "commission") == D("8000.00")
    # No national account manager has reached the 50 % gate.
    for employee in ("E001", "E002", "E003", "E004", "E005", "E006", "E007"):
        assert component_sum(october, employee, "commission") == 0, employee
    # Natalie Fischer: 605,000 x 2 % + 17,908 x 4.5 %.
    assert amount(october, "E017", "commission.new_credit") == D("12905.86")
    # Fatima Noor: under the 50 % floor, no bonus yet.
    assert amount(october, "E027", "relationship_bonus.to_date") == 0


def test_golden_november_spot_figures() -> None:
    november = _golden("2026-11")
    # Release: 10,000 x 4 % + 8,400 x 6 % = 904.00 for the resolved dispute.
    released = line(november, "E035", "deal_commission.released")
    assert (released["amount"], released["transactions"]) == ("904.00", ["T2026-10-0032"])
    # Clawback: 36,800.00 x 2 % = -736.00; the sale is forfeited.
    clawback = line(november, "E020", "commission.clawback")
    assert (clawback["amount"], clawback["transactions"]) == ("-736.00", ["T2026-10-0059"])
    assert [(e["transaction_id"], e["status"]) for e in statement(november, "E020")["excluded"]
            ] == [("T2026-10-0059", "forfeited")]
    # Aisha Mensah: T2026-11-0015 held.
    assert [(h["transaction_id"], h["amount"]) for h in statement(november, "E009")["held"]] == [
        ("T2026-11-0015", "27350.00")]
    # Elena Petrova, hired 2026-11-16: 4,416.67 x 11/21 base, 450.00 x 15/30 health, 947.80.
    assert amount(november, "E040", "base.installment") == D("2313.49")
    assert component_sum(november, "E040", "allowance") == D("225.00")
    assert amount(november, "E040", "deal_commission.new_credit") == D("947.80")
    # Lucas Schmidt: the 3,406.00 deferred in October is paid with 3,056.00 of new deals.
    assert amount(november, "E034", "deal_commission.true_up") == D("3406.00")
    assert amount(november, "E034", "deal_commission.new_credit") == D("3056.00")
    # Daniel Okafor crosses the gate: 3 % on everything since October, itemised as the
    # November sales (192,640.00 x 3 %) and the October credit the gate now lets earn.
    assert component_sum(november, "E004", "commission") == D("10732.80")
    assert amount(november, "E004", "commission.new_credit") == D("5779.20")
    assert amount(november, "E004", "commission.tier_true_up") == D("4953.60")
    # Fatima Noor: 22,200.00 x 1.0368.
    assert amount(november, "E027", "relationship_bonus.to_date") == D("23016.96")


def test_golden_december_spot_figures() -> None:
    december = _golden("2026-12")
    # Rosa Delgado: partial refund of 8,400.00 at 3.25 %.
    clawback = line(december, "E011", "commission.clawback")
    assert (clawback["amount"], clawback["transactions"]) == ("-273.00", ["T2026-11-0048"])
    # Kevin Nguyen leaves 2026-12-12: 12/31 of base, health and car; a later sale excluded.
    assert amount(december, "E012", "base.installment") == D("2677.42")
    assert component_sum(december, "E012", "allowance") == D("174.19") + D("193.55")
    assert [(e["transaction_id"], e["status"]) for e in statement(december, "E012")["excluded"]
            ] == [("T2026-12-0083", "excluded")]
    # Marcus Reyes exactly at the 50 % gate: 360,000.00 x 3 %, nothing paid before; the
    # December sales earn 3,456.00, the earlier credit the gate releases 7,344.00.
    assert component_sum(december, "E002", "commission") == D("10800.00")
    assert amount(december, "E002", "commission.tier_true_up") == D("7344.00")
    assert statement(december, "E002")["to_date"]["commission"]["attainment"] == "50.0%"
    # Priya Raman 158.00 short of the gate: nothing.
    assert component_sum(december, "E003", "commission") == 0
    # Olivia Bennett: 1,198,800.00 x 5 % - 23,376.60 paid in November; President's Club.
    # The retroactive band re-rates October-November credit: 779,220.00 x (5 % - 3 %).
    assert component_sum(december, "E001", "commission") == D("36563.40")
    assert amount(december, "E001", "commission.new_credit") == D("20979.00")
    assert amount(december, "E001", "commission.tier_true_up") == D("15584.40")
    assert amount(december, "E001", "presidents_club.to_date") == D("3000.00")
    # Natalie Fischer hits the 60,000.00 plan-year cap: 60,000.00 - 41,832.12 paid before.
    assert amount(december, "E017", "commission.new_credit") == D("18167.88")
    assert statement(december, "E017")["to_date"]["commission"]["paid_before"] == "41,832.12"
    # Fatima Noor counted at 150 %: 33,300.00 due, 10,283.04 still to pay; Julia Santos none.
    assert amount(december, "E027", "relationship_bonus.to_date") == D("10283.04")
    assert amount(december, "E029", "relationship_bonus.to_date") == 0
    # Aisha Mensah's disputed sale is still held.
    assert [h["transaction_id"] for h in statement(december, "E009")["held"]] == [
        "T2026-11-0015"]
