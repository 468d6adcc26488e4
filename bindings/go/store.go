package mlops

/*
#include <stdlib.h>
#include <mlops/store.h>
*/
import "C"

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Durability says when logged metrics are committed.
type Durability int

const (
	DurabilityBuffered Durability = C.MLOPS_DURABILITY_BUFFERED // committed every FlushInterval and on flush/end/close
	DurabilitySync     Durability = C.MLOPS_DURABILITY_SYNC     // each logging call returns once committed
)

// OnFull says what a logging call does when the metric buffer is full.
type OnFull int

const (
	OnFullBlock OnFull = C.MLOPS_ON_FULL_BLOCK // wait for the writer to make room
	OnFullBusy  OnFull = C.MLOPS_ON_FULL_EBUSY // return ErrBusy at once; nothing is dropped
)

// StoreOptions are the fields of mlops_store_options. The zero value means the library's
// defaults; durations are rounded up to whole milliseconds.
type StoreOptions struct {
	BusyTimeout    time.Duration // how long a writer waits for another process's lock (0: 10 s)
	ReadOnly       bool          // open an existing store read-only
	Durability     Durability    // DurabilityBuffered (default) or DurabilitySync
	FlushInterval  time.Duration // buffered mode: commit period (0: 200 ms)
	BufferCapacity int           // metric points held in memory before OnFull applies (0: 1048576)
	OnFull         OnFull        // OnFullBlock (default) or OnFullBusy
	ArtifactRoot   string        // artifact directory ("": "<db file>.artifacts")
	Actor          string        // who makes changes, for the registry audit ("": $USER)
	// MLflow stores: where writes wait for the server ("": this user's private spool for it,
	// under $XDG_STATE_HOME/mlops or ~/.local/state/mlops), and how long Close waits for it to
	// drain (0: 10 s).
	SpoolPath    string
	CloseTimeout time.Duration
}

// Store is an open store: an SQLite file or an MLflow tracking server. It may be used from
// several goroutines at once; Close waits for calls in progress.
type Store struct {
	mu  sync.RWMutex // read-held during each call, write-held by Close
	ptr *C.mlops_store

	kidsMu sync.Mutex
	kids   map[io.Closer]struct{} // live runs and watchers: C forbids them to outlive the store
}

// adopt records a live child handle, closed by Close before the store.
func (s *Store) adopt(c io.Closer) {
	s.kidsMu.Lock()
	if s.kids == nil {
		s.kids = make(map[io.Closer]struct{})
	}
	s.kids[c] = struct{}{}
	s.kidsMu.Unlock()
}

func (s *Store) disown(c io.Closer) {
	s.kidsMu.Lock()
	delete(s.kids, c)
	s.kidsMu.Unlock()
}

// Open opens (creating if needed) the store named by uri; "" means $MLOPS_TRACKING_URI,
// else $MLFLOW_TRACKING_URI, else "mlops.db".
func Open(uri string) (*Store, error) { return openStore(uri, nil, C.MLOPS_STORE_OPTIONS_VERSION) }

// OpenWithOptions is Open with options; nil means the defaults.
func OpenWithOptions(uri string, opts *StoreOptions) (*Store, error) {
	return openStore(uri, opts, C.MLOPS_STORE_OPTIONS_VERSION)
}

func millis(d time.Duration, field string) (C.unsigned, error) {
	if d < 0 {
		return 0, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("StoreOptions.%s %v is negative", field, d)}
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxUint32 {
		return 0, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("StoreOptions.%s %v is too long", field, d)}
	}
	return C.unsigned(ms), nil
}

