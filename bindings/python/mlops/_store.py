"""store.h: opening, flushing and closing stores."""
from __future__ import annotations

import ctypes
import enum
import warnings
from typing import TYPE_CHECKING, Any, Optional, Tuple

from . import _lib
from ._errors import EINVAL, Busy, InvalidArgument, UndeliveredWarning, check_status
from ._handle import Handle, StrPath, cstr_opt, opaque, pystr

if TYPE_CHECKING:
    # mlops/_tracking.py attaches these methods to Store once loaded (it needs Store first).
    from ._tracking import _Tracking as _TrackingMethods
else:
    _TrackingMethods = object

STORE_OPTIONS_VERSION = 3

store_p = opaque("mlops_store")


class Durability(enum.IntEnum):
    """When logged metrics are committed (MLOPS_DURABILITY_*)."""
    BUFFERED = 0  #: in memory, committed every flush_interval_ms and on flush/end/close
    SYNC = 1      #: each logging call returns after its data is committed


class OnFull(enum.IntEnum):
    """What a logging call does when the metric buffer is full (MLOPS_ON_FULL_*)."""
    BLOCK = 0  #: wait for the writer to make room
    EBUSY = 1  #: raise Busy at once; nothing is dropped silently


class StoreOptions(ctypes.Structure):
    """``mlops_store_options``, field for field (version 3). Fields are only ever appended."""
    _fields_ = [
        ("version", ctypes.c_uint),
        ("busy_timeout_ms", ctypes.c_uint),
        ("read_only", ctypes.c_int),
        ("durability", ctypes.c_int),
        ("flush_interval_ms", ctypes.c_uint),
        ("buffer_capacity", ctypes.c_size_t),
        ("on_full", ctypes.c_int),
        ("artifact_root", ctypes.c_char_p),
        ("actor", ctypes.c_char_p),
        # version 2: MLflow stores
        ("spool_path", ctypes.c_char_p),
        ("close_timeout_ms", ctypes.c_uint),
        # version 3
        ("must_exist", ctypes.c_int),
    ]


_options_init = _lib.declare("mlops_store_options_init", ctypes.c_int,
                             [ctypes.POINTER(StoreOptions), ctypes.c_uint], check_status)
_open = _lib.declare("mlops_store_open", ctypes.c_int,
                     [ctypes.POINTER(store_p), ctypes.c_char_p, ctypes.POINTER(StoreOptions)],
                     check_status)
_flush = _lib.declare("mlops_store_flush", ctypes.c_int, [store_p], check_status)
_close = _lib.declare("mlops_store_close", ctypes.c_int, [store_p], check_status)
_uri = _lib.declare("mlops_store_uri", ctypes.c_char_p, [store_p])
_sync = _lib.declare("mlops_store_sync", ctypes.c_int, [store_p, ctypes.c_uint], check_status)
_backlog = _lib.declare("mlops_store_backlog", ctypes.c_int,
                        [ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64), store_p],
                        check_status)
_schema_version = _lib.declare("mlops_store_schema_version", ctypes.c_int, [store_p], check_status)


def _close_store(ptr: Any) -> None:
    """``mlops_store_close``; writes left in an MLflow store's spool are an UndeliveredWarning."""
    try:
        _close(ptr)
    except Busy as e:
        # The store is freed all the same; stacklevel 4: the caller of close() (or __exit__).
        warnings.warn(UndeliveredWarning(e.message), stacklevel=4)


