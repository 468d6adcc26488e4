"""The exception hierarchy: one class per MLOPS_E* code, all subclasses of :class:`Error`."""
from __future__ import annotations

import ctypes
from typing import Any, Dict, Optional, Tuple, Type

from . import _lib

OK = 0
EINVAL = -1
ENOMEM = -2
ENOTFOUND = -3
EEXISTS = -4
EIO = -5
EBUSY = -6
ECORRUPT = -7
EUNSUPPORTED = -8
ENETWORK = -9
ESTATE = -10
ELIMIT = -11
EVERSION = -12
EPERM = -13


class Error(Exception):
    """A libmlops call failed.

    ``code`` is the negative MLOPS_E* status code (stable across versions) and ``message``
    the detail from ``mlops_errmsg()`` of the failing call.
    """

    #: The MLOPS_E* code of the subclass (Error itself: whatever code the library returned).
    CODE: int = 0

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return "%s [%s]" % (self.message, strerror(self.code))

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.code, self.message))


class InvalidArgument(Error):
    """MLOPS_EINVAL: an argument is invalid (NULL, malformed name, bad value)."""
    CODE = EINVAL


class OutOfMemory(Error):
    """MLOPS_ENOMEM: out of memory (host or device)."""
    CODE = ENOMEM


class NotFound(Error):
    """MLOPS_ENOTFOUND: the named object does not exist."""
    CODE = ENOTFOUND


class AlreadyExists(Error):
    """MLOPS_EEXISTS: the object already exists."""
    CODE = EEXISTS


class StoreIOError(Error):
    """MLOPS_EIO: a file could not be opened, read or written."""
    CODE = EIO


class Busy(Error):
    """MLOPS_EBUSY: the resource is busy (locked store, full buffer); retry later."""
    CODE = EBUSY


class Corrupt(Error):
    """MLOPS_ECORRUPT: stored data is corrupt (not a store, bad checksum, truncated)."""
    CODE = ECORRUPT


class Unsupported(Error):
    """MLOPS_EUNSUPPORTED: not built in or not available here (no GPU, no libcurl)."""
    CODE = EUNSUPPORTED


class NetworkError(Error):
    """MLOPS_ENETWORK: a network failure talking to a remote server."""
    CODE = ENETWORK


class InvalidState(Error):
    """MLOPS_ESTATE: the object is in the wrong state for this call (ended run, closed handle)."""
    CODE = ESTATE


class LimitExceeded(Error):
    """MLOPS_ELIMIT: a configured limit would be exceeded."""
    CODE = ELIMIT


class VersionMismatch(Error):
    """MLOPS_EVERSION: unknown struct version, or data written by a newer libmlops."""
    CODE = EVERSION


class PermissionDenied(Error):
    """MLOPS_EPERM: not permitted (protected alias, path escape, file permissions)."""
    CODE = EPERM


class UndeliveredWarning(UserWarning):
    """Closing an MLflow store left writes undelivered (``mlops_store_close``'s MLOPS_EBUSY).

    Nothing is lost: they wait in the store's spool, and the next process that opens the same
    server (or ``mlops sync``) sends them. The message says how many and where. A warning, not
    an exception: closing at the end of a ``with`` block must not hide the block's own error.
    """


ERRORS: Dict[int, Type[Error]] = {cls.CODE: cls for cls in (
    InvalidArgument, OutOfMemory, NotFound, AlreadyExists, StoreIOError, Busy, Corrupt,
    Unsupported, NetworkError, InvalidState, LimitExceeded, VersionMismatch, PermissionDenied)}

_strerror = _lib.declare("mlops_strerror", ctypes.c_char_p, [ctypes.c_int])
_errmsg = _lib.declare("mlops_errmsg", ctypes.c_char_p, [])


def strerror(code: int) -> str:
    """The fixed English text of a status code (``mlops_strerror``)."""
    return (_strerror(code) or b"").decode("utf-8", "replace")


def error_for(code: int, message: Optional[str] = None) -> Error:
    """The exception for ``code``: its subclass, with ``message`` (default: ``mlops_errmsg()``).

    Must be called on the thread of the failing call, before any other libmlops call.
    """
    if message is None:
        message = (_errmsg() or b"").decode("utf-8", "replace") or strerror(code)
    return ERRORS.get(code, Error)(code, message)


def check_status(result: int, func: Any, args: Tuple[Any, ...]) -> int:
    """ctypes errcheck for functions returning ``int``: a negative result raises its Error.

    ctypes calls errcheck on the calling thread right after the C call returns, so the
    thread-local ``mlops_errmsg()`` still holds this call's message.
    """
    if result < 0:
        raise error_for(result)
    return result
