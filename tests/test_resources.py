"""Process settings a run changes (the cyclic collector, Arrow's pool) are put back as found."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

import compcalc
from compcalc.resources import arrow_pool_returning, gc_paused

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_nested_blocks_resume_once_the_outer_ends() -> None:
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not turn it back on early
    assert gc.isenabled()


def test_an_application_that_turned_it_off_finds_it_off() -> None:
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_resumed_after_an_exception() -> None:
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("a failed run")
    assert gc.isenabled()


def test_overlapping_threads_resume_when_the_last_ends() -> None:
    # thread A enters, B enters, A leaves (B still inside: still paused), B leaves
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with gc_paused():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def second() -> None:
        a_in.wait(10)
        with gc_paused():
            b_in.set()
            a_out.wait(10)
            seen["after A left"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after A left": False}
    assert gc.isenabled()


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_what_the_pause_made_is_moved_to_the_oldest_generation_unscanned() -> None:
    scans: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            scans.append(info["generation"])

    thresholds = gc.get_threshold()
    gc.collect()  # every count at zero
    gc.set_threshold(700, 1_000, 1_000)  # young collections only, from here
    try:
        with gc_paused():
            made = [[i] for i in range(2_000)]  # more than a young collection's threshold
            cycle = _Node()
        gc.callbacks.append(note)
        more = [[i] for i in range(710)]  # one young collection now
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*thresholds)
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(made[0]) in oldest and id(cycle) in oldest
    assert gc.get_freeze_count() == 0
    assert scans == [0]  # the young collection ran, and found none of them to move
    del cycle, more
    assert gc.collect() >= 1  # a cycle made in the pause is still found by a full collection


def test_an_application_frozen_objects_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            _Node()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_run_leaves_the_collector_on() -> None:
    rules = compcalc.load_rules(ROOT / "rules" / "account_managers.yaml")
    ledger = [ROOT / "examples" / "ledger" / f"2026-{month}.csv" for month in (10, 11)]
    result = compcalc.run_period(rules, ROOT / "examples" / "roster.csv", ledger, "2026-11")
    assert result.statements
    assert gc.isenabled()
    result.to_json_bytes()
    assert gc.isenabled()


def test_arrow_buffers_come_from_a_returning_pool_only_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # (Dask's nanny leaves its workers' environment, Arrow's pool included, in this process)
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = _pool()
    with arrow_pool_returning():
        inside = _pool()
        with arrow_pool_returning():  # nested: the same pool, put back only once
            assert _pool() == inside
        assert _pool() == inside
        made = pa.array(["kept after the block"] * 1000)
    assert _pool() == before
    if before == "mimalloc" and _has_jemalloc():
        assert inside == "jemalloc"
    assert made.to_pylist()[-1] == "kept after the block"  # freed later, to its own pool


def test_a_pool_the_application_chose_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    before = pa.default_memory_pool()
    if before.backend_name != "mimalloc":
        pytest.skip("pyarrow's default pool is not mimalloc here")
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        with arrow_pool_returning():
            assert pa.default_memory_pool().backend_name == "system"
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(before)
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
    with arrow_pool_returning():
        assert _pool() == "mimalloc"


def test_reading_a_ledger_puts_the_pool_back() -> None:
    before = _pool()
    compcalc.read_ledger(ROOT / "examples" / "ledger" / "2026-10.csv")
    assert _pool() == before


def _pool() -> str:
    return pa.default_memory_pool().backend_name


def _has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True
