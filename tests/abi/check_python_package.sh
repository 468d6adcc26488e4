#!/bin/sh
# The Python package as a newcomer gets it: `pip install ./bindings/python` into a fresh venv,
# from another directory, with nothing in the environment pointing at libmlops; the package
# must carry its own libmlops.so and run the examples. Then make wheel's steps: a manylinux
# wheel repaired by auditwheel, installed where no compiler is on PATH, running them again.
# CUDA is left out of both builds to keep this quick (the main build covers it).
# Usage: check_python_package.sh SOURCE_ROOT
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
nocuda=-Csetup-args=-Dlibmlops:cuda=disabled

# In a fresh venv, an environment with no MLOPS_LIBRARY, LD_LIBRARY_PATH or PKG_CONFIG_PATH.
in_venv() {
	venv=$1 path=$2
	shift 2
	env -i HOME="${HOME:-$tmp}" PATH="$tmp/$venv/bin:$path" "$@"
}
examples() {
	in_venv "$1" "$2" python -c 'import mlops, sys; p = mlops.library_path(); assert p.startswith(sys.prefix), p; print("loaded", p)'
	in_venv "$1" "$2" python "$src/examples/python/hello.py" "$tmp/$1-hello.db" >/dev/null
	in_venv "$1" "$2" python "$src/examples/python/track.py" "$tmp/$1-track.db"
}

python3 -m venv "$tmp/installed"
in_venv installed /usr/bin:/bin pip install -q --disable-pip-version-check "$src/bindings/python[numpy]" "$nocuda"
examples installed /usr/bin:/bin
# The distribution's version is the library's (pyproject.toml and meson.build repeat it).
in_venv installed /usr/bin:/bin python -c 'import importlib.metadata as m, mlops
assert m.version("libmlops") == mlops.version(), (m.version("libmlops"), mlops.version())'

python3 -m pip wheel -q --disable-pip-version-check --no-deps -w "$tmp/raw" "$src/bindings/python" "$nocuda"
python3 -m auditwheel repair -w "$tmp/dist" "$tmp/raw"/libmlops-*.whl >"$tmp/auditwheel.log" 2>&1 ||
	{ cat "$tmp/auditwheel.log"; exit 1; }
wheel=$(ls "$tmp/dist"/libmlops-*manylinux*.whl)
echo "wheel: $(basename "$wheel")"
python3 -m venv "$tmp/wheel"
# No /usr/bin on PATH: no compiler, no pkg-config; pip only unpacks.
in_venv wheel "" pip install -q --disable-pip-version-check "$wheel" numpy
examples wheel ""
