"""MLflow's fluent API (mlops.fluent, mlops.models): semantics, types and errors, and the same
script run through mlflow itself giving the same search_runs DataFrame."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List

import numpy as np
import pytest

import mlops
from mlops import fluent

HERE = Path(__file__).resolve().parent


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A default store of its own in tmp_path, no active run or experiment before or after."""
    for var in ("MLOPS_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(fluent, "_experiment_name", None)
    mlops.set_tracking_uri(str(tmp_path / "fluent.db"))
    yield tmp_path
    while mlops.active_run() is not None:
        mlops.end_run()
    mlops.close_default_store()
    os.environ.pop("MLOPS_TRACKING_URI", None)


def _artifact_text(run_id: str, path: str, tmp: Path) -> str:
    dest = tmp / ("dl-" + path.replace("/", "_"))
    mlops.default_store().download_artifact(run_id, path, dest)
    return dest.read_text()


# ---- the same script through mlflow and mlops ----

def _script(module: str, uri: str, out: Path) -> Dict[str, Any]:
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true", PYTHONPATH=str(HERE.parent))
    for var in ("MLOPS_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, str(HERE / "fluent_script.py"), module, uri, str(out)],
                          env=env, cwd=out.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result: Dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="needs mlflow (pip install mlflow)")
def test_same_search_runs_as_mlflow(tmp_path: Path) -> None:
    theirs = _script("mlflow", (tmp_path / "mlruns").as_uri(), tmp_path / "mlflow.json")
    ours = _script("mlops", str(tmp_path / "mlops.db"), tmp_path / "mlops.json")
    assert ours["columns"] == theirs["columns"]
    assert ours["dtypes"] == theirs["dtypes"]
    assert ours["rows"] == theirs["rows"]
    assert ours == theirs
    # What the comparison covers (so that an empty result cannot pass).
    assert [r["tags.mlflow.runName"] for r in ours["rows"]] == ["child", "parent", "killed", "broken"]
    assert [r["status"] for r in ours["rows"]] == ["FINISHED", "FINISHED", "KILLED", "FAILED"]
    assert ours["rows"][0]["tags.mlflow.parentRunId"] == "parent"


# ---- runs, the active-run stack ----

def test_start_run_context_and_nesting(tracking: Path) -> None:
    assert mlops.active_run() is None
    with mlops.start_run(run_name="outer", tags={"team": "fraud"}, description="why") as outer:
        assert mlops.active_run() is outer
        assert outer.info.status == "RUNNING" and outer.info.end_time is None
        with pytest.raises(mlops.InvalidState, match="already active"):
            mlops.start_run()
        with mlops.start_run(run_name="inner", nested=True) as inner:
            assert mlops.active_run() is inner
            assert inner.data.tags["mlflow.parentRunId"] == outer.id
        assert mlops.active_run() is outer
        assert outer.data.tags["team"] == "fraud"
        assert outer.data.tags["mlflow.note.content"] == "why"
        assert outer.data.tags["mlflow.source.type"] == "LOCAL"
    assert mlops.active_run() is None
    assert outer.info.status == "FINISHED" and outer.info.end_time is not None
    last = mlops.last_active_run()
    assert last is not None and last.info.run_id == outer.id and last.info.status == "FINISHED"


def test_exception_ends_failed_and_propagates(tracking: Path) -> None:
    with pytest.raises(KeyError, match="boom"):
        with mlops.start_run() as outer:
            inner = mlops.start_run(nested=True)  # left active: ended with its parent
            raise KeyError("boom")
    assert mlops.active_run() is None
    store = mlops.default_store()
    assert store.get_run(outer.id).status == mlops.RunStatus.FAILED
    assert store.get_run(inner.id).status == mlops.RunStatus.FAILED


def test_end_run_status_and_resume(tracking: Path) -> None:
    run = mlops.start_run(run_name="r")
    mlops.log_param("a", 1)
    mlops.end_run("KILLED")
    assert mlops.active_run() is None
    assert mlops.get_run(run.id).info.status == "KILLED"
    mlops.end_run()  # nothing active: nothing to do
    with mlops.start_run(run_id=run.id) as again:
        assert again.id == run.id and again.info.status == "RUNNING"
        mlops.log_param("b", 2)
    got = mlops.get_run(run.id)
    assert got.info.status == "FINISHED" and got.data.params == {"a": "1", "b": "2"}
    with pytest.raises(ValueError, match="status"):
        mlops.end_run("DONE")
    with pytest.raises(TypeError, match="status"):
        mlops.end_run(None)  # type: ignore[arg-type]


def test_logging_starts_a_run(tracking: Path) -> None:
    mlops.log_metric("loss", 0.5)
    run = mlops.active_run()
    assert run is not None
    mlops.end_run()
    assert mlops.get_run(run.id).data.metrics == {"loss": 0.5}


def test_active_run_stack_is_per_thread(tracking: Path) -> None:
    seen: List[Any] = []
    with mlops.start_run(run_name="main") as main:
        def worker() -> None:
            seen.append(mlops.active_run())
            with mlops.start_run(run_name="worker") as run:  # no nested=True needed
                mlops.log_metric("x", 1.0)
                seen.append(run.info.run_id)
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert mlops.active_run() is main
    assert seen[0] is None and seen[1] != main.id
    assert mlops.get_run(seen[1]).data.tags.get("mlflow.parentRunId") is None


def test_set_experiment(tracking: Path) -> None:
    exp = mlops.set_experiment("churn")
    assert exp.name == "churn" and mlops.set_experiment("churn") == exp
    assert mlops.set_experiment(experiment_id=exp.experiment_id) == exp
    with mlops.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id
    with pytest.raises(mlops.NotFound, match="no experiment with id '999'"):
        mlops.set_experiment(experiment_id="999")
    with pytest.raises(ValueError, match="exactly one"):
        mlops.set_experiment()


def test_metrics_params_tags(tracking: Path) -> None:
    with mlops.start_run() as run:
        mlops.log_params({"lr": 0.01, "depth": 6})
        assert mlops.log_param("opt", "adam") == "adam"
        mlops.set_tags({"a": 1})
        mlops.set_tag("b", "x")
        mlops.log_metric("loss", 1.0, step=0, timestamp=1_700_000_000_000)
        mlops.log_metric("loss", 0.5, step=1, synchronous=True)
        mlops.log_metrics({"acc": 0.9, "f1": 0.8}, step=2)
    history = mlops.default_store().metric_history(run.id, "loss", as_numpy=False)
    assert [(p.value, p.step) for p in history] == [(1.0, 0), (0.5, 1)]
    assert history[0].timestamp_ms == 1_700_000_000_000
    data = run.data
    assert data.params == {"lr": "0.01", "depth": "6", "opt": "adam"}
    assert data.metrics == {"loss": 0.5, "acc": 0.9, "f1": 0.8}
    assert data.tags["a"] == "1" and data.tags["b"] == "x"


# ---- types ----

def test_metric_types(tracking: Path) -> None:
    with mlops.start_run() as run:
        mlops.log_metric("np32", np.float32(0.5))
        mlops.log_metric("np0d", np.array(2.5), step=np.int64(3))
        mlops.log_metric("int", 7, step=np.array(4))
        with pytest.raises(TypeError, match=r"metric 'acc' must be a real number.*not str"):
            mlops.log_metric("acc", "0.5")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"metric 'acc'.*ndarray of shape \(2,\)"):
            mlops.log_metric("acc", np.array([1.0, 2.0]))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="step must be an int, not float"):
            mlops.log_metric("acc", 0.5, step=1.0)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="timestamp must be an int, not str"):
            mlops.log_metric("acc", 0.5, timestamp="now")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="params must be a dict"):
            mlops.log_params([("a", 1)])  # type: ignore[arg-type]
    metrics = mlops.get_run(run.id).data.metrics
    assert metrics == {"np32": 0.5, "np0d": 2.5, "int": 7.0}


