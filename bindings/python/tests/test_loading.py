"""Finding libmlops: the order of places, the error naming them all, the version check."""
from __future__ import annotations

import ctypes.util
import os
import shutil
from pathlib import Path
from typing import Dict

import pytest

import mlops
from conftest import run_python

PRINT_PATH = "import mlops; print(mlops.library_path())"


def real_library() -> str:
    return os.path.realpath(mlops.library_path())


def test_not_found_names_every_place(bare_env: Dict[str, str], package_copy: Path) -> None:
    if ctypes.util.find_library("mlops"):
        pytest.skip("libmlops is installed system-wide")
    bare_env["PYTHONPATH"] = str(package_copy)
    r = run_python(PRINT_PATH, bare_env, cwd=package_copy)
    assert r.returncode != 0
    assert "ImportError: mlops: cannot find libmlops; tried, in order:" in r.stderr
    for place in ("$MLOPS_LIBRARY (not set)", "not a pip-installed package", "not inside a libmlops checkout",
                  "find_library('mlops')", "pkg-config --variable=libdir libmlops",
                  "Set $MLOPS_LIBRARY"):
        assert place in r.stderr, r.stderr


def test_explicit_library_that_fails(bare_env: Dict[str, str], package_copy: Path,
                                     tmp_path: Path) -> None:
    bare_env["PYTHONPATH"] = str(package_copy)
    bare_env["MLOPS_LIBRARY"] = str(tmp_path / "nope" / "libmlops.so")
    r = run_python(PRINT_PATH, bare_env)
    assert r.returncode != 0
    assert "cannot load libmlops from $MLOPS_LIBRARY: %s" % bare_env["MLOPS_LIBRARY"] in r.stderr


def test_explicit_library(bare_env: Dict[str, str], package_copy: Path) -> None:
    bare_env["PYTHONPATH"] = str(package_copy)
    bare_env["MLOPS_LIBRARY"] = real_library()
    r = run_python(PRINT_PATH, bare_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == real_library()


def test_bundled_library_comes_before_the_checkout(bare_env: Dict[str, str], tmp_path: Path) -> None:
    """What pip installs: mlops/libmlops.so beside the modules wins over every other place."""
    site = tmp_path / "site"
    shutil.copytree(Path(mlops.__file__).parent, site / "mlops", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(real_library(), site / "mlops" / "libmlops.so")
    bare_env["PYTHONPATH"] = str(site)
    r = run_python(PRINT_PATH, bare_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(site / "mlops" / "libmlops.so")


def test_build_tree_of_a_checkout(bare_env: Dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    (root / "include" / "mlops").mkdir(parents=True)
    (root / "include" / "mlops" / "common.h").touch()
    (root / "build" / "src").mkdir(parents=True)
    os.symlink(real_library(), root / "build" / "src" / "libmlops.so")
    shutil.copytree(Path(mlops.__file__).parent, root / "bindings" / "python" / "mlops",
                    ignore=shutil.ignore_patterns("__pycache__"))
    bare_env["PYTHONPATH"] = str(root / "bindings" / "python")
    r = run_python(PRINT_PATH, bare_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(root / "build" / "src" / "libmlops.so")


def test_pkg_config_libdir(bare_env: Dict[str, str], package_copy: Path, tmp_path: Path) -> None:
    if not shutil.which("pkg-config"):
        pytest.skip("no pkg-config")
    libdir = tmp_path / "lib"
    libdir.mkdir()
    os.symlink(real_library(), libdir / "libmlops.so.0")
    (tmp_path / "libmlops.pc").write_text(
        "libdir=%s\nName: libmlops\nDescription: test\nVersion: 0.1.0\nLibs: -L${libdir} -lmlops\n"
        % libdir)
    bare_env["PYTHONPATH"] = str(package_copy)
    bare_env["PKG_CONFIG_PATH"] = str(tmp_path)
    bare_env.pop("PKG_CONFIG_LIBDIR")
    r = run_python(PRINT_PATH, bare_env)
    if ctypes.util.find_library("mlops"):
        pytest.skip("libmlops is installed system-wide; find_library wins")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(libdir / "libmlops.so.0")


@pytest.mark.parametrize("number,text", [(20000, "2.0.0"), (99, "0.0.99")])
def test_unsupported_version_is_refused(bare_env: Dict[str, str], package_copy: Path,
                                        tmp_path: Path, number: int, text: str) -> None:
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("needs a C compiler to build a fake libmlops")
    src = tmp_path / "fake.c"
    src.write_text('int mlops_version_number(void) { return %d; }\n'
                   'const char *mlops_version_string(void) { return "%s"; }\n' % (number, text))
    lib = tmp_path / "libmlops.so"
    assert os.system("%s -shared -fPIC -o %s %s" % (cc, lib, src)) == 0
    bare_env["PYTHONPATH"] = str(package_copy)
    bare_env["MLOPS_LIBRARY"] = str(lib)
    r = run_python(PRINT_PATH, bare_env)
    assert r.returncode != 0
    assert "is libmlops %s; this package supports >= 0.1.0, < 1.0.0" % text in r.stderr
