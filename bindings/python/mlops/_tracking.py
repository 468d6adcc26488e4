"""tracking.h: experiments, runs, params, tags, metrics, history, search and artifacts."""
from __future__ import annotations

import atexit
import ctypes
import enum
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Type, TypeVar

from . import _lib
from ._check import INT64_MAX, INT64_MIN, int64 as _int64, real as _real
from ._common import take_string
from ._errors import EINVAL, Busy, InvalidArgument, Unsupported, check_status
from ._handle import Handle, StrPath, cstr, cstr_opt, opaque, pystr
from ._store import Store, store_p

RUN_OPTIONS_VERSION = 1
ARTIFACT_OPTIONS_VERSION = 1

run_p = opaque("mlops_run")
metric_key_p = opaque("mlops_metric_key")
run_info_p = opaque("mlops_run_info")
run_list_p = opaque("mlops_run_list")
experiment_list_p = opaque("mlops_experiment_list")
artifact_list_p = opaque("mlops_artifact_list")


class RunStatus(enum.IntEnum):
    """Run status (MLOPS_RUN_*, MLflow's RunStatus numbers)."""
    RUNNING = 1
    SCHEDULED = 2
    FINISHED = 3
    FAILED = 4
    KILLED = 5


class _MetricPointC(ctypes.Structure):
    """``mlops_metric_point`` (frozen layout)."""
    _fields_ = [("value", ctypes.c_double), ("step", ctypes.c_int64),
                ("timestamp_ms", ctypes.c_int64)]


class RunOptions(ctypes.Structure):
    """``mlops_run_options``, field for field (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("parent_run_id", ctypes.c_char_p),
                ("start_time_ms", ctypes.c_int64)]


class ArtifactOptions(ctypes.Structure):
    """``mlops_artifact_options``, field for field (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("compress", ctypes.c_int)]


class MetricPoint(NamedTuple):
    """One point of a metric."""
    value: float
    step: int
    timestamp_ms: int


#: The numpy dtype of :meth:`Store.metric_history` arrays: ``mlops_metric_point`` byte for byte.
METRIC_POINT_FIELDS = [("value", "<f8"), ("step", "<i8"), ("timestamp_ms", "<i8")]

_c_int = ctypes.c_int
_vp = ctypes.POINTER(ctypes.c_void_p)
_d = _lib.declare
_experiment_create = _d("mlops_experiment_create", _c_int, [_vp, store_p, ctypes.c_char_p], check_status)
_experiment_get_by_name = _d("mlops_experiment_get_by_name", _c_int, [_vp, store_p, ctypes.c_char_p],
                             check_status)
_experiment_list_get = _d("mlops_experiment_list_get", _c_int,
                          [ctypes.POINTER(experiment_list_p), store_p], check_status)
_experiment_list_count = _d("mlops_experiment_list_count", ctypes.c_size_t, [experiment_list_p])
_experiment_list_id = _d("mlops_experiment_list_id", ctypes.c_char_p, [experiment_list_p, ctypes.c_size_t])
_experiment_list_name = _d("mlops_experiment_list_name", ctypes.c_char_p,
                           [experiment_list_p, ctypes.c_size_t])
_experiment_list_free = _d("mlops_experiment_list_free", None, [experiment_list_p])

_run_start_ext = _d("mlops_run_start_ext", _c_int,
                    [ctypes.POINTER(run_p), store_p, ctypes.c_char_p, ctypes.c_char_p,
                     ctypes.POINTER(RunOptions)], check_status)
_run_resume = _d("mlops_run_resume", _c_int, [ctypes.POINTER(run_p), store_p, ctypes.c_char_p],
                 check_status)
_run_id = _d("mlops_run_id", ctypes.c_char_p, [run_p])
_run_remote_id = _d("mlops_run_remote_id", _c_int, [_vp, _vp, store_p, ctypes.c_char_p], check_status)
_run_log_param = _d("mlops_run_log_param", _c_int, [run_p, ctypes.c_char_p, ctypes.c_char_p], check_status)
_run_set_tag = _d("mlops_run_set_tag", _c_int, [run_p, ctypes.c_char_p, ctypes.c_char_p], check_status)
_run_log_metric = _d("mlops_run_log_metric", _c_int, [run_p, ctypes.c_char_p, ctypes.c_double,
                                                      ctypes.c_int64], check_status)
