"""Pausing Python's cyclic garbage collector while a run builds its many small objects.

A 50,000-employee run makes some 260,000 statement lines, each a handful of objects that
live until the run ends. CPython's cyclic collector runs a full collection whenever enough
new objects have survived since the last one, and each full collection visits every live
object: about twenty of them during such a run, over ever more objects, cost 3 of its 23 s
(see benchmarks/README.md). Reference counting frees everything the engine makes; the
collector only finds reference cycles, which the engine does not need freed early.

:func:`gc_paused` turns automatic collection off for a block and back on after it, exactly
as it found it: nested and concurrent blocks (two threads each running a period) count
their holders, so the collector resumes when the last block ends, and only if it was on
when the first began. An application that turned it off itself finds it still off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
