"""MLflow stores from Python: close never claims a delivery that did not happen (an
UndeliveredWarning, not an exception), and a run's MLflow id (None until the server has it)."""
from __future__ import annotations

import http.server
import json
import threading
import warnings
from pathlib import Path
from typing import Iterator, List

import pytest

import mlops

SERVER_RUN = "5e7e75e7e75e7e75e7e75e7e75e7e75e"


class _Handler(http.server.BaseHTTPRequestHandler):
    """An MLflow server that has the experiment and makes runs, but answers 503 to log-batch."""
    batches: List[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/api/2.0/mlflow/experiments/get-by-name"):
            self._answer(200, {"experiment": {"experiment_id": "7", "name": "e"}})
        elif self.path.startswith("/api/2.0/mlflow/runs/get"):
            self._answer(200, {"run": {"info": {"run_id": SERVER_RUN, "experiment_id": "7",
                                                "status": "RUNNING"}, "data": {}}})
        else:
            self._answer(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/api/2.0/mlflow/runs/create"):
            self._answer(200, {"run": {"info": {"run_id": SERVER_RUN, "experiment_id": "7"}}})
        elif self.path.startswith("/api/2.0/mlflow/runs/search"):
            self._answer(200, {"runs": []})
        else:
            if self.path.startswith("/api/2.0/mlflow/runs/log-batch"):
                _Handler.batches.append(self.path)
            self._answer(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield "http://127.0.0.1:%d" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_close_warns_of_undelivered_writes(server: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with pytest.warns(mlops.UndeliveredWarning) as caught:
        with mlops.Store(server, close_timeout_ms=1) as store:
            with store.start_run("e") as run:
                for i in range(500):
                    run.log_metric("loss", 1.0 / (i + 1), step=i)
    assert store.closed
    message = str(caught[0].message)
    assert "writes wait in the spool" in message and str(tmp_path / "state" / "mlops") in message
    assert "mlops sync" in message
    assert int(message.split()[0]) >= 500
    assert issubclass(mlops.UndeliveredWarning, UserWarning)

    # Nothing was lost: the next store for that server finds them all.
    store = mlops.Store(server, close_timeout_ms=1)
    pending, rejected = store.backlog()
    assert pending >= 500 and rejected == 0
    with pytest.raises(mlops.Error):
        store.sync(200)
    # As an error when the program asks for one (the store is closed all the same).
    with warnings.catch_warnings():
        warnings.simplefilter("error", mlops.UndeliveredWarning)
        with pytest.raises(mlops.UndeliveredWarning):
            store.close()
    assert store.closed


def test_context_exit_keeps_the_block_error(server: str, tmp_path: Path) -> None:
    with pytest.warns(mlops.UndeliveredWarning):
        with pytest.raises(KeyError):
            with mlops.Store(server, close_timeout_ms=1, spool_path=tmp_path / "spool.db") as store:
                with store.start_run("e") as run:
                    run.log_metric("loss", 1.0)
                raise KeyError("the block's own error")


def test_remote_id(server: str, tmp_path: Path) -> None:
    with pytest.warns(mlops.UndeliveredWarning):
        with mlops.Store(server, close_timeout_ms=1, spool_path=tmp_path / "spool.db") as store:
            run = store.start_run("e")
            # The server made it once the spool's thread sent runs/create (no points needed).
            for _ in range(200):
                if run.remote_id is not None:
                    break
                threading.Event().wait(0.05)
            assert run.remote_id == SERVER_RUN
            assert run.remote_id != run.id
            assert run.remote_url == server + "/#/experiments/7/runs/" + SERVER_RUN
            run.log_metric("loss", 1.0)
            run.end()
            assert run.remote_id == SERVER_RUN  # still known after the end
    # Not an MLflow store: no remote id.
    with mlops.Store(tmp_path / "local.db") as local:
        with local.start_run("e") as run:
            assert run.remote_id is None and run.remote_url is None
