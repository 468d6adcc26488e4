package mlops

/*
#include <stdlib.h>
#include <mlops/drift.h>
*/
import "C"

import "unsafe"

// Drift options (mlops_drift_options). The zero value means the defaults.
type (
	Alternative int // KS: which side
	KSMethod    int // KS p-value
	NaNPolicy   int // what NaNs do
	Binning     int // PSI and Jensen–Shannon bins
	Correction  int // multiple-testing correction
)

const (
	TwoSided Alternative = C.MLOPS_DRIFT_TWO_SIDED
	Less     Alternative = C.MLOPS_DRIFT_LESS
	Greater  Alternative = C.MLOPS_DRIFT_GREATER

	KSAuto  KSMethod = C.MLOPS_DRIFT_KS_AUTO
	KSExact KSMethod = C.MLOPS_DRIFT_KS_EXACT
	KSAsymp KSMethod = C.MLOPS_DRIFT_KS_ASYMP

	NaNDrop      NaNPolicy = C.MLOPS_DRIFT_NAN_DROP
	NaNPropagate NaNPolicy = C.MLOPS_DRIFT_NAN_PROPAGATE
	NaNReject    NaNPolicy = C.MLOPS_DRIFT_NAN_REJECT

	BinsQuantile  Binning = C.MLOPS_DRIFT_BINS_QUANTILE
	BinsFixed     Binning = C.MLOPS_DRIFT_BINS_FIXED
	BinsEvidently Binning = C.MLOPS_DRIFT_BINS_EVIDENTLY

	CorrectNone       Correction = C.MLOPS_DRIFT_CORRECT_NONE
	CorrectBonferroni Correction = C.MLOPS_DRIFT_CORRECT_BONFERRONI
	CorrectBH         Correction = C.MLOPS_DRIFT_CORRECT_BH
)

// DriftOptions are the fields of mlops_drift_options.
type DriftOptions struct {
	NaNPolicy   NaNPolicy
	Alternative Alternative
	KSMethod    KSMethod
	Binning     Binning
	Bins        uint      // quantile bins (0: 10)
	Edges       []float64 // BinsFixed: interior edges, strictly increasing
	Epsilon     float64   // PSI: share replacing 0 (0: 1e-4)
	JSBase      float64   // Jensen–Shannon log base (0: e)
	Feature     string    // the name errors mention
}

// KSResult is the full result of a KS test.
type KSResult struct {
	Statistic, PValue float64
	Location          float64 // the smallest value where the statistic is attained
	Sign              int     // +1: F_ref above F_cur there; -1: below
	Exact             bool
	NRef, NCur        int // sizes after dropping NaNs
	NaNRef, NaNCur    int
}

// ptr is the address of xs[0], passed to C without a copy: the cgo rules allow it, float64
// memory holds no Go pointers, and C keeps no reference past the call. nil for an empty
// slice (the library then reports the empty sample).
func ptr(xs []float64) *C.double {
	if len(xs) == 0 {
		return nil
	}
	return (*C.double)(unsafe.Pointer(&xs[0]))
}

// withOptions builds the C options in C memory (they may not hold Go pointers) and calls f.
func withOptions(o *DriftOptions, f func(*C.mlops_drift_options) C.int) error {
	var co *C.mlops_drift_options
	if o != nil {
		co = (*C.mlops_drift_options)(C.calloc(1, C.sizeof_mlops_drift_options))
		defer C.free(unsafe.Pointer(co))
		co.version = C.MLOPS_DRIFT_OPTIONS_VERSION
		co.nan_policy, co.alternative, co.ks_method = C.int(o.NaNPolicy), C.int(o.Alternative), C.int(o.KSMethod)
		co.binning, co.n_bins = C.int(o.Binning), C.unsigned(o.Bins)
		if len(o.Edges) > 0 {
			co.edges = (*C.double)(C.malloc(C.size_t(len(o.Edges)) * C.sizeof_double))
			defer C.free(unsafe.Pointer(co.edges))
			copy(unsafe.Slice((*float64)(unsafe.Pointer(co.edges)), len(o.Edges)), o.Edges)
			co.n_edges = C.size_t(len(o.Edges))
		}
		co.epsilon, co.js_base = C.double(o.Epsilon), C.double(o.JSBase)
		co.feature = cstringOpt(o.Feature)
		defer free(co.feature)
	}
	_, err := call(func() C.int { return f(co) })
	return err
}

