#!/usr/bin/env python3
"""Checks, through MLflow's own Python client, what a libmlops test wrote to the server.

Usage: check_mlflow.py EXPECTED.json   (server: $MLOPS_TEST_MLFLOW_URI)
EXPECTED = {"runs": [{"local_id", "experiment", "status", "params": {}, "tags": {},
                      "metrics": {key: [[value, step, timestamp_ms], ...]},
                      "artifacts": {path: local source file}, "artifact_sha256": {path: hex}}],
            "models": [{"name", "description", "versions": [{"version", "source", "run_local_id",
                        "tags": {}}], "aliases": {alias: version}}]}
Values are numbers or "NaN", "Infinity", "-Infinity". Every run must exist exactly once (found
by its tag mlops.local_run_id), every metric must hold exactly the expected points (each once).
A run's artifacts, listed recursively, must be exactly the expected paths, each downloaded
byte-identical to its source file, with the SHA-256 that libmlops listed.
Prints each mismatch and exits 1 if there was any.
"""
import hashlib
import json
import math
import os
import sys
import tempfile

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
from mlflow.tracking import MlflowClient  # noqa: E402

errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


def number(v):
    return float(v) if isinstance(v, str) else float(v)


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def check_run(client, run):
    exp = client.get_experiment_by_name(run["experiment"])
    check(exp is not None, f"experiment {run['experiment']} is missing")
    if exp is None:
        return None
    found = client.search_runs([exp.experiment_id], f"tags.`mlops.local_run_id` = '{run['local_id']}'",
                               max_results=10)
    check(len(found) == 1, f"run {run['local_id']}: {len(found)} runs on the server, expected 1")
    if len(found) != 1:
        return None
    r = found[0]
    if "status" in run:
        check(r.info.status == run["status"], f"run {run['local_id']}: status {r.info.status} != {run['status']}")
    check(r.data.params == run.get("params", {}),
          f"run {run['local_id']}: params {r.data.params} != {run.get('params', {})}")
    for k, v in run.get("tags", {}).items():
        check(r.data.tags.get(k) == v, f"run {run['local_id']}: tag {k} = {r.data.tags.get(k)!r}, expected {v!r}")
    for key, points in run.get("metrics", {}).items():
        hist = client.get_metric_history(r.info.run_id, key)
        got = sorted(hist, key=lambda m: (m.step, m.timestamp))
        check(len(got) == len(points),
              f"run {run['local_id']}: metric {key} has {len(got)} points on the server, expected {len(points)}")
        for m, (value, step, ts) in zip(got, points):
            if not (same(m.value, number(value)) and m.step == step and m.timestamp == ts):
                errors.append(f"run {run['local_id']}: metric {key}: got ({m.value}, {m.step}, {m.timestamp}), "
                              f"expected ({value}, {step}, {ts})")
                break
    if "artifacts" in run:
        check_artifacts(client, run, r.info.run_id)
    return r.info.run_id


def list_all(client, run_id, path=None):
    out = {}
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            out.update(list_all(client, run_id, f.path))
        else:
            out[f.path] = f.file_size
    return out


def check_artifacts(client, run, run_id):
    want = run["artifacts"]
    listed = list_all(client, run_id)
    check(sorted(listed) == sorted(want), f"run {run['local_id']}: artifacts {sorted(listed)} != {sorted(want)}")
    with tempfile.TemporaryDirectory() as dst:
        for path, source in want.items():
            if path not in listed:
                continue
            data = open(client.download_artifacts(run_id, path, dst), "rb").read()
            expected = open(source, "rb").read()
            check(data == expected, f"run {run['local_id']}: artifact {path}: {len(data)} bytes differ "
                  f"from the {len(expected)} of {source}")
            check(listed[path] == len(expected), f"run {run['local_id']}: artifact {path}: listed size "
                  f"{listed[path]} != {len(expected)}")
            sha = run.get("artifact_sha256", {}).get(path)
            check(sha == hashlib.sha256(expected).hexdigest(),
                  f"run {run['local_id']}: artifact {path}: libmlops listed SHA-256 {sha}")


def check_model(client, model, server_ids):
    m = client.get_registered_model(model["name"])
    if "description" in model:
        check((m.description or "") == model["description"],
              f"model {model['name']}: description {m.description!r} != {model['description']!r}")
    for v in model.get("versions", []):
        mv = client.get_model_version(model["name"], str(v["version"]))
        check(mv.source == v["source"], f"model {model['name']}/{v['version']}: source {mv.source!r} != {v['source']!r}")
        if "run_local_id" in v:
            want = server_ids.get(v["run_local_id"])
            check(want is not None and mv.run_id == want,
                  f"model {model['name']}/{v['version']}: run_id {mv.run_id!r} != server id {want!r}")
        for k, val in v.get("tags", {}).items():
            check(mv.tags.get(k) == val, f"model {model['name']}/{v['version']}: tag {k} = {mv.tags.get(k)!r}, expected {val!r}")
    for alias, version in model.get("aliases", {}).items():
        mv = client.get_model_version_by_alias(model["name"], alias)
        check(int(mv.version) == version, f"model {model['name']}@{alias} = {mv.version}, expected {version}")


def main():
    expected = json.load(open(sys.argv[1]))
    client = MlflowClient(tracking_uri=os.environ["MLOPS_TEST_MLFLOW_URI"])
    server_ids = {}
    for run in expected.get("runs", []):
        sid = check_run(client, run)
        if sid:
            server_ids[run["local_id"]] = sid
    for model in expected.get("models", []):
        check_model(client, model, server_ids)
    for e in errors:
        print("MISMATCH:", e)
    n_points = sum(len(p) for r in expected.get("runs", []) for p in r.get("metrics", {}).values())
    n_files = sum(len(r.get("artifacts", {})) for r in expected.get("runs", []))
    print(f"checked {len(expected.get('runs', []))} runs ({n_points} points, {n_files} artifacts), "
          f"{len(expected.get('models', []))} models through MlflowClient: {len(errors)} mismatches")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
