"""One fluent-API script run through mlflow and through mlops (test_fluent.py compares the two).

    python3 fluent_script.py mlflow|mlops TRACKING_URI OUT.json

It prints what search_runs and the active-run calls give, with ids and times replaced by what
can be compared (run names, dtypes, whether a time is set).
"""
from __future__ import annotations

import importlib
import json
import sys
from typing import Any, Dict, List


def script(m: Any) -> Dict[str, Any]:
    m.set_experiment("cmp")
    with m.start_run(run_name="parent", tags={"team": "fraud"}) as parent:
        m.log_params({"lr": 0.01, "depth": 6})
        m.log_metric("loss", 0.5, step=0)
        m.log_metric("loss", 0.25, step=1)
        m.log_metrics({"acc": 0.9, "f1": 0.8}, step=1)
        m.set_tag("stage", "dev")
        with m.start_run(run_name="child", nested=True):
            m.log_metric("acc", 0.95)
            m.log_param("fold", 1)
            m.set_tags({"kind": "fold"})
        inner_after = m.active_run().info.run_id == parent.info.run_id
    try:
        with m.start_run(run_name="broken"):
            m.log_param("lr", 0.02)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    broken = m.last_active_run()
    m.start_run(run_name="killed")
    m.log_metric("acc", 0.1)
    m.end_run("KILLED")
    df = m.search_runs(experiment_names=["cmp"], order_by=["metrics.acc DESC"])
    listed = m.search_runs(experiment_names=["cmp"], filter_string="metrics.acc > 0.5",
                           order_by=["metrics.acc ASC"], output_format="list")
    names = {r: n for r, n in zip(df["run_id"], df["tags.mlflow.runName"])}
    kept = [c for c in df.columns
            if not c.startswith("tags.mlflow.") or c in ("tags.mlflow.runName", "tags.mlflow.parentRunId")]
    rows: List[Dict[str, Any]] = []
    for _, row in df.iterrows():
        out: Dict[str, Any] = {}
        for c in kept:
            v = row[c]
            if c in ("run_id", "experiment_id", "artifact_uri"):
                v = isinstance(v, str) and len(v) > 0
            elif c in ("start_time", "end_time"):
                v = str(v.tzinfo) if v is not None and v == v else None
            elif c == "tags.mlflow.parentRunId":
                v = names.get(v) if isinstance(v, str) else None
            elif isinstance(v, float) and v != v:
                v = None
            out[c] = v
        rows.append(out)
    return {
        "columns": sorted(kept),
        "dtypes": {c: str(df[c].dtype) for c in ("start_time", "end_time", "metrics.acc", "metrics.loss")},
        "rows": rows,
        "listed": [(r.info.run_name, r.info.status, r.data.metrics.get("acc"), r.data.params.get("fold"),
                    sorted(k for k in r.data.tags if not k.startswith("mlflow."))) for r in listed],
        "inner_after": inner_after,
        "broken": [broken.info.status, broken.data.params],
        "active_after": m.active_run() is None,
    }


if __name__ == "__main__":
    module = importlib.import_module(sys.argv[1])
    module.set_tracking_uri(sys.argv[2])
    with open(sys.argv[3], "w") as f:
        json.dump(script(module), f, indent=1, sort_keys=True)
