"""MLflow's fluent API (``mlflow.start_run``, ``mlflow.log_metric``, ...) over the object API.

Same names, arguments and semantics as ``mlflow.tracking.fluent``: a per-thread stack of active
runs, ``with start_run()`` ending the run FINISHED (FAILED when the block raises, and the
exception goes on), nested runs tagged ``mlflow.parentRunId``, a run started on first use by
the logging functions. Runs go to :func:`mlops.default_store` (see :func:`set_tracking_uri`)
unless ``start_run(store=...)`` names another. Every failure is raised: an :class:`mlops.Error`
subclass with the library's message, or a TypeError/ValueError naming the bad argument.
"""
from __future__ import annotations

import importlib
import json
import os
import posixpath
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Type, Union

from ._errors import (EINVAL, ENOTFOUND, ESTATE, EUNSUPPORTED, AlreadyExists, InvalidArgument, InvalidState,
                      NotFound, Unsupported)
from ._check import int64
from ._handle import StrPath
from ._store import Store
from ._tracking import (Run, RunInfo, RunStatus, default_store, new_run, resumed_run,
                        retire_default_store)

# ---- runs as MLflow shows them ----


@dataclass(frozen=True)
class RunRecordInfo:
    """A run's attributes, named as MLflow's ``RunInfo`` (times in ms since the epoch)."""
    run_id: str
    run_name: str
    experiment_id: str
    status: str           #: "RUNNING", "FINISHED", "FAILED", "KILLED" or "SCHEDULED"
    start_time: int
    end_time: Optional[int]  #: None while running
    artifact_uri: str
    lifecycle_stage: str  #: "active" or "deleted"
    user_id: str


@dataclass(frozen=True)
class RunRecordData:
    """A run's params, latest metric values and tags, as MLflow's ``RunData``."""
    params: Dict[str, str]
    metrics: Dict[str, float]
    tags: Dict[str, str]


@dataclass(frozen=True)
class RunRecord:
    """A snapshot of a run shaped as MLflow's ``Run`` entity: ``.info`` and ``.data``."""
    info: RunRecordInfo
    data: RunRecordData


def _status_name(status: int) -> str:
    return RunStatus(status).name if status in RunStatus._value2member_map_ else str(status)


def _record(ri: RunInfo) -> RunRecord:
    info = RunRecordInfo(run_id=ri.id, run_name=ri.name, experiment_id=ri.experiment_id,
                         status=_status_name(ri.status), start_time=ri.start_time,
                         end_time=ri.end_time or None, artifact_uri=ri.artifact_uri,
                         lifecycle_stage="deleted" if ri.deleted else "active",
                         user_id=ri.tags.get("mlflow.user", ""))
    data = RunRecordData(params=dict(ri.params), metrics={k: p.value for k, p in ri.metrics.items()},
                         tags=dict(ri.tags))
    return RunRecord(info, data)


# ---- the active-run stack ----

class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.stack: List["ActiveRun"] = []
        self.last: Optional["ActiveRun"] = None  # the run this thread ended last


_local = _ThreadState()


def _stack() -> List["ActiveRun"]:
    """This thread's stack of active runs. A run whose store was closed under it stays on it:
    logging to it raises InvalidState until :func:`end_run` takes it off (never silently
    replaced by a new run)."""
    return _local.stack


def _status_code(status: Union[str, int]) -> int:
    if isinstance(status, str):
        if status in ("FINISHED", "FAILED", "KILLED"):
            return int(RunStatus[status])
        raise ValueError("status must be 'FINISHED', 'FAILED' or 'KILLED', not %r" % status)
    if isinstance(status, int) and not isinstance(status, bool) and status in (
            RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED):
        return int(status)
    raise (ValueError if isinstance(status, int) else TypeError)(
        "status must be 'FINISHED', 'FAILED' or 'KILLED', not %r" % (status,))


