"""Shared helpers. Run with $MLOPS_LIBRARY naming the libmlops.so under test."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "mlops"


def run_python(code: str, env: Dict[str, str], cwd: Optional[Path] = None,
               python: str = sys.executable, user: Optional[int] = None
               ) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter (loading happens at import, once per process).

    It runs in the first $PYTHONPATH directory unless told otherwise, so that "" on sys.path
    cannot pick up the package from this checkout instead.
    """
    if cwd is None and env.get("PYTHONPATH"):
        cwd = Path(env["PYTHONPATH"].split(os.pathsep)[0])
    return subprocess.run([python, "-c", code], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60, user=user)


@pytest.fixture
def bare_env() -> Dict[str, str]:
    """An environment in which nothing points at libmlops."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLOPS_LIBRARY", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH", "PYTHONPATH")}
    env["PKG_CONFIG_PATH"] = ""
    env["PKG_CONFIG_LIBDIR"] = "/nonexistent"
    return env


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the package outside any checkout; returns the directory to put on sys.path."""
    dest = tmp_path / "site"
    shutil.copytree(PACKAGE_DIR, dest / "mlops", ignore=shutil.ignore_patterns("__pycache__"))
    return dest
