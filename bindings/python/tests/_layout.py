"""Struct layouts of the bindings checked against the C headers (sizeof and offsetof)."""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import mlops


def layout_in_python(structs: dict) -> list:
    out = []
    for cls in structs.values():
        out.append(ctypes.sizeof(cls))
        out += [getattr(cls, f).offset for f, _ in cls._fields_]
    return out


def layout_in_c(tmp_path: Path, header: str, structs: dict) -> list:
    """sizeof and offsetof of each struct's fields, compiled against the library's headers
    (a trailing underscore in a Python field name, as from_, is dropped: a Python keyword)."""
    cc = shutil.which("cc")
    libdir = Path(os.path.abspath(mlops.library_path())).parent
    pc = libdir.parent / "libmlops-uninstalled.pc"
    if cc is None or not pc.exists():
        pytest.skip("needs cc and a build tree with libmlops-uninstalled.pc")
    cflags = subprocess.run(["pkg-config", "--cflags", "libmlops-uninstalled"], check=True,
                            capture_output=True, text=True,
                            env=dict(os.environ, PKG_CONFIG_PATH=str(pc.parent))).stdout.split()
    body = ""
    for cname, cls in structs.items():
        body += ' printf("%%zu\\n", sizeof(%s));\n' % cname
        body += "".join(' printf("%%zu\\n", offsetof(%s, %s));\n' % (cname, f.rstrip("_"))
                        for f, _ in cls._fields_)
    src = tmp_path / "layout.c"
    src.write_text("#include <stdio.h>\n#include <stddef.h>\n#include <%s>\nint main(void) {\n%s return 0;\n}\n"
                   % (header, body))
    exe = tmp_path / "layout"
    subprocess.run([cc, *cflags, str(src), "-o", str(exe)], check=True)
    return [int(x) for x in subprocess.run([str(exe)], check=True, capture_output=True,
                                           text=True).stdout.split()]
