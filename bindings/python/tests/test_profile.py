"""Batched drift: profiles from numpy arrays in any layout and from DLPack tensors (the same
bytes), compare against the single-feature functions and scipy, profiles stored with model
versions, serialisation and corruption, reports logged to runs, the monitor's alerts."""
from __future__ import annotations

import ctypes
import logging
import math
import threading
from pathlib import Path
from typing import Any, List

import numpy as np
import pytest
import scipy.stats

import mlops
from mlops import _dlpack, _profile, drift

from _layout import layout_in_c, layout_in_python

NAMES = ["amount", "age", "score", "hour"]
RNG = np.random.default_rng(7)
# float32-representable values, so that float32 and float64 inputs describe the same data
REF32 = RNG.normal(size=(600, 4)).astype(np.float32)
REF = REF32.astype(np.float64)
CUR = RNG.normal([0.0, 0.4, 0.0, 1.0], 1.0, size=(400, 4))


class DLPackOnly:
    """An object that is not a numpy array and offers only __dlpack__ (as torch/cupy do)."""

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    def __dlpack__(self, **kw: Any) -> Any:
        return self._a.__dlpack__(**kw)

    def __dlpack_device__(self) -> Any:
        return self._a.__dlpack_device__()


_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_DLTENSOR = b"dltensor"


