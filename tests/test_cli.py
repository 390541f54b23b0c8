"""The command line over the real API: arguments, exit codes, what goes to stdout and stderr.

Every test runs the real ``compcalc.api`` (rule loader, input readers, engine, renderers) on
small files written into ``tmp_path``: a two-person rule set, roster and ledger whose figures
are worked by hand below. The shipped Meridian example, byte-for-byte golden snapshots and
the other end-to-end checks live in ``tests/test_cli_e2e.py``.

Tests call :func:`compcalc.cli.main` in-process (fast; ``capsys`` sees what it prints, and
an exception escaping ``main`` fails the test, so "no traceback" is checked by construction);
a few run the installed ``compcalc`` command in a subprocess.

Hand-worked figures for March 2024 (rule ``comm``: flat 5 % of dispute-free sales):

* E001 Ada Lovelace, base 46,800.00 / 12 = 3,900.00; sales T1 (January, 1,000.00, paid in
  January) and T2 (March, 2,000.00): March commission 2,000.00 x 5 % = 100.00; total 4,000.00.
* E002 Bob Martin, base 60,000.00 / 12 = 5,000.00; T3 has amount ``x`` (rejected, line 3 of
  ``sales.csv``), T4 3,000.00 x 5 % = 150.00; total 5,150.00.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import compcalc
from compcalc import __version__
from compcalc.cli import main
from compcalc.rules.digest import ruleset_digest

RULES = """\
id: acme-sales
version: "2024.1"
currency: USD
effective:
  from: 2024-01-01
  to: 2024-12-31
plan_year:
  start_month: 1
dimensions:
  seniority: [entry, mid, senior]
  company_size: [small, mid, large]
  region: [metro, non_metro]
plans:
  account_manager:
    components:
      - id: base
        kind: base_salary
      - id: comm
        kind: commission
        rate: 0.05
"""

# Two problems: no ``version`` (reported at 1:1) and a rate that is not a number (10:15).
BAD_RULES = """\
id: acme-sales
currency: USD
effective:
  from: 2024-01-01
plans:
  account_manager:
    components:
      - id: comm
        kind: commission
        rate: five
"""

ROSTER = """\
employee_id,name,role,seniority,company_size,region,currency,annual_base,quota,hire_date,\
termination_date,manager_id
E001,Ada Lovelace,account_manager,mid,mid,metro,USD,46800.00,500000.00,2020-01-01,,
E002,Bob Martin,account_manager,senior,large,non_metro,USD,60000.00,600000.00,2021-06-01,,E001
"""

LEDGER_HEADER = "transaction_id,employee_id,date,event,amount,currency,margin\n"
JANUARY = LEDGER_HEADER + "T1,E001,2024-01-10,sale,1000.00,USD,\n"
MARCH = LEDGER_HEADER + (
    "T2,E001,2024-03-04,sale,2000.00,USD,\n"
    "T3,E002,2024-03-05,sale,x,USD,\n"
    "T4,E002,2024-03-06,sale,3000.00,USD,\n"
)
X_REASON = (
    "is not a plain decimal number; write digits with an optional leading minus sign and a "
    "decimal point, e.g. 1234.50"
)
OUTSIDE = "period 2025-01 is outside rule set 'acme-sales' (effective 2024-01-01 to 2024-12-31)"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` holding rules.yaml, bad.yaml, roster.csv, jan.csv and sales.csv; the cwd.

    Working in it keeps file names in messages short and exact (``sales.csv:3: ...``).
    """
    for name, text in [("rules.yaml", RULES), ("bad.yaml", BAD_RULES), ("roster.csv", ROSTER),
                       ("jan.csv", JANUARY), ("sales.csv", MARCH)]:
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _inputs(*extra: str, ledgers: tuple[str, ...] = ("jan.csv", "sales.csv"),
            period: str = "2024-03") -> list[str]:
    ledger_args = [arg for name in ledgers for arg in ("--ledger", name)]
    return ["--rules", "rules.yaml", "--roster", "roster.csv", *ledger_args,
            "--period", period, *extra]