def test_object_api_types(tracking: Path) -> None:
    """Regression: Run.log_metric raised a bare ctypes.ArgumentError for a str value and wrapped
    a step beyond int64 silently (2**64 + 5 logged as step 5)."""
    store = mlops.default_store()
    with store.start_run("objects") as run:
        with pytest.raises(TypeError, match="metric 'x' must be a real number"):
            run.log_metric("x", "0.5")  # type: ignore[arg-type]
        with pytest.raises(mlops.InvalidArgument, match="step 18446744073709551621 does not fit int64_t"):
            run.log_metric("x", 1.0, 2**64 + 5)
        key = run.metric_key("k")
        key.log(np.float32(1.5), np.int64(1))
        with pytest.raises(TypeError, match="metric 'k' must be a real number"):
            key.log("1.5")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="step must be an int, not float"):
            key.log(1.5, 2.0)  # type: ignore[arg-type]
        with pytest.raises(mlops.InvalidArgument, match="does not fit int64_t"):
            key.log(1.5, 2**63)
    assert [p.step for p in store.metric_history(run.id, "k", as_numpy=False)] == [1]
    with pytest.raises(mlops.NotFound):
        store.metric_history(run.id, "x")


# ---- errors come through typed, with the library's message ----

def test_library_errors(tracking: Path) -> None:
    with mlops.start_run():
        with pytest.raises(mlops.InvalidArgument, match="key"):
            mlops.log_metric("bad\nname", 1.0)
        mlops.log_param("p", 1)
        with pytest.raises(mlops.InvalidArgument):
            mlops.log_param("p", 2)  # params are immutable
        with pytest.raises(mlops.InvalidArgument, match="filter"):
            mlops.search_runs(filter_string="metrics.acc >>> 1")
        with pytest.raises(mlops.NotFound):
            mlops.start_run(run_id="0" * 32, nested=True)


