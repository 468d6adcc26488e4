"""gpu.h: the pooled, stream-ordered allocator, as a context object."""
from __future__ import annotations

import contextlib
import ctypes
import enum
from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import _lib
from ._errors import EINVAL, InvalidArgument, check_status
from ._handle import Handle, StrPath, cstr_opt, opaque

POOL_OPTIONS_VERSION = 1
STATS_VERSION = 2

pool_p = opaque("mlops_gpu_pool")


class Backend(enum.IntEnum):
    """Which backend serves a pool (MLOPS_GPU_BACKEND_*)."""
    HOST = 0  #: aligned host memory
    CUDA = 1  #: cudaMalloc on a CUDA device


class PoolOptions(ctypes.Structure):
    """``mlops_gpu_pool_options``, field for field (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("device", ctypes.c_int), ("initial_bytes", ctypes.c_size_t),
                ("chunk_bytes", ctypes.c_size_t), ("max_bytes", ctypes.c_size_t),
                ("release_threshold", ctypes.c_size_t), ("flags", ctypes.c_uint),
                ("trace_path", ctypes.c_char_p)]


_STAT_FIELDS = ["bytes_in_use", "bytes_in_use_peak", "bytes_requested", "bytes_reserved",
                "bytes_reserved_peak", "alloc_count", "free_count", "upstream_alloc_count",
                "upstream_free_count", "largest_free_block"]


_STATS_C_FIELDS: List[Tuple[str, Any]] = (
    [("version", ctypes.c_uint)] + [(f, ctypes.c_uint64) for f in _STAT_FIELDS] +
    [("fragmentation", ctypes.c_double), ("oom_count", ctypes.c_uint64),
     ("stream_waits", ctypes.c_uint64), ("bytes_cached", ctypes.c_uint64)])


class _StatsC(ctypes.Structure):
    """``mlops_gpu_stats``, field for field (version 2)."""
    _fields_ = _STATS_C_FIELDS


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool's counters (``mlops_gpu_pool_stats``); :meth:`as_dict` for a dict."""
    bytes_in_use: int
    bytes_in_use_peak: int
    bytes_requested: int
    bytes_reserved: int
    bytes_reserved_peak: int
    alloc_count: int
    free_count: int
    upstream_alloc_count: int
    upstream_free_count: int
    largest_free_block: int
    fragmentation: float
    oom_count: int
    stream_waits: int
    bytes_cached: int

    def as_dict(self) -> Dict[str, Any]:
        """The statistics as a dict (field name -> value)."""
        return asdict(self)


_d = _lib.declare
_options_init = _d("mlops_gpu_pool_options_init", ctypes.c_int, [ctypes.POINTER(PoolOptions), ctypes.c_uint],
                   check_status)
_create = _d("mlops_gpu_pool_create", ctypes.c_int, [ctypes.POINTER(pool_p), ctypes.POINTER(PoolOptions)],
             check_status)
_alloc = _d("mlops_gpu_alloc", ctypes.c_int, [ctypes.POINTER(ctypes.c_void_p), pool_p, ctypes.c_size_t,
                                              ctypes.c_void_p], check_status)
_free = _d("mlops_gpu_free", ctypes.c_int, [pool_p, ctypes.c_void_p, ctypes.c_void_p], check_status)
_stats = _d("mlops_gpu_pool_stats", ctypes.c_int, [pool_p, ctypes.POINTER(_StatsC)], check_status)
_trim = _d("mlops_gpu_pool_trim", ctypes.c_int, [pool_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)],
           check_status)
_backend = _d("mlops_gpu_pool_backend", ctypes.c_int, [pool_p])
_destroy = _d("mlops_gpu_pool_destroy", None, [pool_p])


