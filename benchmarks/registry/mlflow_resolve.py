#!/usr/bin/env python3
"""The reference for bench_registry: MLflow's MlflowClient.get_model_version_by_alias against a
sqlite:/// registry holding the same models x versions. Prints one line: "median_us <value>".

Usage: mlflow_resolve.py DB_PATH N_MODELS N_VERSIONS [N_CALLS]
The registry is built once through MLflow (one model, one version, one alias, so that MLflow's
own migrations make the schema), then copied row by row in SQL to N_MODELS x N_VERSIONS.
"""
import os
import sqlite3
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("MLFLOW_ENABLE_WORKSPACES", "false")


def clone_rows(db, table, where, replace):
    """INSERT copies of the rows of table matching where, with columns in replace set to SQL expressions."""
    cols = [r[1] for r in db.execute("PRAGMA table_info(%s)" % table)]
    exprs = [replace.get(c, c) for c in cols]
    return "INSERT INTO %s(%s) SELECT %s FROM %s, gen WHERE %s" % (
        table, ", ".join(cols), ", ".join(exprs), table, where)


def build(path, n_models, n_versions):
    from mlflow import MlflowClient

    uri = "sqlite:///" + os.path.abspath(path)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("seed")
    client.create_model_version("seed", "s3://bucket/seed/1", run_id=None)
    client.set_registered_model_alias("seed", "champion", "1")
    db = sqlite3.connect(path)
    name = "printf('model-%05d', gen.m)"
    db.execute("CREATE TEMP TABLE gen(m INTEGER, v INTEGER)")
    db.executemany("INSERT INTO gen VALUES (?, 1)", [(m,) for m in range(n_models)])
    db.execute(clone_rows(db, "registered_models", "registered_models.name = 'seed'", {"name": name}))
    db.execute("DELETE FROM gen")
    db.executemany("INSERT INTO gen VALUES (?, ?)",
                   [(m, v) for m in range(n_models) for v in range(1, n_versions + 1)])
    db.execute(clone_rows(db, "model_versions", "model_versions.name = 'seed'",
                          {"name": name, "version": "gen.v",
                           "source": "printf('s3://bucket/model-%05d/%d', gen.m, gen.v)"}))
    db.execute("DELETE FROM gen WHERE v != %d" % n_versions)
    db.execute(clone_rows(db, "registered_model_aliases", "registered_model_aliases.name = 'seed'",
                          {"name": name, "version": "gen.v"}))
    db.commit()
    db.close()


def main():
    path, n_models, n_versions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    n_calls = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    if not os.path.exists(path):
        build(path, n_models, n_versions)
    from mlflow import MlflowClient

    uri = "sqlite:///" + os.path.abspath(path)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = "model-%05d" % (n_models // 2)
    mv = client.get_model_version_by_alias(name, "champion")
    assert int(mv.version) == n_versions, mv.version
    samples = []
    for _ in range(n_calls):
        t0 = time.perf_counter_ns()
        client.get_model_version_by_alias(name, "champion")
        samples.append((time.perf_counter_ns() - t0) / 1000.0)
    print("median_us %.3f" % statistics.median(samples))


if __name__ == "__main__":
    main()
