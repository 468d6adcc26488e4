#!/usr/bin/env python3
"""Starts a real MLflow tracking server on 127.0.0.1 (temporary SQLite backend and artifact root),
runs a test program with MLOPS_TEST_MLFLOW_URI pointing at it, and stops the server.

Usage: with_mlflow.py PROGRAM [ARGS...]
Exits 77 (meson's "skipped") when mlflow is not installed and MLOPS_REQUIRE_MLFLOW is unset;
`make test` installs mlflow and sets MLOPS_REQUIRE_MLFLOW=1, so CI never skips it.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    mlflow = shutil.which("mlflow")
    if mlflow is None:
        print("mlflow is not installed (pip install mlflow)")
        return 1 if os.environ.get("MLOPS_REQUIRE_MLFLOW") else 77
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        uri = f"http://127.0.0.1:{port}"
        log = open(os.path.join(tmp, "server.log"), "w")
        server = subprocess.Popen(
            [mlflow, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
             "--default-artifact-root", f"{tmp}/artifacts"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.time() + 120
            while True:
                try:
                    urllib.request.urlopen(uri + "/health", timeout=1).read()
                    break
                except OSError:
                    if server.poll() is not None or time.time() > deadline:
                        log.flush()
                        print(open(os.path.join(tmp, "server.log")).read()[-4000:])
                        print("the MLflow server did not start")
                        return 1
                    time.sleep(0.3)
            env = dict(os.environ, MLOPS_TEST_MLFLOW_URI=uri, MLOPS_TEST_MLFLOW_DIR=tmp)
            return subprocess.run(sys.argv[1:], env=env).returncode
        finally:
            os.killpg(server.pid, 15)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)


if __name__ == "__main__":
    sys.exit(main())
