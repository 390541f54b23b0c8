"""The public API: load rules, read inputs, run a period. Re-exported by ``compcalc``.

>>> import compcalc
>>> rules = compcalc.load_rules("rules/account_managers.yaml")          # doctest: +SKIP
>>> roster = compcalc.read_roster("examples/roster.csv")                # doctest: +SKIP
>>> ledger = compcalc.read_ledger(["examples/ledger/2026-10.csv"], rules=rules)  # doctest: +SKIP
>>> result = compcalc.run_period(rules, roster, ledger, "2026-10")      # doctest: +SKIP
>>> result.to_frame().groupby("pay_code")["amount"].sum()               # doctest: +SKIP
>>> compcalc.diff_results(result, other)  # the lines that differ, exact  # doctest: +SKIP
>>> compcalc.model_offer(rules, role="key_account_manager", seniority="senior",
...     company_size="large", region="metro", base="104000", quota="1200000")  # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import pandas as pd

from .engine.dask_run import expand_paths, frame_partitions, is_dask_frame
from .engine.paid import PaidToDate
from .engine.run import Progress
from .engine.run import run_period as _run_period
from .errors import InputError
from .inputs import FxTable, Ledger, Roster, read_roster
from .inputs import read_fx as _read_fx
from .inputs import read_ledger as _read_ledger
from .offers import compare_offers, model_offer
from .periods import Period
from .rules import RuleSet, load_rules, load_rules_text
from .statements.diff import diff_results
from .statements.model import PeriodResult, PriorRun

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = [
    "compare_offers",
    "diff_results",
    "load_rules",
    "load_rules_text",
    "model_offer",
    "read_fx",
    "read_ledger",
    "read_roster",
    "run_period",
]

# A Dask DataFrame too (its partitions read as <ledger>[0], <ledger>[1], ...; see run_period)
LedgerSource: TypeAlias = "str | Path | pd.DataFrame | Sequence[str | Path] | Ledger | dd.DataFrame"
RosterSource = str | Path | pd.DataFrame | Roster
FxSource = str | Path | pd.DataFrame | FxTable


def read_ledger(
    source: LedgerSource, *, rules: RuleSet | Sequence[RuleSet] | None = None
) -> Ledger:
    """Read a sales ledger from a CSV/Parquet path, a DataFrame, or several paths in a list.

    Money columns are parsed exactly from text; unusable rows are kept in ``rejected`` with
    their file, row and reason. Several files are read as one ledger (the plan year so far);
    a path with ``*``, ``?`` or ``[...]`` stands for the files it matches, in sorted order.
    DataFrames in a list are named ``<ledger>[0]``, ``<ledger>[1]``, ... in messages; a Dask
    DataFrame is read as the list of its partitions (computed here, into memory).

    ``rules`` (one rule set or several): read only the columns they use, as a run of them
    reads (``compcalc run``, :func:`run_period` given a path). When none pays on margin
    (:attr:`RuleSet.uses_margin`), the ``margin`` column is left unread, as any column
    compcalc does not know is: not parsed, not checked, not in the digest, named in
    ``unread_columns``. Without ``rules`` every column compcalc knows is read and checked:
    a row refused for its margin stays refused in a run of that ledger, and the digest covers
    the margin, so pass ``rules`` to get the figures and run id ``compcalc run`` gives.
    """
    if isinstance(source, Ledger):
        return source
    given = [] if rules is None else [rules] if isinstance(rules, RuleSet) else list(rules)
    margin = rules is None or any(one.uses_margin for one in given)
    if isinstance(source, pd.DataFrame):
        return _read_ledger(source, margin=margin)
    if is_dask_frame(source):
        return _read_ledger(frame_partitions(source), margin=margin)
    _refuse_other_dask(source)
    if isinstance(source, str | Path):
        paths = expand_paths(source)  # a pattern such as "ledger/*.csv": its files, sorted
        if len(paths) == 1:
            return _read_ledger(paths[0] if glob.has_magic(str(source)) else source, margin=margin)
        return _read_ledger(paths, margin=margin)  # several files: one ledger, rows keep files
    return _read_ledger(_listed(source), margin=margin)


def _refuse_other_dask(source: object) -> None:
    """A Dask collection other than a DataFrame (a Series, an Array) is not a ledger."""
    if callable(getattr(source, "__dask_graph__", None)):
        raise InputError(
            f"a Dask {type(source).__name__} is not a ledger: give a Dask DataFrame (of "
            "pandas partitions) with the ledger's columns, or the files' paths"
        )


def _listed(sources: Iterable[Any]) -> list[str | pd.DataFrame]:
    """A list of ledger sources: each path (its pattern's files, sorted) or pandas DataFrame
    in turn; anything else refused, as is the same DataFrame given twice."""
    out: list[str | pd.DataFrame] = []
    for item in sources:
        if isinstance(item, pd.DataFrame):
            out.append(item)
        elif isinstance(item, str | os.PathLike):
            out.extend(expand_paths(os.fspath(item)))
        else:
            kind = "Dask DataFrame" if is_dask_frame(item) else type(item).__name__
            raise InputError(
                f"a list of ledger sources holds paths and pandas DataFrames, not a {kind}: "
                "give a Dask DataFrame or a ledger already read on its own"
            )
    frames = [id(item) for item in out if isinstance(item, pd.DataFrame)]
    if len(set(frames)) != len(frames):
        raise InputError("the same DataFrame is given twice in the list of ledger sources")
    return out


def read_fx(source: FxSource) -> FxTable:
    """Read a dated FX table (columns ``date, from, to, rate``) from a CSV/Parquet path or a
    DataFrame of text cells. Rates are exact decimals; any bad row is an
    :class:`~compcalc.errors.InputError` naming its file, line and column. Never fetched.

    >>> fx = read_fx("examples/fx.csv")                                      # doctest: +SKIP
    >>> run_period(rules, roster, ledger, "2026-11", fx=fx)                  # doctest: +SKIP
    """
    if isinstance(source, FxTable):
        return source
    return _read_fx(source)


def run_period(
    rules: RuleSet,
    roster: RosterSource,
    ledger: LedgerSource,
    period: str | Period,
    paid_to_date: PaidToDate = None,
    *,
    progress: Progress | None = None,
    history: Sequence[PriorRun] = (),
    fx: FxSource | None = None,
    engine: Literal["pandas", "dask"] | None = None,
    client: Any = None,
    partitions: int | None = None,
) -> PeriodResult:
    """Evaluate a pay period into auditable statements. Pure: no I/O beyond reading paths given.

    ``period`` is ``"YYYY-MM"`` or ``"YYYY-MM-DD..YYYY-MM-DD"``. ``paid_to_date`` (columns
    ``employee_id, component, amount``) is what was already paid this plan year per commission
    or bonus component; when omitted, earlier periods of the plan year are replayed from the
    same ledger as it stood at each period's end. Raises :class:`compcalc.errors.RunError`
    when the run cannot go ahead (period outside the rules, a table missing a combination).
    ``progress(done, total, step)``, if given, is called as the run advances (for a progress
    bar); it has no effect on the result. ``history`` names the closed runs behind
    ``paid_to_date`` (:meth:`compcalc.Store.prior_runs`), so true-up lines can say whether a
    rule or the ledger changed since those periods closed. ``fx`` (a path, a DataFrame or
    :func:`read_fx`'s table) converts sales in another currency than the employee's at the
    rate in force on the sale date; without it such sales are rejected. A ledger given as
    paths or frames is read for these rules (:func:`read_ledger` with ``rules=``: the
    ``margin`` column only when they pay on margin); one read without ``rules=`` is run as
    it is.

    ``engine="dask"`` reads, checks and evaluates the ledger on Dask (``client``: a
    ``dask.distributed.Client``; default Dask's current scheduler), for ledgers larger than
    one machine: ``ledger`` is then paths or patterns (``"data/*.parquet"``), each file read
    whole by one worker, or a Dask DataFrame, each partition read whole by one worker (as
    the file ``<ledger>[k]``), and the result is byte-identical to the one-process engine's
    (``engine="pandas"``) on the same files or partitions (see
    :mod:`compcalc.engine.dask_run`; needs the ``dask`` extra). ``partitions`` sets how many
    parts the rows are shuffled into (never the result). The default engine is Dask's for a
    Dask DataFrame and the one-process engine for anything else; ``engine="pandas"`` with a
    Dask DataFrame computes its partitions into memory and reads them as a list.

    >>> result = run_period(rules, "roster.csv", ["ledger.csv"], "2026-10")  # doctest: +SKIP
    >>> result.statement("E001").total                                       # doctest: +SKIP
    Decimal('7433.33')
    """
    roster_data = roster if isinstance(roster, Roster) else read_roster(roster)
    fx_table = None if fx is None else read_fx(fx)
    dask_frame = is_dask_frame(ledger)
    if engine is None:  # a Dask DataFrame is run where its partitions are
        engine = "dask" if dask_frame else "pandas"
    if engine == "dask":
        if not dask_frame:
            _refuse_other_dask(ledger)
            listed: list[Any] = (
                [ledger] if isinstance(ledger, str | Path | pd.DataFrame | Ledger) else list(ledger)
            )
            paths = [os.fspath(one) for one in listed if isinstance(one, str | os.PathLike)]
            if len(paths) != len(listed):
                raise InputError(
                    "engine='dask' reads the ledger on the workers: give paths or patterns "
                    "such as 'ledger/*.parquet', or a Dask DataFrame on its own, not a pandas "
                    "DataFrame or a ledger already read"
                )
            ledger = paths
        from .engine.dask_run import run_period_dask

        return run_period_dask(
            rules, roster_data, ledger, period, paid_to_date, history=history, fx=fx_table,
            client=client, partitions=partitions,
        )  # fmt: skip
    if engine != "pandas":
        raise InputError(f"unknown engine {engine!r}: expected 'pandas' or 'dask'")
    return _run_period(
        rules,
        roster_data,
        read_ledger(ledger, rules=rules),
        period,
        paid_to_date,
        progress=progress,
        history=history,
        fx=fx_table,
    )
