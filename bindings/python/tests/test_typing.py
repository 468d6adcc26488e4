"""py.typed is honest: the package passes ``mypy --strict``, and every public function has type
hints and a docstring."""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Tuple

import pytest

import mlops

PACKAGE = Path(__file__).resolve().parents[1] / "mlops"


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="needs mypy (pip install mypy)")
def test_mypy_strict() -> None:
    # A cache outside the checkout, kept between runs: a cold run takes several seconds.
    cache = Path(tempfile.gettempdir()) / "mlops-mypy-cache"
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), str(PACKAGE)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _public_functions() -> Iterator[Tuple[str, Any]]:
    """Every public function of the package: module functions and methods of public classes."""
    drift = importlib.import_module("mlops.drift")  # needs numpy, as the tests do
    seen = set()
    for module in (mlops, mlops.fluent, mlops.models, drift):
        for name in getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")]):
            obj = getattr(module, name, None)
            if id(obj) in seen or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            seen.add(id(obj))
            if not obj.__module__.startswith("mlops"):
                continue  # imported from elsewhere (dataclass, NamedTuple, ...)
            if inspect.isfunction(obj):
                yield module.__name__ + "." + name, obj
                continue
            for attr in dir(obj):  # Store's tracking methods are attached to it
                member = inspect.getattr_static(obj, attr)
                fn = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                if not attr.startswith("_") and inspect.isfunction(fn) and fn.__module__.startswith("mlops"):
                    yield "%s.%s.%s" % (module.__name__, name, attr), fn


def test_public_functions_documented_and_typed() -> None:
    undocumented = [name for name, fn in _public_functions() if not inspect.getdoc(fn)]
    untyped = [name for name, fn in _public_functions()
               if any(p.annotation is inspect.Parameter.empty and p.name not in ("self", "cls")
                      for p in inspect.signature(fn).parameters.values())
               or inspect.signature(fn).return_annotation is inspect.Signature.empty]
    assert undocumented == [] and untyped == []
    assert len(list(_public_functions())) > 150  # it looked at them all
