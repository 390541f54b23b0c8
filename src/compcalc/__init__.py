"""compcalc: deterministic, auditable sales commission and total compensation engine.

Public API (nothing else is public)::

    rules = compcalc.load_rules("rules/account_managers.yaml")
    result = compcalc.run_period(rules, "examples/roster.csv",
                                 ["examples/ledger/2026-10.csv"], "2026-10")
    result.to_frame()        # one row per statement line, exact Decimal amounts
    result.to_json()         # canonical JSON, byte-identical for the same inputs
    compcalc.diff_results(result, other)  # per employee and line: what changed, by how much
"""

__version__ = "0.1.0"

from .api import (
    diff_results,
    load_rules,
    load_rules_text,
    read_fx,
    read_ledger,
    read_roster,
    run_period,
)
from .errors import CompcalcError, Diagnostic, InputError, RuleFileError, RunError
from .inputs import FxTable, Ledger, Roster
from .money import Rounding
from .periods import Period, parse_period
from .rules.schema import RuleSet
from .statements.model import Line, PeriodResult, PriorRun, Rejected, SaleNote, Statement
from .store import Store, StoreError

__all__ = [
    "CompcalcError",
    "Diagnostic",
    "FxTable",
    "InputError",
    "Ledger",
    "Line",
    "Period",
    "PeriodResult",
    "PriorRun",
    "Rejected",
    "Roster",
    "Rounding",
    "RuleFileError",
    "RuleSet",
    "RunError",
    "SaleNote",
    "Statement",
    "Store",
    "StoreError",
    "__version__",
    "diff_results",
    "load_rules",
    "load_rules_text",
    "parse_period",
    "read_fx",
    "read_ledger",
    "read_roster",
    "run_period",
]
