#!/usr/bin/env python3
"""The mlops tool: golden output, --json, exit codes and bad arguments.

Usage: test_cli.py PATH_TO_MLOPS   (run by meson test, suite cli)
"""
import json
import math
import random
import struct
import os
import subprocess
import tempfile
import unittest

import cli_tool
from cli_tool import main, run





class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "t.db")

    def tearDown(self):
        self.tmp.cleanup()

    def test_help_lists_commands_and_exit_codes(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        self.assertIn("usage: mlops", out)
        for cmd in ("version", "store", "runs", "metrics", "models", "drift", "sync", "report", "gpu"):
            self.assertIn(f"\n  {cmd} ", out)
        self.assertIn("exit codes: 0 ok, 1 failed, 2 bad usage, 3 not found", out)

    def test_no_command_is_usage_error(self):
        rc, out, err = run()
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("usage: mlops", err)

    def test_unknown_command_and_option(self):
        rc, _, err = run("frobnicate")
        self.assertEqual(rc, 2)
        self.assertEqual(err, "mlops: unknown command 'frobnicate' (see 'mlops --help')\n")
        rc, _, err = run("--bogus", "version")
        self.assertEqual(rc, 2)

    def test_version_text_and_json(self):
        rc, out, _ = run("version")
        self.assertEqual(rc, 0)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^mlops \d+\.\d+\.\d+$")
        self.assertEqual([l.split(":")[0] for l in lines[1:]], ["cuda", "gpu", "remote"])
        rc, out, _ = run("--json", "version")
        self.assertEqual(rc, 0)
        doc = json.loads(out)
        self.assertEqual(doc["version"], lines[0].split()[1])
        major, minor, patch = map(int, doc["version"].split("."))
        self.assertEqual(doc["version_number"], major * 10000 + minor * 100 + patch)
        self.assertEqual(sorted(doc["features"]), ["cuda", "gpu", "remote"])
        rc, _, err = run("version", "extra")
        self.assertEqual(rc, 2)

    def test_store_info(self):
        p = subprocess.run([cli_tool.FIXTURE, self.db, self.tmp.name], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        rc, out, _ = run("--store", self.db, "store", "info")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.splitlines()[0], f"store: {self.db}")
        self.assertRegex(out.splitlines()[1], r"^schema version: [1-9]\d*$")
        rc, out, _ = run("--json", "store", "info", env={"MLOPS_TRACKING_URI": self.db})
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["uri"], self.db)

    def test_store_errors(self):
        rc, _, err = run("--store", os.path.join(self.tmp.name, "no/such/dir.db"), "store", "info")
        self.assertEqual(rc, 3)
        self.assertIn("cannot open the store", err)
        self.assertIn("no/such", err)
        rc, _, err = run("store", "bogus")
        self.assertEqual(rc, 2)
        rc, out, _ = run("store", "info", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("usage: mlops store info", out)


class WithStore(unittest.TestCase):
    """Commands over a store written by make_fixture (one run, a model with two versions)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "f.db")
        p = subprocess.run([cli_tool.FIXTURE, self.db, self.tmp.name], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.run_id = p.stdout.strip()
        self.assertRegex(self.run_id, r"^[0-9a-f]{32}$")

    def tearDown(self):
        self.tmp.cleanup()

    def mlops(self, *args, actor=None):
        pre = ["--store", self.db] + (["--actor", actor] if actor else [])
        return run(*pre, *args)

    def test_runs_list_and_show(self):
        rc, out, _ = self.mlops("runs", "list")
        self.assertEqual(rc, 0)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["RUN", "ID", "NAME", "STATUS", "STARTED", "(UTC)"])
        self.assertEqual(lines[1].split()[:3], [self.run_id, "fixture-run", "FINISHED"])
        rc, out, _ = self.mlops("--json", "runs", "list")
        doc = json.loads(out)
        self.assertEqual(len(doc), 1)
        self.assertEqual(doc[0]["params"], {"lr": "0.01"})
        self.assertAlmostEqual(doc[0]["metrics"]["loss"], math.exp(-199 / 50.0), places=12)
        rc, out, _ = self.mlops("runs", "show", self.run_id)
        self.assertEqual(rc, 0)
        self.assertIn("  lr = 0.01\n", out)
        self.assertIn("  team = fraud\n", out)
        self.assertIn("  status: FINISHED\n", out)
        rc, _, err = self.mlops("runs", "show", "0" * 32)
        self.assertEqual(rc, 3, err)
        rc, _, _ = self.mlops("runs", "show")
        self.assertEqual(rc, 2)

    def test_runs_search(self):
        rc, out, _ = self.mlops("--json", "runs", "search", "--filter", "params.lr = '0.01' and metrics.loss < 1")
        self.assertEqual(rc, 0)
        self.assertEqual([r["run_id"] for r in json.loads(out)], [self.run_id])
        rc, out, _ = self.mlops("--json", "runs", "search", "--filter", "metrics.loss > 5")
        self.assertEqual(json.loads(out), [])
        rc, _, err = self.mlops("runs", "search", "--filter", "metrics.loss >> 5")
        self.assertEqual(rc, 2)
        self.assertIn("position", err)
        rc, _, err = self.mlops("runs", "list", "--max", "-3")
        self.assertEqual(rc, 2)

    def test_metrics(self):
        rc, out, _ = self.mlops("--json", "metrics", self.run_id, "loss")
        self.assertEqual(rc, 0)
        pts = json.loads(out)
        self.assertEqual([p["step"] for p in pts], list(range(200)))
        self.assertEqual(pts[50]["value"], math.exp(-1.0))
        rc, out, _ = self.mlops("--json", "metrics", self.run_id, "loss", "--max-points", "4")
        steps = [p["step"] for p in json.loads(out)]
        self.assertEqual(len(steps), 4)
        self.assertEqual((steps[0], steps[-1]), (0, 199))
        rc, _, _ = self.mlops("metrics", self.run_id, "nope")
        self.assertEqual(rc, 3)
        rc, _, _ = self.mlops("metrics", self.run_id, "loss", "--max-points", "many")
        self.assertEqual(rc, 2)

    def test_models_approval_alias_and_audit(self):
        rc, out, _ = self.mlops("models", "list")
        self.assertEqual(out, "fraud\n")
        rc, out, _ = self.mlops("--json", "models", "show", "fraud")
        doc = json.loads(out)
        self.assertEqual([v["version"] for v in doc["versions"]], [1, 2])
        self.assertEqual(doc["versions"][0]["creator"], "alice")
        # Four eyes: the creator may not approve her own version.
        rc, _, err = self.mlops("models", "approve", "fraud", "2", actor="alice")
        self.assertEqual(rc, 1)
        self.assertIn("approve", err)
        rc, _, err = self.mlops("models", "approve", "fraud", "2", "--reason", "backtest ok", actor="bob")
        self.assertEqual(rc, 0, err)
        rc, _, err = self.mlops("models", "alias", "set", "fraud", "production", "1", actor="bob")
        self.assertEqual(rc, 0, err)
        rc, _, err = self.mlops("models", "alias", "set", "fraud", "production", "2", "--reason", "ship v2", actor="bob")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.mlops("models", "alias", "rollback", "fraud", "production", actor="bob")
        self.assertEqual((rc, out), (0, "fraud@production -> version 1\n"), err)
        rc, out, _ = self.mlops("--json", "models", "audit", "fraud")
        actions = [(e["actor"], e["action"], e["target"], e["to"], e["reason"]) for e in json.loads(out)]
        self.assertIn(("bob", "alias.set", "production", "2", "ship v2"), actions)
        self.assertEqual(actions[-1][:3], ("bob", "alias.rollback", "production"))
        self.assertTrue(any(a[0] == "bob" and a[4] == "backtest ok" for a in actions))
        rc, _, _ = self.mlops("models", "alias", "set", "fraud", "production", "two")
        self.assertEqual(rc, 2)
        rc, _, _ = self.mlops("models", "show", "nope")
        self.assertEqual(rc, 3)
        rc, _, _ = self.mlops("models", "alias", "frob")
        self.assertEqual(rc, 2)

    def test_report(self):
        out_html = os.path.join(self.tmp.name, "r.html")
        rc, out, err = self.mlops("report", self.run_id, "fraud", "-o", out_html)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, f"wrote {out_html}\n")
        html = open(out_html).read()
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertNotIn("<script", html)
        self.assertNotIn("http://", html.replace('xmlns="http://www.w3.org/2000/svg"', ""))
        for needle in ("<title>loss</title>", "PSI per feature", "KS p-value per feature",
                       "amount: reference vs current", "Audit trail", "staging", "lr"):
            self.assertIn(needle, html)
        self.assertGreaterEqual(html.count('<path fill="none"'), 3)
        rc, _, _ = self.mlops("report", self.run_id)
        self.assertEqual(rc, 2)
        rc, _, err = self.mlops("report", "nope", "-o", out_html)
        self.assertEqual(rc, 3)

    def write_csv(self, name, header, rows):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(",".join(header) + "\n")
            for r in rows:
                f.write(",".join("" if v is None else repr(v) for v in r) + "\n")
        return path

    def test_drift_profile_and_compare(self):
        rng = random.Random(7)
        ref = [(rng.gauss(0, 1), rng.gauss(0, 1)) for _ in range(3000)]
        same = self.write_csv("same.csv", ["b", "a"], [(y, x) for x, y in ref])  # columns by name
        shifted = self.write_csv("shift.csv", ["a", "b"], [(x + 0.6, y) for x, y in ref[:2000]])
        rc, out, err = self.mlops("drift", "profile", "build", "fraud/2",
                                  "--data", self.write_csv("ref.csv", ["a", "b"], ref))
        self.assertEqual((rc, out), (0, "profile of 2 features over 3000 rows saved with fraud/2\n"), err)
        rc, out, err = self.mlops("--json", "drift", "compare", "--profile", "fraud@staging", "--data", same)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual([f["feature"] for f in doc["features"]], ["a", "b"])
        self.assertTrue(all(f["ks_statistic"] == 0 and f["psi"] == 0 for f in doc["features"]))
        rc, out, err = self.mlops("--json", "drift", "compare", "--profile", "fraud/2", "--data", shifted,
                                  "--correction", "bonferroni")
        self.assertEqual(rc, 4, err)  # drift detected
        doc = json.loads(out)
        self.assertEqual([f["drifted"] for f in doc["features"]], [True, False])
        self.assertGreater(doc["features"][0]["psi"], 0.2)
        # float32 rows in the profile's feature order
        f32 = os.path.join(self.tmp.name, "cur.f32")
        with open(f32, "wb") as f:
            f.write(struct.pack("<%df" % (2 * len(ref)), *[v for r in ref for v in r]))
        rc, out, err = self.mlops("drift", "compare", "--profile", "fraud/2", "--data", f32, "--format", "f32")
        self.assertEqual(rc, 0, err)
        self.assertIn("0 of 2 features drifted (3000 rows against fraud/2)", out)
        # bad inputs: a missing column, a ragged file, a float32 file of the wrong size, no profile
        rc, _, err = self.mlops("drift", "compare", "--profile", "fraud/2",
                                "--data", self.write_csv("x.csv", ["a", "z"], ref[:10]))
        self.assertEqual(rc, 2)
        self.assertIn("no column 'b'", err)
        bad = os.path.join(self.tmp.name, "bad.csv")
        open(bad, "w").write("a,b\n1,2\n3\n")
        rc, _, err = self.mlops("drift", "compare", "--profile", "fraud/2", "--data", bad)
        self.assertEqual(rc, 1)  # a bad file, not a bad command line (tests/cli/test_csv.py has every shape)
        self.assertIn("bad.csv:3:2: only 1 of the header's 2 fields", err)
        with open(f32, "ab") as f:
            f.write(b"\0\0\0\0")
        rc, _, err = self.mlops("drift", "compare", "--profile", "fraud/2", "--data", f32, "--format", "f32")
        self.assertEqual(rc, 2)
        rc, _, err = self.mlops("drift", "compare", "--profile", "fraud/1", "--data", same)
        self.assertEqual(rc, 3, err)
        rc, _, _ = self.mlops("drift", "compare", "--data", same)
        self.assertEqual(rc, 2)

    def test_sync_on_a_local_store(self):
        rc, out, _ = self.mlops("sync")
        self.assertEqual((rc, out), (0, "synced: 0 writes sent, 0 waiting, 0 refused by the server\n"))
        rc, out, _ = self.mlops("sync", "--json")
        self.assertEqual((rc, json.loads(out)), (0, {"synced": True, "sent": 0, "waiting": 0, "pending": 0,
                                                     "rejected": 0, "rejected_reasons": []}))
        rc, _, _ = self.mlops("sync", "--timeout", "soon")
        self.assertEqual(rc, 2)

    def test_sync_progress_only_on_a_terminal(self):
        import pty
        master, slave = pty.openpty()
        try:
            p = subprocess.run([cli_tool.MLOPS, "--store", self.db, "sync"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=slave, timeout=60)
            os.close(slave)
            slave = -1
            err = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the tool has gone
                    break
                if not chunk:
                    break
                err += chunk
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"0 sent, 0 waiting, 0 refused, 0/s, ETA -", err)
        _, _, err = self.mlops("sync")  # stderr a pipe: no progress line
        self.assertEqual(err, "")

    def test_gpu_info(self):
        rc, out, _ = run("--json", "gpu", "info")
        self.assertEqual(rc, 0)
        doc = json.loads(out)
        self.assertIn(doc["pool_backend"], ("host", "cuda"))
        self.assertEqual(doc["pool_backend"] == "cuda", doc["gpu_usable"])
        rc, _, _ = run("gpu")
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    main()
