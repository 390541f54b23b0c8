"""compcalc: deterministic, auditable sales commission and total compensation engine.

Public API (nothing else is public)::

    rules = compcalc.load_rules("rules/account_managers.yaml")
    result = compcalc.run_period(rules, "examples/roster.csv",
                                 ["examples/ledger/2026-10.csv"], "2026-10")
    result.to_frame()        # one row per statement line, exact Decimal amounts
    result.to_json()         # canonical JSON, byte-identical for the same inputs
    compcalc.diff_results(result, other)  # per employee and line: what changed, by how much
    offer = compcalc.model_offer(rules, role="key_account_manager", seniority="senior",
                                 company_size="large", region="metro", base="104000",
                                 quota="1200000")  # band check, OTE, payout curve
"""

__version__ = "0.1.0"

from .api import (
    compare_offers,
    diff_results,
    load_rules,
    load_rules_text,
    model_offer,
    read_fx,
    read_ledger,
    read_roster,
    run_period,
)
from .errors import CompcalcError, Diagnostic, InputError, RuleFileError, RunError
from .inputs import FxTable, Ledger, Roster
from .money import Rounding
from .offers import (
    AttainmentSamples,
    BandCheck,
    CurvePoint,
    Expected,
    NormalAttainment,
    Offer,
    OfferResult,
    PastLedger,
)
from .periods import Period, parse_period
from .rules.schema import RuleSet
from .statements.model import Line, PeriodResult, PriorRun, Rejected, SaleNote, Statement
from .store import Store, StoreError

__all__ = [
    "AttainmentSamples",
    "BandCheck",
    "CompcalcError",
    "CurvePoint",
    "Diagnostic",
    "Expected",
    "FxTable",
    "InputError",
    "Ledger",
    "Line",
    "NormalAttainment",
    "Offer",
    "OfferResult",
    "PastLedger",
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
    "compare_offers",
    "diff_results",
    "load_rules",
    "load_rules_text",
    "model_offer",
    "parse_period",
    "read_fx",
    "read_ledger",
    "read_roster",
    "run_period",
]
