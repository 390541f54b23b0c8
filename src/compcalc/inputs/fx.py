"""Dated exchange rates the caller supplies: read, checked, and looked up by pair and date.

compcalc never fetches a rate: a sale in one currency credits an employee paid in another only
through a table the user gives (CSV or Parquet, or a DataFrame of text cells) with the columns

``date``  the day the rate applies from (``YYYY-MM-DD``);
``from``  the sale's currency (ISO 4217);
``to``    the pay currency (ISO 4217);
``rate``  units of ``to`` per unit of ``from``, exact decimal text greater than zero, at most
          :data:`RATE_DIGITS` decimal places (``1.0850``, ``0.0067``).

A sale uses the rate of the latest date on or before its date for exactly its
``(from, to)`` pair; a rate is never inverted or chained. Unlike the ledger, a bad rate row is
not skipped (skipping it would silently pick an older rate): any problem makes the whole table
an :class:`~compcalc.errors.InputError` listing every bad cell with its file, line and column.
A pair given twice on one date is an error when the rates differ, and collapses when they
are equal.

>>> import pandas as pd
>>> fx = read_fx(pd.DataFrame({"date": ["2026-10-01", "2026-11-02"], "from": ["EUR", "EUR"],
...                            "to": ["USD", "USD"], "rate": ["1.08", "1.0850"]}))
>>> import numpy as np
>>> found = fx.find(np.array(["EUR", "EUR", "GBP"], dtype=object), "USD",
...                 np.array(["2026-10-31", "2026-11-02", "2026-11-02"], dtype="datetime64[D]"))
>>> found.tolist(), [rate_text(fx.rate[i]) for i in found[:2]]
([0, 1, -1], ['1.0800', '1.0850'])
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from compcalc.errors import Diagnostic, InputError
from compcalc.inputs.amounts import parse_minor_units
from compcalc.inputs.common import (
    IntArray,
    Problems,
    RejectedRow,
    Source,
    check_currencies,
    join_places,
    parse_dates,
    place_labels,
    read_text_table,
    sort_rejected,
    to_rejected,
)

REQUIRED_COLUMNS = ("date", "from", "to", "rate")
# Rates are exact integers over 10**RATE_DIGITS: 1.0850 is 10_850_000_000.
RATE_DIGITS = 10
RATE_SCALE = 10**RATE_DIGITS
# 2**32 days is far beyond any calendar date: pair code and day fit one int64 key.
_DAY_SPAN = 2**32
_DAY_OFFSET = 2**31


@dataclass(frozen=True)
class FxTable:
    """Accepted rates, one per ``(date, from, to)``, sorted by pair then date.

    ``frame`` columns: ``row`` (int64), ``line`` (Int64, <NA> unless CSV), ``date``
    (datetime64[s]), ``from``, ``to`` (str), ``rate`` (int64, the rate times
    :data:`RATE_SCALE`). ``sha256`` is of the table's cells, independent of row order.
    """

    frame: pd.DataFrame
    source: str
    sha256: str

    @property
    def rate(self) -> IntArray:
        """Each rate times :data:`RATE_SCALE`, in ``frame`` order."""
        return self.frame["rate"].to_numpy(dtype=np.int64)

    @property
    def date(self) -> npt.NDArray[np.datetime64]:
        """Each rate's date (day precision), in ``frame`` order."""
        return self.frame["date"].to_numpy().astype("datetime64[D]")

    def find(
        self,
        base: npt.NDArray[np.object_],
        quote: str | npt.NDArray[np.object_],
        dates: npt.NDArray[np.datetime64],
    ) -> IntArray:
        """Position in ``frame`` of the rate in force for each (base -> quote, date), or -1.

        In force: the latest date on or before the given date, for exactly that pair. One
        sorted search over all queries at once.
        """
        n = len(base)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        table = self.frame
        quotes = np.broadcast_to(np.asarray(quote, dtype=object), (n,))
        pairs = pd.concat(
            [
                table["from"].astype(str) + ">" + table["to"].astype(str),
                pd.Series(base, dtype="str") + ">" + pd.Series(quotes, dtype="str"),
            ],
            ignore_index=True,
        )
        codes = pd.factorize(pairs)[0].astype(np.int64)
        t_code, q_code = codes[: len(table)], codes[len(table) :]
        t_key = t_code * _DAY_SPAN + self.date.astype(np.int64) + _DAY_OFFSET
        q_days = np.asarray(dates).astype("datetime64[D]").astype(np.int64)
        q_key = q_code * _DAY_SPAN + q_days + _DAY_OFFSET
        order = np.argsort(t_key, kind="stable")
        at = np.searchsorted(t_key[order], q_key, side="right") - 1
        found = (at >= 0) & (t_code[order][np.maximum(at, 0)] == q_code)
        return np.where(found, order[np.maximum(at, 0)], -1).astype(np.int64)