class ActiveRun(Run):
    """A run started by :func:`start_run`: an :class:`mlops.Run` (every logging method) that is
    on its thread's stack of active runs until it ends, with MLflow's ``.info`` and ``.data``.

    As a context manager it ends FINISHED, or FAILED when the block raises (the exception
    propagates); runs started inside the block and still active end first, with the same status.
    """

    _stack: Optional[List["ActiveRun"]] = None

    @property
    def info(self) -> RunRecordInfo:
        """The run's attributes, read from the store now (status, end time stay current)."""
        return _record(self.store.get_run(self.id)).info

    @property
    def data(self) -> RunRecordData:
        """The run's params, latest metrics and tags, read from the store now."""
        return _record(self.store.get_run(self.id)).data

    def end(self, status: Union[str, int] = RunStatus.FINISHED) -> None:
        """Ends the run with status ("FINISHED", "FAILED", "KILLED" or a RunStatus) and takes it
        off the stack of active runs; ending again does nothing."""
        code = _status_code(status)
        stack = self._stack
        if stack is not None and self in stack:
            stack.remove(self)
        if not self.closed:
            _local.last = self
        super().end(code)

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Any) -> None:
        status = RunStatus.FAILED if exc_type is not None else RunStatus.FINISHED
        stack = self._stack
        if stack is not None and self in stack:
            while stack and stack[-1] is not self:
                stack[-1].end(status)
        self.end(status)

    def __repr__(self) -> str:
        return "<mlops.ActiveRun %s%s>" % (self.id, " ended" if self.closed else "")


# ---- experiments and the tracking URI ----

@dataclass(frozen=True)
class Experiment:
    """An experiment, as MLflow's entity (the fields libmlops keeps)."""
    experiment_id: str
    name: str


_experiment_lock = threading.Lock()
_experiment_name: Optional[str] = None  # set_experiment's, process-wide as in MLflow


def set_tracking_uri(uri: Optional[StrPath]) -> None:
    """Where runs go from now on: "path.db", "sqlite:///abs/path.db" or "http(s)://host:port"
    (an MLflow server); None: back to the environment ($MLOPS_TRACKING_URI, else
    $MLFLOW_TRACKING_URI, else "mlops.db").

    As MLflow, it sets the environment ($MLOPS_TRACKING_URI) so that child processes inherit
    it. The default store is opened again on next use; runs active in the former one go on
    logging there until they end.
    """
    if uri is None:
        os.environ.pop("MLOPS_TRACKING_URI", None)
    else:
        if not isinstance(uri, (str, os.PathLike)):
            raise TypeError("uri must be a str or os.PathLike, not %s" % type(uri).__name__)
        text = os.fspath(uri)
        if not isinstance(text, str) or not text or "\0" in text:
            raise ValueError("uri must be a non-empty str without NUL characters, not %r" % (text,))
        os.environ["MLOPS_TRACKING_URI"] = text
    retire_default_store()


