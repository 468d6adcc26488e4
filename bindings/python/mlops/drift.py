"""drift.h, single-feature functions: KS, PSI, Wasserstein, Jensen-Shannon, chi-square,
missing rate and multiple-testing correction, on numpy arrays (numpy is required here).

Arrays: a 1-D, C-contiguous float64 array is passed to C without copying. Anything else is
converted explicitly to a new contiguous float64 array first (one copy): float32 and integer
arrays (float32 -> float64 is exact), strided views (``x[::2]``), lists and tuples. Other
dtypes (complex, object, strings) and arrays that are not 1-D raise InvalidArgument.

Batched API (many features at once, 2-D arrays or DLPack tensors, zero-copy): :class:`Profile`,
:func:`compare` -> :class:`Report`, :class:`Monitor`; see :mod:`mlops._dlpack` for inputs.
"""
from __future__ import annotations

import ctypes
from typing import Any, Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from ._errors import EINVAL, InvalidArgument, check_status
from ._handle import cstr_opt

OPTIONS_VERSION = 1

TWO_SIDED, LESS, GREATER = 0, 1, 2
_ALTERNATIVES = {"two-sided": TWO_SIDED, "less": LESS, "greater": GREATER}
_KS_METHODS = {"auto": 0, "exact": 1, "asymp": 2}
_NAN_POLICIES = {"drop": 0, "propagate": 1, "reject": 2}
_BINNINGS = {"quantile": 0, "fixed": 1, "evidently": 2}
_CORRECTIONS = {"none": 0, "bonferroni": 1, "bh": 2}

_dp = ctypes.POINTER(ctypes.c_double)


class Options(ctypes.Structure):
    """``mlops_drift_options``, field for field (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("nan_policy", ctypes.c_int), ("alternative", ctypes.c_int),
                ("ks_method", ctypes.c_int), ("binning", ctypes.c_int), ("n_bins", ctypes.c_uint),
                ("edges", _dp), ("n_edges", ctypes.c_size_t), ("epsilon", ctypes.c_double),
                ("js_base", ctypes.c_double), ("feature", ctypes.c_char_p)]


class _KSResultC(ctypes.Structure):
    """``mlops_drift_ks_result`` (frozen layout)."""
    _fields_ = [("statistic", ctypes.c_double), ("pvalue", ctypes.c_double), ("location", ctypes.c_double),
                ("sign", ctypes.c_int), ("exact", ctypes.c_int), ("n_ref", ctypes.c_size_t),
                ("n_cur", ctypes.c_size_t), ("nan_ref", ctypes.c_size_t), ("nan_cur", ctypes.c_size_t)]


class KSResult(NamedTuple):
    """The full result of a KS test (:func:`ks_ex`)."""
    statistic: float
    pvalue: float
    location: float   #: the smallest value at which the statistic is attained
    sign: int         #: +1: F_ref above F_cur there; -1: below
    exact: bool       #: exact distribution used (else asymptotic)
    n_ref: int
    n_cur: int
    nan_ref: int
    nan_cur: int


_sz = ctypes.c_size_t
_d = _lib.declare
_ks = _d("mlops_drift_ks", ctypes.c_int, [_dp, _dp, _dp, _sz, _dp, _sz], check_status)
_ks_ex = _d("mlops_drift_ks_ex", ctypes.c_int, [ctypes.POINTER(_KSResultC), _dp, _sz, _dp, _sz,
                                                ctypes.POINTER(Options)], check_status)
_psi = _d("mlops_drift_psi", ctypes.c_int, [_dp, _dp, _sz, _dp, _sz, ctypes.c_uint], check_status)
_psi_ex = _d("mlops_drift_psi_ex", ctypes.c_int, [_dp, _dp, _sz, _dp, _sz, ctypes.POINTER(Options)],
             check_status)
_wasserstein = _d("mlops_drift_wasserstein", ctypes.c_int, [_dp, _dp, _sz, _dp, _sz, ctypes.c_int,
                                                            ctypes.POINTER(Options)], check_status)
_js = _d("mlops_drift_jensen_shannon", ctypes.c_int, [_dp, _dp, _sz, _dp, _sz, ctypes.POINTER(Options)],
         check_status)
_chi2 = _d("mlops_drift_chi_square", ctypes.c_int, [_dp, _dp, ctypes.POINTER(_sz), _dp, _sz, _dp, _sz,
                                                    ctypes.POINTER(Options)], check_status)
_missing = _d("mlops_drift_missing_rate", ctypes.c_int, [_dp, _dp, _sz], check_status)
_correct = _d("mlops_drift_correct", ctypes.c_int, [_dp, _dp, _sz, ctypes.c_int], check_status)


def as_float64(x: Any, what: str = "array") -> np.ndarray:
    """x as a 1-D C-contiguous float64 array: x itself when it already is one (no copy),
    else an explicit converted copy. InvalidArgument for other shapes and non-real dtypes."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise InvalidArgument(EINVAL, "%s must be 1-D, not %d-D" % (what, a.ndim))
    if a.dtype.kind not in "fiub":
        raise InvalidArgument(EINVAL, "%s has dtype %s: only real numbers are accepted" % (what, a.dtype))
    if a.dtype == np.float64 and a.flags.c_contiguous and a.dtype.isnative:
        return a
    return np.ascontiguousarray(a, dtype=np.float64)


