"""Every MLOPS_E* code arrives as its own exception class, with the library's message."""
from __future__ import annotations

import ctypes
import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import mlops
from mlops import _errors, _store
from conftest import run_python

ALL = [mlops.InvalidArgument, mlops.OutOfMemory, mlops.NotFound, mlops.AlreadyExists,
       mlops.StoreIOError, mlops.Busy, mlops.Corrupt, mlops.Unsupported, mlops.NetworkError,
       mlops.InvalidState, mlops.LimitExceeded, mlops.VersionMismatch, mlops.PermissionDenied]


def test_one_class_per_code() -> None:
    codes = sorted(cls.CODE for cls in ALL)
    assert codes == list(range(-13, 0))
    for cls in ALL:
        assert issubclass(cls, mlops.Error)
        assert _errors.ERRORS[cls.CODE] is cls
        # The library knows each code: its fixed text is not the unknown-code text.
        assert mlops.strerror(cls.CODE) != mlops.strerror(-1000)
    assert mlops.strerror(-1000) == "unknown error code"


def test_unknown_code_is_plain_error() -> None:
    e = _errors.error_for(-99, "from the future")
    assert type(e) is mlops.Error and e.code == -99 and e.message == "from the future"


@pytest.mark.parametrize("cls", ALL)
def test_errcheck_maps_every_code(cls: type, tmp_path: Path) -> None:
    # ENOMEM, EEXISTS, ENETWORK and ELIMIT have no store path yet (tracking and the registry
    # will reach them): drive the errcheck itself, with the message the C library recorded
    # for this thread by a real failure.
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite file" * 200)
    with pytest.raises(mlops.Corrupt):
        mlops.Store(junk)
    with pytest.raises(cls) as info:
        _errors.check_status(cls.CODE, None, ())
    assert info.value.code == cls.CODE
    assert "file is not a database" in info.value.message
    assert _errors.check_status(0, None, ()) == 0
    assert _errors.check_status(7, None, ()) == 7


def test_invalid_argument(tmp_path: Path) -> None:
    with pytest.raises(mlops.InvalidArgument, match="empty"):
        mlops.Store("")
    with pytest.raises(mlops.InvalidArgument, match="durability 7"):
        mlops.Store(str(tmp_path / "a.db"), durability=7)
    with pytest.raises(mlops.InvalidArgument, match="on_full"):
        mlops.Store(str(tmp_path / "a.db"), on_full=-1)
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE other_program(x)")
    con.close()
    with pytest.raises(mlops.InvalidArgument, match="not a libmlops store") as info:
        mlops.Store(foreign)
    assert info.value.code == -1 and str(foreign) in info.value.message
    # The binding refuses what C would silently truncate or wrap.
    with pytest.raises(mlops.InvalidArgument, match="NUL"):
        mlops.Store(str(tmp_path / "a\0b.db"))
    with pytest.raises(mlops.InvalidArgument, match="busy_timeout_ms"):
        mlops.Store(str(tmp_path / "a.db"), busy_timeout_ms=-1)


def test_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(mlops.NotFound, match="does not exist"):
        mlops.Store(missing, read_only=True)
    assert not missing.exists()


def test_store_io_error(tmp_path: Path) -> None:
    with pytest.raises(mlops.StoreIOError, match="no-such-dir") as info:
        mlops.Store(tmp_path / "no-such-dir" / "x.db")
    assert info.value.code == -5
    assert "[input/output error]" in str(info.value)


def test_corrupt(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x7fELF not a database" * 512)
    before = junk.read_bytes()
    with pytest.raises(mlops.Corrupt, match="not a database"):
        mlops.Store(junk)
    assert junk.read_bytes() == before


def test_version_mismatch_future_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    mlops.Store(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(mlops.VersionMismatch, match="schema version 99"):
        mlops.Store(path)


def test_version_mismatch_options_version() -> None:
    opts = _store.StoreOptions()
    with pytest.raises(mlops.VersionMismatch, match="mlops_store_options"):
        _store._options_init(ctypes.byref(opts), 99)
    opts.version = 99
    out = _store.store_p()
    with pytest.raises(mlops.VersionMismatch):
        _store._open(ctypes.byref(out), b":never-created.db", ctypes.byref(opts))
    assert not out


def test_unsupported() -> None:
    with pytest.raises(mlops.Unsupported, match="unknown scheme"):
        mlops.Store("ftp://example.invalid/x.db")


def test_invalid_state(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(mlops.InvalidState, match="needs migrating"):
        mlops.Store(empty, read_only=True)
    store = mlops.Store(tmp_path / "s.db")
    store.close()
    with pytest.raises(mlops.InvalidState, match="closed"):
        store.flush()


def test_busy(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE TABLE t(x)")
    con.execute("BEGIN EXCLUSIVE")
    try:
        t0 = time.monotonic()
        with pytest.raises(mlops.Busy, match="locked"):
            mlops.Store(path, busy_timeout_ms=50)
        assert time.monotonic() - t0 < 5
    finally:
        con.execute("ROLLBACK")
        con.close()


def test_permission_denied() -> None:
    # A store file the user may read but not write. Root bypasses file modes, so as root
    # the open runs in a child process as nobody.
    d = Path(tempfile.mkdtemp(prefix="mlops-perm-"))
    try:
        os.chmod(d, 0o755)
        path = d / "s.db"
        mlops.Store(path).close()
        os.chmod(path, 0o444)
        if os.geteuid() != 0:
            with pytest.raises(mlops.PermissionDenied, match="readonly"):
                mlops.Store(path)
            return
        code = ("import mlops\ntry:\n    mlops.Store(%r)\nexcept mlops.PermissionDenied as e:\n"
                "    print('EPERM', e.code)\n" % str(path))
        env = dict(os.environ, MLOPS_LIBRARY=os.path.abspath(mlops.library_path()),
                   PYTHONPATH=str(Path(mlops.__file__).parents[1]))
        for python in (sys.executable, "/usr/bin/python3"):
            try:
                r = run_python(code, env, cwd=d, python=python, user=65534)
            except (OSError, PermissionError):
                continue
            if r.returncode == 0 or "EPERM" in r.stdout:
                assert r.stdout.strip() == "EPERM -13", r.stderr
                return
        pytest.skip("no Python interpreter the nobody user can run")
    finally:
        for p in d.iterdir():
            p.unlink()
        d.rmdir()


def test_messages_are_per_thread(tmp_path: Path) -> None:
    # Each thread's exception carries the message of its own failure, never another's.
    errors: list = []

    def worker(i: int) -> None:
        for _ in range(50):
            try:
                mlops.Store(tmp_path / ("dir%d" % i) / "x.db")
            except mlops.StoreIOError as e:
                if "dir%d" % i not in e.message:
                    errors.append(e.message)
            try:
                mlops.Store("", durability=i + 5)
            except mlops.InvalidArgument as e:
                if "durability %d" % (i + 5) not in e.message:
                    errors.append(e.message)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