def _digest(path: Path) -> str:
    return ruleset_digest(compcalc.load_rules(path))[:12]


def _command() -> list[str]:
    """The installed console script for this interpreter, else on PATH, else ``-m``."""
    beside = Path(sys.executable).with_name("compcalc")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("compcalc")
    return [found] if found else [sys.executable, "-m", "compcalc.cli"]


# --------------------------------------------------------------------------- arguments


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"compcalc {__version__}\n"


@pytest.mark.parametrize("argv", [
    [],
    ["frobnicate"],
    ["validate"],
    ["run", "--roster", "r.csv", "--ledger", "l.csv", "--period", "2024-03"],
    ["run", "--rules", "r.yaml", "--roster", "r.csv", "--ledger", "l.csv", "--period", "2024-03",
     "--format", "xml"],
    ["explain", "--rules", "r.yaml", "--roster", "r.csv", "--ledger", "l.csv", "--period", "x"],
])
def test_usage_errors_exit_2_with_usage_on_stderr(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage: compcalc" in captured.err


def test_the_installed_command_runs(tmp_path: Path) -> None:
    done = subprocess.run([*_command(), "--version"],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"compcalc {__version__}\n", "")


def test_the_installed_command_reports_problems_without_a_traceback(workdir: Path) -> None:
    done = subprocess.run([*_command(), "run", *_inputs(period="2025-01")],
                          capture_output=True, text=True, check=False, cwd=workdir)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"compcalc: {OUTSIDE}\n")


# --------------------------------------------------------------------------- validate


def test_validate_a_missing_file_is_a_plain_message(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "nope.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "nope.yaml: cannot read the file: No such file or directory\n"
        "compcalc: 1 of 1 rule file(s) have problems\n"
    )


def test_validate_reports_ok_files_and_every_diagnostic(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "rules.yaml", "bad.yaml"]) == 1
    captured = capsys.readouterr()
    digest = _digest(workdir / "rules.yaml")
    assert captured.out == f"ok  rules.yaml  (id=acme-sales, version=2024.1, sha256={digest})\n"
    assert captured.err == (
        'bad.yaml:1:1: missing required field "version"\n'
        "   1 | id: acme-sales\n"
        "     | ^\n"
        'bad.yaml:10:15: plans.account_manager.components[0].rate: expected a decimal number, '
        'got "five"\n'
        "  10 |         rate: five\n"
        "     |               ^\n"
        "compcalc: 1 of 2 rule file(s) have problems\n"
    )


def test_validate_all_ok_exits_0(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "rules.yaml"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("ok  rules.yaml  (id=acme-sales, version=2024.1, sha256=")


# --------------------------------------------------------------------------- run


def test_run_prints_the_summary_of_every_ledger_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *_inputs()]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    out = captured.out
    digest = _digest(workdir / "rules.yaml")
    assert out.startswith("compcalc pay run · period 2024-03 (2024-03-01 to 2024-03-31)\n"
                          f"rules     acme-sales@2024.1  sha256:{digest}\n")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("E00")}
    # employee, name (two words), role, base, commission, bonus, allowance, total
    assert rows["E001"][3:] == ["account_manager", "3,900.00", "100.00", "-", "-", "4,000.00"]
    assert rows["E002"][3:] == ["account_manager", "5,000.00", "150.00", "-", "-", "5,150.00"]
    assert "\nemployees                2\n" in out
    assert out.endswith(
        f'rejected rows            1\n  sales.csv:3: column amount: "x": {X_REASON}\n')