def _uint(value: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFFFFFF:
        raise InvalidArgument(EINVAL, "mlops.Store: %s=%r is not an int from 0 to 2**32-1" % (what, value))
    return value


def _set(opts: StoreOptions, name: str, value: int) -> None:
    """Sets an integer field; InvalidArgument where ctypes would silently wrap the value."""
    if not isinstance(value, int) or isinstance(value, bool) and name != "read_only":
        raise TypeError("mlops.Store: %s must be an int, not %s" % (name, type(value).__name__))
    setattr(opts, name, value)
    if getattr(opts, name) != value:
        raise InvalidArgument(EINVAL, "mlops.Store: %s=%d does not fit mlops_store_options.%s"
                              % (name, value, name))


class Store(Handle, _TrackingMethods):
    """An open store: an SQLite file, or an MLflow tracking server.

    ``uri`` None means ``$MLOPS_TRACKING_URI``, else ``$MLFLOW_TRACKING_URI``, else
    ``"mlops.db"``. Other keyword arguments are the fields of ``mlops_store_options``
    (0 / None: the library's default). Use it as a context manager, or call :meth:`close`::

        with mlops.Store("runs.db", durability=mlops.Durability.SYNC) as store:
            ...

    One Store may be used from several threads at once.

    Closing an MLflow store waits up to ``close_timeout_ms`` for its spool to reach the server;
    writes still undelivered then are not lost (the next process for that server sends them)
    and are reported as an :class:`mlops.UndeliveredWarning` (``warnings.simplefilter("error",
    mlops.UndeliveredWarning)`` makes it an exception).
    """

    _close_fn = staticmethod(_close_store)

    def __init__(self, uri: Optional[StrPath] = None, *, busy_timeout_ms: int = 0,
                 read_only: bool = False, durability: int = Durability.BUFFERED,
                 flush_interval_ms: int = 0, buffer_capacity: int = 0,
                 on_full: int = OnFull.BLOCK, artifact_root: Optional[StrPath] = None,
                 actor: Optional[str] = None, spool_path: Optional[StrPath] = None,
                 close_timeout_ms: int = 0, must_exist: bool = False) -> None:
        opts = StoreOptions()
        _options_init(ctypes.byref(opts), STORE_OPTIONS_VERSION)
        # The bytes objects stay referenced until the call returns; the library copies them.
        root = cstr_opt(artifact_root, "artifact_root")
        who = cstr_opt(actor, "actor")
        spool = cstr_opt(spool_path, "spool_path")
        _set(opts, "busy_timeout_ms", busy_timeout_ms)
        _set(opts, "read_only", 1 if read_only else 0)
        _set(opts, "durability", durability)
        _set(opts, "flush_interval_ms", flush_interval_ms)
        _set(opts, "buffer_capacity", buffer_capacity)
        _set(opts, "on_full", on_full)
        opts.artifact_root = root
        opts.actor = who
        opts.spool_path = spool
        _set(opts, "close_timeout_ms", close_timeout_ms)
        opts.must_exist = 1 if must_exist else 0  # NotFound instead of creating a missing store
        ptr = store_p()
        _open(ctypes.byref(ptr), cstr_opt(uri, "uri"), ctypes.byref(opts))
        super().__init__(ptr)

    @property
    def uri(self) -> str:
        """The URI the store was opened with, after None/environment resolution."""
        return pystr(_uri(self._handle()))

    @property
    def schema_version(self) -> int:
        """The schema version of an SQLite store (0 for other backends)."""
        return int(_schema_version(self._handle()))

    def flush(self) -> None:
        """Commits everything buffered so far before returning.

        On an MLflow store: to the local spool (durable here, not yet on the server).
        """
        _flush(self._handle())

    def sync(self, timeout_ms: int = 60000) -> None:
        """MLflow stores: waits until every spooled write reached the server (or was refused by
        it), at most timeout_ms; raises (NetworkError, Busy, ...) while some still wait."""
        _sync(self._handle(), _uint(timeout_ms, "timeout_ms"))

    def backlog(self) -> Tuple[int, int]:
        """MLflow stores: (writes waiting in the spool, writes the server refused for good)."""
        pending, rejected = ctypes.c_uint64(), ctypes.c_uint64()
        _backlog(ctypes.byref(pending), ctypes.byref(rejected), self._handle())
        return int(pending.value), int(rejected.value)

    def __repr__(self) -> str:
        if self.closed:
            return "<mlops.Store closed>"
        return "<mlops.Store %r>" % self.uri
