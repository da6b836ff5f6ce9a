"""``sim2real.checksums``: the sha256 sidecars of checkpoints and models."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sim2real import checksums
from sim2real.errors import IntegrityError
from sim2real.fsutil import atomic_write_bytes


def test_written_files_verify_and_a_changed_byte_is_named(tmp_path: Path) -> None:
    path = checksums.write_bytes(tmp_path / "epoch_001.pt", b"weights" * 100)
    assert checksums.verify(path) is True
    line = checksums.sidecar(path).read_text()
    assert line.endswith("  epoch_001.pt\n") and len(line.split()[0]) == 64  # sha256sum's format
    data = bytearray(path.read_bytes())
    data[350] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"epoch_001.pt: sha256 .* does not match the one recorded in epoch_001.pt.sha256"):
        checksums.verify(path)


def test_a_kill_between_sidecar_and_rename_leaves_the_previous_version_valid(tmp_path: Path) -> None:
    path = checksums.write_bytes(tmp_path / "best.pt", b"old")
    # what write_bytes does first for new content, then "killed" before the file is renamed
    atomic_write_bytes(checksums.sidecar(path), checksums._sidecar_text(path, "f" * 64, checksums._recorded(path)[0]).encode())
    assert path.read_bytes() == b"old" and checksums.verify(path) is True
    checksums.write_bytes(path, b"new")
    assert checksums.verify(path) is True
    assert "previous" not in checksums.sidecar(path).read_text()
    path.write_bytes(b"old")  # once replaced, the old version is refused like any other change
    with pytest.raises(IntegrityError):
        checksums.verify(path)


def test_files_without_a_sidecar_load_with_a_warning_and_remove_takes_both(tmp_path: Path, caplog) -> None:
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(b"x")
    with caplog.at_level(logging.WARNING):
        assert checksums.verify(legacy) is False
    assert "legacy.pt: no recorded sha256" in caplog.text
    sealed = tmp_path / "model.zip"
    sealed.write_bytes(b"zip")
    checksums.seal(sealed)
    assert checksums.verify(sealed) is True
    checksums.remove(sealed)
    assert not sealed.exists() and not checksums.sidecar(sealed).exists()
    checksums.remove(sealed)  # absent: nothing to do
