"""drift.h, batched API: reference profiles, comparisons of many features at once, reports and
the windowed monitor. Re-exported by :mod:`mlops.drift`; inputs are described by
:func:`mlops._dlpack.as_tensor` (numpy in place, or any ``__dlpack__`` object)."""
from __future__ import annotations

import ctypes
import logging
import math
from typing import (Any, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence,
                    Union)

import numpy as np

from . import _lib
from ._common import take_string
from ._dlpack import as_tensor
from ._errors import EBUSY, EINVAL, InvalidArgument, check_status
from ._frame import by_name, for_build
from ._handle import Handle, cstr, cstr_opt, opaque, pystr
from ._store import Store, store_p
from ._tracking import Run, run_p

PROFILE_OPTIONS_VERSION = 1
COMPARE_OPTIONS_VERSION = 2
MONITOR_OPTIONS_VERSION = 1

log = logging.getLogger("mlops")

profile_p = opaque("mlops_drift_profile")
report_p = opaque("mlops_drift_report")
monitor_p = opaque("mlops_drift_monitor")

STATS = {"ks": 1 << 0, "psi": 1 << 1, "wasserstein": 1 << 2, "js": 1 << 3}
_NAN_POLICIES = {"drop": 0, "propagate": 1, "reject": 2}
_ALTERNATIVES = {"two-sided": 0, "less": 1, "greater": 2}
_KS_METHODS = {"auto": 0, "exact": 1, "asymp": 2}
_CORRECTIONS = {"none": 0, "bonferroni": 1, "bh": 2}
_GPU = {"auto": 0, "prefer": 1, "never": 2}
#: MLOPS_DRIFT_VALUE_* in order: the value fields of :class:`FeatureDrift`.
VALUES = ("ks_statistic", "ks_pvalue", "ks_pvalue_raw", "psi", "wasserstein", "js", "missing_rate")


class ProfileOptions(ctypes.Structure):
    """``mlops_drift_profile_options``, field for field (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("max_samples", ctypes.c_size_t), ("n_bins", ctypes.c_uint),
                ("nan_policy", ctypes.c_int), ("seed", ctypes.c_uint64), ("threads", ctypes.c_uint)]


class CompareOptions(ctypes.Structure):
    """``mlops_drift_compare_options``, field for field (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("stats", ctypes.c_uint), ("correction", ctypes.c_int),
                ("nan_policy", ctypes.c_int), ("alternative", ctypes.c_int), ("ks_method", ctypes.c_int),
                ("psi_threshold", ctypes.c_double), ("pvalue_threshold", ctypes.c_double),
                ("wasserstein_threshold", ctypes.c_double), ("js_threshold", ctypes.c_double),
                ("epsilon", ctypes.c_double), ("evidently_psi", ctypes.c_int), ("threads", ctypes.c_uint),
                ("gpu", ctypes.c_int)]


ALERT_CB = ctypes.CFUNCTYPE(None, report_p, ctypes.c_void_p)


class MonitorOptions(ctypes.Structure):
    """``mlops_drift_monitor_options``, field for field (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("window_rows", ctypes.c_size_t), ("window_ms", ctypes.c_uint),
                ("compare", ctypes.POINTER(CompareOptions)), ("run", run_p), ("prefix", ctypes.c_char_p),
                ("on_alert", ALERT_CB), ("payload", ctypes.c_void_p), ("webhook_url", ctypes.c_char_p),
                ("webhook_timeout_ms", ctypes.c_uint), ("webhook_retries", ctypes.c_uint),
                ("name", ctypes.c_char_p)]


class _SummaryC(ctypes.Structure):
    """``mlops_drift_feature_summary`` (frozen layout)."""
    _fields_ = [("count", ctypes.c_uint64), ("nan_count", ctypes.c_uint64), ("sample_size", ctypes.c_uint64),
                ("mean", ctypes.c_double), ("std", ctypes.c_double), ("min", ctypes.c_double),
                ("max", ctypes.c_double)]


class FeatureSummary(NamedTuple):
    """A profile's summary of one feature over all its reference values (std: ddof 0)."""
    count: int  # type: ignore[assignment]  # shadows tuple.count, as the C field is named
    nan_count: int
    sample_size: int  #: values kept in the sorted sample
    mean: float
    std: float
    min: float
    max: float