_run_log_metric_at = _d("mlops_run_log_metric_at", _c_int,
                        [run_p, ctypes.c_char_p, ctypes.c_double, ctypes.c_int64, ctypes.c_int64],
                        check_status)
_run_metric_key = _d("mlops_run_metric_key", _c_int, [ctypes.POINTER(metric_key_p), run_p, ctypes.c_char_p],
                     check_status)
_run_log = _d("mlops_run_log", _c_int, [metric_key_p, ctypes.c_double, ctypes.c_int64], check_status)
_run_log_artifact_ext = _d("mlops_run_log_artifact_ext", _c_int,
                           [run_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ArtifactOptions)],
                           check_status)
_run_end = _d("mlops_run_end", _c_int, [run_p, _c_int], check_status)
_run_delete = _d("mlops_run_delete", _c_int, [store_p, ctypes.c_char_p], check_status)
_run_restore = _d("mlops_run_restore", _c_int, [store_p, ctypes.c_char_p], check_status)

_run_get_param = _d("mlops_run_get_param", _c_int, [_vp, store_p, ctypes.c_char_p, ctypes.c_char_p],
                    check_status)
_points_p = ctypes.POINTER(ctypes.POINTER(_MetricPointC))
_metric_history = _d("mlops_metric_history", _c_int,
                     [_points_p, ctypes.POINTER(ctypes.c_size_t), store_p, ctypes.c_char_p, ctypes.c_char_p],
                     check_status)
_metric_history_sampled = _d("mlops_metric_history_sampled", _c_int,
                             [_points_p, ctypes.POINTER(ctypes.c_size_t), store_p, ctypes.c_char_p,
                              ctypes.c_char_p, ctypes.c_size_t], check_status)
_free = _d("mlops_free", None, [ctypes.c_void_p])

_run_get = _d("mlops_run_get", _c_int, [ctypes.POINTER(run_info_p), store_p, ctypes.c_char_p], check_status)
_run_info_free = _d("mlops_run_info_free", None, [run_info_p])
_ri_str = {name: _d("mlops_run_info_" + name, ctypes.c_char_p, [run_info_p])
           for name in ("id", "name", "experiment_id", "parent_id", "artifact_uri")}
_ri_status = _d("mlops_run_info_status", _c_int, [run_info_p])
_ri_deleted = _d("mlops_run_info_deleted", _c_int, [run_info_p])
_ri_start = _d("mlops_run_info_start_time", ctypes.c_int64, [run_info_p])
_ri_end = _d("mlops_run_info_end_time", ctypes.c_int64, [run_info_p])
_ri_count = {name: _d("mlops_run_info_%s_count" % name, ctypes.c_size_t, [run_info_p])
             for name in ("param", "tag", "metric")}
_ri_item = {name: _d("mlops_run_info_" + name, ctypes.c_char_p, [run_info_p, ctypes.c_size_t])
            for name in ("param_key", "param_value", "tag_key", "tag_value", "metric_key")}
_ri_metric = _d("mlops_run_info_metric", _c_int, [ctypes.POINTER(_MetricPointC), run_info_p, ctypes.c_size_t],
                check_status)

_runs_search = _d("mlops_runs_search", _c_int,
                  [ctypes.POINTER(run_list_p), store_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                   ctypes.c_size_t], check_status)
_run_list_count = _d("mlops_run_list_count", ctypes.c_size_t, [run_list_p])
_run_list_get = _d("mlops_run_list_get", run_info_p, [run_list_p, ctypes.c_size_t])
_run_list_free = _d("mlops_run_list_free", None, [run_list_p])

_artifact_list_get = _d("mlops_artifact_list_get", _c_int, [ctypes.POINTER(artifact_list_p), store_p,
                                                            ctypes.c_char_p], check_status)
