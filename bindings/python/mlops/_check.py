"""Checking Python arguments before they reach C: a clear TypeError/ValueError naming the argument.

ctypes alone would raise a bare ``ctypes.ArgumentError`` for a string where a double is
expected, and silently wrap an int too large for ``int64_t``.
"""
from __future__ import annotations

import numbers
from typing import Any

from ._errors import EINVAL, InvalidArgument

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def _scalar(value: Any) -> Any:
    """A 0-d numpy array or tensor as its Python scalar (``.item()``); anything else as it is."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    name = type(value).__name__
    return name if shape is None else "%s of shape %s" % (name, tuple(shape))


def real(value: Any, what: str) -> float:
    """value as a float: an int, a float, a numpy scalar or a 0-d array/tensor (not a str)."""
    value = _scalar(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError("%s must be a real number (int, float, numpy scalar or 0-d array/tensor), not %s"
                    % (what, _describe(value)))


def int64(value: Any, what: str) -> int:
    """value as an int that fits ``int64_t``: an int, a numpy integer or a 0-d integer array/tensor
    (not a float, not a bool); InvalidArgument when out of range."""
    value = _scalar(value)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError("%s must be an int, not %s" % (what, _describe(value)))
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise InvalidArgument(EINVAL, "%s %d does not fit int64_t" % (what, number))
    return number
