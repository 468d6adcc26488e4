#!/bin/sh
# Compares the ABI of the built libmlops.so with the committed baseline (abi/libmlops.abi)
# using libabigail. Additions pass (and say the baseline can be refreshed); an incompatible
# change fails. To change the baseline on purpose: scripts/update-abi-baseline, plus a line in
# CHANGELOG.md. libabigail flags only removed symbols as "incompatible"; a changed type of an
# existing function or struct (a field removed, resized, reordered) is an "ABI change": both fail
# here, since either breaks compiled programs. Usage: check_abi.sh LIBMLOPS_SO SRC_INCLUDE BUILD_INCLUDE BASELINE
set -u
lib=$1; src_inc=$2; build_inc=$3; baseline=$4
if ! command -v abidw >/dev/null || ! command -v abidiff >/dev/null; then
	echo "abidw/abidiff not found: install Debian's abigail-tools"; exit 1
fi
[ -f "$baseline" ] || { echo "no ABI baseline at $baseline: run scripts/update-abi-baseline"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abidw --no-corpus-path --headers-dir "$src_inc/mlops" --headers-dir "$build_inc/mlops" \
	--out-file "$tmp/current.abi" "$lib" || { echo "abidw failed"; exit 1; }
# Opaque handles are defined in src/: abi/suppressions.ini keeps their layout out of the ABI.
supp=$(dirname "$baseline")/suppressions.ini
abidiff --no-added-syms --suppressions "$supp" "$baseline" "$tmp/current.abi" > "$tmp/report" 2>&1
rc=$?
# abidiff's exit status is a bit field: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
if [ $((rc & 3)) -ne 0 ]; then
	cat "$tmp/report"; echo "abidiff failed (status $rc)"; exit 1
fi
if [ $((rc & 12)) -ne 0 ]; then
	cat "$tmp/report"
	echo "ABI CHANGE against $baseline (status $rc): an existing symbol or type changed or went away."
	echo "If this break is deliberate (allowed before 1.0), run scripts/update-abi-baseline and add a CHANGELOG.md line."
	exit 1
fi
abidiff --suppressions "$supp" "$baseline" "$tmp/current.abi" >/dev/null 2>&1 || echo "note: new symbols since the baseline; refresh it with scripts/update-abi-baseline when they are final"
echo "ABI compatible with $baseline"
exit 0