_artifact_list_count = _d("mlops_artifact_list_count", ctypes.c_size_t, [artifact_list_p])
_artifact_list_path = _d("mlops_artifact_list_path", ctypes.c_char_p, [artifact_list_p, ctypes.c_size_t])
_artifact_list_size = _d("mlops_artifact_list_size", ctypes.c_uint64, [artifact_list_p, ctypes.c_size_t])
_artifact_list_sha256 = _d("mlops_artifact_list_sha256", ctypes.c_char_p, [artifact_list_p, ctypes.c_size_t])
_artifact_list_free = _d("mlops_artifact_list_free", None, [artifact_list_p])
_artifact_download = _d("mlops_artifact_download", _c_int,
                        [store_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p], check_status)


def _text(value: Any, what: str) -> bytes:
    """Param and tag values: str as given, other values (numbers, bools) through str() as MLflow."""
    return cstr(value if isinstance(value, (str, bytes)) else str(value), what)


# ---- read-side value types ----

@dataclass(frozen=True)
class RunInfo:
    """A snapshot of a run (``mlops_run_get`` / ``mlops_runs_search``): copied out of C at once."""
    id: str
    name: str
    experiment_id: str
    parent_id: Optional[str]
    artifact_uri: str
    status: RunStatus
    deleted: bool
    start_time: int
    end_time: int
    params: Dict[str, str] = field(default_factory=dict)
    tags: Dict[str, str] = field(default_factory=dict)
    metrics: Dict[str, MetricPoint] = field(default_factory=dict)


def _run_info(ri: Any) -> RunInfo:
    def items(kind: str) -> Dict[str, str]:
        return {pystr(_ri_item[kind + "_key"](ri, i)): pystr(_ri_item[kind + "_value"](ri, i))
                for i in range(_ri_count[kind](ri))}

    metrics = {}
    for i in range(_ri_count["metric"](ri)):
        p = _MetricPointC()
        _ri_metric(ctypes.byref(p), ri, i)
        metrics[pystr(_ri_item["metric_key"](ri, i))] = MetricPoint(p.value, p.step, p.timestamp_ms)
    parent = _ri_str["parent_id"](ri)
    status = _ri_status(ri)
    return RunInfo(id=pystr(_ri_str["id"](ri)), name=pystr(_ri_str["name"](ri)),
                   experiment_id=pystr(_ri_str["experiment_id"](ri)),
                   parent_id=None if parent is None else pystr(parent),
                   artifact_uri=pystr(_ri_str["artifact_uri"](ri)),
                   status=RunStatus(status) if status in RunStatus._value2member_map_ else status,
                   deleted=bool(_ri_deleted(ri)), start_time=int(_ri_start(ri)), end_time=int(_ri_end(ri)),
                   params=items("param"), tags=items("tag"), metrics=metrics)


class Artifact(NamedTuple):
    """One artifact of a run."""
    path: str
    size: int
    sha256: str


# ---- handles ----

class MetricKey(Handle):
    """A metric of one run resolved once (``mlops_run_metric_key``), for hot loops.

    It belongs to its run and is invalid (InvalidState) once the run ends.
    """

    _close_fn = staticmethod(lambda p: None)  # owned by the run: mlops_run_end frees it

    def __init__(self, ptr: Any, run: "Run", key: str) -> None:
        super().__init__(ptr, parent=run)
        self.key = key

    def log(self, value: float, step: int = 0) -> None:
        """Appends (value, step, now) to the metric; no I/O (``mlops_run_log``)."""
        # The hot path: ctypes converts floats, ints and numpy scalars itself; only what it
        # rejects or would wrap is checked again, for an error naming the argument.
        if type(step) is int and not INT64_MIN <= step <= INT64_MAX:
            _int64(step, "step")
        try:
            _run_log(self._handle(), value, step)
        except ctypes.ArgumentError:
            _run_log(self._handle(), _real(value, "value of metric %r" % self.key), _int64(step, "step"))

    def __del__(self) -> None:
        pass  # nothing of its own to free

    def __repr__(self) -> str:
        return "<mlops.MetricKey %r%s>" % (self.key, " closed" if self.closed else "")


