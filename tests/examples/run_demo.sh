#!/bin/sh
# Runs the README's demo end to end in a scratch directory: it must finish in under a minute,
# fire its drift alert after the drift point (the demo exits 2 otherwise) and leave a report.
# Usage: run_demo.sh DEMO MLOPS
set -eu
demo=$1; mlops=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
start=$(date +%s)
"$demo" "$dir/out" > "$dir/log"
cat "$dir/log"
grep -q "ALERT after batch" "$dir/log" || { echo "no drift alert"; exit 1; }
# shellcheck disable=SC2046
"$mlops" --store "$dir/out/mlops.db" report $(cat "$dir/out/runs.txt") fraud -o "$dir/out/report.html"
grep -q "reference vs current" "$dir/out/report.html" || { echo "no histogram in the report"; exit 1; }
"$mlops" --store "$dir/out/mlops.db" models audit fraud | grep -q "alias.set *production" \
	|| { echo "no audit entry for the production alias"; exit 1; }
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 60 ] || { echo "the demo took ${elapsed}s (more than a minute)"; exit 1; }
echo "demo ok in ${elapsed}s"
