"""fork() with an open store, as prefork servers do (os.fork, multiprocessing, gunicorn).

Each scenario runs in a fresh interpreter (a hang is then a timeout, not a stuck suite) and
prints what it saw as JSON; the store is read back here afterwards.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict

import pytest

import mlops

PACKAGE_ROOT = str(Path(mlops.__file__).resolve().parents[1])


def env_for_children() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
    return env


def run_script(code: str, tmp_path: Path, timeout: float = 60) -> Any:
    """Runs code in its own process group: on a hang, its forked children go with it."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                            env=env_for_children(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail("the scenario hung:\n" + err)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"weights")
    return path


def test_os_fork_child_sys_exit_does_not_hang(tmp_path: Path) -> None:
    """The issue's case: a child with inherited Store and Run just sys.exit(0)s."""
    out = run_script("""
        import json, os, sys, time
        import mlops
        store = mlops.Store("fork.db")
        run = store.start_run("e", "parent")
        for i in range(5000):                  # buffered: the writer holds them at fork time
            run.log_metric("parent", float(i), step=i)
        results = []
        for explicit in (False, True):
            pid = os.fork()
            if pid == 0:
                run.log_metric("child%d" % explicit, 1.0, step=0)
                if explicit:                   # what a careful child does
                    run.end()
                    store.close()
                sys.exit(0)                    # finalizers: mlops_run_end, mlops_store_close
            start = time.monotonic()
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done or time.monotonic() - start > 20:
                    break
                time.sleep(0.01)
            if not done:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            results.append({"exited": bool(done), "status": status,
                            "seconds": time.monotonic() - start,
                            "run_status": int(store.get_run(run.id).status)})
        run.end()
        store.close()
        print(json.dumps({"run_id": run.id, "children": results}))
    """, tmp_path)
    for child in out["children"]:
        assert child["exited"], "the forked child hung"
        assert child["status"] == 0
        assert child["seconds"] < 5
        # A child's end of an inherited run leaves it to the parent.
        assert child["run_status"] == int(mlops.RunStatus.RUNNING)
    with mlops.Store(tmp_path / "fork.db", read_only=True) as store:
        assert store.get_run(out["run_id"]).status == mlops.RunStatus.FINISHED
        steps = [p.step for p in store.metric_history(out["run_id"], "parent", as_numpy=False)]
        assert steps == list(range(5000))      # each once: the child did not store them again
        child = store.metric_history(out["run_id"], "child1", as_numpy=False)
        assert [(p.value, p.step) for p in child] == [(1.0, 0)]


def test_multiprocessing_fork_pool_logs_and_resolves(tmp_path: Path) -> None:
    out = run_script("""
        import json, multiprocessing as mp
        import mlops
        store = mlops.Store("pool.db")
        reg = mlops.Registry(store)
        reg.create_model("m")
        v = reg.create_version("m", %r)
        reg.set_alias("m", "prod", v)
        run = store.start_run("e", "pool")
        run.log_metric("before", 1.0)

        def work(i):
            version = reg.resolve("m@prod").version
            run.log_metric("w", float(version), step=i)
            store.flush()                      # a pool worker ends with os._exit
            return version

        with mp.get_context("fork").Pool(3) as pool:
            versions = pool.map(work, range(30))
        status = int(store.get_run(run.id).status)
        run.end()
        store.close()
        print(json.dumps({"run_id": run.id, "versions": versions, "v": v, "status": status}))
    """ % str(model_file(tmp_path)), tmp_path)
    assert out["versions"] == [out["v"]] * 30
    assert out["status"] == int(mlops.RunStatus.RUNNING)
    with mlops.Store(tmp_path / "pool.db", read_only=True) as store:
        points = store.metric_history(out["run_id"], "w", as_numpy=False)
        assert sorted(p.step for p in points) == list(range(30))
        assert {p.value for p in points} == {float(out["v"])}
        assert len(store.metric_history(out["run_id"], "before", as_numpy=False)) == 1


APP = """
import os
import mlops

# The master holds the store (--preload): every worker inherits it across fork.
store = mlops.Store(os.environ["FORK_DB"])
registry = mlops.Registry(store)
run = store.resume_run(os.environ["FORK_RUN"])


def application(environ, start_response):
    i = int(environ.get("QUERY_STRING", "i=0").split("=")[1])
    version = registry.resolve("m@prod").version
    run.log_metric("requests", float(os.getpid()), step=i)
    store.flush()
    body = str(version).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_gunicorn_prefork_workers(tmp_path: Path) -> None:
    pytest.importorskip("gunicorn")
    db = tmp_path / "serve.db"
    with mlops.Store(db) as store:
        reg = mlops.Registry(store)
        reg.create_model("m")
        v = reg.create_version("m", model_file(tmp_path))
        reg.set_alias("m", "prod", v)
        with store.start_run("serving", "gunicorn") as run:
            run_id = run.id
    (tmp_path / "app.py").write_text(APP)
    port = free_port()
    env = env_for_children()
    env.update(FORK_DB=str(db), FORK_RUN=run_id)
    # --max-requests: workers exit (their finalizers end the inherited run) and are re-forked.
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--preload", "-w", "3",
                               "--max-requests", "4", "-b", "127.0.0.1:%d" % port,
                               "--graceful-timeout", "10", "app:application"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        answers = [get("http://127.0.0.1:%d/?i=%d" % (port, i), deadline) for i in range(24)]
        assert answers == [str(v).encode()] * 24
        with mlops.Store(db, read_only=True) as store:
            # Workers came and went: none of their exits ended the master's run.
            assert store.get_run(run_id).status == mlops.RunStatus.RUNNING
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            log, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)          # the workers too
            log, _ = server.communicate()
            pytest.fail("gunicorn did not stop (a worker or the master hung):\n" + log)
    assert server.returncode == 0, log
    with mlops.Store(db, read_only=True) as store:
        points = store.metric_history(run_id, "requests", as_numpy=False)
        assert sorted(p.step for p in points) == list(range(24))
        assert len({p.value for p in points}) > 1      # served by several workers
