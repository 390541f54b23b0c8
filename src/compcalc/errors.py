"""Errors as values: diagnostics that point at a file, line and column, or a data row.

Every problem a user can cause (a bad rule file, a bad roster or ledger row, a period
outside the rule set) is reported as a :class:`Diagnostic` in the ``file:line:col: message``
form that editors understand. Several are collected and shown at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, located as precisely as the input allows."""

    source: str  # file name, or "<roster>", "<ledger>", "<rules>" for in-memory inputs
    line: int | None  # 1-based line in the file (or data row number for frames)
    column: int | None  # 1-based column, when known
    field: str  # the field path ("plans.key_account_manager.components[1].rate") or column
    message: str  # plain words: what was expected, what was found
    excerpt: str = ""  # the offending source line and a caret, when available

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{self.field}: {self.message}" if self.field else self.message
        if where:
            text = f"{where}: {text}"
        if self.excerpt:
            text += "\n" + self.excerpt
        return text


class CompcalcError(Exception):
    """Base of the errors compcalc raises on purpose; carries diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic("", None, None, "", diagnostics)]
        self.diagnostics = sorted(diagnostics, key=_diagnostic_order)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def _diagnostic_order(d: Diagnostic) -> tuple[str, int, int, str, str]:
    return (d.source, d.line or 0, d.column or 0, d.field, d.message)


class RuleFileError(CompcalcError):
    """A rule file could not be read or does not follow the rule language."""


class InputError(CompcalcError):
    """A roster or ledger as a whole cannot be used (missing columns, unreadable file)."""


class RunError(CompcalcError):
    """The run cannot go ahead (period outside the rules, table misses a combination ...)."""
