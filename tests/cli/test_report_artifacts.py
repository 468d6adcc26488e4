#!/usr/bin/env python3
"""mlops report and artifacts: found from any working directory, and named when missing.

Usage: test_report_artifacts.py PATH_TO_MLOPS PATH_TO_MAKE_FIXTURE   (meson test, suite cli)
"""
import glob
import os
import subprocess
import sys
import tempfile
import unittest

MLOPS = None
FIXTURE = None


def run(*args, cwd):
    e = dict(os.environ)
    e.pop("MLOPS_TRACKING_URI", None)
    e.pop("MLFLOW_TRACKING_URI", None)
    p = subprocess.run([MLOPS, *args], capture_output=True, text=True, env=e, cwd=cwd, timeout=60)
    return p.returncode, p.stdout, p.stderr


class ReportArtifacts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.work = os.path.join(self.tmp.name, "work")
        self.elsewhere = os.path.join(self.tmp.name, "elsewhere")
        os.mkdir(self.work)
        os.mkdir(self.elsewhere)
        # The store is named relative to the fixture's working directory, as Store("f.db") does.
        p = subprocess.run([FIXTURE, "f.db", "."], capture_output=True, text=True, cwd=self.work, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.run_id = p.stdout.strip()
        self.db = os.path.join(self.work, "f.db")
        self.html = os.path.join(self.tmp.name, "r.html")

    def tearDown(self):
        self.tmp.cleanup()

    def assertHas(self, needle, html, present=True):
        """assertIn without printing the whole report."""
        self.assertEqual(needle in html, present, f"{needle!r} {'not ' if present else ''}in the report")

    def report(self):
        rc, out, err = run("--store", self.db, "report", self.run_id, "-o", self.html, cwd=self.elsewhere)
        self.assertEqual(rc, 0, err)
        with open(self.html) as f:
            return f.read(), err

    def test_histogram_found_from_another_working_directory(self):
        html, err = self.report()
        self.assertHas("amount: reference vs current", html)
        self.assertHas("Not shown", html, False)
        self.assertEqual(err, "")

    def test_missing_artifact_is_named(self):
        stored = glob.glob(os.path.join(self.work, "f.db.artifacts", "*", self.run_id, "artifacts",
                                        "drift", "amount.hist.json"))
        self.assertEqual(len(stored), 1)
        os.unlink(stored[0])
        html, err = self.report()
        self.assertHas("amount: reference vs current", html, False)
        self.assertHas('<p class="missing">Not shown: histogram from artifact drift/amount.hist.json: ', html)
        self.assertHas("is missing", html)
        self.assertIn("mlops: report: not shown: histogram from artifact drift/amount.hist.json: ", err)

    def test_damaged_artifact_is_named(self):
        stored = glob.glob(os.path.join(self.work, "f.db.artifacts", "*", self.run_id, "artifacts",
                                        "drift", "amount.hist.json"))
        with open(stored[0], "r+b") as f:
            f.write(b"[")
        html, err = self.report()
        self.assertHas("Not shown: histogram from artifact drift/amount.hist.json: ", html)
        self.assertHas("is corrupt", html)


if __name__ == "__main__":
    MLOPS = os.path.abspath(sys.argv.pop(1))
    FIXTURE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
