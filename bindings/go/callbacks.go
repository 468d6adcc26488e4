package mlops

// C calls back into Go here: the alert of a drift monitor and the change seen by a registry
// watcher. cgo forbids C definitions in the preamble of a file with //export, so the C side
// (the functions whose addresses go into the option structs) lives in profile.go and watch.go.

/*
#include <stdint.h>
#include <mlops/drift.h>
#include <mlops/registry.h>
*/
import "C"

import (
	"fmt"
	"log"
	"runtime/cgo"
	"sync/atomic"
)

// guard runs a Go callback called from C: a panic cannot unwind through C frames, so it is
// recovered, logged and counted instead of killing the process.
func guard(what string, panics *atomic.Uint64, f func()) {
	defer func() {
		if v := recover(); v != nil {
			if panics != nil {
				panics.Add(1)
			}
			log.Printf("mlops: %s panicked: %v", what, fmt.Sprint(v))
		}
	}()
	f()
}

//export mlopsGoDriftAlert
func mlopsGoDriftAlert(r *C.mlops_drift_report, payload C.uintptr_t) {
	m := cgo.Handle(payload).Value().(*Monitor)
	report := newReport(r, false)
	defer report.Close() // the monitor owns r: only forget it
	guard("the drift monitor's OnAlert", &m.callbackPanics, func() { m.onAlert(report) })
}

//export mlopsGoModelWatch
func mlopsGoModelWatch(ref *C.char, v *C.mlops_model_version, payload C.uintptr_t) {
	w := cgo.Handle(payload).Value().(*Watcher)
	var mv *ModelVersion
	if v != nil {
		mv = versionAttrs(v) // v lives during the call only: attributes, no snapshot
	}
	guard("the registry watcher's callback", nil, func() { w.fn(C.GoString(ref), mv) })
}