def get_tracking_uri() -> str:
    """The URI the default store opens: :func:`set_tracking_uri`'s, else $MLOPS_TRACKING_URI,
    else $MLFLOW_TRACKING_URI, else "mlops.db" (as ``mlops_store_open(NULL)``)."""
    for var in ("MLOPS_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        value = os.environ.get(var)
        if value:
            return value
    return "mlops.db"


def _experiment_by_id(store: Store, experiment_id: Union[str, int]) -> Experiment:
    if isinstance(experiment_id, bool) or not isinstance(experiment_id, (str, int)):
        raise TypeError("experiment_id must be a str, not %s" % type(experiment_id).__name__)
    eid = str(experiment_id)
    name = store.experiments().get(eid)
    if name is None:
        raise NotFound(ENOTFOUND, "no experiment with id '%s'" % eid)
    return Experiment(eid, name)


def set_experiment(experiment_name: Optional[str] = None,
                   experiment_id: Optional[Union[str, int]] = None) -> Experiment:
    """Makes an experiment the active one for the runs started next (by name: created if
    missing; by id: it must exist). Exactly one of the two is given."""
    if (experiment_name is None) == (experiment_id is None):
        raise ValueError("set_experiment needs experiment_name or experiment_id (exactly one)")
    store = default_store()
    if experiment_id is not None:
        exp = _experiment_by_id(store, experiment_id)
    else:
        if not isinstance(experiment_name, str):
            raise TypeError("experiment_name must be a str, not %s" % type(experiment_name).__name__)
        exp = Experiment(_ensure_experiment(store, experiment_name), experiment_name)
    global _experiment_name
    with _experiment_lock:
        _experiment_name = exp.name
    return exp


def _ensure_experiment(store: Store, name: str) -> str:
    """The id of experiment name, creating it when missing (another process may race us)."""
    for eid, ename in store.experiments().items():
        if ename == name:
            return eid
    try:
        return store.create_experiment(name)
    except AlreadyExists:
        return store.get_experiment_id(name)


def _active_experiment() -> Optional[str]:
    """The name of the experiment new runs go to: set_experiment's, $MLFLOW_EXPERIMENT_NAME, or
    None (the library's "Default")."""
    with _experiment_lock:
        name = _experiment_name
    return name if name is not None else os.environ.get("MLFLOW_EXPERIMENT_NAME") or None


# ---- starting and ending runs ----

def _source_tags() -> Dict[str, str]:
    """The context tags MLflow sets on every run it starts (mlflow.user comes from the library)."""
    tags = {"mlflow.source.type": "LOCAL"}
    if sys.argv and sys.argv[0]:
        tags["mlflow.source.name"] = sys.argv[0]
    return tags


def start_run(experiment: Optional[str] = None, run_name: Optional[str] = None, *,
              run_id: Optional[str] = None, experiment_id: Optional[Union[str, int]] = None,
              nested: bool = False, parent_run_id: Optional[str] = None,
              tags: Optional[Mapping[str, Any]] = None, description: Optional[str] = None,
              store: Optional[Store] = None, start_time_ms: int = 0) -> ActiveRun:
    """Starts a run and makes it this thread's active run (``mlflow.start_run``)::

        with mlops.start_run(run_name="baseline"):
            mlops.log_param("lr", 0.01)
            with mlops.start_run(run_name="fold-1", nested=True):
                mlops.log_metric("loss", 0.1, step=3)

    The experiment is ``experiment`` (a name, created if missing) or ``experiment_id``, else
    the one of :func:`set_experiment`, else $MLFLOW_EXPERIMENT_NAME, else "Default". With
    ``run_id`` the run is resumed (status back to RUNNING; run_name is then ignored). While a
    run is active another needs ``nested=True``: its parent is the active run (tag
    ``mlflow.parentRunId``), in the parent's store. ``tags`` and ``description`` (tag
    ``mlflow.note.content``) are set on the run; ``store`` None is :func:`mlops.default_store`.

    Unlike MLflow the first positional argument is the experiment name (as in libmlops 0.1):
    pass ``run_id=`` by keyword. End the run with ``with``, :func:`end_run` or ``.end()``.
    """
    stack = _stack()
    if stack and not nested:
        raise InvalidState(ESTATE, "run %s is already active: end it with mlops.end_run() first, or "
                           "start a nested run with nested=True" % stack[0].id)
    if experiment is not None and experiment_id is not None:
        raise ValueError("start_run takes experiment (a name) or experiment_id, not both")
    if tags is not None and not isinstance(tags, Mapping):
        raise TypeError("tags must be a dict, not %s" % type(tags).__name__)
    if store is None:
        store = stack[-1].store if stack else default_store()
    elif not isinstance(store, Store):
        raise TypeError("store must be an mlops.Store, not %s" % type(store).__name__)
    if experiment_id is not None:
        experiment = _experiment_by_id(store, experiment_id).name
    explicit = experiment is not None
    if experiment is None:
        experiment = _active_experiment()
    user_tags: Dict[str, Any] = dict(tags or {})
    if description is not None:
        user_tags["mlflow.note.content"] = description

    if run_id is not None:
        if explicit:
            found = store.get_run(run_id)
            wanted = store.get_experiment_id(experiment) if experiment is not None else None
            if found.experiment_id != wanted:
                raise InvalidArgument(EINVAL, "run %s belongs to experiment %s, not to '%s'"
                                      % (run_id, found.experiment_id, experiment))
        run = resumed_run(ActiveRun, store, run_id)
    else:
        if parent_run_id is not None and stack and parent_run_id != stack[-1].id:
            raise InvalidArgument(EINVAL, "parent_run_id %s is not the active run %s: end that run first"
                                  % (parent_run_id, stack[-1].id))
        parent = parent_run_id if parent_run_id is not None else (stack[-1].id if stack else None)
        run = new_run(ActiveRun, store, experiment, run_name, parent, start_time_ms)
        user_tags = {**_source_tags(), **user_tags}
    try:
        run.set_tags(user_tags)
    except BaseException:
        # As MLflow, whose run and tags are created together: no half-made run is left behind.
        run.end(RunStatus.FAILED)
        if run_id is None:
            store.delete_run(run.id)
        raise
    run._stack = stack
    stack.append(run)
    return run


def active_run() -> Optional[ActiveRun]:
    """This thread's active run (the innermost), or None."""
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> Optional[RunRecord]:
    """The active run, else the run this thread ended last, read from its store; None if none."""
    run = active_run() or _local.last
    if run is None:
        return None
    return _record(run.store.get_run(run.id))


def end_run(status: Union[str, int] = "FINISHED") -> None:
    """Ends this thread's active run (the innermost) with status "FINISHED", "FAILED" or
    "KILLED"; nothing to do when no run is active."""
    code = _status_code(status)
    stack = _stack()
    if stack:
        stack[-1].end(code)


def get_run(run_id: str) -> RunRecord:
    """A snapshot of a run of the default store, as MLflow's ``Run`` (NotFound if none)."""
    return _record(default_store().get_run(run_id))


def _run() -> ActiveRun:
    """The active run, started as ``start_run()`` would when there is none (as MLflow)."""
    stack = _stack()
    return stack[-1] if stack else start_run()


def _synced(run: Run, synchronous: Optional[bool]) -> None:
    """synchronous=True: committed before returning (the default leaves metrics buffered)."""
    if synchronous:
        run.store.flush()


# ---- logging ----

def log_param(key: str, value: Any, synchronous: Optional[bool] = None) -> Any:
    """Logs a param of the active run (str(value)); returns value. Params are immutable."""
    run = _run()
    run.log_param(key, value)
    _synced(run, synchronous)
    return value


def log_params(params: Mapping[str, Any], synchronous: Optional[bool] = None) -> None:
    """Logs every key/value of params to the active run."""
    if not isinstance(params, Mapping):
        raise TypeError("params must be a dict, not %s" % type(params).__name__)
    run = _run()
    run.log_params(params)
    _synced(run, synchronous)


def set_tag(key: str, value: Any, synchronous: Optional[bool] = None) -> None:
    """Sets a tag of the active run (str(value); the last write wins)."""
    run = _run()
    run.set_tag(key, value)
    _synced(run, synchronous)


def set_tags(tags: Mapping[str, Any], synchronous: Optional[bool] = None) -> None:
    """Sets every key/value of tags on the active run."""
    if not isinstance(tags, Mapping):
        raise TypeError("tags must be a dict, not %s" % type(tags).__name__)
    run = _run()
    run.set_tags(tags)
    _synced(run, synchronous)


def log_metric(key: str, value: float, step: Optional[int] = None, synchronous: Optional[bool] = None,
               timestamp: Optional[int] = None) -> None:
    """Logs a point of metric key to the active run: value a real number (numpy scalars and
    0-d arrays/tensors too), step an int (None: 0), timestamp ms since the epoch (None: now).

    Buffered (committed by the library's writer, at end_run and at exit); ``synchronous=True``
    returns once it is committed.
    """
    run = _run()
    run.log_metric(key, value, 0 if step is None else step,
                   None if timestamp is None else int64(timestamp, "timestamp"))
    _synced(run, synchronous)


def log_metrics(metrics: Mapping[str, float], step: Optional[int] = None,
                synchronous: Optional[bool] = None, *, timestamp: Optional[int] = None) -> None:
    """Logs every key/value of metrics to the active run at step (see :func:`log_metric`)."""
    if not isinstance(metrics, Mapping):
        raise TypeError("metrics must be a dict, not %s" % type(metrics).__name__)
    run = _run()
    at = None if timestamp is None else int64(timestamp, "timestamp")
    for k, v in metrics.items():
        run.log_metric(k, v, 0 if step is None else step, at)
    _synced(run, synchronous)


# ---- artifacts ----

def log_artifact(local_path: StrPath, artifact_path: Optional[str] = None) -> None:
    """Copies a file into the active run's artifacts, under directory artifact_path (None: the root)."""
    _run().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: StrPath, artifact_path: Optional[str] = None) -> None:
    """Copies every file under local_dir, recursively, into the active run's artifacts under
    artifact_path (None: the root), keeping their relative paths."""
    root = os.fsdecode(local_dir)
    if not os.path.exists(root):
        raise NotFound(ENOTFOUND, "log_artifacts: %r does not exist" % (root,))
    if not os.path.isdir(root):
        raise InvalidArgument(EINVAL, "log_artifacts: %r is not a directory (log_artifact logs a file)"
                              % (root,))
    run = _run()

    def fail(e: OSError) -> None:
        raise e

    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        parts = [p for p in (artifact_path, None if rel == os.curdir else rel) if p]
        dest = posixpath.join(*(p.replace(os.sep, "/") for p in parts)) if parts else None
        for name in sorted(filenames):
            run.log_artifact(os.path.join(dirpath, name), dest)


