#!/usr/bin/env python3
"""No password, token or query secret of a store URI in anything the mlops tool shows or writes.

Every command that could print the store's URI runs against stores named with credentials: a
scripted MLflow server on 127.0.0.1 (it answers one run, records the Authorization header it
gets), a closed port, unknown schemes and a URL no parser accepts; given with --store,
$MLOPS_TRACKING_URI or $MLFLOW_TRACKING_URI, and with MLflow's token and password variables.
stdout, stderr and the bytes of every file left in the working directory (report HTML, spool
databases, ...) are searched for each secret.

Usage: test_secrets.py PATH_TO_MLOPS   (run by meson test, suite cli)
"""
import base64
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

MLOPS = None
RUN = "0123456789abcdef0123456789abcdef"
SECRETS = ["S3cretPw", "QuerySecret", "FragSecret", "Tok3nSecret", "EnvPassw0rd", "Hunter2pw"]

RUN_JSON = {"info": {"run_id": RUN, "run_name": "r", "experiment_id": "0", "status": "FINISHED",
                     "start_time": 1000, "end_time": 2000, "user_id": "u", "lifecycle_stage": "active",
                     "artifact_uri": f"mlflow-artifacts:/0/{RUN}/artifacts"},
            "data": {"params": [{"key": "lr", "value": "0.1"}],
                     "metrics": [{"key": "loss", "value": 0.5, "step": 1, "timestamp": 1500}],
                     "tags": []}}
EXPERIMENT = {"experiment_id": "0", "name": "Default", "lifecycle_stage": "active"}