// KS is the two-sided Kolmogorov–Smirnov statistic and p-value, as scipy.stats.ks_2samp
// (NaNs dropped). The slices are read in place, not copied.
func KS(ref, cur []float64) (statistic, pvalue float64, err error) {
	var s, p C.double
	_, err = call(func() C.int {
		return C.mlops_drift_ks(&s, &p, ptr(ref), C.size_t(len(ref)), ptr(cur), C.size_t(len(cur)))
	})
	return float64(s), float64(p), err
}

// KSEx is KS with options (nil: defaults): alternative, method, NaN policy.
func KSEx(ref, cur []float64, o *DriftOptions) (KSResult, error) {
	var r C.mlops_drift_ks_result
	err := withOptions(o, func(co *C.mlops_drift_options) C.int {
		return C.mlops_drift_ks_ex(&r, ptr(ref), C.size_t(len(ref)), ptr(cur), C.size_t(len(cur)), co)
	})
	return KSResult{float64(r.statistic), float64(r.pvalue), float64(r.location), int(r.sign), r.exact != 0,
		int(r.n_ref), int(r.n_cur), int(r.nan_ref), int(r.nan_cur)}, err
}

// PSI is the population stability index over bins quantile bins of ref (0: 10).
func PSI(ref, cur []float64, bins uint) (float64, error) {
	var v C.double
	_, err := call(func() C.int {
		return C.mlops_drift_psi(&v, ptr(ref), C.size_t(len(ref)), ptr(cur), C.size_t(len(cur)), C.unsigned(bins))
	})
	return float64(v), err
}

// PSIEx is PSI with options (binning, edges, epsilon, NaN policy).
func PSIEx(ref, cur []float64, o *DriftOptions) (float64, error) {
	var v C.double
	err := withOptions(o, func(co *C.mlops_drift_options) C.int {
		return C.mlops_drift_psi_ex(&v, ptr(ref), C.size_t(len(ref)), ptr(cur), C.size_t(len(cur)), co)
	})
	return float64(v), err
}

// Wasserstein is the Wasserstein-1 distance; normalized divides by max(std(ref), 0.001).
func Wasserstein(ref, cur []float64, normalized bool, o *DriftOptions) (float64, error) {
	var v C.double
	n := C.int(0)
	if normalized {
		n = 1
	}
	err := withOptions(o, func(co *C.mlops_drift_options) C.int {
		return C.mlops_drift_wasserstein(&v, ptr(ref), C.size_t(len(ref)), ptr(cur), C.size_t(len(cur)), n, co)
	})
	return float64(v), err
}

// JensenShannon is the Jensen–Shannon distance over the PSI bins.
func JensenShannon(ref, cur []float64, o *DriftOptions) (float64, error) {
	var v C.double
	err := withOptions(o, func(co *C.mlops_drift_options) C.int {
		return C.mlops_drift_jensen_shannon(&v, ptr(ref), C.size_t(len(ref)), ptr(cur), C.size_t(len(cur)), co)
	})
	return float64(v), err
}

// ChiSquare tests a categorical feature (values are labels); unseen counts categories of cur
// that ref never saw.
func ChiSquare(ref, cur []float64, o *DriftOptions) (statistic, pvalue float64, unseen int, err error) {
	var s, p C.double
	var u C.size_t
	err = withOptions(o, func(co *C.mlops_drift_options) C.int {
		return C.mlops_drift_chi_square(&s, &p, &u, ptr(ref), C.size_t(len(ref)), ptr(cur), C.size_t(len(cur)), co)
	})
	return float64(s), float64(p), int(u), err
}

// MissingRate is the share of NaNs in x (0 when empty).
func MissingRate(x []float64) (float64, error) {
	var v C.double
	_, err := call(func() C.int { return C.mlops_drift_missing_rate(&v, ptr(x), C.size_t(len(x))) })
	return float64(v), err
}

// Correct adjusts p-values for multiple testing into a new slice (NaNs stay NaN).
func Correct(pvalues []float64, method Correction) ([]float64, error) {
	out := make([]float64, len(pvalues))
	_, err := call(func() C.int {
		return C.mlops_drift_correct(ptr(out), ptr(pvalues), C.size_t(len(pvalues)), C.int(method))
	})
	return out, err
}
