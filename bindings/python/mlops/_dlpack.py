"""DLPack tensors for the batched drift API (``const void *tensor`` = ``const DLTensor *``).

A numpy array is described in place from its ``__array_interface__`` (no copy): float32 and
float64 arrays of any order and strides. Other real dtypes, byte-swapped arrays and strides
that are not a whole number of elements are converted explicitly to a new float64 array (one
copy), as in :mod:`mlops.drift`. Any other object with ``__dlpack__`` (torch, cupy, jax ...) is
consumed through its DLPack capsule, zero-copy: the producer's deleter runs when the call that
needed the tensor returns. A tensor in CUDA device memory is Unsupported (the library says so).
"""
from __future__ import annotations

import ctypes
from typing import Any, Optional

import numpy as np

from ._errors import EINVAL, InvalidArgument

kDLCPU = 1
kDLFloat = 2


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    """``DLTensor`` (dlpack.h; the same layout in v0.6 and v1.x)."""
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    """``DLManagedTensor``: what a legacy "dltensor" capsule points to."""


_deleter = ctypes.CFUNCTYPE(None, ctypes.POINTER(DLManagedTensor))
DLManagedTensor._fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
                            ("deleter", _deleter)]


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    """``DLManagedTensorVersioned`` (DLPack >= 1.0): a "dltensor_versioned" capsule."""


_deleter_v = ctypes.CFUNCTYPE(None, ctypes.POINTER(DLManagedTensorVersioned))
DLManagedTensorVersioned._fields_ = [("version", DLPackVersion), ("manager_ctx", ctypes.c_void_p),
                                     ("deleter", _deleter_v), ("flags", ctypes.c_uint64),
                                     ("dl_tensor", DLTensor)]

_capsule_is_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_is_valid.restype = ctypes.c_int
_capsule_is_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_get = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_get.restype = ctypes.c_void_p
_capsule_get.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_set_name = ctypes.pythonapi.PyCapsule_SetName
_capsule_set_name.restype = ctypes.c_int
_capsule_set_name.argtypes = [ctypes.py_object, ctypes.c_void_p]

# PyCapsule_SetName keeps the pointer: these names must live as long as the process.
_USED = ctypes.create_string_buffer(b"used_dltensor")
_USED_V = ctypes.create_string_buffer(b"used_dltensor_versioned")


class Tensor:
    """A ``DLTensor`` describing one input for the duration of a C call::

        with as_tensor(x, "current") as t:
            _compare(..., t.address, ...)

    It keeps what the tensor points to alive, and returns a consumed DLPack tensor to its
    producer (its deleter) on exit.
    """

    def __init__(self) -> None:
        self._tensor = DLTensor()
        self._keep: Any = None
        self._shape = (ctypes.c_int64 * 2)()
        self._strides = (ctypes.c_int64 * 2)()
        self._managed: Any = None  # pointer to a consumed DLManagedTensor(Versioned)
        self.address: Optional[int] = ctypes.addressof(self._tensor)

    def __enter__(self) -> "Tensor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Releases the tensor (calls the DLPack deleter once)."""
        managed, self._managed = self._managed, None
        self._keep = None
        self.address = None
        if managed is not None and managed.contents.deleter:
            managed.contents.deleter(managed)


def _from_numpy(a: np.ndarray, what: str) -> Tensor:
    if a.ndim not in (1, 2):
        raise InvalidArgument(EINVAL, "%s must be 1-D (rows) or 2-D (rows x features), not %d-D"
                              % (what, a.ndim))
    if a.dtype.kind not in "fiub":
        raise InvalidArgument(EINVAL, "%s has dtype %s: only real numbers are accepted" % (what, a.dtype))
    if (a.dtype not in (np.float32, np.float64) or not a.dtype.isnative
            or any(s % a.itemsize for s in a.strides)):
        a = np.array(a, dtype=np.float64, order="K")
    t = Tensor()
    t._keep = a
    d = t._tensor
    d.data = a.__array_interface__["data"][0]
    d.device = DLDevice(kDLCPU, 0)
    d.ndim = a.ndim
    d.dtype = DLDataType(kDLFloat, a.itemsize * 8, 1)
    for i in range(a.ndim):
        t._shape[i] = a.shape[i]
        t._strides[i] = a.strides[i] // a.itemsize  # DLPack strides count elements
    d.shape = ctypes.cast(t._shape, ctypes.POINTER(ctypes.c_int64))
    d.strides = ctypes.cast(t._strides, ctypes.POINTER(ctypes.c_int64))
    d.byte_offset = 0
    return t


def _from_capsule(obj: Any, what: str) -> Tensor:
    capsule = obj.__dlpack__()
    t = Tensor()
    ptr: Any  # a pointer to DLManagedTensor or DLManagedTensorVersioned
    if _capsule_is_valid(capsule, b"dltensor"):
        ptr = ctypes.cast(_capsule_get(capsule, b"dltensor"), ctypes.POINTER(DLManagedTensor))
        used = _USED
    elif _capsule_is_valid(capsule, b"dltensor_versioned"):
        ptr = ctypes.cast(_capsule_get(capsule, b"dltensor_versioned"),
                          ctypes.POINTER(DLManagedTensorVersioned))
        used = _USED_V
    else:
        raise InvalidArgument(EINVAL, "%s: __dlpack__() of %s did not return an unconsumed DLPack "
                              "capsule" % (what, type(obj).__name__))
    # Consumed: the capsule's destructor no longer frees it; Tensor.close calls the deleter.
    _capsule_set_name(capsule, ctypes.addressof(used))
    t._managed = ptr
    t._keep = (obj, capsule)
    t.address = ctypes.addressof(ptr.contents.dl_tensor)
    return t


def as_tensor(x: Any, what: str = "tensor") -> Tensor:
    """A DLTensor for x: a numpy array (in place), an object with ``__dlpack__`` (its capsule),
    or anything numpy can turn into an array (converted to float64)."""
    if isinstance(x, np.ndarray):
        return _from_numpy(x, what)
    if hasattr(x, "__dlpack__"):
        return _from_capsule(x, what)
    return _from_numpy(np.asarray(x, dtype=np.float64), what)