def _log_generated(artifact_file: str, write: Callable[[str], None]) -> None:
    """Writes a file named as artifact_file's last part with write(path), then logs it under
    artifact_file's directory."""
    if not isinstance(artifact_file, str):
        raise TypeError("artifact_file must be a str, not %s" % type(artifact_file).__name__)
    directory, name = posixpath.split(artifact_file)
    if not name:
        raise ValueError("artifact_file %r does not end with a file name" % artifact_file)
    run = _run()
    with tempfile.TemporaryDirectory(prefix="mlops-") as tmp:
        path = os.path.join(tmp, name)
        write(path)
        run.log_artifact(path, directory or None)


def log_text(text: str, artifact_file: str) -> None:
    """Logs text as the artifact artifact_file ("notes/readme.txt"), UTF-8."""
    if not isinstance(text, str):
        raise TypeError("text must be a str, not %s" % type(text).__name__)

    def write(path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    _log_generated(artifact_file, write)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> None:
    """Logs a dict as the artifact artifact_file: YAML when it ends with .yaml or .yml (needs
    PyYAML), JSON otherwise."""
    if not isinstance(dictionary, Mapping):
        raise TypeError("dictionary must be a dict, not %s" % type(dictionary).__name__)
    as_yaml = isinstance(artifact_file, str) and artifact_file.endswith((".yaml", ".yml"))
    if as_yaml:
        try:
            yaml = importlib.import_module("yaml")
        except ImportError:
            raise ImportError("log_dict to %r needs PyYAML (pip install pyyaml), or use a .json file"
                              % artifact_file) from None
        text = yaml.safe_dump(dict(dictionary), default_flow_style=False, sort_keys=False)
    else:
        text = json.dumps(dictionary, indent=2)
    log_text(text, artifact_file)


def log_figure(figure: Any, artifact_file: str, *, save_kwargs: Optional[Dict[str, Any]] = None) -> None:
    """Logs a matplotlib figure (``figure.savefig``; the format follows artifact_file's suffix)
    or a plotly figure (.html: ``write_html``, else ``write_image``) as artifact_file."""
    package = type(figure).__module__.split(".")[0]
    kwargs = dict(save_kwargs or {})
    if package == "plotly":
        def write(path: str) -> None:
            if path.endswith(".html"):
                figure.write_html(path, **kwargs)
            else:
                figure.write_image(path, **kwargs)
    else:
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("log_figure needs matplotlib (pip install matplotlib) for a %s"
                              % type(figure).__name__) from None
        if not isinstance(figure, Figure):
            raise TypeError("figure must be a matplotlib or plotly figure, not %s" % type(figure).__name__)

        def write(path: str) -> None:
            figure.savefig(path, **kwargs)
    _log_generated(artifact_file, write)


# ---- search ----

ACTIVE_ONLY = 1  #: MLflow's ViewType.ACTIVE_ONLY, the one view libmlops searches

#: The most runs one search returns (libmlops' limit; MLflow's default asks for 100000).
MAX_RESULTS = 50000


def _names_list(values: Optional[Sequence[Any]], what: str) -> List[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError("%s must be a list, not %s" % (what, type(values).__name__))
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise TypeError("%s must hold strings, not %s" % (what, type(v).__name__))
        out.append(str(v))
    return out


def search_runs(experiment_ids: Optional[Sequence[Union[str, int]]] = None, filter_string: str = "",
                run_view_type: int = ACTIVE_ONLY, max_results: int = 100000,
                order_by: Optional[Sequence[str]] = None, output_format: str = "pandas",
                search_all_experiments: bool = False,
                experiment_names: Optional[Sequence[str]] = None) -> Any:
    """Runs (not deleted) of the default store matching filter_string, as ``mlflow.search_runs``.

    Experiments: experiment_ids or experiment_names (not both); neither: the active experiment
    (:func:`set_experiment`), or every one with ``search_all_experiments=True``. Unknown names
    and ids match nothing. order_by: ["metrics.acc DESC", "params.lr"] (default: start_time
    DESC). At most :data:`MAX_RESULTS` runs.

    ``output_format="pandas"``: a DataFrame with MLflow's columns (run_id, experiment_id,
    status, artifact_uri, start_time and end_time as UTC datetimes, metrics.<key>,
    params.<key>, tags.<key>; missing values NaN/None). ``"list"``: a list of :class:`RunRecord`.
    """
    if output_format not in ("pandas", "list"):
        raise ValueError("output_format must be 'pandas' or 'list', not %r" % (output_format,))
    if run_view_type != ACTIVE_ONLY:
        raise Unsupported(EUNSUPPORTED, "search_runs: run_view_type %r: libmlops searches active "
                          "(not deleted) runs only" % (run_view_type,))
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise TypeError("max_results must be an int, not %s" % type(max_results).__name__)
    if max_results <= 0:
        raise ValueError("max_results must be positive, not %d" % max_results)
    if not isinstance(filter_string, str):
        raise TypeError("filter_string must be a str, not %s" % type(filter_string).__name__)
    if isinstance(order_by, str):
        raise TypeError("order_by must be a list of strings, as MLflow's (['metrics.acc DESC'])")
    order = ", ".join(_names_list(order_by, "order_by")) or None
    ids = _names_list(experiment_ids, "experiment_ids")
    names = _names_list(experiment_names, "experiment_names")
    if ids and names:
        raise ValueError("search_runs takes experiment_ids or experiment_names, not both")
    store = default_store()
    known = store.experiments()  # id -> name
    if ids or names:
        wanted = {i for i in ids if i in known} | {i for i, n in known.items() if n in names}
    elif search_all_experiments:
        wanted = set(known)
    else:
        active = _active_experiment() or "Default"
        wanted = {i for i, n in known.items() if n == active}
    limit = min(max_results, MAX_RESULTS)
    runs: List[RunInfo] = []
    if len(wanted) == 1:
        runs = store.search_runs(known[next(iter(wanted))], filter_string or None, order, limit)
    elif wanted:
        # Several experiments: one search of all of them keeps the library's order; the others'
        # runs are then dropped (MAX_RESULTS bounds what is looked at).
        every = store.search_runs(None, filter_string or None, order,
                                  limit if wanted == set(known) else MAX_RESULTS)
        runs = [r for r in every if r.experiment_id in wanted][:limit]
    records = [_record(r) for r in runs]
    return records if output_format == "list" else _frame(records)


def _frame(records: List[RunRecord]) -> Any:
    """MLflow's search_runs DataFrame: info columns, then metrics., params., tags. (sorted)."""
    try:
        pd = importlib.import_module("pandas")
    except ImportError:
        raise ImportError("search_runs(output_format='pandas') needs pandas (pip install pandas); "
                          "output_format='list' does not") from None
    columns: Dict[str, List[Any]] = {
        "run_id": [r.info.run_id for r in records],
        "experiment_id": [r.info.experiment_id for r in records],
        "status": [r.info.status for r in records],
        "artifact_uri": [r.info.artifact_uri for r in records],
        "start_time": [pd.to_datetime(r.info.start_time, unit="ms", utc=True) for r in records],
        "end_time": [None if r.info.end_time is None else pd.to_datetime(r.info.end_time, unit="ms", utc=True)
                     for r in records],
    }
    for prefix, missing in (("metrics", float("nan")), ("params", None), ("tags", None)):
        keys = sorted({k for r in records for k in getattr(r.data, prefix)})
        for k in keys:
            columns[prefix + "." + k] = [getattr(r.data, prefix).get(k, missing) for r in records]
    return pd.DataFrame(columns)
