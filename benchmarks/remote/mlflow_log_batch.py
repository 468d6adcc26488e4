#!/usr/bin/env python3
"""The reference for bench_remote: MLflow's own Python client logging N metric points to the
server at $MLOPS_TEST_MLFLOW_URI with MlflowClient.log_batch (which cuts them into requests of
1000, MLflow's limit), the same values, steps and timestamps as libmlops. Prints one line:
"points_per_s <value>", timing from the first log_batch call until the last one returned
(the server has stored everything: log_batch is synchronous).

Usage: mlflow_log_batch.py N_POINTS
"""
import math
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def main():
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    n = int(sys.argv[1])
    client = MlflowClient(tracking_uri=os.environ["MLOPS_TEST_MLFLOW_URI"])
    exp = client.create_experiment(f"bench-python-{os.getpid()}")
    run = client.create_run(exp)
    t0_ms = 1700000000000
    metrics = [Metric("loss", math.sin(i) * 1e3 + i / 7.0, t0_ms + i, i) for i in range(n)]
    start = time.perf_counter()
    client.log_batch(run.info.run_id, metrics=metrics)
    elapsed = time.perf_counter() - start
    got = len(client.get_metric_history(run.info.run_id, "loss"))
    if got != n:
        print(f"the server holds {got} points, expected {n}", file=sys.stderr)
        return 1
    print(f"points_per_s {n / elapsed:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
