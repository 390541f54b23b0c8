"""compcalc: deterministic, auditable sales commission and total compensation engine."""

__version__ = "0.1.0"
