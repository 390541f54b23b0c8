"""write_atomic: the target is either the old file or the whole new one, never a mix."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from compcalc.statements.files import write_atomic


class _Unencodable(str):
    """Text whose encoding fails, as a stand-in for a failure half way through a write."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        raise RuntimeError("disk on fire")


def test_writes_text_as_utf8_and_creates_parent_directories(tmp_path: Path) -> None:
    target = tmp_path / "out" / "2024-03" / "result.json"
    write_atomic(target, "Martínez €\n")
    assert target.read_bytes() == "Martínez €\n".encode()
    assert os.listdir(target.parent) == ["result.json"]


def test_writes_bytes_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "result.bin"
    write_atomic(target, b"\x00\r\n\xff")
    assert target.read_bytes() == b"\x00\r\n\xff"


def test_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text("old")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["result.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_keeps_the_permissions_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomic(target, _Unencodable("new"))
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["result.json"]


def test_failure_at_the_rename_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "result.json"
    target.write_text("old")

    def refuse(source: object, destination: object) -> None:
        raise OSError("rename refused")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="rename refused"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["result.json"]


def test_failure_on_a_new_file_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    with pytest.raises(RuntimeError):
        write_atomic(target, _Unencodable("new"))
    assert os.listdir(tmp_path) == []


def test_writes_pieces_in_order(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    write_atomic(target, (piece for piece in (b"[", b"1,", b"2]")))
    assert target.read_bytes() == b"[1,2]"


def test_a_failure_between_pieces_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    """A run's JSON is written a statement at a time: a piece that cannot be made half way
    (orjson refusing a text) must not leave half a file."""

    def pieces() -> Iterator[bytes]:
        yield b'{"statements": ['
        raise TypeError("refused text")

    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(TypeError, match="refused text"):
        write_atomic(target, pieces())
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["result.json"]


def test_writes_bytearrays_and_memoryviews_whole(tmp_path: Path) -> None:
    for data in (bytearray(b"ab\x00"), memoryview(b"ab\x00")):
        target = tmp_path / f"{type(data).__name__}.bin"
        write_atomic(target, data)
        assert target.read_bytes() == b"ab\x00"
