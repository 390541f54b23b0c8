"""What a plan-test run found: each case passed, failed (with a diff) or could not run.

A failed case shows the figures it states that came out differently, as a unified diff of
expected (``-``) against actual (``+``), one pair of lines per figure::

    FAIL  regional entry rep at 30 % of quota  (rules/tests/account_managers.yaml:40)
      --- expected
      +++ actual (rules/account_managers.yaml)
      - E1 commission.new_credit 3600.00
      + E1 commission.new_credit 3000.00

>>> case = CaseResult("t.yaml", 3, "x", "am.yaml", "fail",
...     (Mismatch("E1 total 10.00", "E1 total 9.00"),))
>>> print(case.render())
FAIL  x  (t.yaml:3)
  --- expected
  +++ actual (am.yaml)
  - E1 total 10.00
  + E1 total 9.00
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import Diagnostic

Status = Literal["pass", "fail", "error"]


@dataclass(frozen=True)
class Mismatch:
    """One stated figure that came out differently: expected and actual as text lines.

    ``expected`` is None for a line the run produced that an ``exact_lines`` case did not list.
    """

    expected: str | None
    actual: str


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case."""

    file: str  # the test file, as named
    line: int | None  # where the case starts in it
    name: str
    rules: str  # the rule file the case ran against
    status: Status
    mismatches: tuple[Mismatch, ...] = ()
    notes: tuple[str, ...] = ()  # the run's error, reasons of rejected rows ...

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def where(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def diff(self) -> str:
        """Expected against actual, unified-diff style; empty when nothing differs."""
        if not self.mismatches:
            return ""
        lines = ["--- expected", f"+++ actual ({self.rules})"]
        for mismatch in self.mismatches:
            if mismatch.expected is not None:
                lines.append(f"- {mismatch.expected}")
            lines.append(f"+ {mismatch.actual}")
        return "\n".join(lines)

    def render(self) -> str:
        """``PASS name``, or ``FAIL``/``ERROR`` with the place, the diff and any notes."""
        if self.passed:
            return f"PASS  {self.name}"
        head = f"{self.status.upper()}  {self.name}  ({self.where})"
        # Notes may span lines (a rule-file excerpt with its caret): indent every line.
        text = "\n".join([self.diff(), *self.notes]).strip("\n")
        return "\n".join([head, *(f"  {line}" for line in text.splitlines())])


@dataclass(frozen=True)
class PlanTestReport:
    """All cases run, in file order, and the files that could not be loaded."""

    cases: tuple[CaseResult, ...]
    problems: tuple[Diagnostic, ...] = ()  # test or rule files that could not be read

    @property
    def ok(self) -> bool:
        """True when every case passed and every file loaded."""
        return not self.problems and all(case.passed for case in self.cases)

    def count(self, status: Status) -> int:
        return sum(case.status == status for case in self.cases)

    def failed(self) -> list[CaseResult]:
        """The cases that did not pass."""
        return [case for case in self.cases if not case.passed]

    def summary(self) -> str:
        """One line: how many cases passed, failed and could not run.

        >>> PlanTestReport((CaseResult("t.yaml", 1, "x", "r.yaml", "pass"),)).summary()
        '1 case: 1 passed, 0 failed, 0 errors'
        """
        text = (
            f"{_count(len(self.cases), 'case')}: {self.count('pass')} passed, "
            f"{self.count('fail')} failed, {_count(self.count('error'), 'error')}"
        )
        if self.problems:
            text += f"; {_count(len({p.source for p in self.problems}), 'file')} could not be read"
        return text

    def render(self) -> str:
        """The whole report: file problems, each case, then the summary line."""
        parts = [str(problem) for problem in self.problems]
        parts += [case.render() for case in self.cases]
        parts.append(self.summary())
        return "\n".join(parts) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