class FeatureDrift(NamedTuple):
    """One feature of a :class:`Report`; a value not computed is NaN."""
    name: str
    ks_statistic: float
    ks_pvalue: float      #: after the correction across features
    ks_pvalue_raw: float
    psi: float
    wasserstein: float    #: normalised (Evidently)
    js: float
    missing_rate: float
    drifted: bool
    n_ref: int
    n_cur: int
    nan_ref: int
    nan_cur: int


class MonitorCounters(NamedTuple):
    windows: int
    alerts: int
    webhooks_sent: int
    webhooks_failed: int


_c_int = ctypes.c_int
_sz = ctypes.c_size_t
_u64p = ctypes.POINTER(ctypes.c_uint64)
_vp = ctypes.POINTER(ctypes.c_void_p)
_d = _lib.declare
_build = _d("mlops_drift_profile_build", _c_int, [ctypes.POINTER(profile_p), ctypes.c_void_p,
                                                  ctypes.POINTER(ctypes.c_char_p), _sz,
                                                  ctypes.POINTER(ProfileOptions)], check_status)
_profile_free = _d("mlops_drift_profile_free", None, [profile_p])
_profile_count = _d("mlops_drift_profile_count", _sz, [profile_p])
_profile_name = _d("mlops_drift_profile_name", ctypes.c_char_p, [profile_p, _sz])
_profile_find = _d("mlops_drift_profile_find", _c_int, [ctypes.POINTER(_sz), profile_p, ctypes.c_char_p],
                   check_status)
_profile_summary = _d("mlops_drift_profile_summary", _c_int, [ctypes.POINTER(_SummaryC), profile_p, _sz],
                      check_status)
_profile_edges = _d("mlops_drift_profile_edges", _c_int,
                    [ctypes.POINTER(ctypes.POINTER(ctypes.c_double)), ctypes.POINTER(_sz),
                     ctypes.POINTER(ctypes.c_double), profile_p, _sz], check_status)
_profile_sample = _d("mlops_drift_profile_sample", _c_int, [ctypes.POINTER(ctypes.c_double), _sz, profile_p,
                                                            _sz], check_status)
_serialize = _d("mlops_drift_profile_serialize", _c_int, [_vp, ctypes.POINTER(_sz), profile_p], check_status)
_deserialize = _d("mlops_drift_profile_deserialize", _c_int, [ctypes.POINTER(profile_p), ctypes.c_char_p, _sz],
                  check_status)
_save = _d("mlops_drift_profile_save", _c_int, [store_p, ctypes.c_char_p, profile_p], check_status)
_load = _d("mlops_drift_profile_load", _c_int, [ctypes.POINTER(profile_p), store_p, ctypes.c_char_p],
           check_status)

_compare = _d("mlops_drift_compare", _c_int, [ctypes.POINTER(report_p), profile_p, ctypes.c_void_p,
                                              ctypes.POINTER(CompareOptions)], check_status)
_report_free = _d("mlops_drift_report_free", None, [report_p])
_report_count = _d("mlops_drift_report_count", _sz, [report_p])
_report_name = _d("mlops_drift_report_name", ctypes.c_char_p, [report_p, _sz])
_report_value = _d("mlops_drift_report_value", ctypes.c_double, [report_p, _sz, _c_int])
_report_drifted = _d("mlops_drift_report_drifted", _c_int, [report_p, _sz])
_report_counts = _d("mlops_drift_report_counts", _c_int, [report_p, _sz, _u64p, _u64p, _u64p, _u64p],
                    check_status)
_report_log = _d("mlops_drift_report_log", _c_int, [report_p, run_p, ctypes.c_char_p, ctypes.c_int64],
                 check_status)
_report_prometheus = _d("mlops_drift_report_prometheus", _c_int, [_vp, report_p], check_status)

_monitor_create = _d("mlops_drift_monitor_create", _c_int, [ctypes.POINTER(monitor_p), profile_p,
                                                            ctypes.POINTER(MonitorOptions)], check_status)
_monitor_observe = _d("mlops_drift_monitor_observe", _c_int, [monitor_p, ctypes.c_void_p], check_status)
_monitor_flush = _d("mlops_drift_monitor_flush", _c_int, [monitor_p], check_status)
_monitor_counters = _d("mlops_drift_monitor_counters", _c_int, [monitor_p, _u64p, _u64p, _u64p, _u64p],
                       check_status)