def _ptr(a: np.ndarray) -> Any:
    return a.ctypes.data_as(_dp)


def _choice(table: Dict[str, int], value: str, what: str) -> int:
    try:
        return table[value]
    except KeyError:
        raise InvalidArgument(EINVAL, "%s %r is not one of %s" % (what, value, ", ".join(table))) from None


def _options(*, nan_policy: str = "drop", alternative: str = "two-sided", method: str = "auto",
             binning: Optional[str] = None, n_bins: int = 0, edges: Optional[np.ndarray] = None,
             epsilon: float = 0.0, base: Optional[float] = None, feature: Optional[bytes] = None) -> Options:
    o = Options()
    o.version = OPTIONS_VERSION
    o.nan_policy = _choice(_NAN_POLICIES, nan_policy, "nan_policy")
    o.alternative = _choice(_ALTERNATIVES, alternative, "alternative")
    o.ks_method = _choice(_KS_METHODS, method, "method")
    if binning is None:
        binning = "fixed" if edges is not None else "quantile"
    o.binning = _choice(_BINNINGS, binning, "binning")
    if not 0 <= n_bins < (1 << 32):
        raise InvalidArgument(EINVAL, "n_bins %d is out of range" % n_bins)
    o.n_bins = n_bins
    if edges is not None:
        o.edges = _ptr(edges)
        o.n_edges = edges.size
    o.epsilon = epsilon
    o.js_base = 0.0 if base is None else base
    o.feature = feature
    return o


def ks(ref: Any, cur: Any) -> Tuple[float, float]:
    """Two-sided KS (statistic, pvalue) as ``scipy.stats.ks_2samp(ref, cur)``, NaNs dropped."""
    r, c = as_float64(ref, "ref"), as_float64(cur, "cur")
    stat, p = ctypes.c_double(), ctypes.c_double()
    _ks(ctypes.byref(stat), ctypes.byref(p), _ptr(r), r.size, _ptr(c), c.size)
    return stat.value, p.value


def ks_ex(ref: Any, cur: Any, *, alternative: str = "two-sided", method: str = "auto",
          nan_policy: str = "drop", feature: Optional[str] = None) -> KSResult:
    """KS with options: alternative "two-sided" | "less" | "greater" (scipy's meaning), method
    "auto" | "exact" | "asymp", nan_policy "drop" | "propagate" | "reject"."""
    r, c = as_float64(ref, "ref"), as_float64(cur, "cur")
    o = _options(nan_policy=nan_policy, alternative=alternative, method=method,
                 feature=cstr_opt(feature, "feature"))
    out = _KSResultC()
    _ks_ex(ctypes.byref(out), _ptr(r), r.size, _ptr(c), c.size, ctypes.byref(o))
    return KSResult(out.statistic, out.pvalue, out.location, out.sign, bool(out.exact), out.n_ref,
                    out.n_cur, out.nan_ref, out.nan_cur)


def psi(ref: Any, cur: Any, n_bins: int = 10) -> float:
    """Population stability index over n_bins quantile bins of the reference, NaNs dropped."""
    r, c = as_float64(ref, "ref"), as_float64(cur, "cur")
    if not 0 <= n_bins < (1 << 32):
        raise InvalidArgument(EINVAL, "n_bins %d is out of range" % n_bins)
    out = ctypes.c_double()
    _psi(ctypes.byref(out), _ptr(r), r.size, _ptr(c), c.size, n_bins)
    return out.value