def _size(value: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    if not 0 <= value < (1 << (8 * ctypes.sizeof(ctypes.c_size_t))):
        raise InvalidArgument(EINVAL, "%s %d is not a valid size" % (what, value))
    return value


class GpuPool(Handle):
    """A pooled, stream-ordered allocator (``mlops_gpu_pool``); a context manager::

        with mlops.GpuPool(device=-1, max_bytes=1 << 30) as pool:
            with pool.allocation(4096) as ptr:   # an int address, freed at the end of the block
                ...
            print(pool.stats().bytes_reserved)

    device < 0, a build without CUDA or a machine without a GPU: host memory, same API.
    Addresses are plain ints (device pointers for the CUDA backend); streams are
    ``cudaStream_t`` values as ints (None: the default stream). Closing the pool frees every
    chunk: blocks still live become invalid. Thread-safe. Blocks up to 64 KiB are rounded to
    size classes and kept in per-thread caches at free (``stats().bytes_cached``);
    ``thread_cache=False`` sends every call to the shared pool instead.
    """

    _close_fn = _destroy

    def __init__(self, *, device: int = 0, initial_bytes: int = 0, chunk_bytes: int = 0,
                 max_bytes: int = 0, release_threshold: int = 0, debug: bool = False,
                 thread_cache: bool = True, trace_path: Optional[StrPath] = None) -> None:
        opts = PoolOptions()
        _options_init(ctypes.byref(opts), POOL_OPTIONS_VERSION)
        opts.device = device
        if opts.device != device:
            raise InvalidArgument(EINVAL, "device %d does not fit an int" % device)
        opts.initial_bytes = _size(initial_bytes, "initial_bytes")
        opts.chunk_bytes = _size(chunk_bytes, "chunk_bytes")
        opts.max_bytes = _size(max_bytes, "max_bytes")
        opts.release_threshold = _size(release_threshold, "release_threshold")
        opts.flags = (1 if debug else 0) | (0 if thread_cache else 2)  # MLOPS_GPU_POOL_DEBUG, _NO_THREAD_CACHE
        trace = cstr_opt(trace_path, "trace_path")
        opts.trace_path = trace
        ptr = pool_p()
        _create(ctypes.byref(ptr), ctypes.byref(opts))
        super().__init__(ptr)

    @property
    def backend(self) -> Backend:
        """Which backend serves the pool."""
        return Backend(_backend(self._handle()))

    def alloc(self, nbytes: int, stream: Optional[int] = None) -> int:
        """Allocates nbytes (256-byte aligned) for use on stream; returns the address (0 for 0 bytes).

        LimitExceeded past max_bytes, OutOfMemory when the device or host is full.
        """
        out = ctypes.c_void_p()
        _alloc(ctypes.byref(out), self._handle(), _size(nbytes, "nbytes"), stream)
        return out.value or 0

    def free(self, ptr: int, stream: Optional[int] = None) -> None:
        """Gives back a block, stream-ordered (InvalidArgument: not this pool's, or freed twice)."""
        _free(self._handle(), ptr or None, stream)

    @contextlib.contextmanager
    def allocation(self, nbytes: int, stream: Optional[int] = None) -> Iterator[int]:
        """A block for the duration of a ``with`` block."""
        ptr = self.alloc(nbytes, stream)
        try:
            yield ptr
        finally:
            if ptr and not self.closed:
                self.free(ptr, stream)

    def stats(self) -> PoolStats:
        """The pool's counters (read without taking the pool's lock)."""
        s = _StatsC()
        s.version = STATS_VERSION
        _stats(self._handle(), ctypes.byref(s))
        return PoolStats(**{name: getattr(s, name) for name in PoolStats.__dataclass_fields__})

    def trim(self, keep_bytes: int = 0) -> int:
        """Empties the thread caches, then gives wholly free chunks back until at most keep_bytes stay
        reserved; returns bytes released."""
        released = ctypes.c_size_t()
        _trim(self._handle(), _size(keep_bytes, "keep_bytes"), ctypes.byref(released))
        return int(released.value)

    def __repr__(self) -> str:
        if self.closed:
            return "<mlops.GpuPool closed>"
        return "<mlops.GpuPool %s>" % self.backend.name
