"""Process resources a run uses, changed only for the run's duration and put back after.

Two of the interpreter's and Arrow's process-wide defaults cost a large run dearly:

* :func:`gc_paused`: CPython's cyclic garbage collector. A 50,000-employee run makes some
  260,000 statement lines, each a handful of objects that live until the run ends. The
  collector runs a full collection whenever enough new objects have survived since the last
  one, and each visits every live object: about twenty of them during such a run, over ever
  more objects, cost 3 of its 23 s (see benchmarks/README.md). Reference counting frees
  everything the engine makes; the collector only finds reference cycles, which the engine
  does not need freed early.
* :func:`arrow_pool_returning`: the allocator of Arrow's buffers. pyarrow's default,
  mimalloc, keeps the pages of freed buffers for reuse: reading ten million ledger rows frees
  one column of text after another, and some 350 MB of them stayed mapped at the read's
  peak. Arrow's jemalloc pool (where pyarrow has one) returns them to the system within a
  second.

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
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

_lock = threading.Lock()
_holders = 0  # blocks inside gc_paused now
_resume = False  # whether the collector was on when the first of them began


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
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()


_pool_lock = threading.Lock()
_pool_holders = 0  # blocks inside arrow_pool_returning now
_pool_before: pa.MemoryPool | None = None  # the default pool when the first of them began


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
    global _pool_holders, _pool_before
    with _pool_lock:
        if _pool_holders == 0:
            returning = _returning_pool()
            _pool_before = pa.default_memory_pool() if returning is not None else None
            if returning is not None:
                pa.set_memory_pool(returning)
        _pool_holders += 1
    try:
        yield
    finally:
        with _pool_lock:
            _pool_holders -= 1
            if _pool_holders == 0 and _pool_before is not None:
                pa.set_memory_pool(_pool_before)
                _pool_before = None


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
