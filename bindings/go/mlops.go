// Package mlops is the Go binding of libmlops: run tracking, a model registry, drift
// statistics and a pooled GPU allocator, behind the stable C ABI.
//
// The binding is thin and strict: every behaviour comes from the C library, every failure
// is an *Error carrying the MLOPS_E* code and the library's message, usable with
// errors.Is(err, mlops.ErrNotFound). Handles are freed by Close; a finalizer only
// guards against leaks.
//
// Build with pkg-config able to find libmlops: installed (libmlops.pc), or from a build tree
// with PKG_CONFIG_PATH=<builddir>, where meson writes libmlops-uninstalled.pc.
package mlops

/*
#cgo pkg-config: libmlops
#include <mlops/common.h>

#if MLOPS_VERSION_NUMBER < 100 || MLOPS_VERSION_NUMBER >= 10000
#error "this mlops Go package needs libmlops headers >= 0.1.0 and < 1.0.0"
#endif
*/
import "C"

import (
	"fmt"
	"runtime"
)

const (
	// MinVersion and MaxVersion bound the libmlops versions (MLOPS_VERSION_NUMBER) this
	// package drives: MinVersion <= v < MaxVersion.
	MinVersion = 100   // 0.1.0
	MaxVersion = 10000 // 1.0.0, exclusive

	// HeaderVersion is MLOPS_VERSION_NUMBER of the headers this package was compiled with.
	HeaderVersion = int(C.MLOPS_VERSION_NUMBER)
)

// Feature is a bit of Features().
type Feature uint

const (
	FeatureCUDA   Feature = C.MLOPS_FEATURE_CUDA   // built with the CUDA kernels and allocator backend
	FeatureGPU    Feature = C.MLOPS_FEATURE_GPU    // a CUDA device is usable by this process now
	FeatureRemote Feature = C.MLOPS_FEATURE_REMOTE // built with libcurl: MLflow REST store, webhooks
)

// Version is the "major.minor.patch" of the libmlops actually loaded.
func Version() string { return C.GoString(C.mlops_version_string()) }

// VersionNumber is MLOPS_VERSION_NUMBER (major*10000+minor*100+patch) of the library loaded.
func VersionNumber() int { return int(C.mlops_version_number()) }

// Features reports what the loaded libmlops can do here (a set of Feature bits).
func Features() Feature { return Feature(C.mlops_features()) }

// Has reports whether every bit of g is set in f.
func (f Feature) Has(g Feature) bool { return f&g == g }

// loadErr is the run-time half of the version check: the shared library found at run time
// must provide at least the ABI of the headers compiled against, within the same major.
var loadErr = checkLoaded(VersionNumber())

func checkLoaded(v int) error {
	if v < HeaderVersion || v >= MaxVersion || v/10000 != HeaderVersion/10000 {
		return &Error{Code: CodeVersionMismatch, Message: fmt.Sprintf(
			"libmlops %s is loaded, but this package was built against %d.%d.%d and supports < 1.0.0",
			Version(), HeaderVersion/10000, HeaderVersion/100%100, HeaderVersion%100)}
	}
	return nil
}

// call runs f, one cgo call returning an mlops status, and turns a negative status into an
// *Error. The goroutine is locked to its OS thread for the call so that mlops_errmsg(),
// which is thread-local in C, is read on the thread where f failed.
func call(f func() C.int) (C.int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rc := f()
	if rc < 0 {
		return rc, errorFor(rc)
	}
	return rc, nil
}
