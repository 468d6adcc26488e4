#!/usr/bin/env python3
"""Tracks a run, registers the model it produced and checks a feature for drift.

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

    rng = np.random.default_rng(0)
    reference, current = rng.normal(0, 1, 5000), rng.normal(0.1, 1, 5000).astype(np.float32)
    statistic, pvalue = mlops.drift.ks(reference, current)
    print("drift: KS %.4f (p=%.3g), PSI %.4f" % (statistic, pvalue, mlops.drift.psi(reference, current)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