class Run(Handle):
    """A run being logged to, from start (or resume) to :meth:`end`.

    As a context manager it ends FINISHED, or FAILED when the block raises::

        with store.start_run("mnist", run_name="baseline") as run:
            run.log_param("lr", 0.01)
            run.log_metric("loss", 0.1, step=3)

    Thread-safe: several threads may log to one run at once.
    """

    _close_fn = staticmethod(lambda p: _run_end(p, RunStatus.FINISHED))

    def __init__(self, ptr: Any, store: Store) -> None:
        super().__init__(ptr, parent=store)
        #: The run's id: 32 lowercase hex characters (stays readable after the run ends).
        self.id: str = pystr(_run_id(ptr))
        self.store = store

    def log_param(self, key: str, value: Any) -> None:
        """Logs a param (immutable: another value for the same key raises InvalidArgument)."""
        _run_log_param(self._handle(), cstr(key, "key"), _text(value, "value"))

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Logs every key/value of params (one call each, in order)."""
        for k, v in params.items():
            self.log_param(k, v)

    def set_tag(self, key: str, value: Any) -> None:
        """Sets a tag (the last write wins)."""
        _run_set_tag(self._handle(), cstr(key, "key"), _text(value, "value"))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Sets every key/value of tags."""
        for k, v in tags.items():
            self.set_tag(k, v)

    def log_metric(self, key: str, value: float, step: int = 0,
                   timestamp_ms: Optional[int] = None) -> None:
        """Appends (value, step, timestamp) to metric key; buffered, no I/O (NaN/inf kept exactly).

        value: a real number (numpy scalars and 0-d arrays/tensors too); step and timestamp_ms
        (milliseconds since the epoch): ints. Anything else is a TypeError naming it.
        """
        ckey = cstr(key, "key")
        value = _real(value, "value of metric %r" % key)
        step = _int64(step, "step")
        if timestamp_ms is None:
            _run_log_metric(self._handle(), ckey, value, step)
        else:
            _run_log_metric_at(self._handle(), ckey, value, step, _int64(timestamp_ms, "timestamp_ms"))

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Logs every key/value of metrics at step."""
        for k, v in metrics.items():
            self.log_metric(k, v, step)

    def metric_key(self, key: str) -> MetricKey:
        """A handle on metric key for hot loops: ``k.log(value, step)`` skips the key lookup."""
        ptr = metric_key_p()
        _run_metric_key(ctypes.byref(ptr), self._handle(), cstr(key, "key"))
        return MetricKey(ptr, self, key)

    def log_artifact(self, local_path: StrPath, artifact_dir: Optional[StrPath] = None, *,
                     compress: bool = False) -> None:
        """Copies a file into the run's artifacts (size and SHA-256 recorded)."""
        opts = ArtifactOptions(ARTIFACT_OPTIONS_VERSION, 1 if compress else 0)
        _run_log_artifact_ext(self._handle(), cstr(local_path, "local_path"),
                              cstr_opt(artifact_dir, "artifact_dir"), ctypes.byref(opts))

    def end(self, status: int = RunStatus.FINISHED) -> None:
        """Flushes the run's metrics, sets its status and end time, and frees the handle.

        Ending again does nothing. Metric keys of the run become invalid.
        """
        status = int(status)
        self._close_with(lambda p: _run_end(p, status))

    def _remote(self, want_url: bool) -> Optional[str]:
        rid, url = ctypes.c_void_p(), ctypes.c_void_p()
        try:
            _run_remote_id(ctypes.byref(rid), ctypes.byref(url) if want_url else None,
                           self.store._handle(), cstr(self.id, "run id"))
        except (Busy, Unsupported):
            return None
        finally:
            remote_id = take_string(rid.value)
            remote_url = take_string(url.value)
        return remote_url if want_url else remote_id

    @property
    def remote_id(self) -> Optional[str]:
        """On an MLflow store, the server's id of this run (MLflow picks its own; :attr:`id` is
        the local one). None while the run's creation still waits in the spool
        (:meth:`Store.sync` delivers it), and on other stores. Readable after the run ended."""
        return self._remote(False)

    @property
    def remote_url(self) -> Optional[str]:
        """The run's page in MLflow's UI, ``<server>/#/experiments/<id>/runs/<id>`` (credentials
        masked); None as for :attr:`remote_id`. Asks the server for the run's experiment."""
        return self._remote(True)

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Any) -> None:
        self.end(RunStatus.FAILED if exc_type is not None else RunStatus.FINISHED)

    def __repr__(self) -> str:
        return "<mlops.Run %s%s>" % (self.id, " ended" if self.closed else "")


R = TypeVar("R", bound=Run)


