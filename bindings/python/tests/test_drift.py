"""Single-feature drift on numpy arrays: values against scipy, float64 passed without a copy,
float32/strided/integer converted, bad arrays refused."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.stats

import mlops
from mlops import drift

from _layout import layout_in_c, layout_in_python

RNG = np.random.default_rng(42)
REF = RNG.normal(0.0, 1.0, 2000)
CUR = RNG.normal(0.3, 1.1, 1500)


@pytest.mark.parametrize("n,m", [(50, 40), (2000, 1500), (12000, 11000)])
def test_ks_matches_scipy(n: int, m: int) -> None:
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=n), rng.normal(0.05, size=m)
    stat, p = mlops.drift.ks(a, b)
    want = scipy.stats.ks_2samp(a, b)
    assert stat == pytest.approx(want.statistic, abs=1e-15)
    assert p == pytest.approx(want.pvalue, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_ks_ex_matches_scipy(alternative: str) -> None:
    r = drift.ks_ex(REF[:300], CUR[:200], alternative=alternative)
    want = scipy.stats.ks_2samp(REF[:300], CUR[:200], alternative=alternative)
    assert r.statistic == pytest.approx(want.statistic) and r.pvalue == pytest.approx(want.pvalue, rel=1e-6)
    assert (r.n_ref, r.n_cur, r.nan_ref) == (300, 200, 0) and r.exact
    assert r.location == pytest.approx(want.statistic_location) and r.sign == want.statistic_sign
    asymp = drift.ks_ex(REF, CUR, method="asymp")
    assert not asymp.exact
    assert asymp.pvalue == pytest.approx(scipy.stats.ks_2samp(REF, CUR, method="asymp").pvalue, rel=1e-6)


def test_float64_contiguous_is_passed_without_copy() -> None:
    assert drift.as_float64(REF) is REF
    strided = REF[::2]
    converted = drift.as_float64(strided)
    assert converted is not strided and converted.flags.c_contiguous
    assert not np.shares_memory(converted, REF)
    f32 = REF.astype(np.float32)
    assert drift.as_float64(f32).dtype == np.float64


def test_float32_strided_and_lists_give_the_same_values() -> None:
    f32_ref, f32_cur = REF.astype(np.float32), CUR.astype(np.float32)
    want = scipy.stats.ks_2samp(f32_ref.astype(np.float64), f32_cur.astype(np.float64))
    assert drift.ks(f32_ref, f32_cur) == pytest.approx((want.statistic, want.pvalue), rel=1e-9)
    big = np.empty(2 * REF.size)
    big[::2] = REF
    assert drift.ks(big[::2], CUR) == drift.ks(REF, CUR)
    assert drift.psi(big[::2], CUR) == drift.psi(REF, CUR)
    assert drift.ks(list(REF[:100]), tuple(CUR[:80])) == drift.ks(REF[:100], CUR[:80])
    ints = np.arange(100, dtype=np.int32)
    assert drift.ks(ints, ints + 10) == drift.ks(ints.astype(float), ints + 10.0)
    big_endian = REF.astype(">f8")
    assert drift.ks(big_endian, CUR) == drift.ks(REF, CUR)


def test_psi_against_numpy() -> None:
    edges = np.quantile(REF, np.linspace(0, 1, 11))[1:-1]
    r = np.bincount(np.searchsorted(edges, REF, side="right"), minlength=10) / REF.size
    c = np.bincount(np.searchsorted(edges, CUR, side="right"), minlength=10) / CUR.size
    want = float(np.sum((c - r) * np.log(c / r)))
    assert mlops.drift.psi(REF, CUR) == pytest.approx(want, rel=1e-6)
    fixed = drift.psi_ex(REF, CUR, edges=[-1.0, 0.0, 1.0])
    r = np.bincount(np.searchsorted([-1.0, 0.0, 1.0], REF, side="right"), minlength=4) / REF.size
    c = np.bincount(np.searchsorted([-1.0, 0.0, 1.0], CUR, side="right"), minlength=4) / CUR.size
    assert fixed == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-6)
    assert drift.psi(REF, REF) == pytest.approx(0.0, abs=1e-12)
    assert drift.psi_ex(REF, CUR, binning="evidently") > 0


def test_other_statistics() -> None:
    assert drift.wasserstein(REF, CUR) == pytest.approx(scipy.stats.wasserstein_distance(REF, CUR), rel=1e-9)
    assert drift.wasserstein(REF, CUR, normalized=True) == pytest.approx(
        scipy.stats.wasserstein_distance(REF, CUR) / REF.std(), rel=1e-9)
    js2 = drift.jensen_shannon(REF, CUR, base=2)
    assert 0 < js2 < 1 and js2 == pytest.approx(drift.jensen_shannon(REF, CUR) / np.sqrt(np.log(2)), rel=1e-9)
    ref_cat = np.repeat([1.0, 2.0, 3.0], [50, 30, 20])
    cur_cat = np.repeat([1.0, 2.0, 3.0, 4.0], [40, 30, 25, 5])
    stat, p, unseen = drift.chi_square(ref_cat, cur_cat)
    assert unseen == 1 and stat > 0 and 0 <= p < 0.05
    x = np.array([1.0, np.nan, 3.0, np.nan])
    assert drift.missing_rate(x) == 0.5 and drift.missing_rate(np.array([])) == 0.0
    p = np.array([0.01, 0.04, 0.03, np.nan])
    np.testing.assert_allclose(drift.correct(p, "bonferroni"), [0.03, 0.12, 0.09, np.nan])
    np.testing.assert_allclose(drift.correct(p, "bh"), [0.03, 0.04, 0.04, np.nan])


def test_nan_policies() -> None:
    a = np.append(REF[:100], np.nan)
    r = drift.ks_ex(a, CUR[:50])
    assert r.nan_ref == 1 and r.n_ref == 100
    assert np.isnan(drift.ks_ex(a, CUR[:50], nan_policy="propagate").statistic)
    with pytest.raises(mlops.InvalidArgument, match="age"):
        drift.ks_ex(a, CUR[:50], nan_policy="reject", feature="age")


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(mlops.InvalidArgument, match="1-D"):
        drift.ks(REF.reshape(40, 50), CUR)
    with pytest.raises(mlops.InvalidArgument, match="dtype"):
        drift.ks(REF.astype(complex), CUR)
    with pytest.raises(mlops.InvalidArgument, match="dtype"):
        drift.ks(np.array(["a", "b"]), CUR)
    with pytest.raises(mlops.InvalidArgument):
        drift.ks(np.array([]), CUR)
    with pytest.raises(mlops.InvalidArgument, match="alternative"):
        drift.ks_ex(REF, CUR, alternative="sideways")
    with pytest.raises(mlops.InvalidArgument):
        drift.psi_ex(REF, CUR, edges=[1.0, 0.0])  # not increasing


def test_struct_layouts_match_header(tmp_path: Path) -> None:
    structs = {"mlops_drift_options": drift.Options, "mlops_drift_ks_result": drift._KSResultC}
    assert layout_in_c(tmp_path, "mlops/drift.h", structs) == layout_in_python(structs)
