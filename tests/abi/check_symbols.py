#!/usr/bin/env python3
"""Checks the exported symbols of libmlops.so against the version script and the headers.

Fails when the library exports a name that does not start with mlops_ or is not listed in
src/libmlops.map, when the map lists a name the library does not define, or when a public
header declares an MLOPS_API function that the library does not export.
Usage: check_symbols.py LIBMLOPS_SO MAP_FILE INCLUDE_DIR
"""
import pathlib
import re
import subprocess
import sys


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVWi":
            names.add(parts[2].split("@")[0])
    return names - {"_init", "_fini", "_edata", "_end", "__bss_start"}


def mapped(path):
    text = re.sub(r"/\*.*?\*/", "", pathlib.Path(path).read_text(), flags=re.S)
    names = set()
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names.update(re.findall(r"(\w+)\s*;", block))
    return names


def declared(include_dir):
    names = set()
    for h in pathlib.Path(include_dir).glob("mlops/*.h"):
        text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
        text = re.sub(r"^\s*#.*$", "", text, flags=re.M)  # the macro's own definition
        for decl in re.findall(r"MLOPS_API\b([^;{]*?)\(", text):
            names.add(re.findall(r"(mlops_\w+)\s*$", decl.strip())[-1])
    return names


def main():
    lib, map_file, include_dir = sys.argv[1:4]
    exp, mp, decl = exported(lib), mapped(map_file), declared(include_dir)
    problems = []
    problems += [f"exported without the mlops_ prefix: {n}" for n in sorted(exp) if not n.startswith("mlops_")]
    problems += [f"in the version script without the mlops_ prefix: {n}" for n in sorted(mp) if not n.startswith("mlops_")]
    problems += [f"exported but not in {map_file}: {n}" for n in sorted(exp - mp) if n.startswith("mlops_")]
    problems += [f"in the version script but not defined: {n}" for n in sorted(mp - exp)]
    problems += [f"declared MLOPS_API in a header but not exported: {n}" for n in sorted(decl - exp)]
    for p in problems:
        print("FAIL:", p)
    print(f"{len(exp)} exported, {len(mp)} in the version script, {len(decl)} declared in headers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
