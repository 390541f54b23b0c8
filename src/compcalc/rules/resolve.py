"""One mechanism turns every rule number into one value per employee.

A :data:`~compcalc.rules.schema.Param` is a constant, a table keyed by employee dimensions, or
a list of dated values. :class:`Resolver` freezes the rule set as of a date (the run period's
end) and resolves a Param for a group of employees in one pass over the unique dimension
combinations (a handful), never per employee row. Each read is recorded, so the audit can say
which table cell was used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import Diagnostic
from .schema import Dated, Table

ObjectArray = npt.NDArray[np.object_]


@dataclass
class Resolver:
    """Resolves Params for employees as of one date; collects missing-combination errors."""

    employees: pd.DataFrame  # one row per employee, dimension columns as text
    as_of: dt.date
    source: str = "<rules>"
    problems: list[Diagnostic] = field(default_factory=list)
    # Each dimension column factorized once: integer codes per employee and the labels.
    _codes: dict[str, tuple[npt.NDArray[np.int64], list[str]]] = field(default_factory=dict)

    def _dimension(self, name: str) -> tuple[npt.NDArray[np.int64], list[str]]:
        if name not in self._codes:
            codes, labels = pd.factorize(self.employees[name].astype(str).to_numpy(dtype=object))
            self._codes[name] = (codes.astype(np.int64), [str(label) for label in labels])
        return self._codes[name]

    def values(self, param: Any, path: str, rows: npt.NDArray[np.int64]) -> ObjectArray:
        """Decimal value of ``param`` for each employee position in ``rows``."""
        param = self._as_of(param, path)
        out = np.empty(len(rows), dtype=object)
        if isinstance(param, Table):
            self._lookup(param, path, rows, out)
        else:
            out[:] = [Decimal(param)] * len(rows)
        return out

    def _as_of(self, param: Any, path: str) -> Any:
        if not isinstance(param, Dated):
            return param
        in_force = [entry for entry in param.dated if entry.from_ <= self.as_of]
        if not in_force:
            first = param.dated[0].from_
            self.problems.append(
                Diagnostic(
                    self.source,
                    None,
                    None,
                    path,
                    f"no value in force on {self.as_of}: the first dated entry starts {first}",
                )
            )
            return Decimal(0)
        return in_force[-1].value

    def _lookup(
        self, table: Table, path: str, rows: npt.NDArray[np.int64], out: ObjectArray
    ) -> None:
        missing_columns = [name for name in table.by if name not in self.employees.columns]
        if missing_columns:
            self.problems.append(
                Diagnostic(
                    self.source,
                    None,
                    None,
                    f"{path}.by",
                    f"the roster has no column {', '.join(missing_columns)}",
                )
            )
            out[:] = Decimal(0)
            return
        # Mixed-radix code of each employee's combination, then one lookup per combination.
        combined = np.zeros(len(rows), dtype=np.int64)
        dims = [self._dimension(name) for name in table.by]
        for codes_of, labels in dims:
            combined = combined * len(labels) + codes_of[rows]
        uniques, codes = np.unique(combined, return_inverse=True)
        cells = dict(table.entries())
        per_combination = np.empty(len(uniques), dtype=object)
        for position, code in enumerate(uniques.tolist()):
            parts = []
            for _, labels in reversed(dims):
                code, index = divmod(code, len(labels))
                parts.append(labels[index])
            combination = tuple(reversed(parts))
            value = cells.get(combination, table.default)
            if value is None:
                shown = ", ".join(f"{n}={v}" for n, v in zip(table.by, combination, strict=True))
                self.problems.append(
                    Diagnostic(
                        self.source,
                        None,
                        None,
                        path,
                        f"the table has no value for {shown} and no default",
                    )
                )
                value = Decimal(0)
            per_combination[position] = value
        out[:] = per_combination[codes]


def decimal_places(values: ObjectArray) -> int:
    """Largest number of decimal places among Decimal values (0 for whole numbers)."""
    places = 0
    for value in set(values.tolist()):
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            places = -exponent
    return places


def scaled_ints(values: ObjectArray, places: int) -> npt.NDArray[Any]:
    """Decimals times 10**places as exact integers (int64, or Python ints if very large)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    # Once per distinct value (a handful: resolved per dimension combination), not per row.
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    distinct = [int(value.scaleb(places)) for value in uniques.tolist()]
    peak = max(abs(v) for v in distinct)
    converted = np.array(distinct, dtype=object if peak >= 2**62 else np.int64)
    return np.asarray(converted[codes])