def test_closed_run_and_vanished_store(tracking: Path) -> None:
    run = mlops.start_run()
    run.end()
    with pytest.raises(mlops.InvalidState, match="closed"):
        run.log_metric("x", 1.0)
    # The store closed under an active run: each fluent call raises until end_run takes it off.
    active = mlops.start_run()
    mlops.close_default_store()
    with pytest.raises(mlops.InvalidState, match="closed"):
        mlops.log_metric("x", 1.0)
    with pytest.raises(mlops.InvalidState, match="already active"):
        mlops.start_run()
    mlops.end_run()
    assert mlops.active_run() is None and active.closed
    # A store that cannot be opened.
    mlops.set_tracking_uri(str(tracking / "no" / "such" / "dir" / "x.db"))
    with pytest.raises(mlops.Error) as e:
        mlops.start_run()
    assert type(e.value) is not mlops.Error and e.value.message


def test_tracking_uri(tracking: Path) -> None:
    assert mlops.get_tracking_uri() == str(tracking / "fluent.db")
    assert os.environ["MLOPS_TRACKING_URI"] == str(tracking / "fluent.db")
    with mlops.start_run() as first:
        mlops.set_tracking_uri(tracking / "other.db")
        mlops.log_metric("still", 1.0)  # the active run goes on in its own store
        assert mlops.default_store().uri.endswith("other.db")
    assert first.store.get_run(first.id).metrics["still"].value == 1.0
    with pytest.raises(mlops.NotFound):
        mlops.get_run(first.id)  # not in the new default store
    with pytest.raises(TypeError, match="uri"):
        mlops.set_tracking_uri(3)  # type: ignore[arg-type]


# ---- artifacts ----

def test_artifacts(tracking: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tracking / "src"
    (src / "sub" / "deep").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    (src / "sub" / "deep" / "c.txt").write_text("c")
    has_yaml = importlib.util.find_spec("yaml") is not None
    with mlops.start_run() as run:
        mlops.log_artifact(src / "a.txt")
        mlops.log_artifact(src / "a.txt", "one")
        mlops.log_artifacts(src, "tree")
        mlops.log_artifacts(src / "sub")
        mlops.log_dict({"lr": 0.1, "layers": [1, 2]}, "cfg/params.json")
        if has_yaml:
            mlops.log_dict({"lr": 0.1}, "cfg/params.yaml")
        mlops.log_text("hello ✓", "notes.txt")
        with pytest.raises(mlops.InvalidArgument, match="not a directory"):
            mlops.log_artifacts(src / "a.txt")
        with pytest.raises(mlops.NotFound):
            mlops.log_artifacts(src / "missing")
        with pytest.raises(ValueError, match="file name"):
            mlops.log_text("x", "dir/")
        with pytest.raises(TypeError, match="text must be a str"):
            mlops.log_text(b"x", "x.txt")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="figure"):
            mlops.log_figure(object(), "f.png")
        monkeypatch.setitem(sys.modules, "yaml", None)  # PyYAML absent
        with pytest.raises(ImportError, match="PyYAML"):
            mlops.log_dict({"a": 1}, "x.yml")
    paths = [a.path for a in mlops.default_store().artifacts(run.id)]
    assert paths == sorted(["a.txt", "one/a.txt", "tree/a.txt", "tree/sub/b.txt", "tree/sub/deep/c.txt",
                            "b.txt", "deep/c.txt", "cfg/params.json", "notes.txt"]
                           + ["cfg/params.yaml"] * has_yaml)
    assert json.loads(_artifact_text(run.id, "cfg/params.json", tracking)) == {"lr": 0.1, "layers": [1, 2]}
    if has_yaml:
        assert _artifact_text(run.id, "cfg/params.yaml", tracking) == "lr: 0.1\n"
    assert _artifact_text(run.id, "notes.txt", tracking) == "hello ✓"
    assert _artifact_text(run.id, "tree/sub/deep/c.txt", tracking) == "c"