_monitor_prometheus = _d("mlops_drift_monitor_prometheus", _c_int, [_vp, monitor_p], check_status)
_monitor_drain = _d("mlops_drift_monitor_drain", _c_int, [monitor_p, ctypes.c_uint])
_monitor_free = _d("mlops_drift_monitor_free", None, [monitor_p])
_free = _d("mlops_free", None, [ctypes.c_void_p])


def _choice(table: Dict[str, int], value: str, what: str) -> int:
    try:
        return table[value]
    except (KeyError, TypeError):
        raise InvalidArgument(EINVAL, "%s %r is not one of %s" % (what, value, ", ".join(table))) from None


def _uint(value: int, what: str, bits: int = 32) -> int:
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise InvalidArgument(EINVAL, "%s %r is out of range" % (what, value))
    return value


class Profile(Handle):
    """The reference profile of a set of features: per feature the sorted (possibly
    subsampled) reference sample, the PSI bins with their reference shares, and a summary.
    Immutable once built; shareable across threads. Free it with :meth:`close` (or ``with``).
    """

    _close_fn = _profile_free

    @classmethod
    def build(cls, reference: Any, names: Optional[Sequence[str]] = None, *, max_samples: int = 0,
              n_bins: int = 0, nan_policy: str = "drop", seed: int = 0, threads: int = 0) -> "Profile":
        """Profiles every column of reference: a 2-D array (rows x features) or 1-D (one
        feature), float32/float64 in any order or strides, any ``__dlpack__`` object, or a
        DataFrame (pandas, polars, pyarrow), whose columns name the features.
        names: one distinct name per feature (None: the DataFrame's columns, else "f0", "f1",
        ...); with a DataFrame, the columns to profile. max_samples caps the sorted sample kept
        per feature (0: every value); n_bins: PSI bins (0: 10); nan_policy "drop" or "reject"."""
        reference, names = for_build(reference, names)
        o = ProfileOptions(PROFILE_OPTIONS_VERSION, _uint(max_samples, "max_samples", 64),
                           _uint(n_bins, "n_bins"), _choice(_NAN_POLICIES, nan_policy, "nan_policy"),
                           _uint(seed, "seed", 64), _uint(threads, "threads"))
        cnames = None
        n = 0
        if names is not None:
            if isinstance(names, (str, bytes)):
                raise TypeError("names must be a sequence of strings, not one string")
            enc = [cstr(x, "names[%d]" % i) for i, x in enumerate(names)]
            n = len(enc)
            cnames = (ctypes.c_char_p * max(n, 1))(*enc)
        ptr = profile_p()
        with as_tensor(reference, "reference") as t:
            _build(ctypes.byref(ptr), t.address, cnames, n, ctypes.byref(o))
        return cls(ptr)

    @classmethod
    def from_bytes(cls, blob: bytes) -> "Profile":
        """A profile from :meth:`to_bytes`; Corrupt for a damaged blob, VersionMismatch for a
        newer format."""
        data = bytes(blob)
        ptr = profile_p()
        _deserialize(ctypes.byref(ptr), data, len(data))
        return cls(ptr)

    @classmethod
    def load(cls, store: Store, model_ref: str) -> "Profile":
        """The profile stored with a model version ("fraud/3", "fraud@production", "fraud")."""
        ptr = profile_p()
        _load(ctypes.byref(ptr), store._handle(), cstr(model_ref, "model_ref"))
        return cls(ptr)

    def save(self, store: Store, model_ref: str) -> None:
        """Stores this profile with a model version ("fraud/3", "fraud@production": resolved to
        the version), replacing the one it had."""
        _save(store._handle(), cstr(model_ref, "model_ref"), self._handle())

    def to_bytes(self) -> bytes:
        """The serialised profile (versioned, zlib-compressed, CRC-32-checked)."""
        blob, size = ctypes.c_void_p(), _sz()
        _serialize(ctypes.byref(blob), ctypes.byref(size), self._handle())
        try:
            return ctypes.string_at(blob.value or 0, size.value)
        finally:
            _free(blob)

    __bytes__ = to_bytes

    def __len__(self) -> int:
        return int(_profile_count(self._handle()))

    @property
    def names(self) -> List[str]:
        """The feature names, in column order."""
        p = self._handle()
        return [pystr(_profile_name(p, i)) for i in range(_profile_count(p))]

    def index(self, feature: Union[int, str]) -> int:
        """The column of feature (a name, or an index checked against the count)."""
        if isinstance(feature, str):
            out = _sz()
            _profile_find(ctypes.byref(out), self._handle(), cstr(feature, "feature"))
            return int(out.value)
        n = len(self)
        if not isinstance(feature, int) or not 0 <= feature < n:
            raise InvalidArgument(EINVAL, "feature %r is not an index below %d or a name" % (feature, n))
        return feature

    def summary(self, feature: Union[int, str]) -> FeatureSummary:
        """The summary of one feature (by index or name) over all the reference values."""
        out = _SummaryC()
        _profile_summary(ctypes.byref(out), self._handle(), self.index(feature))
        return FeatureSummary(out.count, out.nan_count, out.sample_size, out.mean, out.std, out.min, out.max)

    def edges(self, feature: Union[int, str]) -> np.ndarray:
        """The interior PSI edges of feature (a new array)."""
        i = self.index(feature)
        ptr, n = ctypes.POINTER(ctypes.c_double)(), _sz()
        _profile_edges(ctypes.byref(ptr), ctypes.byref(n), None, self._handle(), i)
        return np.ctypeslib.as_array(ptr, (n.value,)).copy() if n.value else np.empty(0)

    def proportions(self, feature: Union[int, str]) -> np.ndarray:
        """The reference's share of each PSI bin of feature (len(edges) + 1 values)."""
        i = self.index(feature)
        ptr, n = ctypes.POINTER(ctypes.c_double)(), _sz()
        _profile_edges(ctypes.byref(ptr), ctypes.byref(n), None, self._handle(), i)
        out = np.empty(n.value + 1)
        _profile_edges(ctypes.byref(ptr), ctypes.byref(n), out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                       self._handle(), i)
        return out

    def sample(self, feature: Union[int, str]) -> np.ndarray:
        """The sorted reference sample of feature (a new float64 array)."""
        i = self.index(feature)
        out = np.empty(self.summary(i).sample_size)
        _profile_sample(out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), out.size, self._handle(), i)
        return out

    def __repr__(self) -> str:
        return "<mlops.drift.Profile %s>" % ("closed" if self.closed else "of %d features" % len(self))


