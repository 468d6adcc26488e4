"""DataFrames as drift inputs: columns chosen by name, never by position.

A pandas, polars or pyarrow table (``Table``/``RecordBatch``) carries its column names into a
profile, and a comparison or a monitor takes the profile's features from it by name: the same
columns in another order compare equal, extra columns are ignored, a missing one raises
:class:`FeatureNotFound`. Nothing here imports those packages: a frame is recognised by the
package its type comes from. Arrays keep positional semantics (see :mod:`mlops._dlpack`).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from ._errors import EINVAL, ENOTFOUND, InvalidArgument, NotFound

_FRAMES = {("pandas", "DataFrame"), ("polars", "DataFrame"), ("pyarrow", "Table"),
           ("pyarrow", "RecordBatch")}


class FeatureNotFound(NotFound, KeyError):
    """MLOPS_ENOTFOUND: a DataFrame lacks a feature of the profile (also a ``KeyError``)."""

    def __init__(self, code: int, message: str) -> None:
        NotFound.__init__(self, code, message)

    __str__ = NotFound.__str__


def _package(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def is_frame(obj: Any) -> bool:
    """Whether obj is a DataFrame whose columns are selected by name."""
    return (_package(obj), type(obj).__name__) in _FRAMES


def _labels(frame: Any) -> Dict[str, Any]:
    """Each column's name (as text) -> its label in the frame; duplicate names are an error."""
    raw = frame.column_names if _package(frame) == "pyarrow" else list(frame.columns)
    out: Dict[str, Any] = {}
    for label in raw:
        name = str(label)
        if name in out:
            raise InvalidArgument(EINVAL, "the DataFrame has two columns named %r" % name)
        out[name] = label
    return out


def _column(frame: Any, label: Any) -> Any:
    pkg = _package(frame)
    if pkg == "pandas":
        return frame[label].to_numpy(dtype=np.float64, na_value=np.nan)
    if pkg == "polars":
        return frame.get_column(label).to_numpy()
    return frame.column(label).to_numpy(zero_copy_only=False)  # pyarrow: nulls become NaN


def frame_names(frame: Any) -> List[str]:
    """The column names of frame, in its order."""
    return list(_labels(frame))


def select(frame: Any, names: Sequence[str]) -> np.ndarray:
    """The columns called names, rows x len(names) float64 (column-major: one copy per column).

    Missing and duplicate columns, and columns that are not numbers, raise an error naming them.
    """
    labels = _labels(frame)
    missing = [n for n in names if n not in labels]
    if missing:
        raise FeatureNotFound(ENOTFOUND, "the DataFrame has no column %s (it has: %s)" % (
            ", ".join(repr(n) for n in missing), ", ".join(repr(n) for n in labels) or "none"))
    rows = len(frame)
    out = np.empty((rows, len(names)), dtype=np.float64, order="F")
    for j, name in enumerate(names):
        try:
            values = np.asarray(_column(frame, labels[name]), dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InvalidArgument(EINVAL, "column %r is not numeric: %s" % (name, e)) from None
        if values.shape != (rows,):
            raise InvalidArgument(EINVAL, "column %r is not one value per row" % name)
        out[:, j] = values
    return out


def by_name(data: Any, names: Callable[[], List[str]]) -> Any:
    """data with a frame's columns put in the order of names() (a profile's features); anything
    else as it is."""
    return select(data, names()) if is_frame(data) else data


def for_build(data: Any, names: Optional[Sequence[str]]) -> Any:
    """(values, names) for Profile.build: a frame gives its columns' names (or, with names, the
    columns called so); anything else is positional."""
    if not is_frame(data):
        return data, names
    if names is None:
        names = frame_names(data)
    elif isinstance(names, (str, bytes)):
        raise TypeError("names must be a sequence of strings, not one string")
    return select(data, list(names)), list(names)
