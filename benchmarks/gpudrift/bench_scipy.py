#!/usr/bin/env python3
"""The references of bench_gpudrift: scipy.stats.ks_2samp and numpy PSI (quantile edges of the
reference, np.searchsorted + np.bincount) over FEATURES features of ROWS rows each (reference and
current), one pass (the per-feature loop is what a user of scipy runs). Prints
"ks_seconds psi_seconds" for:  bench_gpudrift $(python3 benchmarks/gpudrift/bench_scipy.py)
Arguments: [features [rows]] (default 1000 100000)."""
import sys
import time

import numpy as np
from scipy import stats

features = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
rng = np.random.default_rng(42)
ref = rng.standard_normal((rows, features))
cur = rng.standard_normal((rows, features)) + 0.01

t = time.perf_counter()
for j in range(features):
    stats.ks_2samp(ref[:, j], cur[:, j])
ks = time.perf_counter() - t

# PSI with the profile's edges prebuilt (as the C side: the profile holds them)
edges = [np.unique(np.quantile(ref[:, j], np.arange(1, 10) / 10)) for j in range(features)]
ref_share = [np.bincount(np.searchsorted(edges[j], ref[:, j], side="right"), minlength=10) / rows
             for j in range(features)]
t = time.perf_counter()
for j in range(features):
    q = np.bincount(np.searchsorted(edges[j], cur[:, j], side="right"), minlength=len(edges[j]) + 1) / rows
    p = ref_share[j]
    p = np.where(p == 0, 1e-4, p)
    q = np.where(q == 0, 1e-4, q)
    float(np.sum((q - p) * np.log(q / p)))
psi = time.perf_counter() - t
print(f"{ks:.6f} {psi:.6f}")