class Report(Handle):
    """The result of :func:`compare` (or of a monitor window): one :class:`FeatureDrift` per
    feature, read once into Python values. :meth:`log` and :meth:`prometheus` use the C report,
    freed by :meth:`close` (or ``with``); the rows stay readable after close.
    """

    _close_fn = _report_free

    def __init__(self, ptr: Any, owned: bool = True) -> None:
        super().__init__(ptr)
        self._owned = owned
        rows = []
        n_ref, n_cur, nan_ref, nan_cur = (ctypes.c_uint64() for _ in range(4))
        for i in range(_report_count(ptr)):
            _report_counts(ptr, i, ctypes.byref(n_ref), ctypes.byref(n_cur), ctypes.byref(nan_ref),
                           ctypes.byref(nan_cur))
            rows.append(FeatureDrift._make([pystr(_report_name(ptr, i)),
                                            *(float(_report_value(ptr, i, v)) for v in range(len(VALUES))),
                                            _report_drifted(ptr, i) == 1, n_ref.value, n_cur.value,
                                            nan_ref.value, nan_cur.value]))
        self.features: List[FeatureDrift] = rows

    def close(self) -> None:
        """Frees the C report (the rows stay readable)."""
        # A report passed to an alert callback belongs to the monitor: only forget it.
        self._close_with(type(self)._close_fn if self._owned else (lambda p: None))

    def __len__(self) -> int:
        return len(self.features)

    def __iter__(self) -> Iterator[FeatureDrift]:
        return iter(self.features)

    def __getitem__(self, key: Union[int, str]) -> FeatureDrift:
        if isinstance(key, str):
            for f in self.features:
                if f.name == key:
                    return f
            raise KeyError(key)
        return self.features[key]

    @property
    def drifted(self) -> List[str]:
        """The names of the drifted features."""
        return [f.name for f in self.features if f.drifted]

    @property
    def drifted_count(self) -> int:
        """How many features drifted."""
        return sum(1 for f in self.features if f.drifted)

    def to_dict(self) -> Dict[str, Any]:
        """{"drifted_count": k, "features": {name: {value: ..., "drifted": bool, ...}}}, with the
        values that were not computed left out (JSON-serialisable)."""
        feats: Dict[str, Any] = {}
        for f in self.features:
            d = {k: v for k, v in f._asdict().items() if k != "name"}
            feats[f.name] = {k: v for k, v in d.items() if not (isinstance(v, float) and math.isnan(v))}
        return {"drifted_count": self.drifted_count, "features": feats}

    def log(self, run: Run, step: int = 0, prefix: Optional[str] = None) -> None:
        """Logs every computed value to run as "<prefix>/<feature>/<stat>" (prefix None: "drift")."""
        if not isinstance(run, Run):
            raise TypeError("run must be an mlops.Run, not %s" % type(run).__name__)
        _report_log(self._handle(), run._handle(), cstr_opt(prefix, "prefix"), step)

    def prometheus(self) -> str:
        """The values in the Prometheus text exposition format."""
        out = ctypes.c_void_p()
        _report_prometheus(ctypes.byref(out), self._handle())
        return take_string(out.value)

    def __repr__(self) -> str:
        return "<mlops.drift.Report %d of %d features drifted>" % (self.drifted_count, len(self))


