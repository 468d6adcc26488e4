package mlops

/*
#include <stdlib.h>
#include <mlops/gpu.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Backend says which backend serves a pool.
type Backend int

const (
	BackendHost Backend = C.MLOPS_GPU_BACKEND_HOST // aligned host memory
	BackendCUDA Backend = C.MLOPS_GPU_BACKEND_CUDA // cudaMalloc on a CUDA device
)

// PoolOptions are the fields of mlops_gpu_pool_options; the zero value means the defaults
// (device 0, or the host backend without a GPU). Use Device: -1 for host memory.
type PoolOptions struct {
	Device           int
	InitialBytes     uint64 // reserved at creation
	ChunkBytes       uint64 // growth step (0: 64 MiB)
	MaxBytes         uint64 // hard cap on reserved bytes, past it ErrLimitExceeded (0: none)
	ReleaseThreshold uint64 // give wholly free chunks back at once above this (0: keep until Trim)
	Debug            bool   // host backend: poison freed memory, guard bytes checked at free
	NoThreadCache    bool   // every call takes the pool's lock; no size classes (see gpu.h)
	TracePath        string // CSV trace of every call (RMM's format)
}

// PoolStats is a snapshot of a pool's counters (mlops_gpu_stats).
type PoolStats struct {
	BytesInUse, BytesInUsePeak, BytesRequested, BytesReserved, BytesReservedPeak   uint64
	AllocCount, FreeCount, UpstreamAllocCount, UpstreamFreeCount, LargestFreeBlock uint64
	Fragmentation                                                                  float64
	OOMCount, StreamWaits                                                          uint64
	BytesCached                                                                    uint64 // freed blocks held in thread caches
}

// Pool is a pooled, stream-ordered allocator. Pointers are device (or host) addresses as
// unsafe.Pointer; streams are cudaStream_t values (nil: the default stream). Safe for
// concurrent use; Close frees every chunk (blocks still live become invalid).
type Pool struct {
	mu  sync.RWMutex
	ptr *C.mlops_gpu_pool
}

// NewPool creates a pool; opts nil means the defaults.
func NewPool(opts *PoolOptions) (*Pool, error) {
	if loadErr != nil {
		return nil, loadErr
	}
	var co C.mlops_gpu_pool_options
	if _, err := call(func() C.int { return C.mlops_gpu_pool_options_init(&co, C.MLOPS_GPU_POOL_OPTIONS_VERSION) }); err != nil {
		return nil, err
	}
	if opts != nil {
		co.device = C.int(opts.Device)
		if int(co.device) != opts.Device {
			return nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("PoolOptions.Device %d is out of range", opts.Device)}
		}
		co.initial_bytes = C.size_t(opts.InitialBytes)
		co.chunk_bytes = C.size_t(opts.ChunkBytes)
		co.max_bytes = C.size_t(opts.MaxBytes)
		co.release_threshold = C.size_t(opts.ReleaseThreshold)
		if opts.Debug {
			co.flags |= C.MLOPS_GPU_POOL_DEBUG
		}
		if opts.NoThreadCache {
			co.flags |= C.MLOPS_GPU_POOL_NO_THREAD_CACHE
		}
		co.trace_path = cstringOpt(opts.TracePath)
		defer free(co.trace_path)
	}
	var p *C.mlops_gpu_pool
	if _, err := call(func() C.int { return C.mlops_gpu_pool_create(&p, &co) }); err != nil {
		return nil, err
	}
	pool := &Pool{ptr: p}
	runtime.SetFinalizer(pool, (*Pool).Close)
	return pool, nil
}

func (p *Pool) use(f func(*C.mlops_gpu_pool) C.int) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return errClosed("mlops.Pool")
	}
	_, err := call(func() C.int { return f(p.ptr) })
	runtime.KeepAlive(p)
	return err
}

// Alloc allocates n bytes (256-byte aligned) for use on stream; n == 0 gives nil.
// ErrLimitExceeded past MaxBytes, ErrOutOfMemory when the device or host is full.
func (p *Pool) Alloc(n uint64, stream unsafe.Pointer) (unsafe.Pointer, error) {
	var out unsafe.Pointer
	err := p.use(func(h *C.mlops_gpu_pool) C.int { return C.mlops_gpu_alloc(&out, h, C.size_t(n), stream) })
	return out, err
}

// Free gives back a block, stream-ordered (ErrInvalidArgument: not this pool's, or freed twice).
func (p *Pool) Free(ptr, stream unsafe.Pointer) error {
	return p.use(func(h *C.mlops_gpu_pool) C.int { return C.mlops_gpu_free(h, ptr, stream) })
}

// Stats reads the pool's counters without taking its lock.
func (p *Pool) Stats() (PoolStats, error) {
	var s C.mlops_gpu_stats
	s.version = C.MLOPS_GPU_STATS_VERSION
	err := p.use(func(h *C.mlops_gpu_pool) C.int { return C.mlops_gpu_pool_stats(h, &s) })
	return PoolStats{uint64(s.bytes_in_use), uint64(s.bytes_in_use_peak), uint64(s.bytes_requested),
		uint64(s.bytes_reserved), uint64(s.bytes_reserved_peak), uint64(s.alloc_count), uint64(s.free_count),
		uint64(s.upstream_alloc_count), uint64(s.upstream_free_count), uint64(s.largest_free_block),
		float64(s.fragmentation), uint64(s.oom_count), uint64(s.stream_waits), uint64(s.bytes_cached)}, err
}

// Trim empties the thread caches, then gives wholly free chunks back until at most keep bytes
// stay reserved; returns bytes released.
func (p *Pool) Trim(keep uint64) (uint64, error) {
	var released C.size_t
	err := p.use(func(h *C.mlops_gpu_pool) C.int { return C.mlops_gpu_pool_trim(h, C.size_t(keep), &released) })
	return uint64(released), err
}

// Backend says which backend serves the pool (-1 once closed).
func (p *Pool) Backend() Backend {
	b := Backend(-1)
	p.use(func(h *C.mlops_gpu_pool) C.int { b = Backend(C.mlops_gpu_pool_backend(h)); return 0 })
	return b
}

// Close destroys the pool; calling it again does nothing.
func (p *Pool) Close() error {
	p.mu.Lock()
	h := p.ptr
	p.ptr = nil
	p.mu.Unlock()
	if h != nil {
		runtime.SetFinalizer(p, nil)
		C.mlops_gpu_pool_destroy(h)
	}
	return nil
}