class FakeMlflow(http.server.BaseHTTPRequestHandler):
    """Just enough of MLflow's REST API for one run; 404 RESOURCE_DOES_NOT_EXIST for the rest."""
    auth = []

    def log_message(self, *args):
        pass

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route(self):
        FakeMlflow.auth.append(self.headers.get("Authorization", ""))
        path = urllib.parse.urlparse(self.path).path
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        api = "/api/2.0/mlflow/"
        if path == api + "runs/get" and query.get("run_id") == [RUN]:
            return self.answer(200, {"run": RUN_JSON})
        if path == api + "runs/search":
            return self.answer(200, {"runs": [RUN_JSON]})
        if path == api + "metrics/get-history":
            return self.answer(200, {"metrics": RUN_JSON["data"]["metrics"]})
        if path in (api + "experiments/get", api + "experiments/get-by-name"):
            return self.answer(200, {"experiment": EXPERIMENT})
        if path == api + "experiments/search":
            return self.answer(200, {"experiments": [EXPERIMENT]})
        if path == api + "registered-models/search":
            return self.answer(200, {"registered_models": []})
        if path.startswith("/api/2.0/mlflow-artifacts/artifacts"):
            return self.answer(200, {"files": []})
        return self.answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no " + path})

    do_GET = do_POST = do_PATCH = do_DELETE = route


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Secrets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeMlflow)
        cls.server.daemon_threads = True
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.host = f"127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        with open(os.path.join(self.dir, "ref.csv"), "w") as f:
            f.write("x\n" + "".join(f"{i}\n" for i in range(50)))
        FakeMlflow.auth.clear()

    def tearDown(self):
        self.tmp.cleanup()

    def run_all(self, store_args, env):
        """Runs every command that can show the store in self.dir; returns {command: (rc, out, err)}."""
        e = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_TRACKING", "MLFLOW_"))}
        e["XDG_STATE_HOME"] = self.dir  # the MLflow spool, among the files searched for secrets
        e.update(env)
        commands = [["store", "info"], ["--json", "store", "info"], ["store", "check"],
                    ["runs", "list"], ["--json", "runs", "list"], ["runs", "show", RUN],
                    ["runs", "search", "--filter", "metrics.loss < 1"], ["metrics", RUN, "loss"],
                    ["models", "list"], ["models", "show", "m"], ["sync", "--timeout", "500"],
                    ["--json", "sync", "--timeout", "500"], ["report", RUN, "-o", "run.html"],
                    ["report", "m", "-o", "model.html"],
                    ["drift", "profile", "build", "m/1", "--data", "ref.csv"],
                    ["drift", "compare", "--profile", "m/1", "--data", "ref.csv"]]
        results = {}
        for cmd in commands:
            p = subprocess.run([MLOPS, *store_args, *cmd], cwd=self.dir, capture_output=True, text=True, env=e, timeout=60)
            self.assertGreaterEqual(p.returncode, 0, f"{cmd} crashed: {p.stderr}")
            results[" ".join(cmd)] = (p.returncode, p.stdout, p.stderr)
        return results

    def assert_nothing_shows(self, results):
        for cmd, (_, out, err) in results.items():
            for secret in SECRETS:
                self.assertNotIn(secret, out, f"stdout of `mlops {cmd}`")
                self.assertNotIn(secret, err, f"stderr of `mlops {cmd}`")
        for root, _, files in os.walk(self.dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read()
                for secret in SECRETS:
                    self.assertNotIn(secret.encode(), data, f"file {name}")

    def test_server_with_password_and_query(self):
        uri = f"http://alice:S3cretPw@{self.host}/?token=QuerySecret#FragSecret"
        for store_args, env in ((["--store", uri], {}), ([], {"MLOPS_TRACKING_URI": uri}),
                                ([], {"MLFLOW_TRACKING_URI": uri})):
            results = self.run_all(store_args, env)
            self.assert_nothing_shows(results)
            rc, out, err = results["store info"]
            self.assertEqual(rc, 0, err)
            self.assertEqual(out.splitlines()[0], f"store: http://alice:***@{self.host}/?token=***#***")
            self.assertEqual(json.loads(results["--json store info"][1])["uri"],
                             f"http://alice:***@{self.host}/?token=***#***")
            rc, _, err = results[f"report {RUN} -o run.html"]
            self.assertEqual(rc, 0, err)
            with open(os.path.join(self.dir, "run.html")) as f:
                self.assertIn(f"from http://alice:***@{self.host}/", f.read())
            # The credentials still reach the server, as Basic authentication.
            basic = "Basic " + base64.b64encode(b"alice:S3cretPw").decode()
            self.assertIn(basic, FakeMlflow.auth)
            self.assertTrue(all(a == basic for a in FakeMlflow.auth), set(FakeMlflow.auth))

    def test_environment_credentials(self):
        results = self.run_all(["--store", f"http://{self.host}"], {
            "MLFLOW_TRACKING_USERNAME": "carol", "MLFLOW_TRACKING_PASSWORD": "EnvPassw0rd"})
        self.assert_nothing_shows(results)
        self.assertIn("Basic " + base64.b64encode(b"carol:EnvPassw0rd").decode(), FakeMlflow.auth)
        FakeMlflow.auth.clear()
        results = self.run_all(["--store", f"http://{self.host}"], {"MLFLOW_TRACKING_TOKEN": "Tok3nSecret"})
        self.assert_nothing_shows(results)
        self.assertIn("Bearer Tok3nSecret", FakeMlflow.auth)

    def test_unreachable_server(self):
        uri = f"http://alice:S3cretPw@127.0.0.1:{closed_port()}?token=QuerySecret"
        results = self.run_all(["--store", uri], {})
        self.assert_nothing_shows(results)
        # Reads fail, and say where they went: the server, credentials masked.
        rc, _, err = results[f"runs show {RUN}"]
        self.assertNotEqual(rc, 0)
        self.assertIn("127.0.0.1", err)

    def test_stores_that_do_not_open(self):
        for uri in ("unknown+scheme://bob:Hunter2pw@x/db", "http://bob:Hunt/er2pw@host:1",
                    "http://bob:Hunter2pw@exa mple.com", "file:x.db?key=QuerySecret",
                    "file://bob:Hunter2pw@host/x.db", "weird://bob:Hunter2pw@x"):
            results = self.run_all(["--store", uri], {})
            self.assert_nothing_shows(results)
            for cmd, (rc, _, err) in results.items():
                self.assertNotEqual(rc, 0, cmd)
                self.assertIn("cannot open the store", err, cmd)
        rc, _, err = results["store info"]
        self.assertIn("'weird://bob:***@x': unknown scheme", err)


if __name__ == "__main__":
    MLOPS = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
