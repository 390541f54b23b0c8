"""Run ``compcalc`` in-process for the CLI tests: exit code, stdout and stderr."""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from compcalc.cli import main

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


def cli(argv: Sequence[str], cwd: Path = REPO) -> Done:
    """``compcalc ARGV`` in-process, from ``cwd``; an escaping exception fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(argv))
    return Done(code, out.getvalue(), err.getvalue())