def new_run(cls: Type[R], store: Store, experiment: Optional[str], run_name: Optional[str],
            parent_run_id: Optional[str], start_time_ms: int) -> R:
    """Starts a run (``mlops_run_start_ext``) as an instance of cls, a subclass of Run."""
    opts = RunOptions(RUN_OPTIONS_VERSION, cstr_opt(parent_run_id, "parent_run_id"),
                      _int64(start_time_ms, "start_time_ms"))
    ptr = run_p()
    _run_start_ext(ctypes.byref(ptr), store._handle(), cstr_opt(experiment, "experiment"),
                   cstr_opt(run_name, "run_name"), ctypes.byref(opts))
    return cls(ptr, store)


def resumed_run(cls: Type[R], store: Store, run_id: str) -> R:
    """Reopens a run (``mlops_run_resume``) as an instance of cls, a subclass of Run."""
    ptr = run_p()
    _run_resume(ctypes.byref(ptr), store._handle(), cstr(run_id, "run_id"))
    return cls(ptr, store)


# ---- the store's tracking operations ----

class _Tracking:
    """Tracking operations of :class:`mlops.Store` (attached to it below)."""

    def _handle(self) -> Any: ...  # Store's

    def start_run(self, experiment: Optional[str] = None, run_name: Optional[str] = None, *,
                  parent_run_id: Optional[str] = None, start_time_ms: int = 0) -> Run:
        """Starts a run in experiment (created if missing; None = "Default"); run_name None
        gives a random readable name. End it with :meth:`Run.end` or use it in ``with``."""
        return new_run(Run, self, experiment, run_name, parent_run_id, start_time_ms)  # type: ignore[arg-type]

    def resume_run(self, run_id: str) -> Run:
        """Reopens run run_id for logging (status back to RUNNING)."""
        return resumed_run(Run, self, run_id)  # type: ignore[arg-type]

    def create_experiment(self, name: str) -> str:
        """Creates an experiment and returns its id (AlreadyExists if the name is taken)."""
        out = ctypes.c_void_p()
        _experiment_create(ctypes.byref(out), self._handle(), cstr(name, "name"))
        return take_string(out.value)

    def get_experiment_id(self, name: str) -> str:
        """The id of experiment name (NotFound if none)."""
        out = ctypes.c_void_p()
        _experiment_get_by_name(ctypes.byref(out), self._handle(), cstr(name, "name"))
        return take_string(out.value)

    def experiments(self) -> Dict[str, str]:
        """Every experiment: {id: name}, by id."""
        lst = experiment_list_p()
        _experiment_list_get(ctypes.byref(lst), self._handle())
        try:
            return {pystr(_experiment_list_id(lst, i)): pystr(_experiment_list_name(lst, i))
                    for i in range(_experiment_list_count(lst))}
        finally:
            _experiment_list_free(lst)

    def get_param(self, run_id: str, key: str) -> str:
        """The value of param key of run run_id (NotFound if never logged)."""
        out = ctypes.c_void_p()
        _run_get_param(ctypes.byref(out), self._handle(), cstr(run_id, "run_id"), cstr(key, "key"))
        return take_string(out.value)

    def metric_history(self, run_id: str, key: str, *, max_points: Optional[int] = None,
                       as_numpy: Optional[bool] = None) -> Any:
        """Every point of metric key of run run_id, ordered by step then timestamp.

        A numpy structured array (fields value, step, timestamp_ms; :data:`METRIC_POINT_FIELDS`)
        when numpy is importable, else (or with ``as_numpy=False``) a list of
        :class:`MetricPoint` tuples. ``max_points`` (>= 2) downsamples for plotting
        (``mlops_metric_history_sampled``: spikes survive). NotFound if never logged.
        """
        pts = ctypes.POINTER(_MetricPointC)()
        n = ctypes.c_size_t()
        if max_points is None:
            _metric_history(ctypes.byref(pts), ctypes.byref(n), self._handle(), cstr(run_id, "run_id"),
                            cstr(key, "key"))
        else:
            if max_points < 0:
                raise InvalidArgument(EINVAL, "max_points %d is negative" % max_points)
            _metric_history_sampled(ctypes.byref(pts), ctypes.byref(n), self._handle(),
                                    cstr(run_id, "run_id"), cstr(key, "key"), max_points)
        try:
            if as_numpy is not False:
                try:
                    import numpy as np
                except ImportError:
                    if as_numpy:
                        raise
                else:
                    raw = ctypes.string_at(pts, n.value * ctypes.sizeof(_MetricPointC)) if n.value else b""
                    return np.frombuffer(raw, dtype=np.dtype(METRIC_POINT_FIELDS)).copy()
            return [MetricPoint(pts[i].value, pts[i].step, pts[i].timestamp_ms) for i in range(n.value)]
        finally:
            _free(pts)

    def get_run(self, run_id: str) -> RunInfo:
        """A snapshot of run run_id (deleted runs too)."""
        ri = run_info_p()
        _run_get(ctypes.byref(ri), self._handle(), cstr(run_id, "run_id"))
        try:
            return _run_info(ri)
        finally:
            _run_info_free(ri)

    def search_runs(self, experiment: Optional[str] = None, filter: Optional[str] = None,
                    order_by: Optional[str] = None, max_results: int = 0) -> List[RunInfo]:
        """Runs not deleted matching MLflow's filter grammar (see tracking.h); max_results 0 = 1000."""
        if max_results < 0:
            raise InvalidArgument(EINVAL, "max_results %d is negative" % max_results)
        lst = run_list_p()
        _runs_search(ctypes.byref(lst), self._handle(), cstr_opt(experiment, "experiment"),
                     cstr_opt(filter, "filter"), cstr_opt(order_by, "order_by"), max_results)
        try:
            return [_run_info(_run_list_get(lst, i)) for i in range(_run_list_count(lst))]
        finally:
            _run_list_free(lst)

    def delete_run(self, run_id: str) -> None:
        """Marks a run deleted (hidden from search; cannot be resumed)."""
        _run_delete(self._handle(), cstr(run_id, "run_id"))

    def restore_run(self, run_id: str) -> None:
        """Restores a deleted run."""
        _run_restore(self._handle(), cstr(run_id, "run_id"))

    def artifacts(self, run_id: str) -> List[Artifact]:
        """The artifacts of a run, sorted by path."""
        lst = artifact_list_p()
        _artifact_list_get(ctypes.byref(lst), self._handle(), cstr(run_id, "run_id"))
        try:
            return [Artifact(pystr(_artifact_list_path(lst, i)), int(_artifact_list_size(lst, i)),
                             pystr(_artifact_list_sha256(lst, i)))
                    for i in range(_artifact_list_count(lst))]
        finally:
            _artifact_list_free(lst)

    def download_artifact(self, run_id: str, path: str, local_path: StrPath) -> None:
        """Copies artifact path of run run_id to local_path, verifying size and SHA-256 (Corrupt)."""
        _artifact_download(self._handle(), cstr(run_id, "run_id"), cstr(path, "path"),
                           cstr(local_path, "local_path"))


