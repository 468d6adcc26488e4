"""MLflow's model-registry calls over :class:`mlops.Registry` of the default store, and
:func:`download`, the local path of what a model reference resolves to.

    v = mlops.register_model("runs:/%s/model" % run_id, "fraud")
    mlops.set_registered_model_alias("fraud", "production", v.version)
    path = mlops.models.download("models:/fraud@production")
"""
from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from typing import Any, Mapping, Optional, Tuple, Union
from urllib.parse import unquote, urlparse

from ._errors import EINVAL, ENOTFOUND, EUNSUPPORTED, AlreadyExists, InvalidArgument, NotFound, Unsupported
from ._handle import StrPath
from ._registry import ModelVersion, Registry
from ._store import Store
from ._tracking import default_store


def _registry(store: Optional[Store]) -> Registry:
    return Registry(default_store() if store is None else store)


def _version_number(version: Union[int, str]) -> int:
    """MLflow passes versions as int or str ("3")."""
    if isinstance(version, str) and version.isdigit():
        return int(version)
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    raise (ValueError if isinstance(version, str) else TypeError)(
        "version must be an int or a string of digits, not %r" % (version,))


def _source(store: Store, model_uri: StrPath) -> Tuple[str, Optional[str]]:
    """(source, run_id) to register: runs:/<run_id>/<path> is the artifact under the run's
    artifact location (as MLflow resolves it); a local path is made absolute."""
    uri = os.fspath(model_uri)
    if not isinstance(uri, str):
        raise TypeError("model_uri must be a str or os.PathLike[str], not %s" % type(uri).__name__)
    if uri.startswith("runs:/"):
        run_id, _, path = uri[len("runs:/"):].partition("/")
        if not run_id:
            raise InvalidArgument(EINVAL, "model_uri %r names no run: runs:/<run_id>/<path>" % uri)
        root = store.get_run(run_id).artifact_uri.rstrip("/")
        path = path.strip("/")
        return (root + "/" + path if path else root), run_id
    if "://" in uri or uri.startswith(("models:/", "mlflow-artifacts:")):
        return uri, None
    return os.path.abspath(uri), None


def register_model(model_uri: StrPath, name: str, await_registration_for: int = 300, *,
                   tags: Optional[Mapping[str, Any]] = None, store: Optional[Store] = None) -> ModelVersion:
    """Registers the next version of model name (created if missing) from model_uri:
    "runs:/<run_id>/<path>" (an artifact of a run, linked to it), a local file or directory
    (size and SHA-256 recorded), or a remote URI (recorded as given). Returns the version
    (``.name``, ``.version``, ``.source``, ``.run_id``). ``tags`` are set on the version.

    Registration is synchronous: ``await_registration_for`` is accepted for MLflow's sake.
    """
    if not isinstance(name, str):
        raise TypeError("name must be a str, not %s" % type(name).__name__)
    reg = _registry(store)
    source, run_id = _source(reg.store, model_uri)
    try:
        reg.create_model(name)
    except AlreadyExists:
        pass  # registering a further version of an existing model
    number = reg.create_version(name, source, run_id)
    for key, value in (tags or {}).items():
        reg.set_version_tag(name, number, key, str(value))
    return reg.get_version(name, number)


def set_registered_model_alias(name: str, alias: str, version: Union[int, str], *,
                               store: Optional[Store] = None) -> None:
    """Points alias ("production") of model name at version (moving it if it pointed elsewhere)."""
    _registry(store).set_alias(name, alias, _version_number(version))


def get_model_version_by_alias(name: str, alias: str, *, store: Optional[Store] = None) -> ModelVersion:
    """The version alias of model name points at (NotFound if none)."""
    return _registry(store).get_alias(name, alias)


def delete_registered_model_alias(name: str, alias: str, *, store: Optional[Store] = None) -> None:
    """Removes alias from model name (NotFound if it is not set)."""
    _registry(store).delete_alias(name, alias)


def _ref(model_uri: str) -> str:
    if not isinstance(model_uri, str):
        raise TypeError("model_uri must be a str, not %s" % type(model_uri).__name__)
    return model_uri[len("models:/"):] if model_uri.startswith("models:/") else model_uri


def _local(source: str) -> Optional[str]:
    """The local path of a source (a path or file:// URI), None for a remote one."""
    if source.startswith("file://"):
        return unquote(urlparse(source).path)
    if "://" in source or source.startswith(("runs:/", "models:/", "mlflow-artifacts:")):
        return None
    return source


def download(model_uri: str, dst_path: Optional[StrPath] = None, *, store: Optional[Store] = None) -> str:
    """The local path of the model version model_uri resolves to ("models:/name@alias",
    "name@alias", "name/7", "name": the latest READY version).

    A local source is returned as it is (no copy) unless dst_path is given, where it is then
    copied (file or directory). A source in the artifacts of its run on an MLflow server is
    downloaded (into dst_path, else a new temporary directory), each file checked against its
    recorded size and SHA-256. Other remote sources (s3://, ...) are Unsupported.
    """
    reg = _registry(store)
    with reg.resolve(_ref(model_uri)) as version:
        source, run_id = version.source, version.run_id
    local = _local(source)
    if local is not None:
        if dst_path is None:
            return local
        into = str(os.fspath(dst_path))
        dest = os.path.join(into, os.path.basename(local.rstrip("/")))
        if os.path.isdir(local):
            shutil.copytree(local, dest)
        else:
            os.makedirs(into, exist_ok=True)
            shutil.copy2(local, dest)
        return dest
    root = reg.store.get_run(run_id).artifact_uri.rstrip("/") if run_id else ""
    if not root or not (source == root or source.startswith(root + "/")):
        raise Unsupported(EUNSUPPORTED, "model %s: cannot download source %s (neither a local path "
                          "nor an artifact of its run)" % (model_uri, source))
    prefix = source[len(root):].strip("/")
    parent = posixpath.dirname(prefix)
    base = tempfile.mkdtemp(prefix="mlops-model-") if dst_path is None else str(os.fspath(dst_path))
    arts = [a.path for a in reg.store.artifacts(run_id)
            if not prefix or a.path == prefix or a.path.startswith(prefix + "/")]
    if not arts:
        raise NotFound(ENOTFOUND, "model %s: run %s has no artifact %s" % (model_uri, run_id, prefix))
    for path in arts:
        target = os.path.join(base, *posixpath.relpath(path, parent or ".").split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        reg.store.download_artifact(run_id, path, target)
    return os.path.join(base, posixpath.basename(prefix)) if prefix else base
