"""Finding and loading libmlops, and declaring its functions.

Every C function the package calls is declared here or in the module that wraps it, through
:func:`declare`, with its exact argument and result types: ctypes' default (``int`` for every
result) would truncate returned pointers on 64-bit machines.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

#: The libmlops versions this package can drive: MLOPS_VERSION_NUMBER in [MIN, MAX).
#: The ABI only grows within a major version, so any 0.x at or above 0.1.0 works.
MIN_VERSION = 100  # 0.1.0
MAX_VERSION = 10000  # 1.0.0 (exclusive)

_SONAME = "libmlops.so.0"


def _format_version(n: int) -> str:
    return "%d.%d.%d" % (n // 10000, n // 100 % 100, n % 100)


def _checkout_candidates() -> List[Path]:
    """The plain build of the checkout this package sits in (bindings/python/mlops/ -> repo root)."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "include" / "mlops" / "common.h").is_file():
        return []
    return [root / "build" / "src" / "libmlops.so", root / "build" / "src" / _SONAME]


def _pkg_config_candidates() -> Tuple[List[Path], Optional[str]]:
    try:
        out = subprocess.run(["pkg-config", "--variable=libdir", "libmlops"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return [], "pkg-config --variable=libdir libmlops: %s" % e
    libdir = out.stdout.strip()
    if out.returncode != 0 or not libdir:
        return [], "pkg-config --variable=libdir libmlops: no libmlops.pc on PKG_CONFIG_PATH"
    return [Path(libdir) / _SONAME, Path(libdir) / "libmlops.so"], None


def _load() -> Tuple[ctypes.CDLL, str]:
    """Loads libmlops from the first place that has it; ImportError naming every place tried."""
    tried: List[str] = []

    def attempt(path: str) -> Optional[ctypes.CDLL]:
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            return None

    env = os.environ.get("MLOPS_LIBRARY")
    if env:
        # An explicit choice is never silently replaced by another library.
        lib = attempt(env)
        if lib is None:
            raise ImportError("mlops: cannot load libmlops from $MLOPS_LIBRARY: " + tried[0])
        return lib, env
    tried.append("$MLOPS_LIBRARY (not set)")

    # The library pip installed with the package (pip install ./bindings/python, the wheel).
    bundled = Path(__file__).resolve().parent / "libmlops.so"
    if bundled.exists():
        lib = attempt(str(bundled))
        if lib is not None:
            return lib, str(bundled)
    else:
        tried.append("%s (no such file: not a pip-installed package)" % bundled)

    checkout = _checkout_candidates()
    if not checkout:
        tried.append("build tree (the package is not inside a libmlops checkout)")
    for path in checkout:
        if path.exists():
            lib = attempt(str(path))
            if lib is not None:
                return lib, str(path)
        else:
            tried.append("%s (no such file)" % path)

    name = ctypes.util.find_library("mlops")
    if name:
        lib = attempt(name)
        if lib is not None:
            return lib, name
    else:
        tried.append("ctypes.util.find_library('mlops') (found nothing)")

    paths, why = _pkg_config_candidates()
    if why:
        tried.append(why)
    for path in paths:
        if path.exists():
            lib = attempt(str(path))
            if lib is not None:
                return lib, str(path)
        else:
            tried.append("%s (no such file)" % path)

    raise ImportError("mlops: cannot find libmlops; tried, in order:\n  " + "\n  ".join(tried) +
                      "\nSet $MLOPS_LIBRARY to the path of libmlops.so, or install libmlops.")


lib, path = _load()
version_string = "(unknown)"


def declare(name: str, restype: Any, argtypes: Sequence[Any],
            errcheck: Optional[Callable[..., Any]] = None) -> Any:
    """Declares the C function ``name`` of libmlops and returns it.

    ``restype`` and ``argtypes`` must match the header exactly (``None`` for ``void``);
    ``errcheck`` (usually :func:`mlops._errors.check_status`) turns failures into exceptions.
    """
    try:
        fn = getattr(lib, name)
    except AttributeError:
        raise ImportError("mlops: %s (libmlops %s) has no function %s: the package is newer "
                          "than the library" % (path, version_string, name)) from None
    fn.restype = restype
    fn.argtypes = list(argtypes)
    if errcheck is not None:
        fn.errcheck = errcheck
    return fn


_version_number = declare("mlops_version_number", ctypes.c_int, [])
_version_string = declare("mlops_version_string", ctypes.c_char_p, [])

version_number: int = _version_number()
version_string = (_version_string() or b"").decode("ascii", "replace")

if not MIN_VERSION <= version_number < MAX_VERSION:
    raise ImportError("mlops: %s is libmlops %s; this package supports >= %s, < %s"
                      % (path, version_string, _format_version(MIN_VERSION),
                         _format_version(MAX_VERSION)))
