"""Plan tests: YAML test cases that a rule set carries, run exactly through the engine.

A comp analyst changes a rate, runs ``compcalc test rules/account_managers.yaml`` and sees
exactly which plan tests change, each with a diff of the expected and actual figures. The
format is in ``docs/plan-tests.md``; :mod:`.cases` reads it, :mod:`.runner` runs it and
:mod:`.report` says what happened.

>>> from compcalc.plantests import find_plan_tests, run_plan_tests
>>> report = run_plan_tests(find_plan_tests(["rules/account_managers.yaml"]))  # doctest: +SKIP
>>> print(report.summary())                                                   # doctest: +SKIP
62 cases: 62 passed, 0 failed, 0 errors
"""

from .cases import (
    Expect,
    LoadedCase,
    PlanCase,
    PlanTestError,
    PlanTests,
    find_plan_tests,
    is_plan_test_file,
    load_plan_tests,
    load_plan_tests_text,
)
from .report import CaseResult, Mismatch, PlanTestReport
from .runner import run_case, run_plan_tests

__all__ = [
    "CaseResult",
    "Expect",
    "LoadedCase",
    "Mismatch",
    "PlanCase",
    "PlanTestError",
    "PlanTestReport",
    "PlanTests",
    "find_plan_tests",
    "is_plan_test_file",
    "load_plan_tests",
    "load_plan_tests_text",
    "run_case",
    "run_plan_tests",
]
