"""libmlops from Python: run tracking, a model registry, drift statistics, a GPU allocator.

A thin, strict ctypes binding: every behaviour comes from the C library, every failure is
raised as a subclass of :class:`mlops.Error` carrying the code and the library's message.
The library is found through ``$MLOPS_LIBRARY``, the build tree of a checkout,
``ctypes.util.find_library("mlops")`` and pkg-config, in that order.
"""
from ._lib import MAX_VERSION, MIN_VERSION
from ._errors import (AlreadyExists, Busy, Corrupt, Error, InvalidArgument, InvalidState,
                      LimitExceeded, NetworkError, NotFound, OutOfMemory, PermissionDenied,
                      StoreIOError, UndeliveredWarning, Unsupported, VersionMismatch, strerror)
from ._common import Feature, features, library_path, version, version_number
from ._store import Durability, OnFull, Store, StoreOptions
from ._tracking import (Artifact, MetricKey, MetricPoint, Run, RunInfo, RunStatus, close_default_store,
                        default_store)
from ._registry import (AuditEntry, Model, ModelVersion, Registry, Risk, Validation, VersionInfo,
                        VersionStatus, Watcher)
from ._gpu import Backend, GpuPool, PoolStats
from .fluent import (ActiveRun, Experiment, RunRecord, RunRecordData, RunRecordInfo, active_run, end_run,
                     get_run, get_tracking_uri, last_active_run, log_artifact, log_artifacts, log_dict,
                     log_figure, log_metric, log_metrics, log_param, log_params, log_text, search_runs,
                     set_experiment, set_tag, set_tags, set_tracking_uri, start_run)
from . import models
from .models import (delete_registered_model_alias, get_model_version_by_alias, register_model,
                     set_registered_model_alias)

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists", "Busy", "Corrupt", "Durability", "Error", "Feature", "InvalidArgument",
    "InvalidState", "LimitExceeded", "MAX_VERSION", "MIN_VERSION", "NetworkError", "NotFound",
    "OnFull", "OutOfMemory", "PermissionDenied", "Store", "StoreIOError", "StoreOptions",
    "UndeliveredWarning", "Unsupported", "VersionMismatch", "features", "library_path", "strerror", "version",
    "version_number",
    # tracking.h
    "Artifact", "MetricKey", "MetricPoint", "Run", "RunInfo", "RunStatus", "close_default_store",
    "default_store", "start_run",
    # registry.h
    "AuditEntry", "Model", "ModelVersion", "Registry", "Risk", "Validation", "VersionInfo",
    "VersionStatus", "Watcher",
    # gpu.h
    "Backend", "GpuPool", "PoolStats",
    # MLflow's fluent API (mlops.fluent, mlops.models)
    "ActiveRun", "Experiment", "RunRecord", "RunRecordData", "RunRecordInfo", "active_run", "end_run",
    "get_run", "get_tracking_uri", "last_active_run", "log_artifact", "log_artifacts", "log_dict",
    "log_figure", "log_metric", "log_metrics", "log_param", "log_params", "log_text", "search_runs",
    "set_experiment", "set_tag", "set_tags", "set_tracking_uri", "start_run",
    "delete_registered_model_alias", "get_model_version_by_alias", "models", "register_model",
    "set_registered_model_alias",
    # drift.h: the submodule mlops.drift (imported on first use: it needs numpy)
    "drift",
]


def __getattr__(name: str) -> object:
    if name == "drift":
        import importlib
        return importlib.import_module(".drift", __name__)
    raise AttributeError("module 'mlops' has no attribute %r" % name)