def test_run_json_goes_to_stdout_and_out_dir_gets_result_json(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = workdir / "out" / "2024-03"
    assert main(["run", *_inputs("--format", "json", "--out", str(out_dir))]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"wrote {out_dir / 'result.json'}\n"
    assert (out_dir / "result.json").read_text(encoding="utf-8") == captured.out
    assert sorted(p.name for p in out_dir.iterdir()) == ["result.json"]
    result = json.loads(captured.out)
    assert result["period"] == {"label": "2024-03", "start": "2024-03-01", "end": "2024-03-31"}
    assert result["ruleset"]["sha256"] == ruleset_digest(compcalc.load_rules("rules.yaml"))
    totals = {s["employee_id"]: s["total"] for s in result["statements"]}
    assert totals == {"E001": "4000.00", "E002": "5150.00"}
    # Both --ledger files were read as one ledger: T1 (January) counts towards E001's year.
    ada = next(s for s in result["statements"] if s["employee_id"] == "E001")
    assert ada["to_date"]["comm"]["credited_to_date"] == "3,000.00"
    assert ada["to_date"]["comm"]["paid_before"] == "50.00"
    assert result["rejected"] == [{"source": "sales.csv", "row": 2, "line": 3, "column": "amount",
                                   "value": "x", "reason": X_REASON}]
    assert result["summary"]["rejected_rows"] == "1"


def test_run_with_one_ledger_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *_inputs("--format", "json", ledgers=("sales.csv",))]) == 0
    result = json.loads(capsys.readouterr().out)
    ada = next(s for s in result["statements"] if s["employee_id"] == "E001")
    assert ada["to_date"]["comm"]["credited_to_date"] == "2,000.00"


@pytest.mark.parametrize(("argv", "message"), [
    (_inputs(period="2025-01"), f"compcalc: {OUTSIDE}\n"),
    (_inputs(ledgers=("nocol.csv",)),
     "nocol.csv: missing required column(s) amount; columns found: transaction_id, "
     "employee_id, date, event, currency, margin\n"),
])
def test_run_errors_exit_1_with_a_plain_message(
    workdir: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "nocol.csv").write_text(
        "transaction_id,employee_id,date,event,currency,margin\nT1,E001,2024-01-10,sale,USD,\n")
    assert main(["run", *argv]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", message)


def test_run_with_a_missing_roster_is_a_plain_message(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _inputs()
    argv[argv.index("roster.csv")] = "nope.csv"
    assert main(["run", *argv]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("nope.csv: cannot read the file: ")
    assert captured.err.count("\n") == 1


@pytest.mark.parametrize("period", ["2024-13", "x", "2024-03-31..2024-03-01"])
def test_a_malformed_period_is_a_plain_message(
    workdir: Path, period: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", *_inputs(period=period)])
    captured = capsys.readouterr()
    assert code in (1, 2)
    assert captured.out == ""
    assert period in captured.err


# --------------------------------------------------------------------------- explain


def test_explain_prints_one_statement(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", *_inputs("--employee", "E002")]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    out = captured.out
    assert out.startswith("Statement for E002 · Bob Martin · account_manager\n"
                          "period 2024-03 (2024-03-01 to 2024-03-31) · currency USD\n")
    assert "     formula       60,000.00 / 12 = 5,000.00\n" in out
    assert "     transactions  T4\n" in out
    assert "Ada Lovelace" not in out
    assert out.endswith("5,150.00 USD\nlines sum to total: yes\n")


def test_explain_unknown_employee_lists_known_ids(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", *_inputs("--employee", "E01")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "compcalc: no statement for employee 'E01' in 2024-03; did you mean E001?\n"
        "known ids: E001, E002\n"
    )


# --------------------------------------------------------------------------- batch process

_FREE_AND_MEASURE = """
import os
import sys
import numpy as np
from compcalc.cli import tune_batch_process
if sys.argv[1] == "tuned":
    tune_batch_process()
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
block = np.ones(64 << 20, dtype=np.uint8)  # 64 MiB, touched
before = resident()
del block
print(before - resident())
"""


@pytest.mark.skipif(
    sys.platform != "linux" or __import__("platform").libc_ver()[0] != "glibc",
    reason="the allocator's behaviour measured is glibc's",
)
def test_the_command_returns_freed_memory_as_the_library_does() -> None:
    # glibc unmaps a block this large when it is freed. The command's process does too: the
    # peak memory target (three times the ledger's Arrow size) is the command's as well, and
    # keeping freed memory for reuse cost 520 MiB at 10M rows for about 1.2 s.
    def released(mode: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", _FREE_AND_MEASURE, mode],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return int(done.stdout)

    assert released("default") > 60 << 20
    assert released("tuned") > 60 << 20