def test_log_figure(tracking: Path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    fig = Figure()
    fig.add_subplot().plot([1, 2, 3])
    with mlops.start_run() as run:
        mlops.log_figure(fig, "plots/curve.png")
    dest = tracking / "curve.png"
    mlops.default_store().download_artifact(run.id, "plots/curve.png", dest)
    assert dest.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- search ----

def test_search_runs(tracking: Path) -> None:
    pd = pytest.importorskip("pandas")
    assert list(mlops.search_runs().columns) == ["run_id", "experiment_id", "status", "artifact_uri",
                                                 "start_time", "end_time"]  # nothing yet
    a = mlops.set_experiment("a")
    for i in range(3):
        with mlops.start_run(run_name="a%d" % i):
            mlops.log_metric("acc", i / 10)
    b = mlops.set_experiment("b")
    with mlops.start_run(run_name="b0"):
        mlops.log_param("lr", "0.1")
    df = mlops.search_runs()  # the active experiment: b
    assert list(df["tags.mlflow.runName"]) == ["b0"] and list(df["params.lr"]) == ["0.1"]
    assert isinstance(df["start_time"].dtype, pd.DatetimeTZDtype)
    df = mlops.search_runs(experiment_ids=[a.experiment_id], order_by=["metrics.acc DESC"], max_results=2)
    assert list(df["metrics.acc"]) == [0.2, 0.1]
    both = mlops.search_runs(experiment_names=["a", "b"], order_by=["attributes.run_name ASC"],
                             output_format="list")
    assert [r.info.run_name for r in both] == ["a0", "a1", "a2", "b0"]
    assert len(mlops.search_runs(search_all_experiments=True, experiment_ids=[])) == 4
    assert len(mlops.search_runs(experiment_names=["nope"])) == 0
    assert mlops.search_runs(experiment_ids=[b.experiment_id], filter_string="params.lr = '0.1'",
                             output_format="list")[0].info.run_name == "b0"
    with pytest.raises(ValueError, match="not both"):
        mlops.search_runs(experiment_ids=["1"], experiment_names=["a"])
    with pytest.raises(TypeError, match="order_by must be a list"):
        mlops.search_runs(order_by="metrics.acc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="output_format"):
        mlops.search_runs(output_format="json")
    with pytest.raises(mlops.Unsupported, match="run_view_type"):
        mlops.search_runs(run_view_type=3)


# ---- registry ----

def test_registry(tracking: Path) -> None:
    with mlops.start_run() as run:
        model = tracking / "model"
        model.mkdir()
        (model / "weights.bin").write_bytes(b"w" * 100)
        mlops.log_artifacts(model, "model")
    v1 = mlops.register_model("runs:/%s/model" % run.id, "fraud", tags={"stage": "dev"})
    assert (v1.name, v1.version, v1.run_id) == ("fraud", 1, run.id)
    assert v1.source == run.info.artifact_uri + "/model"
    local = tracking / "model.pkl"
    local.write_bytes(b"pickle")
    v2 = mlops.register_model(str(local), "fraud")
    assert v2.version == 2 and v2.source == str(local)
    mlops.set_registered_model_alias("fraud", "production", "1")
    mlops.set_registered_model_alias("fraud", "staging", v2.version)
    assert mlops.get_model_version_by_alias("fraud", "production").version == 1
    path = mlops.models.download("models:/fraud@production")
    assert (Path(path) / "weights.bin").read_bytes() == b"w" * 100
    copied = mlops.models.download("fraud@staging", dst_path=tracking / "out")
    assert Path(copied).read_bytes() == b"pickle" and Path(copied).parent == tracking / "out"
    assert mlops.models.download("fraud/1") == path
    mlops.delete_registered_model_alias("fraud", "production")
    with pytest.raises(mlops.NotFound):
        mlops.get_model_version_by_alias("fraud", "production")
    with pytest.raises(mlops.NotFound):
        mlops.models.download("models:/fraud@production")
    with pytest.raises(ValueError, match="version"):
        mlops.set_registered_model_alias("fraud", "x", "two")
    with pytest.raises(mlops.Error):
        mlops.register_model("runs:/%s/model" % ("0" * 32), "fraud")  # no such run