def psi_ex(ref: Any, cur: Any, *, binning: Optional[str] = None, n_bins: int = 0,
           edges: Optional[Sequence[float]] = None, epsilon: float = 0.0, nan_policy: str = "drop",
           feature: Optional[str] = None) -> float:
    """PSI with options: binning "quantile" (default) | "fixed" (interior ``edges``, the default
    when edges are given) | "evidently"; epsilon replaces empty shares (0: 1e-4)."""
    r, c = as_float64(ref, "ref"), as_float64(cur, "cur")
    e = None if edges is None else as_float64(edges, "edges")
    o = _options(nan_policy=nan_policy, binning=binning, n_bins=n_bins, edges=e, epsilon=epsilon,
                 feature=cstr_opt(feature, "feature"))
    out = ctypes.c_double()
    _psi_ex(ctypes.byref(out), _ptr(r), r.size, _ptr(c), c.size, ctypes.byref(o))
    return out.value


def wasserstein(ref: Any, cur: Any, *, normalized: bool = False, nan_policy: str = "drop",
                feature: Optional[str] = None) -> float:
    """Wasserstein-1 distance (scipy.stats.wasserstein_distance); normalized divides by
    max(std(ref), 0.001) as Evidently."""
    r, c = as_float64(ref, "ref"), as_float64(cur, "cur")
    o = _options(nan_policy=nan_policy, feature=cstr_opt(feature, "feature"))
    out = ctypes.c_double()
    _wasserstein(ctypes.byref(out), _ptr(r), r.size, _ptr(c), c.size, 1 if normalized else 0, ctypes.byref(o))
    return out.value


def jensen_shannon(ref: Any, cur: Any, *, base: Optional[float] = None, binning: Optional[str] = None,
                   n_bins: int = 0, edges: Optional[Sequence[float]] = None, nan_policy: str = "drop",
                   feature: Optional[str] = None) -> float:
    """Jensen-Shannon distance over the PSI bins (base None: e; or 2)."""
    r, c = as_float64(ref, "ref"), as_float64(cur, "cur")
    e = None if edges is None else as_float64(edges, "edges")
    o = _options(nan_policy=nan_policy, binning=binning, n_bins=n_bins, edges=e, base=base,
                 feature=cstr_opt(feature, "feature"))
    out = ctypes.c_double()
    _js(ctypes.byref(out), _ptr(r), r.size, _ptr(c), c.size, ctypes.byref(o))
    return out.value


def chi_square(ref: Any, cur: Any, *, nan_policy: str = "drop",
               feature: Optional[str] = None) -> Tuple[float, float, int]:
    """Chi-square test of a categorical feature (values are labels): (statistic, pvalue,
    number of categories of cur the reference never saw)."""
    r, c = as_float64(ref, "ref"), as_float64(cur, "cur")
    o = _options(nan_policy=nan_policy, feature=cstr_opt(feature, "feature"))
    stat, p, unseen = ctypes.c_double(), ctypes.c_double(), ctypes.c_size_t()
    _chi2(ctypes.byref(stat), ctypes.byref(p), ctypes.byref(unseen), _ptr(r), r.size, _ptr(c), c.size,
          ctypes.byref(o))
    return stat.value, p.value, int(unseen.value)


def missing_rate(x: Any) -> float:
    """The share of NaNs in x (0 for an empty array)."""
    a = as_float64(x, "x")
    out = ctypes.c_double()
    _missing(ctypes.byref(out), _ptr(a), a.size)
    return out.value


def correct(pvalues: Any, method: str = "bh") -> np.ndarray:
    """p-values adjusted for multiple testing: method "bh" (Benjamini-Hochberg) | "bonferroni" |
    "none". NaN p-values stay NaN and are not counted. Returns a new float64 array."""
    p = as_float64(pvalues, "pvalues")
    out = np.empty_like(p)
    _correct(_ptr(out), _ptr(p), p.size, _choice(_CORRECTIONS, method, "method"))
    return out


# The batched, profile-based API (profiles, compare, reports, the monitor) on 2-D arrays,
# DLPack tensors or DataFrames (columns by name).
from ._dlpack import as_tensor  # noqa: E402
from ._frame import FeatureNotFound  # noqa: E402
from ._profile import (FeatureDrift, FeatureSummary, Monitor, MonitorCounters, Profile, Report,  # noqa: E402
                       compare)
