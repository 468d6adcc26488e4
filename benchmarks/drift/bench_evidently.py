#!/usr/bin/env python3
"""Evidently's DataDriftPreset on the data bench_drift_compare wrote (best of 3), its values
against libmlops's (ours.txt), and the speed-up. Called by bench_drift_compare:
   bench_evidently.py DIR FEATURES ROWS LIBMLOPS_SECONDS"""
import sys
import time

import numpy as np
import pandas as pd
import evidently
from evidently import Report
from evidently.presets import DataDriftPreset

d, nf, rows, ours_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
ours = {}
for line in open(f"{d}/ours.txt"):
    name, value, drifted = line.split()
    ours[name] = (float(value), int(drifted))
names = sorted(ours)
ref = pd.DataFrame(np.fromfile(f"{d}/ref.f64").reshape(rows, nf), columns=names)
cur = pd.DataFrame(np.fromfile(f"{d}/cur.f64").reshape(rows, nf), columns=names)
best, snap = 1e30, None
for _ in range(3):
    t = time.perf_counter()
    snap = Report([DataDriftPreset()]).run(cur, ref)
    best = min(best, time.perf_counter() - t)
theirs = {}
for m in snap.dict()["metrics"]:
    cfg = m.get("config", {})
    if cfg.get("type") == "evidently:metric_v2:ValueDrift":
        theirs[cfg["column"]] = (m["value"], cfg["method"], cfg["threshold"])
methods = {v[1] for v in theirs.values()}
diff = max(abs(ours[c][0] - theirs[c][0]) for c in names)
rel = max(abs(ours[c][0] - theirs[c][0]) / max(abs(theirs[c][0]), 1e-300) for c in names)
flags = sum(ours[c][1] == (theirs[c][0] >= theirs[c][2]) for c in names)
print(f"Evidently {evidently.__version__} DataDriftPreset ({nf} x {rows}, method {', '.join(methods)}): "
      f"{best * 1e3:.0f} ms (best of 3)")
print(f"values: max |libmlops - Evidently| = {diff:.3g} (max relative {rel:.3g}); drifted flags agree "
      f"on {flags}/{nf} columns")
print(f"speed-up of mlops_drift_compare over DataDriftPreset: {best / ours_s:.0f}x")
