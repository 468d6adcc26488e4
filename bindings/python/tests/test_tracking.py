"""Tracking: runs written from Python read back through a second handle and through C itself,
the default store, FAILED on exceptions, metric keys, history, search, artifacts, threads."""
from __future__ import annotations

import gc
import math
import os
import shutil
import subprocess
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import mlops
from mlops import _tracking

from _layout import layout_in_c, layout_in_python


def test_run_round_trip_through_a_second_handle(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with mlops.Store(db) as store:
        with store.start_run("exp", run_name="first") as run:
            assert len(run.id) == 32 and int(run.id, 16) >= 0
            run.log_param("lr", 0.01)
            run.log_params({"layers": 3, "opt": "adam"})
            run.set_tags({"team": "fraud", "stage": "dev"})
            run.set_tag("stage", "prod")  # the last write wins
            for step in range(5):
                run.log_metric("loss", 1.0 / (step + 1), step=step)
            run.log_metric("odd", math.nan, step=0)
            run.log_metric("odd", math.inf, step=1, timestamp_ms=1234)
            run_id = run.id
        assert run.closed and run.id == run_id
    with mlops.Store(db, read_only=True) as again:
        info = again.get_run(run_id)
        assert info.name == "first" and info.status == mlops.RunStatus.FINISHED
        assert info.end_time >= info.start_time > 0 and info.parent_id is None and not info.deleted
        assert again.experiments()[info.experiment_id] == "exp"
        assert again.get_experiment_id("exp") == info.experiment_id
        assert info.params == {"layers": "3", "lr": "0.01", "opt": "adam"}
        assert info.tags["team"] == "fraud" and info.tags["stage"] == "prod"
        assert info.metrics["loss"].value == pytest.approx(0.2) and info.metrics["loss"].step == 4
        assert again.get_param(run_id, "lr") == "0.01"
        h = again.metric_history(run_id, "loss")
        assert h.dtype.names == ("value", "step", "timestamp_ms") and h.dtype.itemsize == 24
        assert list(h["step"]) == [0, 1, 2, 3, 4]
        np.testing.assert_array_equal(h["value"], [1.0, 0.5, 1 / 3, 0.25, 0.2])
        odd = again.metric_history(run_id, "odd", as_numpy=False)
        assert math.isnan(odd[0].value) and odd[1] == mlops.MetricPoint(math.inf, 1, 1234)
        with pytest.raises(mlops.NotFound):
            again.metric_history(run_id, "never")
        with pytest.raises(mlops.NotFound):
            again.get_param(run_id, "never")


def test_run_read_back_through_c(tmp_path: Path) -> None:
    """A C program (the library itself, no Python) reads what Python wrote."""
    cc = shutil.which("cc")
    libdir = Path(os.path.abspath(mlops.library_path())).parent
    pc = libdir.parent / "libmlops-uninstalled.pc"
    if cc is None or not pc.exists():
        pytest.skip("needs cc and a build tree with libmlops-uninstalled.pc")
    db = tmp_path / "c.db"
    with mlops.Store(db) as store, mlops.start_run("from-python", store=store) as run:
        run.log_param("batch", 64)
        key = run.metric_key("acc")
        for step in range(100):
            key.log(step / 100.0, step)
    src = tmp_path / "read.c"
    src.write_text(r'''
#include <stdio.h>
#include <mlops/tracking.h>
int main(int argc, char **argv) {
	mlops_store *s; mlops_metric_point *p; size_t n; char *v; double sum = 0;
	if (mlops_store_open(&s, argv[1], NULL) < 0) return 1;
	if (mlops_run_get_param(&v, s, argv[2], "batch") < 0) return 2;
	if (mlops_metric_history(&p, &n, s, argv[2], "acc") < 0) return 3;
	for (size_t i = 0; i < n; i++) sum += p[i].value * (p[i].step == (int64_t)i);
	printf("%s %zu %.4f\n", v, n, sum);
	mlops_free(v); mlops_free(p);
	return mlops_store_close(s) < 0;
}
''')
    pkg = dict(os.environ, PKG_CONFIG_PATH=str(pc.parent))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmlops-uninstalled"], check=True,
                           capture_output=True, text=True, env=pkg).stdout.split()
    exe = tmp_path / "read"
    subprocess.run([cc, str(src), "-o", str(exe), *flags, "-Wl,-rpath," + str(libdir)], check=True)
    out = subprocess.run([str(exe), str(db), run.id], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["64", "100", "%.4f" % (sum(range(100)) / 100.0)]


def test_default_store_and_failed_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_TRACKING_URI", str(tmp_path / "default.db"))
    mlops.close_default_store()
    try:
        with mlops.start_run("exp", run_name="ok") as ok:
            ok.log_metric("loss", 0.1, step=3)
        with pytest.raises(RuntimeError):
            with mlops.start_run("exp", run_name="boom") as boom:
                raise RuntimeError("training diverged")
        store = mlops.default_store()
        assert store.uri == str(tmp_path / "default.db")
        assert store.get_run(ok.id).status == mlops.RunStatus.FINISHED
        assert store.get_run(boom.id).status == mlops.RunStatus.FAILED
        assert list(store.metric_history(ok.id, "loss")["step"]) == [3]
        # Explicit end with a status; ending again does nothing.
        killed = mlops.start_run("exp")
        killed.end(mlops.RunStatus.KILLED)
        killed.end()
        assert store.get_run(killed.id).status == mlops.RunStatus.KILLED
    finally:
        mlops.close_default_store()


def test_search_nested_delete_restore_resume(tmp_path: Path) -> None:
    with mlops.Store(tmp_path / "s.db") as store:
        ids = []
        for i, lr in enumerate(("0.1", "0.01", "0.001")):
            with store.start_run("search", run_name="r%d" % i) as run:
                run.log_param("lr", lr)
                run.log_metric("acc", 0.8 + i / 20)
                ids.append(run.id)
        with store.start_run("search", parent_run_id=ids[0]) as child:
            pass
        assert store.get_run(child.id).parent_id == ids[0]
        hits = store.search_runs("search", "metrics.acc > 0.82", "metrics.acc DESC")
        assert [r.id for r in hits] == [ids[2], ids[1]]
        assert [r.params["lr"] for r in store.search_runs(filter="params.lr = '0.1'")] == ["0.1"]
        with pytest.raises(mlops.InvalidArgument, match="position|column|offset|at"):
            store.search_runs(filter="metrics.acc >>> 1")
        store.delete_run(ids[0])
        assert ids[0] not in [r.id for r in store.search_runs("search")]
        with pytest.raises(mlops.InvalidState):
            store.resume_run(ids[0])
        store.restore_run(ids[0])
        with store.resume_run(ids[0]) as again:
            again.log_metric("acc", 0.99, step=1)
        assert store.get_run(ids[0]).metrics["acc"].value == 0.99
        with pytest.raises(mlops.AlreadyExists):
            store.create_experiment("search")
        assert store.create_experiment("fresh") in store.experiments()
        with pytest.raises(mlops.NotFound):
            store.get_experiment_id("nope")


def test_sampled_history(tmp_path: Path) -> None:
    with mlops.Store(tmp_path / "h.db") as store, store.start_run() as run:
        k = run.metric_key("x")
        for step in range(1000):
            k.log(100.0 if step == 500 else float(step % 7), step)
        store.flush()
        h = store.metric_history(run.id, "x", max_points=20)
        assert len(h) <= 20 and h["step"][0] == 0 and h["step"][-1] == 999
        assert 100.0 in h["value"]  # the spike survives


def test_params_are_immutable_and_keys_validated(tmp_path: Path) -> None:
    with mlops.Store(tmp_path / "v.db") as store, store.start_run() as run:
        run.log_param("lr", "0.1")
        run.log_param("lr", "0.1")
        with pytest.raises(mlops.InvalidArgument, match="lr"):
            run.log_param("lr", "0.2")
        with pytest.raises(mlops.InvalidArgument):
            run.log_metric("../escape", 1.0)
        with pytest.raises(mlops.InvalidArgument, match="NUL"):
            run.set_tag("a\0b", "x")
        with pytest.raises(TypeError, match="metric 'loss' must be a real number"):
            run.log_metric("loss", "high")  # type: ignore[arg-type]


def test_artifacts(tmp_path: Path) -> None:
    f = tmp_path / "weights.bin"
    f.write_bytes(os.urandom(4096))
    with mlops.Store(tmp_path / "a.db") as store:
        with store.start_run() as run:
            run.log_artifact(f)
            run.log_artifact(f, "zipped", compress=True)
            with pytest.raises(mlops.PermissionDenied):
                run.log_artifact(f, "../outside")
        arts = store.artifacts(run.id)
        assert [a.path for a in arts] == ["weights.bin", "zipped/weights.bin"]
        assert all(a.size == 4096 and len(a.sha256) == 64 for a in arts)
        store.download_artifact(run.id, "zipped/weights.bin", tmp_path / "back.bin")
        assert (tmp_path / "back.bin").read_bytes() == f.read_bytes()
        with pytest.raises(mlops.NotFound):
            store.download_artifact(run.id, "missing.bin", tmp_path / "x.bin")


def test_busy_when_the_buffer_is_full(tmp_path: Path) -> None:
    with mlops.Store(tmp_path / "b.db", on_full=mlops.OnFull.EBUSY, buffer_capacity=4,
                     flush_interval_ms=60000) as store:
        run = store.start_run()
        logged = 0
        with pytest.raises(mlops.Busy, match="full"):
            for i in range(1_000_000):
                run.log_metric("m", i, i)
                logged += 1
        run.end()
        # Nothing accepted was lost: every point before the refusal is stored.
        assert list(store.metric_history(run.id, "m")["step"]) == list(range(logged))


def test_threads_log_at_once_without_losing_points(tmp_path: Path) -> None:
    n_threads, n_points = 8, 2000
    with mlops.Store(tmp_path / "threads.db") as store:
        with store.start_run("threads") as run:
            failures: list = []
            barrier = threading.Barrier(n_threads)

            def worker(t: int) -> None:
                try:
                    key = run.metric_key("hot")
                    barrier.wait()
                    for i in range(n_points):
                        key.log(float(t), t * n_points + i)
                        run.log_metric("t%d" % t, float(i), i)
                except Exception as e:
                    failures.append(repr(e))

            threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            assert failures == []
        h = store.metric_history(run.id, "hot")
        assert len(h) == n_threads * n_points
        assert sorted(h["step"]) == list(range(n_threads * n_points))
        np.testing.assert_array_equal(h["value"], h["step"] // n_points)
        for t in range(n_threads):
            assert len(store.metric_history(run.id, "t%d" % t)) == n_points


def test_handles_die_with_their_parent(tmp_path: Path) -> None:
    store = mlops.Store(tmp_path / "p.db")
    run = store.start_run("exp")
    key = run.metric_key("k")
    key.log(1.0, 0)
    store.close()  # ends the live run first (C forbids a run outliving its store)
    assert run.closed and key.closed
    with pytest.raises(mlops.InvalidState):
        key.log(2.0, 1)
    with pytest.raises(mlops.InvalidState):
        run.log_metric("k", 2.0)
    with mlops.Store(tmp_path / "p.db") as again:
        assert again.get_run(run.id).status == mlops.RunStatus.FINISHED
        assert list(again.metric_history(run.id, "k")["value"]) == [1.0]


def test_unended_run_ends_with_its_store(tmp_path: Path) -> None:
    store = mlops.Store(tmp_path / "leak.db")
    run = store.start_run()
    run_id = run.id
    run.log_metric("m", 1.0)
    del run
    gc.collect()  # the store holds its live runs: nothing is freed behind its back
    store.close()
    with mlops.Store(tmp_path / "leak.db") as again:
        assert again.get_run(run_id).status == mlops.RunStatus.FINISHED
        assert list(again.metric_history(run_id, "m")["value"]) == [1.0]
    # A store and its run leaked together (a garbage cycle): the store's finalizer ends the run first.
    store = mlops.Store(tmp_path / "leak.db")
    run_id = store.start_run().id
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del store
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)
    with mlops.Store(tmp_path / "leak.db") as again:
        assert again.get_run(run_id).status == mlops.RunStatus.FINISHED


def test_run_options_layout_matches_header(tmp_path: Path) -> None:
    structs = {"mlops_run_options": _tracking.RunOptions, "mlops_artifact_options": _tracking.ArtifactOptions,
               "mlops_metric_point": _tracking._MetricPointC}
    assert layout_in_c(tmp_path, "mlops/tracking.h", structs) == layout_in_python(structs)