def _compare_options(stats: Union[str, Iterable[str], None] = None, correction: str = "none",
                     nan_policy: str = "drop", alternative: str = "two-sided", method: str = "auto",
                     psi_threshold: float = 0.0, pvalue_threshold: float = 0.0,
                     wasserstein_threshold: float = 0.0, js_threshold: float = 0.0, epsilon: float = 0.0,
                     evidently_psi: bool = False, threads: int = 0, gpu: str = "auto") -> CompareOptions:
    bits = 0
    if stats is not None:
        for s in ([stats] if isinstance(stats, str) else stats):
            bits |= _choice(STATS, s, "stat")
    return CompareOptions(COMPARE_OPTIONS_VERSION, bits, _choice(_CORRECTIONS, correction, "correction"),
                          _choice(_NAN_POLICIES, nan_policy, "nan_policy"),
                          _choice(_ALTERNATIVES, alternative, "alternative"),
                          _choice(_KS_METHODS, method, "method"), psi_threshold, pvalue_threshold,
                          wasserstein_threshold, js_threshold, epsilon, 1 if evidently_psi else 0,
                          _uint(threads, "threads"), _choice(_GPU, gpu, "gpu"))


def compare(profile: Profile, current: Any, *, stats: Union[str, Iterable[str], None] = None,
            correction: str = "none", nan_policy: str = "drop", alternative: str = "two-sided",
            method: str = "auto", psi_threshold: float = 0.0, pvalue_threshold: float = 0.0,
            wasserstein_threshold: float = 0.0, js_threshold: float = 0.0, epsilon: float = 0.0,
            evidently_psi: bool = False, threads: int = 0, gpu: str = "auto") -> Report:
    """Compares every feature of current with profile: a DataFrame (pandas, polars, pyarrow),
    whose columns are taken by the profile's feature names (in any order; others ignored; a
    missing one raises FeatureNotFound), or rows x features in the profile's order (an array or a
    ``__dlpack__`` object).

    stats: any of "ks", "psi", "wasserstein", "js" (None: ks and psi); correction of the KS
    p-values across features: "none" | "bonferroni" | "bh". A feature is drifted when a
    statistic crosses its threshold (0: PSI >= 0.2, p < 0.05, Wasserstein >= 0.1, JS >= 0.1).
    gpu: "auto" (a CUDA-device tensor on its GPU, host data on the CPU) | "prefer" (host data
    too on a usable GPU) | "never" (the CPU only).
    """
    o = _compare_options(stats, correction, nan_policy, alternative, method, psi_threshold,
                         pvalue_threshold, wasserstein_threshold, js_threshold, epsilon, evidently_psi,
                         threads, gpu)
    ptr = report_p()
    with as_tensor(by_name(current, lambda: profile.names), "current") as t:
        _compare(ctypes.byref(ptr), profile._handle(), t.address, ctypes.byref(o))
    return Report(ptr)


