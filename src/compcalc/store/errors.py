"""The error the run store raises on purpose: a refused write or an unusable store."""

from __future__ import annotations

from ..errors import CompcalcError


class StoreError(CompcalcError):
    """The store refused an operation (closed period, out-of-order close, newer schema ...)."""
