"""common.h: version and features of the loaded libmlops."""
from __future__ import annotations

import ctypes
import enum
from typing import Optional

from . import _lib

_features = _lib.declare("mlops_features", ctypes.c_uint, [])
_free = _lib.declare("mlops_free", None, [ctypes.c_void_p])


class Feature(enum.IntFlag):
    """Bits of :func:`features` (MLOPS_FEATURE_*)."""
    CUDA = 1 << 0    #: built with the CUDA kernels and allocator backend
    GPU = 1 << 1     #: a CUDA device is usable by this process right now
    REMOTE = 1 << 2  #: built with libcurl: MLflow REST store and webhooks


def version() -> str:
    """The "major.minor.patch" version of the loaded libmlops (``mlops_version_string``)."""
    return _lib.version_string


def version_number() -> int:
    """MLOPS_VERSION_NUMBER of the loaded libmlops: major*10000 + minor*100 + patch."""
    return _lib.version_number


def features() -> Feature:
    """What the loaded libmlops can do here (``mlops_features``)."""
    return Feature(_features())


def library_path() -> str:
    """The path (or name) libmlops was loaded from."""
    return _lib.path


def take_string(ptr: Optional[int]) -> str:
    """Copies a ``char *`` the library returned for the caller to own, then frees it.

    Declare such out-parameters as ``ctypes.c_void_p`` (not ``c_char_p``, which would copy
    and lose the pointer that must be freed).
    """
    if not ptr:
        return ""
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        _free(ptr)
