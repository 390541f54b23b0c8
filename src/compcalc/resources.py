"""Process resources a run uses, changed only for the run's duration and put back after.

Two of the interpreter's and Arrow's process-wide defaults cost a large run dearly:

* :func:`gc_paused`: CPython's cyclic garbage collector. A 50,000-employee run makes some
  260,000 statement lines, each a handful of objects that live until the run ends. The
  collector runs a full collection whenever enough new objects have survived since the last
  one, and each visits every live object: about twenty of them during such a run, over ever
  more objects, cost 3 of its 23 s (see benchmarks/README.md). Reference counting frees
  everything the engine makes; the collector only finds reference cycles, which the engine
  does not need freed early. When it resumes, what was made meanwhile joins its oldest
  generation unscanned (the first young collection would else walk all of it).
* :func:`arrow_pool_returning`: the allocator of Arrow's buffers. pyarrow's default,
  mimalloc, keeps the pages of freed buffers for reuse: reading ten million ledger rows frees
  one column of text after another, and some 350 MB of them stayed mapped at the read's
  peak. Arrow's jemalloc pool (where pyarrow has one) returns them to the system after its
  decay time (not at once: at the end of joining the text columns it still holds some 500 MB
  of them; a decay of 0 returns them at once but made the read a second slower, measured in
  benchmarks/README.md).

Each turns its setting for a block and back after it, exactly as it found it: nested and
concurrent blocks (two threads each running a period) count their holders, so the setting
is put back when the last block ends. An application that chose otherwise itself keeps its
choice: a collector it turned off stays off; a pool it chose (``ARROW_DEFAULT_MEMORY_POOL``
or ``pyarrow.set_memory_pool`` to other than mimalloc) is kept.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyarrow as pa


class _Held:
    """A process setting changed while any block holds it: the first block in makes the
    change (``change`` returns how to undo it, or None when it changed nothing), the last
    block out undoes it. Thread-safe; blocks may nest."""

    def __init__(self, change: Callable[[], Callable[[], None] | None]) -> None:
        self._change = change
        self._lock = threading.Lock()
        self._holders = 0
        self._undo: Callable[[], None] | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._undo = self._change()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._undo is not None:
                    self._undo()
                    self._undo = None


def _pause_collector() -> Callable[[], None] | None:
    if not gc.isenabled():  # the application's choice: left off
        return None
    gc.disable()
    return _resume_collector


def _resume_collector() -> None:
    """Turn the collector back on, the objects made while it was off moved to its oldest
    generation unscanned: else the first collection after the pause walks them all at once
    (a 10M-row run's 1.35 million, 0.65 s), only to find what reference counting frees anyway.
    Cycles among them are still found, by the next full collection. An application's own
    frozen objects (:func:`gc.freeze`) stay frozen: ``unfreeze`` would release them, so then
    the objects are left where they are."""
    if gc.get_freeze_count() == 0:
        gc.freeze()  # every tracked object into the permanent generation ...
        gc.unfreeze()  # ... and from there into the oldest: two list splices, no scan
    gc.enable()


def _use_returning_pool() -> Callable[[], None] | None:
    returning = _returning_pool()
    if returning is None:
        return None
    before = pa.default_memory_pool()
    pa.set_memory_pool(returning)
    return lambda: pa.set_memory_pool(before)


_COLLECTOR = _Held(_pause_collector)
_ARROW_POOL = _Held(_use_returning_pool)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic collection inside the block (explicit ``gc.collect()`` still
    works); usable as a decorator.

    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    with _COLLECTOR.held():
        yield


@contextmanager
def arrow_pool_returning() -> Iterator[None]:
    """Arrow's buffers allocated from its jemalloc pool inside the block, when the default
    pool is pyarrow's own mimalloc and the build has jemalloc (else nothing changes); usable
    as a decorator. Buffers made inside are freed to their own pool whenever they go.

    >>> import pyarrow as pa
    >>> before = pa.default_memory_pool().backend_name
    >>> with arrow_pool_returning():
    ...     inside = pa.default_memory_pool().backend_name
    >>> pa.default_memory_pool().backend_name == before
    True
    """
    with _ARROW_POOL.held():
        yield


def _returning_pool() -> pa.MemoryPool | None:
    """Arrow's jemalloc pool, or None: another pool was chosen, or the build has none."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") or (
        pa.default_memory_pool().backend_name != "mimalloc"
    ):
        return None
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a build without jemalloc (some platforms')
        return None