for _name, _fn in list(vars(_Tracking).items()):
    if callable(_fn) and not _name.startswith("_"):
        setattr(Store, _name, _fn)


# ---- the default store (as in C: $MLOPS_TRACKING_URI, else $MLFLOW_TRACKING_URI, else mlops.db) ----

_default_lock = threading.Lock()
_default: Optional[Store] = None
_retired: List[Store] = []  # former default stores with live runs (the tracking URI changed)


def default_store() -> Store:
    """The process's default store, opened on first use from the environment (``uri=None``)
    and closed at exit (or by :func:`close_default_store`)."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Store(None)
        return _default


def close_default_store() -> None:
    """Closes the default store (ending its live runs); the next use opens it again."""
    global _default
    with _default_lock:
        store, _default = _default, None
        retired = _retired[:]
        del _retired[:]
    for old in [store, *retired]:
        if old is not None:
            old.close()


def retire_default_store() -> None:
    """Lets the next use of the default store open it again (after the tracking URI changed).

    The store it was is closed now when no run of it is live; else its runs go on logging to
    it, and it is closed with :func:`close_default_store` (at exit).
    """
    global _default
    with _default_lock:
        store, _default = _default, None
        if store is None or store.closed:
            return
        with store._lock:
            busy = bool(store._children)
        if busy:
            _retired.append(store)
            return
    store.close()


atexit.register(close_default_store)
