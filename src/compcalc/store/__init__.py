"""The run store: saved pay runs, closed periods and the paid-to-date they imply.

>>> from compcalc.store import Store
>>> with Store.open("sqlite://") as store:
...     len(store.runs())
0
"""

from .errors import StoreError
from .migrations import latest_version
from .store import SavedRun, Store, run_id_of

__all__ = ["SavedRun", "Store", "StoreError", "latest_version", "run_id_of"]