func cstringOpt(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// openStore takes the options struct version as a parameter so that tests can pass an
// unknown one.
func openStore(uri string, opts *StoreOptions, version uint) (*Store, error) {
	if loadErr != nil {
		return nil, loadErr
	}
	var copts C.mlops_store_options
	if _, err := call(func() C.int { return C.mlops_store_options_init(&copts, C.MLOPS_STORE_OPTIONS_VERSION) }); err != nil {
		return nil, err
	}
	copts.version = C.unsigned(version)
	if opts != nil {
		var err error
		if copts.busy_timeout_ms, err = millis(opts.BusyTimeout, "BusyTimeout"); err != nil {
			return nil, err
		}
		if copts.flush_interval_ms, err = millis(opts.FlushInterval, "FlushInterval"); err != nil {
			return nil, err
		}
		if opts.BufferCapacity < 0 {
			return nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("StoreOptions.BufferCapacity %d is negative", opts.BufferCapacity)}
		}
		if opts.ReadOnly {
			copts.read_only = 1
		}
		copts.durability = C.int(opts.Durability)
		copts.buffer_capacity = C.size_t(opts.BufferCapacity)
		copts.on_full = C.int(opts.OnFull)
		// C memory: a Go pointer may not be stored in memory passed to C. The library copies.
		copts.artifact_root = cstringOpt(opts.ArtifactRoot)
		defer C.free(unsafe.Pointer(copts.artifact_root))
		copts.actor = cstringOpt(opts.Actor)
		defer C.free(unsafe.Pointer(copts.actor))
		copts.spool_path = cstringOpt(opts.SpoolPath)
		defer C.free(unsafe.Pointer(copts.spool_path))
		if copts.close_timeout_ms, err = millis(opts.CloseTimeout, "CloseTimeout"); err != nil {
			return nil, err
		}
	}
	curi := cstringOpt(uri)
	defer C.free(unsafe.Pointer(curi))

	var ptr *C.mlops_store
	if _, err := call(func() C.int { return C.mlops_store_open(&ptr, curi, &copts) }); err != nil {
		return nil, err
	}
	s := &Store{ptr: ptr}
	runtime.SetFinalizer(s, (*Store).finalize)
	return s, nil
}

// use runs one C call on the open handle, holding off Close until it returns.
func (s *Store) use(f func(p *C.mlops_store) C.int) (C.int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ptr == nil {
		return 0, errClosed("mlops.Store")
	}
	rc, err := call(func() C.int { return f(s.ptr) })
	runtime.KeepAlive(s)
	return rc, err
}

// Close flushes and frees the store; calling it again does nothing. The store is freed even
// when the final flush fails: the error then says why and what was lost. On an MLflow store,
// writes still undelivered after CloseTimeout are an error matching ErrBusy ("N writes wait
// in the spool ..."): not lost, the next process that opens the server sends them.
func (s *Store) Close() error {
	// Live runs end (FINISHED) and watchers stop first; the first error is kept.
	s.kidsMu.Lock()
	kids := make([]io.Closer, 0, len(s.kids))
	for c := range s.kids {
		kids = append(kids, c)
	}
	s.kidsMu.Unlock()
	var first error
	for _, c := range kids {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.mu.Lock()
	ptr := s.ptr
	s.ptr = nil
	s.mu.Unlock()
	if ptr == nil {
		return nil
	}
	runtime.SetFinalizer(s, nil)
	_, err := call(func() C.int { return C.mlops_store_close(ptr) })
	if first != nil {
		return first
	}
	return err
}

// finalize is the safety net for a Store that was never closed.
func (s *Store) finalize() {
	if s.ptr != nil {
		C.mlops_store_close(s.ptr)
		s.ptr = nil
	}
}

// Flush commits everything buffered so far before returning.
func (s *Store) Flush() error {
	_, err := s.use(func(p *C.mlops_store) C.int { return C.mlops_store_flush(p) })
	return err
}

// URI is the URI the store was opened with, after ""/environment resolution; "" once closed.
func (s *Store) URI() string {
	var uri string
	s.use(func(p *C.mlops_store) C.int {
		uri = C.GoString(C.mlops_store_uri(p))
		return 0
	})
	return uri
}

// Sync waits until every spooled write reached the MLflow server or was refused by it, at most
// timeout; the error says why some still wait. Other stores: a flush.
func (s *Store) Sync(timeout time.Duration) error {
	ms, err := millis(timeout, "timeout")
	if err != nil {
		return err
	}
	_, err = s.use(func(p *C.mlops_store) C.int { return C.mlops_store_sync(p, ms) })
	return err
}

// Backlog is what an MLflow store's spool holds: writes waiting, and writes the server refused.
func (s *Store) Backlog() (pending, rejected uint64, err error) {
	var p, r C.uint64_t
	_, err = s.use(func(ptr *C.mlops_store) C.int { return C.mlops_store_backlog(&p, &r, ptr) })
	return uint64(p), uint64(r), err
}

// SchemaVersion is the schema version of an SQLite store (0 for other backends).
func (s *Store) SchemaVersion() (int, error) {
	rc, err := s.use(func(p *C.mlops_store) C.int { return C.mlops_store_schema_version(p) })
	return int(rc), err
}
