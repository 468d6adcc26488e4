#!/usr/bin/env python3
"""How much a server absorbs with several log_batch requests in flight (one run per client).

Usage: parallel_log_batch.py TRACKING_URI CLIENTS POINTS_PER_CLIENT
Start the server first, e.g.
  mlflow server --host 127.0.0.1 --port 5077 --workers 4 --backend-store-uri sqlite:////tmp/p.db
"""
import sys
import threading
import time

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient


def main():
    uri, clients, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    c = MlflowClient(uri)
    exp = c.create_experiment(f"parallel-{clients}-{time.time()}")
    runs = [c.create_run(exp).info.run_id for _ in range(clients)]

    def work(run_id):
        ts = int(time.time() * 1000)
        MlflowClient(uri).log_batch(run_id, metrics=[Metric("loss", float(i), ts, i) for i in range(per)])

    t = time.time()
    threads = [threading.Thread(target=work, args=(r,)) for r in runs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    dt = time.time() - t
    print(f"{clients} clients x {per} points: {clients * per / dt:.0f} points/s delivered")


if __name__ == "__main__":
    main()
