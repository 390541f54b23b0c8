"""``run_period`` on Dask: ledgers larger than one machine, the same statements to the byte.

The run takes the three steps of :func:`compcalc.engine.run.run_period`, with Dask's own
DataFrame shuffle (peer to peer, through disk) moving the rows between them (no home-made
distribution layer):

1. **read**: one task per ledger file, or per partition of a Dask DataFrame given as the
   ledger (:func:`~compcalc.inputs.read_ledger`: every row checked on its own, the file's
   digest), so a file must fit in one worker;
2. **check**: rows shuffled by transaction id (every row of a transaction in one part) and
   checked against each other and the roster (:func:`~compcalc.engine.run.check_part`);
3. **evaluate**: accepted rows shuffled by employee id, each part evaluated for the
   employees whose rows it holds (:func:`~compcalc.engine.run.evaluate_part`, the same
   vectorised kernels as the single-machine run);

then the roll-up pass on the client (:func:`~compcalc.engine.run.finish`): managers'
overrides from the parts' per-member credits, statements in employee order, run totals.
Employees with no ledger row at all (salary only) are evaluated there too. Each part's result
leaves its worker as soon as it is ready, so no worker ever holds the whole ledger or the
whole result: the ledger may be larger than any one worker's memory.

Each employee's lines depend only on their own rows and the (small) roster, and the digest of
several files is the digest of their digests, so the result is byte-identical to
``run_period`` over ``read_ledger(paths)`` on one machine (over the list of a Dask
DataFrame's partitions), however the rows are split.

>>> from dask.distributed import Client, LocalCluster                       # doctest: +SKIP
>>> with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
...     result = run_period_dask(rules, roster, "ledger/*.parquet", "2027-09", client=client)
...                                                                           # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import os
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inputs import Ledger, Roster
from ..inputs.fx import FxTable
from ..inputs.ledger import SHARE_COLUMN, files_digest, part_name, read_ledger
from ..periods import Period
from ..statements.model import PeriodResult, PriorRun, Rejected
from .paid import PaidToDate
from .run import (
    Part,
    Setup,
    check_part,
    evaluate_part,
    finish,
    no_sales,
    parse_period_arg,
    prepare,
    reword_rejected,
)

BUCKET = "_bucket"  # the shuffle key: a hash bucket of the transaction, then the employee
# Dask's peer-to-peer shuffle: the rows sent to a part wait on disk, not in memory, so a
# worker holds the part it works on, never its share of the whole ledger (the task-based
# shuffle keeps every split piece in memory until its part is built).
SHUFFLE = "p2p"


def expand_paths(ledger: str | Path | Sequence[str | Path]) -> list[str]:
    """Ledger paths with shell-style patterns (``data/*.parquet``) expanded, sorted.

    A name that matches no file is kept as given (reading it then says the file is missing).

    >>> expand_paths(["examples/ledger/2026-1*.csv"])
    ['examples/ledger/2026-10.csv', 'examples/ledger/2026-11.csv', 'examples/ledger/2026-12.csv']
    """
    given = [ledger] if isinstance(ledger, str | Path) else list(ledger)
    out: list[str] = []
    for item in given:
        text = str(item)
        found = sorted(glob.glob(text)) if glob.has_magic(text) else []
        out.extend(found or [text])
    return out


def is_dask_frame(value: object) -> TypeGuard[Any]:
    """Whether ``value`` is a Dask DataFrame of pandas partitions (told without importing
    Dask: a Dask collection whose empty model partition is a pandas DataFrame)."""
    dask = callable(getattr(value, "__dask_graph__", None))
    return dask and isinstance(getattr(value, "_meta", None), pd.DataFrame)


def frame_partitions(frame: Any) -> list[pd.DataFrame]:
    """A Dask DataFrame's partitions as pandas DataFrames, in order (Dask's current scheduler
    computes them): what the one-machine run reads as ``<ledger>[0]``, ``<ledger>[1]``, ..."""
    import dask

    return list(dask.compute(*frame.to_delayed()))


def run_period_dask(
    rules: Any,
    roster: Roster,
    ledger: str | Path | Sequence[str | Path] | Any,
    period: str | Period,
    paid_to_date: PaidToDate = None,
    *,
    history: Sequence[PriorRun] = (),
    fx: FxTable | None = None,
    client: Any = None,
    partitions: int | None = None,
) -> PeriodResult:
    """Run one period with the ledger files read, checked and evaluated on Dask.

    ``ledger`` is one or more CSV/Parquet paths or patterns (``'data/*.parquet'``), each file
    read whole by one task, or a Dask DataFrame, each partition read by one task as the
    file named ``<ledger>[k]`` (k from 0) would be: the result is that of the one-machine run
    over the list of its partitions as pandas DataFrames. ``client`` is a
    ``dask.distributed.Client`` (default: Dask's current scheduler). ``partitions`` is how
    many parts the rows are shuffled into for the check and the evaluation (default: see
    :func:`default_parts`; a Dask DataFrame's partitions are counted first, one pass over
    them); it changes how the work is spread, never the result.
    """
    import dask
    import dask.dataframe as dd

    if is_dask_frame(ledger):
        sources: list[Any] = list(ledger.to_delayed())
        names: list[str | None] = [part_name(at) for at in range(len(sources))]
    else:
        sources = expand_paths(ledger)
        names = [None] * len(sources)
        if len(set(sources)) != len(sources):
            raise InputError(f"the same ledger is given twice: {', '.join(sources)}")
    if not sources:
        raise InputError("no ledger given: name at least one ledger file")
    setup = prepare(rules, roster, parse_period_arg(period), paid_to_date, fx, history)
    client = client if client is not None else _current_client()
    method = SHUFFLE if client is not None else "tasks"  # P2P needs a distributed scheduler
    if partitions is not None:
        count = max(1, partitions)
    elif is_dask_frame(ledger):
        counted = ledger.map_partitions(len).sum()
        rows = int(client.compute(counted).result() if client is not None else counted.compute())
        count = default_parts(rows, len(sources), len(setup.employees), _memory(client))
    else:
        count = _parts(sources, len(setup.employees), client)
    several = len(sources) > 1
    # Sent to the workers once, under a key named by its content (no clock or randomness).
    token = hashlib.sha256(pickle.dumps(setup, protocol=5)).hexdigest()
    shared = dask.delayed(setup, name=f"compcalc-setup-{token}")
    margin = setup.rules.uses_margin  # else the column is left unread, as on one machine
    read = [
        dask.delayed(_read, nout=2)(source, name, count, margin)
        for source, name in zip(sources, names, strict=True)
    ]
    heads = [one[1] for one in read]
    meta = _meta()
    by_sale = dd.from_delayed([one[0] for one in read], meta=meta, verify_meta=False)
    by_sale = by_sale.shuffle(on=BUCKET, npartitions=count, shuffle_method=method)
    checked = [
        dask.delayed(_check, nout=2)(part, shared, several, count) for part in by_sale.to_delayed()
    ]
    accepted = dd.from_delayed([c[0] for c in checked], meta=meta, verify_meta=False)
    accepted = accepted.shuffle(on=BUCKET, npartitions=count, shuffle_method=method)
    parts = [dask.delayed(_evaluate)(part, shared, count) for part in accepted.to_delayed()]
    # The files first: when several cannot be read, the first of them is the one named.
    wanted = [*heads, *parts, *(c[1] for c in checked)]
    done = _gather(client, wanted) if client is not None else list(dask.compute(*wanted))
    found_heads: list[tuple[str, str, tuple[Any, ...]]] = done[: len(heads)]
    found_parts: list[Part] = done[len(heads) : len(heads) + len(parts)]
    read_rejects = tuple(row for head in found_heads for row in head[2])
    rejected = reword_rejected(read_rejects, setup.refused)
    rejected += [row for rows in done[len(heads) + len(parts) :] for row in rows]
    owned = np.zeros(len(setup.employees), dtype=bool)
    for part in found_parts:
        owned[part.rows] = True
    if not owned.all():  # employees without a ledger row: their salary and allowances
        found_parts.append(evaluate_part(setup, no_sales(), np.flatnonzero(~owned)))
    return finish(setup, found_parts, rejected, _digest(found_heads))


def _current_client() -> Any:
    """The ``dask.distributed`` client in use, if any (None: Dask's local scheduler)."""
    try:
        from dask.distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:  # no client started
        return None


def _gather(client: Any, wanted: list[Any]) -> list[Any]:
    """The results of ``wanted``, each fetched as soon as it is ready and then let go on the
    cluster. Results left on the workers until all are done would fill their memory unseen
    (Dask sizes a :class:`Part` as a few bytes, so never spills it); one list of all of them
    would be gathered into one worker first.

    If any task fails (or is cancelled), the error raised is that of the first failed item
    in ``wanted``'s order, whatever order they failed in; nothing is left held on the
    cluster either way.
    """
    from dask.distributed import as_completed

    futures = client.compute(wanted)
    try:
        where = {future.key: i for i, future in enumerate(futures)}
        done: list[Any] = [None] * len(futures)
        fetched = np.zeros(len(futures), dtype=bool)
        for future in as_completed(futures):
            if future.status == "finished":
                at = where[future.key]
                done[at], fetched[at] = future.result(), True
                future.release()
        for at in np.flatnonzero(~fetched).tolist():
            futures[at].result()  # raises the task's error (or CancelledError)
        return done
    finally:
        for future in futures:
            future.release()


ROWS_PER_PART = 500_000  # a part's rows take ~0.3 GB at their peak in evaluate_part
EMPLOYEES_PER_PART = 1_000  # each part costs ~0.5 s whatever its size (rules resolved, ...)
CSV_BYTES_PER_ROW = 64  # a ledger row's usual size in CSV, to guess a file's rows
# Measured on workers of 420-500 MiB (benchmarks/README.md): a worker holds ~270 MiB before
# its part (libraries, the run's set-up, shuffle buffers), and a part peaks at ~3.5 KiB a
# row while it is checked; parts are sized to keep a worker under 80 % of its limit.
WORKER_FLOOR = 270 * 2**20
PART_BYTES_PER_ROW = 4 * 2**10
MIN_ROWS_PER_PART = 10_000


def default_parts(rows: int, files: int, employees: int, memory: int | None = None) -> int:
    """How many parts to shuffle ``rows`` ledger rows into: enough that no part holds more
    than :data:`ROWS_PER_PART` rows, nor more than a worker with ``memory`` bytes (the
    smallest worker's limit, if known) can check and evaluate, and up to two per file while
    each part keeps about :data:`EMPLOYEES_PER_PART` employees (a part has a fixed cost).

    >>> default_parts(rows=2_500_000, files=100, employees=500)
    5
    >>> default_parts(rows=10_000_000, files=12, employees=50_000)
    24
    >>> default_parts(rows=3_000_000, files=120, employees=5_000, memory=450 * 2**20)
    131
    """
    per_part = ROWS_PER_PART
    if memory:
        fits = (memory * 4 // 5 - WORKER_FLOOR) // PART_BYTES_PER_ROW
        per_part = min(per_part, max(MIN_ROWS_PER_PART, fits))
    by_rows = -(-rows // per_part)
    by_employees = min(2 * files, -(-employees // EMPLOYEES_PER_PART))
    return max(1, by_rows, by_employees)


def _parts(paths: list[str], employees: int, client: Any) -> int:
    """:func:`default_parts` with the rows read from Parquet footers, guessed for CSV, and
    the smallest memory limit of the client's workers."""
    import pyarrow.parquet as pq

    rows = 0
    for path in paths:
        if path.lower().endswith(".parquet") and os.path.exists(path):
            rows += pq.ParquetFile(path).metadata.num_rows
        elif os.path.exists(path):
            rows += os.path.getsize(path) // CSV_BYTES_PER_ROW
    return default_parts(rows, len(paths), employees, _memory(client))


def _memory(client: Any) -> int | None:
    """The smallest memory limit among the client's workers (None: no client or no limit)."""
    if client is None:
        return None
    workers = client.scheduler_info().get("workers", {}).values()
    limits = [int(worker.get("memory_limit") or 0) for worker in workers]
    return min((limit for limit in limits if limit > 0), default=None)


def _read(
    source: str | pd.DataFrame, name: str | None, count: int, margin: bool
) -> tuple[pd.DataFrame, tuple[str, str, tuple[Any, ...]]]:
    """One file (or partition, named ``name``) read and checked row by row: its rows keyed by
    transaction, and its name, digest and the rows reading it rejected."""
    ledger = read_ledger(source, name=name, margin=margin)
    return _keyed(ledger, "transaction_id", count), (ledger.source, ledger.sha256, ledger.rejected)


# Worker settings for a cluster compcalc starts (and advice for one you start yourself):
# Arrow's system allocator hands freed memory back (its default mimalloc pool keeps ~100 MB
# per worker after each file read, which Dask counts as unmanaged memory), added to Dask's
# own worker environment (glibc's trim threshold, one thread per numeric library), which a
# plain ``dask.config.set`` of the key would replace; shuffle buffers sized for workers of a
# few hundred MB; no pausing at 80 % (memory freed but not returned could pause every worker
# for good), the nanny still restarts a worker past 95 %.
ARROW_ENVIRON = {"ARROW_DEFAULT_MEMORY_POOL": "system"}
WORKER_CONFIG: dict[str, Any] = {
    "distributed.worker.memory.pause": False,
    "distributed.p2p.comm.buffer": "32 MiB",
    "distributed.p2p.storage.buffer": "32 MiB",
}


def worker_config() -> dict[str, Any]:
    """:data:`WORKER_CONFIG` with the workers' environment: Dask's (as configured now) plus
    :data:`ARROW_ENVIRON`."""
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    return {**WORKER_CONFIG, "distributed.nanny.pre-spawn-environ": {**environ, **ARROW_ENVIRON}}


@contextlib.contextmanager
def local_client(
    workers: int | None = None, memory_limit: str | None = None, address: str | None = None
) -> Iterator[Any]:
    """A ``dask.distributed`` client: to the scheduler at ``address``, or to a local cluster
    of ``workers`` processes (default: one per core) with :func:`worker_config`, closed on
    exit. Dask's own logging is kept to errors in this process (its shuffles log at WARNING
    level) and to critical ones in the workers: a task that fails (a ledger file that cannot
    be read, say) raises its error here, and the CLI prints it once, not with the worker's
    traceback before it."""
    import dask
    from dask.distributed import Client, LocalCluster

    for name in ("distributed", "distributed.shuffle"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if address is not None:
        with Client(address) as client:
            yield client
        return
    with (
        dask.config.set(worker_config()),
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit or "auto",
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _digest(heads: list[tuple[str, str, tuple[Any, ...]]]) -> str:
    """The ledger digest ``read_ledger`` gives the same files: one file's own, else the
    digest of the sorted file digests (independent of the order the files are given in)."""
    if len(heads) == 1:
        return heads[0][1]
    return files_digest([head[1] for head in heads])


def _as_text(frame: pd.DataFrame) -> None:
    """The file name, employee, event and currency as text, in place: the shuffles store
    Arrow tables, whose dictionaries (one name per file, each file's own employees and
    currencies) would not unify across a hundred files."""
    for column in ("source", "employee_id", "event", "currency"):
        frame[column] = frame[column].astype("str")


def _meta() -> pd.DataFrame:
    frame = no_sales()
    _as_text(frame)  # as the parts have them (_keyed)
    frame[SHARE_COLUMN] = pd.Series([], dtype="Int64")
    frame[BUCKET] = pd.Series([], dtype="int64")
    return frame


def _buckets(values: pd.Series, count: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """A stable hash bucket per value (pandas' fixed-key SipHash: the same in every process)."""
    hashed = pd.util.hash_pandas_object(values.astype(str), index=False).to_numpy()
    return (hashed % np.uint64(count)).astype(np.int64)


def _keyed(ledger: Ledger, column: str, count: int) -> pd.DataFrame:
    """The file's accepted rows with their bucket by ``column`` and the share column (empty:
    the whole sale, as ``read_ledger`` reads files without it)."""
    frame = ledger.frame.copy()
    _as_text(frame)
    if SHARE_COLUMN not in frame.columns:
        frame[SHARE_COLUMN] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    frame[BUCKET] = _buckets(frame[column], count)
    return frame


def _check(
    rows: pd.DataFrame, setup: Setup, several: bool, count: int
) -> tuple[pd.DataFrame, list[Rejected]]:
    """Check one part's transactions; the accepted rows come back keyed by employee.

    A sale split between employees of different buckets goes, with all its rows, to each of
    their buckets: a share is allocated over the whole sale.
    """
    part = Ledger(rows.drop(columns=[BUCKET]), (), "", "")
    checked, rejected = check_part(setup, part, several_sources=several)
    frame = checked.frame
    if SHARE_COLUMN not in frame.columns:
        frame[SHARE_COLUMN] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    own = _buckets(frame["employee_id"], count)
    sale = pd.factorize(frame["transaction_id"])[0]
    pairs = pd.DataFrame({"_sale": sale, BUCKET: own}).drop_duplicates()
    spread = pairs[pairs["_sale"].duplicated(keep=False)]
    if spread.empty:
        return frame.assign(**{BUCKET: own}), rejected
    shared = np.isin(sale, spread["_sale"].to_numpy())
    whole = frame[~shared].assign(**{BUCKET: own[~shared]})
    copies = frame[shared].assign(_sale=sale[shared]).merge(spread, on="_sale")
    joined = pd.concat([whole, copies.drop(columns=["_sale"])], ignore_index=True)
    return joined, rejected


def _evaluate(rows: pd.DataFrame, setup: Setup, count: int) -> Part:
    """Evaluate the employees whose buckets this part holds (all their rows are here), with
    the other sharers of their split sales alongside."""
    present = np.unique(rows[BUCKET].to_numpy(dtype=np.int64))
    rows = rows.drop(columns=[BUCKET])
    if rows.duplicated(["source", "row"]).any():  # a split sale sent for two buckets here
        rows = rows.drop_duplicates(["source", "row"])
    ids = setup.employees["employee_id"]
    owned = np.flatnonzero(np.isin(_buckets(ids, count), present))
    named = pd.Index(ids.to_numpy()).get_indexer(rows["employee_id"].unique())
    sharers = np.setdiff1d(named[named >= 0], owned)
    return evaluate_part(setup, rows, owned, sharers=sharers)
