"""Stores: round trip, options mapping onto mlops_store_options, threads, handle lifetime."""
from __future__ import annotations

import ctypes
import gc
import os
import shutil
import sqlite3
import subprocess
import threading
import warnings
from pathlib import Path

import pytest

import mlops
from mlops import _store


def test_version_and_features() -> None:
    v = mlops.version()
    major, minor, patch = (int(x) for x in v.split("."))
    assert mlops.version_number() == major * 10000 + minor * 100 + patch
    assert mlops.MIN_VERSION <= mlops.version_number() < mlops.MAX_VERSION
    f = mlops.features()
    assert isinstance(f, mlops.Feature)
    assert int(f) & ~0b111 == 0
    # GPU usable implies built with CUDA.
    assert not (f & mlops.Feature.GPU) or (f & mlops.Feature.CUDA)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rt.db"
    with mlops.Store(path) as store:
        assert store.uri == str(path)
        assert store.schema_version >= 1
        store.flush()
        latest = store.schema_version
    assert store.closed
    store.close()  # idempotent
    # A real SQLite file that another reader sees as a libmlops store at that version.
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == latest
    assert con.execute("SELECT count(*) FROM store_meta").fetchone()[0] >= 1
    con.close()
    with mlops.Store("sqlite:///" + str(path), read_only=True) as again:
        assert again.schema_version == latest


def test_default_uri_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_TRACKING_URI", str(tmp_path / "env.db"))
    with mlops.Store() as store:
        assert store.uri == str(tmp_path / "env.db")
    assert (tmp_path / "env.db").exists()
    monkeypatch.delenv("MLOPS_TRACKING_URI")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    with mlops.Store() as store:
        assert store.uri == "mlops.db"
    assert (tmp_path / "mlops.db").exists()


def test_options_mapping(tmp_path: Path) -> None:
    # read_only reaches C: a missing file is NotFound, and nothing is created.
    with pytest.raises(mlops.NotFound):
        mlops.Store(tmp_path / "ro.db", read_only=True)
    assert not (tmp_path / "ro.db").exists()
    # durability and on_full reach C: out-of-range values are refused there, named.
    with pytest.raises(mlops.InvalidArgument, match="durability 2"):
        mlops.Store(tmp_path / "x.db", durability=2)
    with pytest.raises(mlops.InvalidArgument, match="on_full 3"):
        mlops.Store(tmp_path / "x.db", on_full=3)
    with mlops.Store(tmp_path / "x.db", durability=mlops.Durability.SYNC,
                     on_full=mlops.OnFull.EBUSY, flush_interval_ms=5, buffer_capacity=16,
                     busy_timeout_ms=100, artifact_root=tmp_path / "art", actor="ci") as s:
        assert s.schema_version >= 1
    with pytest.raises(TypeError):
        mlops.Store(tmp_path / "x.db", busy_timeout_ms="100")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        mlops.Store(tmp_path / "x.db", no_such_option=1)  # type: ignore[call-arg]
    with pytest.raises(mlops.InvalidArgument, match="buffer_capacity"):
        mlops.Store(tmp_path / "x.db", buffer_capacity=-5)


def test_options_init_matches_c_defaults() -> None:
    opts = _store.StoreOptions()
    opts.busy_timeout_ms = 123
    _store._options_init(ctypes.byref(opts), _store.STORE_OPTIONS_VERSION)
    assert opts.version == _store.STORE_OPTIONS_VERSION == 3 and opts.busy_timeout_ms == 0 and opts.must_exist == 0
    assert opts.artifact_root is None and opts.actor is None and opts.spool_path is None


def test_options_struct_layout_matches_header(tmp_path: Path) -> None:
    """Compiles a C program against the library's headers and compares sizeof/offsetof."""
    cc = shutil.which("cc")
    libdir = Path(os.path.abspath(mlops.library_path())).parent
    pc = libdir.parent / "libmlops-uninstalled.pc"
    if cc is None or not pc.exists():
        pytest.skip("needs cc and a build tree with libmlops-uninstalled.pc")
    cflags = subprocess.run(["pkg-config", "--cflags", "libmlops-uninstalled"], check=True,
                            capture_output=True, text=True,
                            env=dict(os.environ, PKG_CONFIG_PATH=str(pc.parent))).stdout.split()
    fields = [name for name, _ in _store.StoreOptions._fields_]
    src = tmp_path / "layout.c"
    src.write_text("#include <stdio.h>\n#include <stddef.h>\n#include <mlops/store.h>\n"
                   "int main(void) {\n printf(\"%zu\\n\", sizeof(mlops_store_options));\n" +
                   "".join(' printf("%%zu\\n", offsetof(mlops_store_options, %s));\n' % f
                           for f in fields) +
                   " printf(\"%d\\n\", MLOPS_STORE_OPTIONS_VERSION);\n return 0;\n}\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, *cflags, str(src), "-o", str(exe)], check=True)
    out = [int(x) for x in subprocess.run([str(exe)], check=True, capture_output=True,
                                          text=True).stdout.split()]
    expect = [ctypes.sizeof(_store.StoreOptions)]
    expect += [getattr(_store.StoreOptions, f).offset for f in fields]
    expect += [_store.STORE_OPTIONS_VERSION]
    assert out == expect


def test_threads_open_stores_at_once(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    failures: list = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            for j in range(10):
                with mlops.Store(shared) as s:
                    assert s.schema_version >= 1
                with mlops.Store(tmp_path / ("own-%d-%d.db" % (i, j))) as s:
                    s.flush()
        except Exception as e:  # collected: an assertion in a thread would be lost
            failures.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(list(tmp_path.glob("own-*.db"))) == 80


def test_one_store_shared_by_threads(tmp_path: Path) -> None:
    with mlops.Store(tmp_path / "s.db") as store:
        failures: list = []

        def worker() -> None:
            try:
                for _ in range(100):
                    store.flush()
                    assert store.schema_version >= 1
            except Exception as e:
                failures.append(repr(e))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []


def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = mlops.Store(tmp_path / "c.db")
    store.close()
    assert repr(store) == "<mlops.Store closed>"
    for call in (store.flush, lambda: store.uri, lambda: store.schema_version):
        with pytest.raises(mlops.InvalidState):
            call()


def test_del_is_a_safety_net(tmp_path: Path) -> None:
    store = mlops.Store(tmp_path / "leak.db")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del store
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)
    # The file was closed (its WAL checkpointed away): it opens read-only cleanly.
    assert not (tmp_path / "leak.db-wal").exists()
    with mlops.Store(tmp_path / "leak.db", read_only=True):
        pass


def test_wrong_handle_type_is_refused() -> None:
    other = ctypes.POINTER(type("mlops_run", (ctypes.Structure,), {}))()
    with pytest.raises(ctypes.ArgumentError):
        _store._flush(other)
