"""The base of every object that owns a libmlops handle, and string conversion helpers."""
from __future__ import annotations

import ctypes
import os
import threading
import warnings
from typing import Any, Callable, ClassVar, Optional, Set, Type, TypeVar, Union

from . import _errors

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

H = TypeVar("H", bound="Handle")


def opaque(name: str) -> Any:
    """A distinct ctypes pointer type for the opaque C struct ``name`` (``mlops_store *``, ...).

    Distinct types make ctypes reject a run handle passed where a store handle is expected.
    """
    return ctypes.POINTER(type(name, (ctypes.Structure,), {}))


def cstr(value: StrPath, what: str) -> bytes:
    """UTF-8 bytes for a C string argument; InvalidArgument for an embedded NUL (C would truncate)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bytes):
        data = value
    else:
        raise TypeError("%s must be str, bytes or os.PathLike, not %s" % (what, type(value).__name__))
    if b"\0" in data:
        raise _errors.InvalidArgument(_errors.EINVAL, "%s contains a NUL character" % what)
    return data


def cstr_opt(value: Optional[StrPath], what: str) -> Optional[bytes]:
    """Like :func:`cstr`, with None passed to C as NULL."""
    return None if value is None else cstr(value, what)


def pystr(data: Optional[bytes]) -> str:
    """A str from a C string result (``const char *`` declared as ``c_char_p``)."""
    return "" if data is None else data.decode("utf-8", "replace")


class Handle:
    """Owns one C handle: freed by :meth:`close`, by ``with``, or (as a safety net) when collected.

    A subclass sets ``_close_fn`` to the declared C function that frees the handle (int-returning
    with :func:`check_status`, or void) and passes the handle pointer to ``__init__``; its
    methods pass ``self._handle()`` to C, which raises InvalidState after close instead of
    handing C a dangling pointer.
    """

    _close_fn: ClassVar[Callable[..., Any]]

    def __init__(self, ptr: Any, parent: Optional["Handle"] = None) -> None:
        self._lock = threading.Lock()
        self._ptr = ptr
        # A child handle (a run of a store) keeps its parent alive until it is closed, and the
        # parent closes its live children first: C forbids using a run after its store closed.
        # Both references are strong (a cycle, broken by close): a weak one would be cleared
        # before the finalizers of a garbage cycle run, letting the store go first.
        self._parent = parent
        self._children: Set[Handle] = set()
        if parent is not None:
            with parent._lock:
                parent._children.add(self)

    def _handle(self) -> Any:
        """The C pointer, for passing to a declared function; InvalidState once closed."""
        ptr = self._ptr
        if not ptr:
            raise _errors.InvalidState(_errors.ESTATE, "%s is closed" % type(self).__name__)
        return ptr

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return not self._ptr

    def close(self) -> None:
        """Frees the C handle; calling it again does nothing.

        The handle is freed even when this raises (the error says what the final step lost).
        """
        self._close_with(type(self)._close_fn)

    def _close_with(self, close_fn: Callable[[Any], Any]) -> None:
        """Closes the live children, then frees the handle with close_fn (once)."""
        with self._lock:
            children = list(self._children)
        first: Optional[BaseException] = None
        for child in children:
            try:
                child.close()
            except Exception as e:  # every child is closed; the first failure is raised
                first = first or e
        with self._lock:
            ptr, self._ptr = self._ptr, None
            parent, self._parent = self._parent, None
        if parent is not None:
            with parent._lock:
                parent._children.discard(self)
        if ptr:
            close_fn(ptr)
        if first is not None:
            raise first

    def __enter__(self: H) -> H:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # Safety net only: close() or ``with`` frees deterministically.
        if getattr(self, "_ptr", None):
            try:
                warnings.warn("unclosed %s" % type(self).__name__, ResourceWarning, stacklevel=2)
                self.close()
            except Exception:
                pass
