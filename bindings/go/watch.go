package mlops

/*
#include <stdint.h>
#include <stdlib.h>
#include <mlops/registry.h>

extern void mlopsGoModelWatch(char *ref, mlops_model_version *v, uintptr_t payload);

static void mlops_go_watch_cb(const char *ref, const mlops_model_version *v, void *payload)
{
	mlopsGoModelWatch((char *)ref, (mlops_model_version *)v, (uintptr_t)payload);
}

// The payload is a runtime/cgo.Handle: an integer, never a Go pointer.
static int mlops_go_watch(mlops_model_watcher **out, mlops_store *s, const char *ref,
	unsigned interval_ms, uintptr_t handle)
{
	return mlops_model_watch(out, s, ref, interval_ms, mlops_go_watch_cb, (void *)handle);
}
*/
import "C"

import (
	"fmt"
	"math"
	"runtime/cgo"
	"sync"
	"time"
)

// Watcher is a library thread polling a reference (Registry.Watch); Close stops it.
type Watcher struct {
	mu     sync.Mutex
	ptr    *C.mlops_model_watcher
	store  *Store
	handle cgo.Handle
	fn     func(ref string, v *ModelVersion)
}

// Watch calls fn(ref, v) from a library thread whenever what ref ("name@alias", "name/7",
// "name") resolves to changes; v holds the new version's attributes (nil when ref no longer
// resolves). It polls every interval (0: 100 ms; rounded up to whole milliseconds). A panic in
// fn is recovered and logged. Stop it with Close, never from inside fn; the store's Close
// stops it too.
func (g *Registry) Watch(ref string, interval time.Duration, fn func(ref string, v *ModelVersion)) (*Watcher, error) {
	if fn == nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: "Registry.Watch: fn is nil"}
	}
	if interval < 0 || interval > time.Duration(math.MaxUint32)*time.Millisecond {
		return nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("Registry.Watch: interval %v is out of range", interval)}
	}
	ms := C.unsigned((interval + time.Millisecond - 1) / time.Millisecond)
	w := &Watcher{store: g.s, fn: fn}
	w.handle = cgo.NewHandle(w)
	cr := cstr(ref)
	defer free(cr)
	var ptr *C.mlops_model_watcher
	if _, err := g.s.use(func(p *C.mlops_store) C.int {
		return C.mlops_go_watch(&ptr, p, cr, ms, C.uintptr_t(w.handle))
	}); err != nil {
		w.handle.Delete()
		return nil, err
	}
	w.mu.Lock()
	w.ptr = ptr
	w.mu.Unlock()
	// No finalizer: the store (and the handle) hold the watcher until Close.
	g.s.adopt(w)
	return w, nil
}

// Close stops the watcher thread (waiting for a callback in progress). Calling it again does
// nothing.
func (w *Watcher) Close() error {
	w.mu.Lock()
	p := w.ptr
	w.ptr = nil
	w.mu.Unlock()
	if p == nil {
		return nil
	}
	w.store.disown(w)
	C.mlops_model_unwatch(p)
	w.handle.Delete()
	return nil
}
