"""Registry: models, versions, aliases and the protected-alias gate, resolve seen by a second
handle, changed/watch, cards, audit with reasons, verify, every error type it reaches."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import mlops
from mlops import _registry

from _layout import layout_in_c, layout_in_python


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    f = tmp_path / "model.onnx"
    f.write_bytes(b"weights v1" * 100)
    return f


def test_register_resolve_and_read_back(tmp_path: Path, model_file: Path) -> None:
    db = tmp_path / "r.db"
    with mlops.Store(db, actor="alice") as store:
        with mlops.start_run("fraud", store=store) as run:
            run.log_metric("auc", 0.93)
        reg = mlops.Registry(store)
        reg.create_model("fraud", "fraud detector")
        with pytest.raises(mlops.AlreadyExists, match="fraud"):
            reg.create_model("fraud")
        v1 = reg.create_version("fraud", model_file, run_id=run.id)
        v2 = reg.create_version("fraud", "s3://bucket/fraud/2")
        assert (v1, v2) == (1, 2)
        reg.set_alias("fraud", "production", v1)
        reg.set_model_tag("fraud", "team", "risk")
        reg.set_version_tag("fraud", 1, "framework", "onnx")
        assert reg.list_models() == ["fraud"] and reg.list_models("nope") == []
        m = reg.get_model("fraud")
        assert m.description == "fraud detector" and m.last_version == 2 and m.created_ms > 0
    # A second handle (read-only) sees all of it.
    with mlops.Store(db, read_only=True) as again:
        reg = mlops.Registry(again)
        with reg.resolve("fraud@production") as mv:
            assert (mv.name, mv.version, mv.source, mv.run_id) == ("fraud", 1, str(model_file), run.id)
            assert mv.status == mlops.VersionStatus.READY and mv.validation == mlops.Validation.NONE
            assert mv.size == model_file.stat().st_size and len(mv.sha256) == 64 and mv.creator == "alice"
        assert mv.closed and mv.version == 1  # attributes outlive close
        assert reg.resolve("models:/fraud/2").source == "s3://bucket/fraud/2"
        assert reg.resolve("fraud").version == 2  # latest READY
        assert reg.get_alias("fraud", "production").version == 1
        assert reg.get_model_tag("fraud", "team") == "risk"
        assert reg.get_version_tag("fraud", 1, "framework") == "onnx"
        with pytest.raises(mlops.NotFound):
            reg.resolve("fraud@staging")
        with pytest.raises(mlops.NotFound):
            reg.get_model("ghost")
        with pytest.raises(mlops.InvalidArgument):
            reg.resolve("bad@latest")


def test_protected_alias_gate_rollback_and_audit(tmp_path: Path, model_file: Path) -> None:
    db = tmp_path / "gate.db"
    with mlops.Store(db, actor="alice") as alice, mlops.Store(db, actor="bob") as bob:
        reg, review = mlops.Registry(alice), mlops.Registry(bob)
        reg.create_model("fraud")
        v1 = reg.create_version("fraud", model_file)
        v2 = reg.create_version("fraud", "s3://b/2")
        reg.protect_alias("fraud", "production")
        with pytest.raises(mlops.PermissionDenied, match="production"):
            reg.set_alias("fraud", "production", v1)
        with pytest.raises(mlops.PermissionDenied):  # four eyes: not by its creator
            reg.set_validation("fraud", v1, mlops.Validation.APPROVED)
        review.set_validation("fraud", v1, mlops.Validation.APPROVED)
        review.set_validation("fraud", v2, mlops.Validation.APPROVED)
        mlops.Registry.set_reason("promote after review")
        reg.set_alias("fraud", "production", v1)
        reg.set_alias("fraud", "production", v2)
        assert reg.resolve("fraud@production").version == 2
        reg.rollback_alias("fraud", "production")
        assert review.resolve("fraud@production").version == 1  # the other handle sees it
        with pytest.raises(mlops.PermissionDenied):
            reg.delete_alias("fraud", "production")
        reg.protect_alias("fraud", "production", False)
        reg.delete_alias("fraud", "production")
        trail = reg.audit("fraud")
        actions = [e.action for e in trail]
        assert actions[0] == "model.create" and "alias.rollback" in actions
        sets = [e for e in trail if e.action == "alias.set"]
        assert sets[0].reason == "promote after review" and sets[0].actor == "alice"
        assert sets[0].target == "production" and sets[0].to == "1"
        assert [e.id for e in trail] == sorted(e.id for e in trail)
        assert any(e.actor == "bob" for e in trail)
        with pytest.raises(mlops.InvalidState):
            reg.rollback_alias("fraud", "never-set")


def test_changed_and_watch(tmp_path: Path, model_file: Path) -> None:
    db = tmp_path / "w.db"
    with mlops.Store(db) as store, mlops.Store(db) as other:
        reg = mlops.Registry(store)
        reg.create_model("m")
        reg.create_version("m", model_file)
        reg.set_alias("m", "live", 1)
        seen: list = []
        got = threading.Event()

        def on_change(ref: str, v: "mlops.VersionInfo | None") -> None:
            seen.append((ref, None if v is None else v.version))
            got.set()

        with reg.watch("m@live", on_change, interval_ms=5):
            held = reg.resolve("m@live")
            time.sleep(0.3)  # the watcher's first look records where the alias points
            assert not reg.changed("m@live", held) and reg.changed("m@live", None)
            v2 = mlops.Registry(other).create_version("m", "s3://x/2")
            mlops.Registry(other).set_alias("m", "live", v2)  # another handle moves it
            assert reg.changed("m@live", held)
            deadline = time.monotonic() + 10
            while ("m@live", 2) not in seen and time.monotonic() < deadline:
                got.wait(0.05)
        assert ("m@live", 2) in seen
        held.close()
        with pytest.raises(mlops.InvalidState):
            reg.changed("m@live", held)


def test_cards_verify_and_lifecycle(tmp_path: Path, model_file: Path) -> None:
    with mlops.Store(tmp_path / "c.db") as store:
        reg = mlops.Registry(store)
        reg.create_model("m")
        v = reg.create_version("m", model_file)
        reg.set_card("m", v, intended_use="fraud scoring", owner="risk-team", risk_tier=mlops.Risk.HIGH)
        reg.set_card_metric("m", v, "auc", 0.91)
        reg.set_card_field("m", v, "dataset", "2024-q1")
        card = reg.card("m", v)
        assert card["intended_use"] == "fraud scoring" and card["risk_tier"] == "high"
        assert card["evaluation_metrics"] == {"auc": 0.91} and card["fields"] == {"dataset": "2024-q1"}
        reg.verify("m", v)
        model_file.write_bytes(b"tampered")
        with pytest.raises(mlops.Corrupt):
            reg.verify("m", v)
        with pytest.raises(mlops.Unsupported):
            reg.verify("m", reg.create_version("m", "s3://remote/x"))
        reg.set_version_description("m", v, "first")
        reg.set_version_status("m", v, mlops.VersionStatus.FAILED_REGISTRATION)
        assert reg.get_version("m", v).description == "first"
        assert reg.get_version("m").version == 2  # latest READY
        reg.rename_model("m", "m2")
        reg.set_model_description("m2", None)
        assert reg.get_model("m2").description == ""
        reg.delete_version("m2", 2)
        with pytest.raises(mlops.NotFound):
            reg.get_version("m2", 2)
        reg.set_cache_staleness(1000)
        reg.delete_model("m2")
        assert reg.list_models() == []
        with pytest.raises(TypeError):
            mlops.Registry("c.db")  # type: ignore[arg-type]


def test_concurrent_registrations_get_distinct_numbers(tmp_path: Path) -> None:
    with mlops.Store(tmp_path / "n.db") as store:
        reg = mlops.Registry(store)
        reg.create_model("m")
        numbers: list = []
        failures: list = []

        def worker() -> None:
            try:
                for _ in range(10):
                    numbers.append(reg.create_version("m", "s3://x"))
            except Exception as e:
                failures.append(repr(e))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == [] and sorted(numbers) == list(range(1, 41))


def test_struct_layouts_match_header(tmp_path: Path) -> None:
    structs = {"mlops_model_card": _registry.ModelCard, "mlops_audit_entry": _registry._AuditEntryC}
    assert layout_in_c(tmp_path, "mlops/registry.h", structs) == layout_in_python(structs)
