#!/usr/bin/env python3
"""The mlops tool: golden output, --json, exit codes and bad arguments.

Usage: test_cli.py PATH_TO_MLOPS   (run by meson test, suite cli)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

MLOPS = None


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("MLOPS_TRACKING_URI", None)
    e.pop("MLFLOW_TRACKING_URI", None)
    e.update(env or {})
    p = subprocess.run([MLOPS, *args], capture_output=True, text=True, env=e, timeout=60)
    return p.returncode, p.stdout, p.stderr


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
        for cmd in ("version", "store"):
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
        rc, out, _ = run("--store", self.db, "store", "info")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.splitlines()[0], f"store: {self.db}")
        self.assertRegex(out.splitlines()[1], r"^schema version: [1-9]\d*$")
        rc, out, _ = run("--json", "store", "info", env={"MLOPS_TRACKING_URI": self.db})
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["uri"], self.db)

    def test_store_errors(self):
        rc, _, err = run("--store", os.path.join(self.tmp.name, "no/such/dir.db"), "store", "info")
        self.assertEqual(rc, 1)
        self.assertIn("cannot open the store", err)
        self.assertIn("no/such", err)
        rc, _, err = run("store", "bogus")
        self.assertEqual(rc, 2)
        rc, out, _ = run("store", "info", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("usage: mlops store info", out)


if __name__ == "__main__":
    MLOPS = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