def rate_text(units: int | np.integer) -> str:
    """A rate for people: at least four decimals, more only when it has them (1.0850)."""
    value = Decimal(int(units)).scaleb(-RATE_DIGITS).normalize()
    exponent = value.as_tuple().exponent
    places = max(4, -exponent if isinstance(exponent, int) else 4)
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def read_fx(source: Source, *, name: str | None = None) -> FxTable:
    """Read a dated FX table from a .csv/.parquet path or a DataFrame of text cells.

    Raises :class:`InputError` listing every unusable cell (file, line or row, column, value
    and reason) and every pair given two different rates on one date.
    """
    table = read_text_table(
        source, name=name, default_name="<fx>", required=REQUIRED_COLUMNS, money=("rate",)
    )
    cells = table.cells
    problems = Problems(len(cells))
    dates, date_reasons = parse_dates(cells["date"], "date")
    problems.add_reasons(date_reasons, "date")
    problems.add((cells["date"] == "").to_numpy(), "date", "date is empty")
    for column in ("from", "to"):
        _, reasons = check_currencies(cells[column])
        problems.add_reasons(reasons.where((cells[column] != "").to_numpy(), None), column)
        problems.add((cells[column] == "").to_numpy(), column, f"{column} is empty")
    same = ((cells["from"] == cells["to"]) & (cells["from"] != "")).to_numpy()
    problems.add(same, "to", "from and to are the same currency; a rate converts between two")
    units, rate_reasons = parse_minor_units(cells["rate"], RATE_DIGITS, column="rate")
    problems.add_reasons(rate_reasons, "rate")
    parsed = rate_reasons.isna().to_numpy()
    problems.add(parsed & (units <= 0), "rate", "rate must be greater than zero")
    frame = pd.DataFrame({
        "row": table.row, "line": table.line, "date": dates,
        "from": cells["from"], "to": cells["to"], "rate": units,
    })  # fmt: skip
    _check_one_rate_per_day(frame, ~problems.mask(), table.source, problems)
    if problems.mask().any():
        rejected = to_rejected(problems.frame(), cells, table.row, table.line, table.source)
        raise InputError([_diagnostic(row) for row in sort_rejected(rejected)])
    frame = frame.sort_values(["from", "to", "date", "row"], kind="stable")
    frame = frame.drop_duplicates(["from", "to", "date"]).reset_index(drop=True)
    return FxTable(frame, table.source, table.sha256)


def _check_one_rate_per_day(
    frame: pd.DataFrame, ok: npt.NDArray[np.bool_], source: str, problems: Problems
) -> None:
    """A pair may appear twice on one date only with the same rate (then it counts once)."""
    good = frame[ok]
    key = ["from", "to", "date"]
    if good.empty:
        return
    rates = good.groupby(key, sort=False)["rate"].transform("nunique").to_numpy()
    clash = good[rates > 1]
    if clash.empty:
        return
    group = clash.groupby(key, sort=False).ngroup()
    labels = place_labels(frame["row"].to_numpy(dtype=np.int64), frame["line"])
    places = join_places(
        labels.iloc[clash.index.to_numpy()], group, clash["row"].to_numpy(dtype=np.int64)
    )
    reason = (
        clash["from"] + "->" + clash["to"] + " on " + clash["date"].dt.strftime("%Y-%m-%d")
        + " has different rates (" + group.map(places).to_numpy() + "); give one rate per "
        "pair and date"
    )  # fmt: skip
    problems.add_at(clash.index.to_numpy(), "rate", reason.to_numpy(dtype=object))


def _diagnostic(row: RejectedRow) -> Diagnostic:
    value = json.dumps(row.value, ensure_ascii=False)
    if row.line is not None:
        return Diagnostic(row.source, row.line, None, row.column, f"{value}: {row.reason}")
    return Diagnostic(row.source, None, None, row.column, f"row {row.row}: {value}: {row.reason}")
