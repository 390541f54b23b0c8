"""The progress bar and the end-of-run summary.

A progress bar goes to stderr only when stderr is a terminal: the real ``compcalc`` command
runs in a subprocess with its stderr on a pseudo-terminal (``pty``) and then on a pipe. Every
run ends with a summary: on stdout in text format; with ``--format json`` stdout stays pure
JSON and a short summary goes to stderr when it is a terminal (the JSON carries the figures).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest

import compcalc
from compcalc.cli import _Bar
from compcalc.statements.model import Line, RuleRef
from compcalc.statements.text import render_brief, render_summary

REPO = Path(__file__).resolve().parents[1]
RUN = ["run", "--rules", "rules/account_managers.yaml", "--roster", "examples/roster.csv",
       "--ledger", "examples/ledger/2026-10.csv", "--ledger", "examples/ledger/2026-11.csv",
       "--period", "2026-11"]  # fmt: skip
TIMEOUT = 120.0


def command() -> list[str]:
    beside = Path(sys.executable).with_name("compcalc")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("compcalc")
    return [found] if found else [sys.executable, "-m", "compcalc.cli"]


def on_terminal(argv: list[str]) -> tuple[int, str, str]:
    """Run ``compcalc ARGV`` with stderr on a pseudo-terminal; (exit code, stdout, stderr)."""
    leader, follower = pty.openpty()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([*command(), *argv], cwd=REPO, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=follower)  # fmt: skip
        os.close(follower)
        seen = bytearray()
        deadline = time.monotonic() + TIMEOUT
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([leader], [], [], 1.0)
                if not ready:
                    if process.poll() is not None:
                        break
                    continue
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
        finally:
            os.close(leader)
        code = process.wait(timeout=TIMEOUT)
        out.seek(0)
        stdout = out.read().decode("utf-8")
    # The terminal turns "\n" into "\r\n"; the bar's own "\r"s stay.
    return code, stdout, seen.decode("utf-8").replace("\r\n", "\n")


def piped(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command(), *argv], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=TIMEOUT)  # fmt: skip


# --------------------------------------------------------------------------- progress bar


def test_a_terminal_gets_a_progress_bar_then_the_summary() -> None:
    code, stdout, stderr = on_terminal([*RUN, "--format", "json"])
    assert code == 0, stderr
    json.loads(stdout)  # stdout is pure JSON
    frames = stderr.split("\r")
    assert frames[0] == ""
    assert any(f.startswith("reading rules rules/account_managers.yaml") for f in frames)
    assert any(f.startswith("reading ledger examples/ledger/2026-10.csv") for f in frames)
    assert any(f.startswith("plan key_account_manager") for f in frames)
    last = next(f for f in reversed(frames) if "[" in f)
    assert last.startswith("statements ")
    done, total = last.rsplit(" ", 1)[1].split("/")
    assert done == total and "-" not in last.split("[")[1]  # a full bar at the end
    # ... then the line is cleared, and the short summary follows on clean lines.
    tail = frames[-1]
    assert tail.strip(" ").startswith("compcalc run 2026-11: 40 employees paid, total ")
    assert "  held sales 1 (27,350.00 USD) · rejected rows 0 · adjustments " in tail
    assert "  base 228,771.81 · commission " in tail
    assert all(len(line) < 80 for frame in frames[:-1] for line in frame.split("\n"))


def test_a_pipe_gets_no_progress_bar_and_stdout_is_the_same() -> None:
    done = piped([*RUN, "--format", "json"])
    assert (done.returncode, done.stderr) == (0, "")
    _, stdout, _ = on_terminal([*RUN, "--format", "json"])
    assert done.stdout == stdout


def test_a_text_run_ends_with_the_summary_and_nothing_on_a_piped_stderr() -> None:
    done = piped(RUN)
    assert (done.returncode, done.stderr) == (0, "")
    out = done.stdout
    assert "\nemployees                40\n" in out
    assert "\nheld sales               1  (27,350.00 USD)\n" in out
    assert out.endswith("rejected rows            0\n")
    total_row = next(line for line in out.splitlines() if line.startswith("total "))
    assert total_row.split()[-1].replace(",", "").replace(".", "").isdigit()
    code, stdout, stderr = on_terminal(RUN)
    assert (code, stdout) == (0, out)
    assert "[" in stderr and stderr.endswith("\r")  # only the bar, cleared: no summary twice


def test_diff_with_new_rules_shows_both_runs_on_a_terminal_only(tmp_path: Path) -> None:
    argv = ["diff", "--rules", "rules/account_managers.yaml", "--rules-new",
            "rules/account_managers.yaml", *RUN[3:]]  # fmt: skip
    code, stdout, stderr = on_terminal(argv)
    assert code == 0
    assert stdout.endswith("0 employees affected (of 40); 0 lines differ\n")
    frames = stderr.split("\r")
    assert any(f.startswith("old rules: plan ") for f in frames)
    assert any(f.startswith("new rules: statements ") for f in frames)
    assert stderr.endswith("\r")
    done = piped(argv)
    assert (done.returncode, done.stdout, done.stderr) == (0, stdout, "")


def test_the_bar_writes_nothing_unless_enabled_and_clears_itself() -> None:
    quiet = io.StringIO()
    bar = _Bar(quiet, enabled=False)
    bar.note("reading rules")
    bar.engine()(1, 2, "plan x")
    bar.clear()
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    bar = _Bar(shown, enabled=True)
    bar.total = 4
    bar.note("reading rules")
    bar.advance()
    bar.engine("old rules: ")(3, 3, "statements")
    bar.clear()
    text = shown.getvalue()
    first, second, blank = text.split("\r")[1:4]
    assert first.startswith("reading rules") and first.endswith("[------------------------] 0/4")
    assert second.startswith("old rules: statements")
    assert second.endswith("[########################] 4/4")
    assert blank == " " * len(second) and text.endswith("\r")


# --------------------------------------------------------------------------- summary


@pytest.fixture(scope="module")
def november() -> compcalc.PeriodResult:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        return compcalc.run_period(
            compcalc.load_rules(RUN[2]), RUN[4], [RUN[6], RUN[8]], "2026-11")


def with_adjustments(result: compcalc.PeriodResult) -> compcalc.PeriodResult:
    """The result with two adjustment lines added to its first statement (-12.50, +40.00)."""
    first = result.statements[0]
    rule = RuleRef(result.ruleset_id, result.ruleset_version, "comm")
    extra = tuple(
        Line(f"comm.{item}", "comm", "commission", "adjustment", item, item, Decimal(amount),
             rule, "")
        for item, amount in (("clawback", "-12.50"), ("true_up", "40.00"))
    )  # fmt: skip
    changed = dataclasses.replace(first, lines=first.lines + extra,
                                  total=first.total + Decimal("27.50"))  # fmt: skip
    return dataclasses.replace(result, statements=(changed, *result.statements[1:]))


def without_adjustments(result: compcalc.PeriodResult) -> compcalc.PeriodResult:
    """The result without any adjustment line (totals kept: the brief does not re-add)."""
    return dataclasses.replace(result, statements=tuple(
        dataclasses.replace(s, lines=tuple(x for x in s.lines if x.pay_code != "adjustment"))
        for s in result.statements))  # fmt: skip


def test_the_brief_summary_counts_adjustments_generically(
    november: compcalc.PeriodResult,
) -> None:
    assert render_brief(without_adjustments(november)).endswith(" · adjustments 0\n")
    brief = render_brief(with_adjustments(without_adjustments(november)))
    assert brief.endswith(" · adjustments 2 (27.50 USD)\n")
    assert "adjustment 27.50" in brief
    assert brief == render_brief(with_adjustments(without_adjustments(november)))
    assert all(len(line) <= 100 for line in brief.splitlines())


def test_the_full_summary_lists_adjustments_when_there_are_any(
    november: compcalc.PeriodResult,
) -> None:
    text = render_summary(with_adjustments(november))
    counts = [line for line in text.splitlines() if line.startswith("adjustments ")]
    assert len(counts) == 1 and counts[0].split()[1] == str(
        sum(1 for s in with_adjustments(november).statements for x in s.lines
            if x.pay_code == "adjustment"))  # fmt: skip
    assert "adjustment" in next(line for line in text.splitlines() if line.startswith("employee"))
