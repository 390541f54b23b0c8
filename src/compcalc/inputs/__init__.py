"""Reading and validating compcalc's inputs: the roster and the ledger.

Sources are CSV or Parquet paths or pandas DataFrames. Every cell is read as text and parsed
exactly (money as integer minor units, dates as strict ISO dates); unusable rows are listed
in ``rejected`` with their row, line, column, value and the reason, never dropped silently.
A dated FX table (:func:`read_fx`) converts sales in another currency; it is all-or-nothing.
"""

from compcalc.inputs.amounts import format_minor_units, parse_minor_units
from compcalc.inputs.common import PendingDigest, RejectedRow, canonical_digest
from compcalc.inputs.fx import FxTable, read_fx
from compcalc.inputs.ledger import Ledger, check_ledger, read_ledger
from compcalc.inputs.roster import Roster, read_roster

__all__ = [
    "FxTable",
    "Ledger",
    "PendingDigest",
    "RejectedRow",
    "Roster",
    "canonical_digest",
    "check_ledger",
    "format_minor_units",
    "parse_minor_units",
    "read_fx",
    "read_ledger",
    "read_roster",
]
