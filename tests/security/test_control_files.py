"""Data at rest (issue 10, build item 8): the data directory is 0700, the SQLite files (with
their -wal and -shm) and the signing secret 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from signaling.auth import load_or_create_secret
from signaling.store.sqlite import SqliteEventStore
from web.backends import STORE_FILE
from web.cli import main


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The worst case: files would be created world-writable (some containers run so)."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


async def test_the_store_and_its_journal_files_are_private(
    tmp_path: Path, open_umask: None
) -> None:
    data = tmp_path / "nested" / "data"
    store = await SqliteEventStore.open(data / STORE_FILE)
    try:
        await store.append("room", 0, "an event")
        assert mode(data) == 0o700
        for name in (STORE_FILE, f"{STORE_FILE}-wal", f"{STORE_FILE}-shm"):
            assert (data / name).exists(), name
            assert mode(data / name) == 0o600, name
    finally:
        await store.aclose()


def test_the_signing_secret_is_private(tmp_path: Path, open_umask: None) -> None:
    data = tmp_path / "data"
    load_or_create_secret(data)
    assert mode(data) == 0o700
    assert mode(data / "signing.key") == 0o600


async def test_a_store_file_left_readable_is_tightened(tmp_path: Path) -> None:
    (tmp_path / STORE_FILE).write_text("")
    os.chmod(tmp_path / STORE_FILE, 0o644)
    store = await SqliteEventStore.open(tmp_path / STORE_FILE)
    await store.aclose()
    assert mode(tmp_path / STORE_FILE) == 0o600


def test_the_cli_creates_no_data_directory_and_no_key(
    tmp_path: Path, open_umask: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # A key made by the CLI would sign tokens the server refuses (issue 12).
    data = tmp_path / "cli-data"
    assert main(["token", "--role", "viewer", "--data-dir", str(data)]) == 2
    assert main(["revoke", "--role", "viewer", "--data-dir", str(data)]) == 2
    assert not data.exists()
    assert str(data) in capsys.readouterr().err
