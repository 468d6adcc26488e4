#!/usr/bin/env python3
"""mlops store check, and commands that only read refusing a store that is not there.

Usage: test_store_cmd.py PATH_TO_MLOPS PATH_TO_MAKE_FIXTURE   (run by meson test, suite cli)
"""
import json
import os
import sqlite3
import tempfile
import unittest

from cli_tool import FixtureCase, main, run





class StoreCheck(FixtureCase):
    def damage(self, table):
        """Overwrites the root page of table with garbage (the store is closed, WAL checkpointed)."""
        with sqlite3.connect(self.db) as c:
            page_size = c.execute("PRAGMA page_size").fetchone()[0]
            root = c.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
        with open(self.db, "r+b") as f:
            f.seek((root - 1) * page_size)
            f.write(b"\xa5" * page_size)

    def test_good_store(self):
        rc, out, err = run("--store", self.db, "store", "check")
        self.assertEqual((rc, out, err), (0, "ok\n", ""))
        rc, out, _ = run("--json", "--store", self.db, "store", "check")
        self.assertEqual(rc, 0)
        doc = json.loads(out)
        self.assertEqual((doc["uri"], doc["ok"], doc["findings"]), (self.db, True, []))

    def test_damaged_store(self):
        self.damage("rg_models")
        # Opening stays cheap: the damage does not show until a statement meets it.
        rc, _, _ = run("--store", self.db, "runs", "list")
        self.assertEqual(rc, 0)
        rc, out, err = run("--store", self.db, "store", "check")
        self.assertEqual(rc, 1, err)
        self.assertIn("page check: ", out)
        self.assertIn("is damaged", err)
        rc, out, _ = run("--json", "--store", self.db, "store", "check")
        self.assertEqual(rc, 1)
        doc = json.loads(out)
        self.assertFalse(doc["ok"])
        self.assertTrue(doc["findings"])
        self.assertTrue(doc["findings"][0].startswith("page check: "), doc["findings"])
        self.assertTrue(all(f and "\n" not in f for f in doc["findings"]), doc["findings"])

    def test_bad_usage(self):
        rc, _, _ = run("--store", self.db, "store", "check", "extra")
        self.assertEqual(rc, 2)


class MissingStore(unittest.TestCase):
    """A typo in --store must not create an empty store and print empty tables."""

    def test_read_commands_refuse(self):
        with tempfile.TemporaryDirectory() as tmp:
            missing = os.path.join(tmp, "missing.db")
            for cmd in (["runs", "list"], ["runs", "search", "--filter", "params.lr = '1'"], ["runs", "show", "0" * 32],
                        ["metrics", "0" * 32, "loss"], ["models", "list"], ["models", "show", "fraud"],
                        ["models", "audit", "fraud"], ["store", "info"], ["store", "check"],
                        ["report", "fraud", "-o", os.path.join(tmp, "r.html")], ["sync"]):
                rc, out, err = run("--store", missing, *cmd)
                self.assertEqual(rc, 3, (cmd, out, err))
                self.assertIn("no store at " + missing, err, cmd)
                self.assertEqual(os.listdir(tmp), [], cmd)
            rc, _, err = run("--store", "sqlite:///" + missing, "runs", "list")
            self.assertEqual(rc, 3, err)
            self.assertEqual(os.listdir(tmp), [])


if __name__ == "__main__":
    main()
