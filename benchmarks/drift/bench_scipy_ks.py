#!/usr/bin/env python3
"""Times scipy.stats.ks_2samp on 1M vs 1M normal doubles (best of 5); prints seconds.
   ./bench_drift_ks_psi $(python3 benchmarks/drift/bench_scipy_ks.py)  gives the ratio."""
import time
import numpy as np
from scipy import stats

rng = np.random.default_rng(42)
a = rng.standard_normal(1_000_000)
b = rng.standard_normal(1_000_000) + 0.001
best = 1e30
for _ in range(5):
    t = time.perf_counter()
    stats.ks_2samp(a, b)
    best = min(best, time.perf_counter() - t)
print(f"{best:.6f}")
