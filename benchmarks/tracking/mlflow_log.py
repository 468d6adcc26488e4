"""MLflow's Python client on a sqlite:/// store: log_metric in a loop and log_batch of 1000.

Run by bench_tracking (argv: db path, then libmlops' ns per call by name, with a key handle,
in SYNC mode, and per persisted point); prints MLflow's costs and the ratios.
"""
import math
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

import mlflow  # noqa: E402
from mlflow.entities import Metric  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def main():
    db = sys.argv[1]
    ns_name, ns_key, ns_sync, ns_persist = map(float, sys.argv[2:6])
    client = MlflowClient(tracking_uri="sqlite:///" + db)
    exp = client.create_experiment("bench", artifact_location="file://" + os.path.dirname(db) + "/mlruns")
    run = client.create_run(exp)
    rid = run.info.run_id

    for i in range(20):  # warm up (SQLAlchemy, prepared paths)
        client.log_metric(rid, "warm", 1.0, step=i)
    n = 300
    t0 = time.perf_counter()
    for i in range(n):
        client.log_metric(rid, "loss", 1.0 / (i + 1), step=i)
    per_call = (time.perf_counter() - t0) / n * 1e9

    batches = 10
    ts = int(time.time() * 1000)
    t0 = time.perf_counter()
    for b in range(batches):
        client.log_batch(rid, metrics=[Metric("batch", math.sin(i), ts, b * 1000 + i) for i in range(1000)])
    per_point = (time.perf_counter() - t0) / (batches * 1000) * 1e9
    client.set_terminated(rid)

    print("mlflow %s, sqlite:/// store" % mlflow.__version__)
    print("%-48s %12.1f us" % ("MLflow log_metric (per call)", per_call / 1e3))
    print("%-48s %12.1f us" % ("MLflow log_batch of 1000 (per point)", per_point / 1e3))
    print("ratio log_metric loop:  MLflow / libmlops log_metric buffered   = %10.0fx" % (per_call / ns_name))
    print("                        MLflow / libmlops key handle            = %10.0fx" % (per_call / ns_key))
    print("                        MLflow / libmlops SYNC (both durable)   = %10.1fx" % (per_call / ns_sync))
    print("ratio log_batch 1000:   MLflow / libmlops persisted per point   = %10.0fx" % (per_point / ns_persist))


if __name__ == "__main__":
    main()
