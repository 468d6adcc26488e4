"""What the CLI's test scripts share: the tool and the fixture maker (taken off their command
line), running the tool with no store named by the environment, and a test case with a
fixture store of its own."""
import os
import subprocess
import sys
import tempfile
import unittest

MLOPS = None    # the mlops binary under test
FIXTURE = None  # make_fixture: writes a store with runs, models and profiles


def run(*args, env=None):
    """(exit code, stdout, stderr) of `mlops args`, with $MLOPS_TRACKING_URI and
    $MLFLOW_TRACKING_URI unset (and env added)."""
    e = dict(os.environ)
    e.pop("MLOPS_TRACKING_URI", None)
    e.pop("MLFLOW_TRACKING_URI", None)
    e.update(env or {})
    p = subprocess.run([MLOPS, *args], capture_output=True, text=True, env=e, timeout=60)
    return p.returncode, p.stdout, p.stderr


class FixtureCase(unittest.TestCase):
    """A test with self.tmp, a temporary directory, and self.db, a fixture store in it."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "f.db")
        p = subprocess.run([FIXTURE, self.db, self.tmp.name], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)

    def tearDown(self):
        self.tmp.cleanup()


def main():
    """unittest.main of the calling script: argv[1] is the tool, argv[2] the fixture maker."""
    global MLOPS, FIXTURE
    MLOPS = os.path.abspath(sys.argv.pop(1))
    FIXTURE = os.path.abspath(sys.argv.pop(1))
    unittest.main(module="__main__", verbosity=2)