class Monitor(Handle):
    """Windows of observed rows compared with a profile; an alert once per crossing::

        with mlops.drift.Monitor(profile, window_rows=5000, run=run,
                                 on_alert=lambda report: print(report.drifted)) as mon:
            for batch in batches:
                mon.observe(batch)

    on_alert(report) runs on the thread calling :meth:`observe` (or :meth:`flush`), inside the
    library: the report is valid during the call only (its rows stay readable). An exception it
    raises is logged to the "mlops" logger and counted in :attr:`callback_errors`, never
    propagated into C. webhook_url: a Slack-compatible JSON POST per alert, from a background
    thread. Keyword arguments of :func:`compare` (stats, thresholds, correction) apply to each
    window. The profile (and run) must stay open: closing them closes the monitor first.
    """

    _close_fn = _monitor_free

    def __init__(self, profile: Profile, *, window_rows: int = 0, window_ms: int = 0,
                 run: Optional[Run] = None, prefix: Optional[str] = None,
                 on_alert: Optional[Callable[[Report], Any]] = None, webhook_url: Optional[str] = None,
                 webhook_timeout_ms: int = 0, webhook_retries: int = 0, name: Optional[str] = None,
                 **compare_kw: Any) -> None:
        if run is not None and not isinstance(run, Run):
            raise TypeError("run must be an mlops.Run, not %s" % type(run).__name__)
        self.callback_errors = 0
        self._cmp = _compare_options(**compare_kw)
        self._on_alert = on_alert
        self._cb = ALERT_CB(self._trampoline) if on_alert is not None else ALERT_CB()
        o = MonitorOptions(MONITOR_OPTIONS_VERSION, _uint(window_rows, "window_rows", 64),
                           _uint(window_ms, "window_ms"), ctypes.pointer(self._cmp),
                           run._handle() if run is not None else None, cstr_opt(prefix, "prefix"),
                           self._cb, None, cstr_opt(webhook_url, "webhook_url"),
                           _uint(webhook_timeout_ms, "webhook_timeout_ms"),
                           _uint(webhook_retries, "webhook_retries"), cstr_opt(name, "name"))
        ptr = monitor_p()
        _monitor_create(ctypes.byref(ptr), profile._handle(), ctypes.byref(o))
        super().__init__(ptr, parent=profile)
        self._names = profile.names
        # The run is a second parent: ending it must stop the monitor logging to it first.
        self._run = run
        if run is not None:
            with run._lock:
                run._children.add(self)

    def _trampoline(self, ptr: Any, _payload: Any) -> None:
        report = None
        try:
            report = Report(ptr, owned=False)
            self._on_alert(report)  # type: ignore[misc]
        except BaseException:  # never into C: log and count
            self.callback_errors += 1
            log.exception("mlops.drift.Monitor: the on_alert callback raised")
        finally:
            if report is not None:
                report.close()

    def close(self) -> None:
        """Stops the monitor and frees it (queued webhook POSTs are abandoned: see :meth:`drain`)."""
        run, self._run = getattr(self, "_run", None), None
        if run is not None:
            with run._lock:
                run._children.discard(self)
        super().close()

    def observe(self, batch: Any) -> None:
        """Adds the rows of batch (a DataFrame, whose columns are taken by the profile's feature
        names; or rows x features in the profile's order, or 1-D for one feature) to the window,
        closing windows as they fill; alerts run before it returns."""
        with as_tensor(by_name(batch, lambda: self._names), "batch") as t:
            _monitor_observe(self._handle(), t.address)

    def flush(self) -> None:
        """Closes the current window now (when it has rows)."""
        _monitor_flush(self._handle())

    def counters(self) -> MonitorCounters:
        """Windows evaluated, alerts raised and webhooks sent/failed so far."""
        c = [ctypes.c_uint64() for _ in range(4)]
        _monitor_counters(self._handle(), *(ctypes.byref(x) for x in c))
        return MonitorCounters(*(x.value for x in c))

    def prometheus(self) -> str:
        """The last window's values and the counters, in the Prometheus text format."""
        out = ctypes.c_void_p()
        _monitor_prometheus(ctypes.byref(out), self._handle())
        return take_string(out.value)

    def drain(self, timeout_ms: int = 5000) -> bool:
        """Waits up to timeout_ms for queued webhook POSTs; False if some are still pending."""
        rc = _monitor_drain(self._handle(), _uint(timeout_ms, "timeout_ms"))
        if rc < 0 and rc != EBUSY:  # MLOPS_EBUSY is the answer "still pending", not a failure
            check_status(rc, _monitor_drain, ())
        return bool(rc >= 0)

    def __repr__(self) -> str:
        return "<mlops.drift.Monitor %s>" % ("closed" if self.closed else "%d windows" % self.counters().windows)
