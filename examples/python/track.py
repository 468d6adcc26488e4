#!/usr/bin/env python3
"""Tracks a run, registers the model it produced, stores a drift profile with it and checks
serving data against that profile.

From a checkout, after `make build`:  PYTHONPATH=bindings/python python3 examples/python/track.py [store.db]
"""
import sys
import tempfile
from pathlib import Path

import numpy as np

import mlops


def main() -> int:
    uri = sys.argv[1] if len(sys.argv) > 1 else str(Path(tempfile.mkdtemp()) / "example.db")
    with mlops.Store(uri) as store:
        with mlops.start_run("fraud", run_name="xgb-baseline", store=store) as run:
            run.log_params({"max_depth": 6, "eta": 0.3})
            loss = run.metric_key("loss")  # resolved once for the training loop
            for step in range(100):
                loss.log(1.0 / (step + 1), step)
            model = Path(store.uri).with_suffix(".model")
            model.write_bytes(b"trained weights")
        print("run %s: %d loss points" % (run.id, len(store.metric_history(run.id, "loss"))))

        reg = mlops.Registry(store)
        if "fraud" not in reg.list_models("fraud"):
            reg.create_model("fraud", "fraud detector")
        version = reg.create_version("fraud", model, run_id=run.id)
        reg.set_alias("fraud", "candidate", version)
        with reg.resolve("fraud@candidate") as mv:
            print("fraud@candidate -> version %d (%s, sha256 %s...)" % (mv.version, mv.source, mv.sha256[:12]))

        # drift: a profile of the training data stored with the version, compared with serving data
        rng = np.random.default_rng(0)
        names = ["amount", "age", "score"]
        with mlops.drift.Profile.build(rng.normal(0, 1, (5000, 3)), names) as profile:
            profile.save(store, "fraud@candidate")
        current = rng.normal([0.0, 0.4, 0.0], 1, (2000, 3)).astype(np.float32)
        with mlops.drift.Profile.load(store, "fraud@candidate") as profile, \
                mlops.drift.compare(profile, current) as report:
            for f in report:
                print("drift %-6s PSI %.4f KS p=%.3g%s" % (f.name, f.psi, f.ks_pvalue, "  DRIFTED" if f.drifted else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