class HandMadeTensor:
    """A producer written here: a DLManagedTensor over a numpy array in a "dltensor" capsule,
    counting the calls of its deleter (the consumer must call it exactly once)."""

    def __init__(self, a: np.ndarray, device_type: int = _dlpack.kDLCPU) -> None:
        self.a = a
        self.deleted = 0
        self.shape = (ctypes.c_int64 * a.ndim)(*a.shape)
        self.strides = (ctypes.c_int64 * a.ndim)(*(s // a.itemsize for s in a.strides))
        self.managed = _dlpack.DLManagedTensor()
        t = self.managed.dl_tensor
        t.data = a.ctypes.data
        t.device = _dlpack.DLDevice(device_type, 0)
        t.ndim = a.ndim
        t.dtype = _dlpack.DLDataType(_dlpack.kDLFloat, a.itemsize * 8, 1)
        t.shape = ctypes.cast(self.shape, ctypes.POINTER(ctypes.c_int64))
        t.strides = ctypes.cast(self.strides, ctypes.POINTER(ctypes.c_int64))

        def deleter(_p: Any) -> None:
            self.deleted += 1
        self._deleter = _dlpack._deleter(deleter)
        self.managed.deleter = self._deleter

    def __dlpack__(self, stream: Any = None) -> Any:
        return _capsule_new(ctypes.addressof(self.managed), _DLTENSOR, None)


def profile_bytes(x: Any) -> bytes:
    with drift.Profile.build(x, NAMES) as p:
        return bytes(p)


def test_every_layout_and_dlpack_give_the_same_profile() -> None:
    want = profile_bytes(REF)
    big = np.zeros((2 * REF.shape[0], 3 * REF.shape[1]))
    big[::2, ::3] = REF
    layouts = {
        "float32 C": REF32, "float32 F": np.asfortranarray(REF32), "float64 F": np.asfortranarray(REF),
        "float64 strided": big[::2, ::3], "features x rows, transposed": np.ascontiguousarray(REF.T).T,
        "numpy __dlpack__ only": DLPackOnly(REF), "numpy __dlpack__ strided": DLPackOnly(big[::2, ::3]),
        "numpy __dlpack__ float32 F": DLPackOnly(np.asfortranarray(REF32)),
        "list (converted)": REF.tolist(),
    }
    for what, x in layouts.items():
        assert profile_bytes(x) == want, what
    assert drift.as_tensor(big[::2, ::3])._keep.base is big  # in place: no copy
    ints = np.arange(40, dtype=np.int64).reshape(10, 4) % 7
    assert profile_bytes(ints) == profile_bytes(ints.astype(np.float64))  # converted


def test_hand_made_capsule_is_consumed_once_and_released() -> None:
    h = HandMadeTensor(np.asfortranarray(REF32))
    assert profile_bytes(h) == profile_bytes(REF)
    assert h.deleted == 1
    with drift.Profile.build(REF, NAMES) as p:
        h2 = HandMadeTensor(CUR)
        r = drift.compare(p, h2)
        assert h2.deleted == 1 and len(r) == 4
    # device memory is refused where the library cannot read it, and still given back
    gpu = HandMadeTensor(REF, device_type=2)  # kDLCUDA (host memory, so never dereferenced)
    with pytest.raises(mlops.Unsupported, match="CUDA"):
        drift.Profile.build(gpu)
    assert gpu.deleted == 1
    with drift.Profile.build(REF, NAMES) as p:
        with pytest.raises(mlops.InvalidArgument, match="capsule"):
            drift.compare(p, type("Used", (), {"__dlpack__": lambda self: b"not a capsule"})())


def test_profile_contents() -> None:
    with drift.Profile.build(REF, NAMES, n_bins=5) as p:
        assert len(p) == 4 and p.names == NAMES and p.index("score") == 2
        s = p.summary("age")
        assert (s.count, s.nan_count, s.sample_size) == (600, 0, 600)
        assert s.mean == pytest.approx(REF[:, 1].mean()) and s.std == pytest.approx(REF[:, 1].std())
        assert (s.min, s.max) == (REF[:, 1].min(), REF[:, 1].max())
        np.testing.assert_array_equal(p.sample(1), np.sort(REF[:, 1]))
        np.testing.assert_allclose(p.edges(0), np.quantile(REF[:, 0], [0.2, 0.4, 0.6, 0.8]))
        np.testing.assert_allclose(p.proportions(0), [0.2] * 5)
        with pytest.raises(mlops.NotFound, match="nope"):
            p.index("nope")
        with pytest.raises(mlops.InvalidArgument):
            p.summary(4)
    with drift.Profile.build(REF, max_samples=100) as p:
        assert p.names == ["f0", "f1", "f2", "f3"] and p.summary(0).sample_size == 100
        assert p.summary(0).count == 600
    with pytest.raises(mlops.InvalidState):
        p.summary(0)


def test_compare_equals_the_single_feature_functions_and_scipy() -> None:
    with drift.Profile.build(REF, NAMES) as p:
        r = drift.compare(p, CUR, stats=["ks", "psi", "wasserstein", "js"])
        assert [f.name for f in r] == NAMES
        for j, f in enumerate(r):
            ref, cur = REF[:, j], CUR[:, j]
            assert (f.ks_statistic, f.ks_pvalue) == drift.ks(ref, cur)
            want = scipy.stats.ks_2samp(ref, cur)
            assert f.ks_statistic == pytest.approx(want.statistic, abs=1e-15)
            assert f.ks_pvalue == pytest.approx(want.pvalue, rel=1e-6, abs=1e-300)
            assert f.ks_pvalue_raw == f.ks_pvalue  # no correction
            assert f.psi == pytest.approx(drift.psi(ref, cur), rel=1e-12)
            assert f.wasserstein == pytest.approx(drift.wasserstein(ref, cur, normalized=True), rel=1e-12)
            assert f.js == pytest.approx(drift.jensen_shannon(ref, cur), rel=1e-12)
            assert f.missing_rate == 0.0 and (f.n_ref, f.n_cur) == (600, 400)
            assert f.drifted == (f.psi >= 0.2 or f.ks_pvalue < 0.05 or f.wasserstein >= 0.1 or f.js >= 0.1)
        assert r["age"].drifted and r["hour"].drifted and r.drifted == [f.name for f in r if f.drifted]
        d = r.to_dict()
        assert d["drifted_count"] == r.drifted_count and d["features"]["hour"]["drifted"] is True
        assert d["features"]["age"]["psi"] == r["age"].psi
        # default stats: KS and PSI only; the others are NaN and left out of to_dict
        r2 = drift.compare(p, CUR, correction="bonferroni")
        assert math.isnan(r2["age"].js) and "js" not in r2.to_dict()["features"]["age"]
        for f, g in zip(r2, r):
            assert f.ks_pvalue == pytest.approx(min(1.0, 4 * g.ks_pvalue))
            assert f.ks_pvalue_raw == g.ks_pvalue
        prom = r2.prometheus()
        assert 'mlops_drift_psi{feature="age"}' in prom
        r.close()
        assert r.closed and r["age"].drifted  # rows outlive close
        with pytest.raises(mlops.InvalidState):
            r.prometheus()


def test_compare_refuses_bad_input() -> None:
    with drift.Profile.build(REF, NAMES) as p:
        with pytest.raises(mlops.InvalidArgument, match="3 features"):
            drift.compare(p, CUR[:, :3])
        with pytest.raises(mlops.InvalidArgument, match="3-D"):
            drift.compare(p, CUR.reshape(2, 200, 4))
        with pytest.raises(mlops.InvalidArgument, match="dtype"):
            drift.compare(p, CUR.astype(complex))
        with pytest.raises(mlops.InvalidArgument, match="stat"):
            drift.compare(p, CUR, stats=["psi", "entropy"])
        with pytest.raises(mlops.InvalidArgument, match="correction"):
            drift.compare(p, CUR, correction="holm")
        with pytest.raises(mlops.InvalidArgument, match="gpu"):
            drift.compare(p, CUR, gpu="always")
        never = drift.compare(p, CUR, gpu="never")
        assert never.to_dict() == drift.compare(p, CUR).to_dict()
    with pytest.raises(mlops.InvalidArgument):
        drift.Profile.build(REF, NAMES[:3])  # one name short
    with pytest.raises(mlops.InvalidArgument):
        drift.Profile.build(REF, ["a", "a", "b", "c"])  # not distinct
    with pytest.raises(mlops.InvalidArgument, match="NUL"):
        drift.Profile.build(REF, ["a\0", "b", "c", "d"])
    with pytest.raises(mlops.InvalidArgument):
        drift.Profile.build(np.full((10, 2), np.nan))  # a feature with no value


def test_bytes_round_trip_and_corruption() -> None:
    with drift.Profile.build(REF, NAMES, max_samples=200) as p:
        blob = bytes(p)
    with drift.Profile.from_bytes(blob) as q:
        assert q.names == NAMES and bytes(q) == blob and q.summary(0).sample_size == 200
    damaged = bytearray(blob)
    damaged[len(damaged) // 2] ^= 0x40
    for bad in (bytes(damaged), blob[:-7], blob[:10], b""):
        with pytest.raises(mlops.Corrupt):
            drift.Profile.from_bytes(bad)


def test_save_and_load_through_a_store_with_aliases(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    with mlops.Store(db) as store:
        reg = mlops.Registry(store)
        reg.create_model("fraud")
        reg.create_version("fraud", "s3://m/1")
        reg.create_version("fraud", "s3://m/2")
        reg.set_alias("fraud", "production", 2)
        with drift.Profile.build(REF, NAMES) as p:
            p.save(store, "fraud@production")
            blob = bytes(p)
        with pytest.raises(mlops.NotFound):
            drift.Profile.load(store, "fraud/1")
        with pytest.raises(mlops.NotFound):
            drift.Profile.load(store, "nosuchmodel@production")
    with mlops.Store(db, read_only=True) as again:
        for ref in ("fraud/2", "fraud@production", "fraud"):
            with drift.Profile.load(again, ref) as q:
                assert bytes(q) == blob, ref


def test_report_logged_to_a_run_reads_back(tmp_path: Path) -> None:
    with mlops.Store(tmp_path / "l.db") as store:
        with mlops.start_run("drift", store=store) as run:
            with drift.Profile.build(REF, NAMES) as p:
                r = drift.compare(p, CUR)
                r.log(run, step=3)
                r.log(run, step=4, prefix="prod")
        store.flush()
        h = store.metric_history(run.id, "drift/age/psi")
        assert list(h["step"]) == [3] and h["value"][0] == r["age"].psi
        assert store.metric_history(run.id, "drift/age/drifted")["value"][0] == 1.0
        assert store.metric_history(run.id, "drift/amount/ks_pvalue")["value"][0] == r["amount"].ks_pvalue
        assert store.metric_history(run.id, "prod/hour/psi")["step"][0] == 4
        with pytest.raises(mlops.NotFound):
            store.metric_history(run.id, "drift/age/js")  # not computed, not logged
        with pytest.raises(mlops.InvalidState):
            r.log(run)  # the run has ended


def windows(shifts: List[float], rows: int = 300) -> np.ndarray:
    rng = np.random.default_rng(11)
    return np.concatenate([rng.normal(size=(rows, 4)) + [0.0, s, 0.0, 0.0] for s in shifts])


def test_monitor_alerts_once_per_crossing(tmp_path: Path) -> None:
    seen: List[Any] = []
    threads: List[int] = []

    def on_alert(report: drift.Report) -> None:
        seen.append((report.drifted, report["age"].psi, "mlops_drift_psi" in report.prometheus()))
        threads.append(threading.get_ident())

    with mlops.Store(tmp_path / "m.db") as store, mlops.start_run("serve", store=store) as run:
        with drift.Profile.build(REF, NAMES) as p:
            with drift.Monitor(p, window_rows=300, run=run, on_alert=on_alert, stats=["psi"]) as mon:
                # windows: ok, drift, drift (no new alert), ok (re-arms), drift -> 2 alerts
                data = windows([0.0, 2.0, 2.0, 0.0, 2.0])
                for batch in np.array_split(data, 7):  # batches that straddle windows
                    mon.observe(np.asfortranarray(batch.astype(np.float32)))
                c = mon.counters()
                assert (c.windows, c.alerts, c.webhooks_sent) == (5, 2, 0)
                assert len(seen) == 2 and all(s[0] == ["age"] and s[1] > 0.2 and s[2] for s in seen)
                assert threads == [threading.get_ident()] * 2  # on the observing thread
                mon.observe(windows([0.0], rows=50))
                mon.flush()
                assert mon.counters().windows == 6
                assert 'mlops_drift_psi{monitor="drift monitor",feature="age"}' in mon.prometheus()
        store.flush()
        h = store.metric_history(run.id, "drift/age/drifted")
        assert list(h["step"]) == [0, 1, 2, 3, 4, 5] and list(h["value"][:5]) == [0, 1, 1, 0, 1]


def test_monitor_callback_exception_is_logged_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def boom(report: drift.Report) -> None:
        calls.append(1)
        raise RuntimeError("alert handler failed")

    with drift.Profile.build(REF, NAMES) as p, drift.Monitor(p, window_rows=300, on_alert=boom) as mon:
        with caplog.at_level(logging.ERROR, logger="mlops"):
            mon.observe(windows([3.0]))
        assert calls == [1] and mon.callback_errors == 1 and mon.counters().alerts == 1
        assert "alert handler failed" in caplog.text
        mon.observe(windows([0.0]))  # still usable
        assert mon.counters().windows == 2


def test_threads_observe_at_once() -> None:
    alerts = []
    with drift.Profile.build(REF, NAMES) as p, \
            drift.Monitor(p, window_rows=200, on_alert=lambda r: alerts.append(r.drifted)) as mon:
        drifting = windows([3.0], rows=100)
        errors: List[BaseException] = []

        def feed() -> None:
            try:
                for _ in range(5):
                    mon.observe(drifting)
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)
        threads = [threading.Thread(target=feed) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        c = mon.counters()
        assert (c.windows, c.alerts) == (10, 1) and len(alerts) == 1 and "age" in alerts[0]


def test_monitor_dies_with_its_profile_and_refuses_bad_options() -> None:
    p = drift.Profile.build(REF, NAMES)
    mon = drift.Monitor(p, window_rows=100)
    p.close()
    assert mon.closed
    with pytest.raises(mlops.InvalidState):
        mon.observe(CUR)
    with drift.Profile.build(REF, NAMES) as p:
        with pytest.raises(mlops.InvalidArgument, match="webhook_url"):
            drift.Monitor(p, webhook_url="ftp://example.com/hook")
        with pytest.raises(mlops.InvalidArgument):
            drift.Monitor(p, window_rows=-1)
        with drift.Monitor(p, window_rows=100) as mon:
            with pytest.raises(mlops.InvalidArgument, match="features"):
                mon.observe(CUR[:, :2])
            assert mon.drain(0)


def test_struct_layouts_match_header(tmp_path: Path) -> None:
    structs = {"mlops_drift_profile_options": _profile.ProfileOptions,
               "mlops_drift_compare_options": _profile.CompareOptions,
               "mlops_drift_monitor_options": _profile.MonitorOptions,
               "mlops_drift_feature_summary": _profile._SummaryC}
    assert layout_in_c(tmp_path, "mlops/drift.h", structs) == layout_in_python(structs)
    dl = {"DLTensor": _dlpack.DLTensor, "DLManagedTensor": _dlpack.DLManagedTensor}
    assert layout_in_c(tmp_path, "dlpack/dlpack.h", dl) == layout_in_python(dl)
