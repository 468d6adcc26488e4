#!/usr/bin/env python3
"""Starts a real MLflow tracking server on 127.0.0.1 (temporary SQLite backend; artifacts served
through its proxy from a temporary directory), runs a test program with MLOPS_TEST_MLFLOW_URI
pointing at it, and stops the server.

Usage: with_mlflow.py PROGRAM [ARGS...]
MLOPS_TEST_MLFLOW_WORKERS sets the server's --workers (default 1; benchmarks compare 1 and 4).
Exits 77 (meson's "skipped") when mlflow is not installed and MLOPS_REQUIRE_MLFLOW is unset;
`make test` installs mlflow and sets MLOPS_REQUIRE_MLFLOW=1, so CI never skips it.

For fault tests it also runs, in this process:
- a proxy in front of the server, MLOPS_TEST_PROXY_URI, that can refuse connections (as a server
  not started yet), drop them (as a dead server) or answer 503/429 for the next N requests;
- a control endpoint, MLOPS_TEST_CONTROL_URI, that the test program drives with plain GETs:
    /proxy/up  /proxy/refuse  /proxy/inject?status=503&count=5[&path=log-batch]
    /proxy/stats (JSON: requests forwarded, most in flight at once, metric points of log-batches
    the server answered 200, since /proxy/reset_stats)
    /server/kill  /server/start   (the same port and database: a restart; start waits for health)
"""
import http.client
import json
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The mlflow server process, restartable on the same port and database."""

    def __init__(self, mlflow, tmp, port):
        self.cmd = [mlflow, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", os.environ.get("MLOPS_TEST_MLFLOW_WORKERS", "1"),
                    "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
                    # Artifacts through the server's proxy (mlflow-artifacts:/ run URIs).
                    "--artifacts-destination", f"{tmp}/artifacts"]
        self.uri = f"http://127.0.0.1:{port}"
        self.port = port
        self.log_path = os.path.join(tmp, "server.log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(self.uri + "/health", timeout=1).read()
                return True
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    print(open(self.log_path).read()[-4000:])
                    print("the MLflow server did not start")
                    return False
                time.sleep(0.3)

    def kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc is None:
            return
        os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
        self.proc = None


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.refuse = False
        self.inject = []           # (status, path part) to answer, one per matching request
        self.reset()

    def reset(self):
        self.requests = 0          # requests forwarded to the server
        self.inflight = 0
        self.max_inflight = 0      # the most requests forwarded at once
        self.acked_points = 0      # metrics of log-batches the server answered 200

    def injected(self, path):
        for i, (status, part) in enumerate(self.inject):
            if part in path:
                del self.inject[i]
                return status
        return None


def make_proxy(faults, upstream_port):
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with faults.lock:
                refuse = faults.refuse
                status = faults.injected(self.path)
            if refuse:
                self.close_connection = True   # no answer at all, as a dead server
                return
            if status is not None:
                msg = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected by the test proxy"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(msg)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(msg)
                return
            with faults.lock:
                faults.inflight += 1
                faults.max_inflight = max(faults.max_inflight, faults.inflight)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
            except OSError:
                self.close_connection = True
                return
            finally:
                with faults.lock:
                    faults.inflight -= 1
            with faults.lock:
                faults.requests += 1
                if resp.status == 200 and self.path.endswith("/runs/log-batch"):
                    faults.acked_points += len(json.loads(body).get("metrics", []))
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = forward

    return Proxy


class ProxyListener:
    """The proxy's listening socket: closed while refusing, so connects fail as with no server."""

    def __init__(self, faults, port, upstream_port):
        self.handler = make_proxy(faults, upstream_port)
        self.port = port
        self.httpd = None

    def up(self):
        if self.httpd is None:
            http.server.ThreadingHTTPServer.allow_reuse_address = True
            self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
            self.httpd.daemon_threads = True
            threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


def make_control(server, faults, listener):
    class Control(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            ok = True
            msg = None
            if url.path == "/proxy/up":
                with faults.lock:
                    faults.refuse = False
                listener.up()
            elif url.path == "/proxy/refuse":
                with faults.lock:
                    faults.refuse = True
                listener.down()
            elif url.path == "/proxy/drop":
                with faults.lock:
                    faults.refuse = True
            elif url.path == "/proxy/inject":
                with faults.lock:
                    faults.inject += [(int(q.get("status", "503")), q.get("path", ""))] * int(q.get("count", "1"))
            elif url.path == "/proxy/stats":
                with faults.lock:
                    msg = json.dumps({"requests": faults.requests, "max_inflight": faults.max_inflight,
                                      "acked_points": faults.acked_points}).encode()
            elif url.path == "/proxy/reset_stats":
                with faults.lock:
                    faults.reset()
            elif url.path == "/server/kill":
                server.kill()
            elif url.path == "/server/start":
                ok = server.start()
            else:
                ok = False
            msg = msg or (b"ok" if ok else b"failed")
            self.send_response(200 if ok else 500)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)

    return Control


def main():
    mlflow = shutil.which("mlflow")
    if mlflow is None:
        print("mlflow is not installed (pip install mlflow)")
        return 1 if os.environ.get("MLOPS_REQUIRE_MLFLOW") else 77
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(mlflow, tmp, free_port())
        faults = Faults()
        listener = ProxyListener(faults, free_port(), server.port)
        control = None
        try:
            if not server.start():
                return 1
            listener.up()
            control = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_control(server, faults, listener))
            control.daemon_threads = True
            threading.Thread(target=control.serve_forever, daemon=True).start()
            env = dict(os.environ, MLOPS_TEST_MLFLOW_URI=server.uri, MLOPS_TEST_MLFLOW_DIR=tmp,
                       MLOPS_TEST_PROXY_URI=f"http://127.0.0.1:{listener.port}",
                       MLOPS_TEST_CONTROL_URI=f"http://127.0.0.1:{control.server_address[1]}")
            return subprocess.run(sys.argv[1:], env=env).returncode
        finally:
            if control is not None:
                control.shutdown()
            listener.down()
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
