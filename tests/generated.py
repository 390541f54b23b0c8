"""Realistic inputs for tests from the benchmark's own seeded generator (benchmarks/generate.py):
employees over the flagship plan's roles and bands, a plan year of sales with disputes opened
and resolved, full and partial refunds and margins."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]


def generated_tables(employees: int, rows: int) -> tuple[pa.Table, pa.Table]:
    """The roster of ``employees`` and a ledger of ``rows`` events, from the generator's seed
    (the same arguments, the same tables)."""
    path = REPO / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("generate", path)
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    rng = np.random.Generator(np.random.PCG64(generate.SEED))
    roster = generate.make_roster(employees, rng)
    return roster, generate.make_ledger(roster, rows, rng)
