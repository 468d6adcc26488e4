"""registry.h: registered models, versions, aliases, resolution, cards and the audit trail."""
from __future__ import annotations

import ctypes
import enum
import json
import sys
import traceback
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from . import _lib
from ._common import take_string
from ._errors import check_status
from ._handle import Handle, StrPath, cstr, cstr_opt, opaque, pystr
from ._store import Store, store_p

MODEL_CARD_VERSION = 1

model_p = opaque("mlops_model")
version_p = opaque("mlops_model_version")
watcher_p = opaque("mlops_model_watcher")


class VersionStatus(enum.IntEnum):
    """Status of a model version (MLOPS_MODEL_VERSION_*)."""
    PENDING_REGISTRATION = 0
    READY = 1
    FAILED_REGISTRATION = 2


class Validation(enum.IntEnum):
    """Validation status of a model version, the approval gate (MLOPS_VALIDATION_*)."""
    NONE = 0
    PENDING = 1
    APPROVED = 2
    REJECTED = 3


class Risk(enum.IntEnum):
    """Risk tier of a model card (MLOPS_RISK_*)."""
    UNSET = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class ModelCard(ctypes.Structure):
    """``mlops_model_card``, field for field (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("intended_use", ctypes.c_char_p),
                ("training_data", ctypes.c_char_p), ("fairness", ctypes.c_char_p),
                ("owner", ctypes.c_char_p), ("risk_tier", ctypes.c_int)]


class _AuditEntryC(ctypes.Structure):
    """``mlops_audit_entry`` (frozen layout)."""
    _fields_ = [("id", ctypes.c_int64), ("timestamp_ms", ctypes.c_int64), ("actor", ctypes.c_char_p),
                ("model", ctypes.c_char_p), ("action", ctypes.c_char_p), ("target", ctypes.c_char_p),
                ("from_", ctypes.c_char_p), ("to", ctypes.c_char_p), ("reason", ctypes.c_char_p)]


class AuditEntry(NamedTuple):
    """One entry of the audit trail."""
    id: int
    timestamp_ms: int
    actor: str
    model: str
    action: str
    target: str
    from_: str
    to: str
    reason: str


class Model(NamedTuple):
    """A registered model (a copy of ``mlops_model``)."""
    name: str
    description: str
    created_ms: int
    last_version: int


WATCH_CB = ctypes.CFUNCTYPE(None, ctypes.c_char_p, version_p, ctypes.c_void_p)

_c_int = ctypes.c_int
_s = ctypes.c_char_p
_i64 = ctypes.c_int64
_d = _lib.declare
_vp = ctypes.POINTER(ctypes.c_void_p)
_reason = _d("mlops_registry_reason", _c_int, [_s], check_status)
_model_create = _d("mlops_model_create", _c_int, [store_p, _s, _s], check_status)
_model_get = _d("mlops_model_get", _c_int, [ctypes.POINTER(model_p), store_p, _s], check_status)
_model_list = _d("mlops_model_list", _c_int, [ctypes.POINTER(ctypes.POINTER(_s)), ctypes.POINTER(ctypes.c_size_t),
                                              store_p, _s], check_status)
_model_rename = _d("mlops_model_rename", _c_int, [store_p, _s, _s], check_status)
_model_set_description = _d("mlops_model_set_description", _c_int, [store_p, _s, _s], check_status)
_model_delete = _d("mlops_model_delete", _c_int, [store_p, _s], check_status)
_model_tag_set = _d("mlops_model_tag_set", _c_int, [store_p, _s, _s, _s], check_status)
_model_tag_delete = _d("mlops_model_tag_delete", _c_int, [store_p, _s, _s], check_status)
_model_tag_get = _d("mlops_model_tag_get", _c_int, [_vp, store_p, _s, _s], check_status)
_model_name = _d("mlops_model_name", _s, [model_p])
_model_description = _d("mlops_model_description", _s, [model_p])
_model_created_ms = _d("mlops_model_created_ms", _i64, [model_p])
_model_last_version = _d("mlops_model_last_version", _i64, [model_p])
_model_free = _d("mlops_model_free", None, [model_p])

_version_create = _d("mlops_model_version_create", _c_int, [ctypes.POINTER(_i64), store_p, _s, _s, _s],
                     check_status)
_version_get = _d("mlops_model_version_get", _c_int, [ctypes.POINTER(version_p), store_p, _s, _i64],
                  check_status)
_version_set_status = _d("mlops_model_version_set_status", _c_int, [store_p, _s, _i64, _c_int], check_status)
_version_set_description = _d("mlops_model_version_set_description", _c_int, [store_p, _s, _i64, _s],
                              check_status)
_version_set_validation = _d("mlops_model_version_set_validation", _c_int, [store_p, _s, _i64, _c_int],
                             check_status)
_version_delete = _d("mlops_model_version_delete", _c_int, [store_p, _s, _i64], check_status)
_version_tag_set = _d("mlops_model_version_tag_set", _c_int, [store_p, _s, _i64, _s, _s], check_status)
_version_tag_delete = _d("mlops_model_version_tag_delete", _c_int, [store_p, _s, _i64, _s], check_status)
_version_tag_get = _d("mlops_model_version_tag_get", _c_int, [_vp, store_p, _s, _i64, _s], check_status)
_verify = _d("mlops_model_verify", _c_int, [store_p, _s, _i64], check_status)
_v_i64 = {n: _d("mlops_model_version_" + n, _i64, [version_p]) for n in ("number", "size", "created_ms")}
_v_int = {n: _d("mlops_model_version_" + n, _c_int, [version_p]) for n in ("status", "validation")}
_v_str = {n: _d("mlops_model_version_" + n, _s, [version_p])
          for n in ("name", "source", "run_id", "sha256", "creator", "description")}
_version_free = _d("mlops_model_version_free", None, [version_p])

_alias_set = _d("mlops_model_alias_set", _c_int, [store_p, _s, _s, _i64], check_status)
_alias_delete = _d("mlops_model_alias_delete", _c_int, [store_p, _s, _s], check_status)
_alias_get = _d("mlops_model_alias_get", _c_int, [ctypes.POINTER(version_p), store_p, _s, _s], check_status)
_alias_rollback = _d("mlops_model_alias_rollback", _c_int, [store_p, _s, _s], check_status)
_alias_protect = _d("mlops_model_alias_protect", _c_int, [store_p, _s, _s, _c_int], check_status)
_resolve = _d("mlops_model_resolve", _c_int, [ctypes.POINTER(version_p), store_p, _s], check_status)
_cache_staleness = _d("mlops_registry_cache_staleness", _c_int, [store_p, ctypes.c_uint], check_status)
_changed = _d("mlops_model_changed", _c_int, [ctypes.POINTER(_c_int), store_p, _s, version_p], check_status)
_watch = _d("mlops_model_watch", _c_int, [ctypes.POINTER(watcher_p), store_p, _s, ctypes.c_uint, WATCH_CB,
                                          ctypes.c_void_p], check_status)
_unwatch = _d("mlops_model_unwatch", None, [watcher_p])

_card_set = _d("mlops_model_card_set", _c_int, [store_p, _s, _i64, ctypes.POINTER(ModelCard)], check_status)
_card_set_metric = _d("mlops_model_card_set_metric", _c_int, [store_p, _s, _i64, _s, ctypes.c_double],
                      check_status)
_card_set_field = _d("mlops_model_card_set_field", _c_int, [store_p, _s, _i64, _s, _s], check_status)
_card_json = _d("mlops_model_card_json", _c_int, [_vp, store_p, _s, _i64], check_status)
_audit = _d("mlops_model_audit", _c_int, [ctypes.POINTER(ctypes.POINTER(_AuditEntryC)),
                                          ctypes.POINTER(ctypes.c_size_t), store_p, _s], check_status)
_free = _d("mlops_free", None, [ctypes.c_void_p])


class ModelVersion(Handle):
    """A model version: an immutable snapshot whose attributes are read once, at creation.

    It keeps the library's (shared, reference-counted) snapshot for :meth:`Registry.changed`;
    :meth:`close` or ``with`` frees it at once, otherwise it is freed when collected (being
    an immutable value, that is not an error). Attributes stay readable after close.
    """

    _close_fn = _version_free

    def __init__(self, ptr: Any) -> None:
        super().__init__(ptr)
        self.name: str = pystr(_v_str["name"](ptr))
        self.version: int = int(_v_i64["number"](ptr))
        self.source: str = pystr(_v_str["source"](ptr))
        self.run_id: str = pystr(_v_str["run_id"](ptr))
        self.sha256: str = pystr(_v_str["sha256"](ptr))
        self.size: int = int(_v_i64["size"](ptr))  # -1 when unknown
        status = _v_int["status"](ptr)
        self.status = VersionStatus(status) if status in VersionStatus._value2member_map_ else status
        validation = _v_int["validation"](ptr)
        self.validation = (Validation(validation) if validation in Validation._value2member_map_
                           else validation)
        self.creator: str = pystr(_v_str["creator"](ptr))
        self.description: str = pystr(_v_str["description"](ptr))
        self.created_ms: int = int(_v_i64["created_ms"](ptr))

    def __del__(self) -> None:
        if getattr(self, "_ptr", None):
            try:
                self.close()
            except Exception:
                pass

    def __repr__(self) -> str:
        return "<mlops.ModelVersion %s/%d %s>" % (self.name, self.version, self.source)


class Watcher(Handle):
    """A thread polling a reference (``mlops_model_watch``); :meth:`close` stops it."""

    _close_fn = _unwatch

    def __init__(self, ptr: Any, store: Store, cb: Any) -> None:
        super().__init__(ptr, parent=store)
        self._cb = cb  # the C callback must outlive the watcher thread


def _version(fn: Callable[..., Any], *args: Any) -> ModelVersion:
    ptr = version_p()
    fn(ctypes.byref(ptr), *args)
    return ModelVersion(ptr)


class Registry:
    """The model registry of a store::

        reg = mlops.Registry(store)
        reg.create_model("fraud")
        v = reg.create_version("fraud", "models/fraud.onnx", run_id=run.id)
        reg.set_alias("fraud", "production", v)
        mv = reg.resolve("fraud@production")     # -> ModelVersion

    It holds the store; every call goes to libmlops (no state of its own). Changes are
    recorded in the audit trail with the store's actor and :meth:`set_reason`.
    """

    def __init__(self, store: Store) -> None:
        if not isinstance(store, Store):
            raise TypeError("mlops.Registry needs an mlops.Store, not %s" % type(store).__name__)
        self.store = store

    def _s(self) -> Any:
        return self.store._handle()

    @staticmethod
    def set_reason(reason: Optional[str]) -> None:
        """The reason recorded with the next registry change made by this thread (None clears)."""
        _reason(cstr_opt(reason, "reason"))

    # ---- models ----
    def create_model(self, name: str, description: Optional[str] = None) -> None:
        """Creates a model (AlreadyExists when the name is taken)."""
        _model_create(self._s(), cstr(name, "name"), cstr_opt(description, "description"))

    def get_model(self, name: str) -> Model:
        """A model's attributes (NotFound if none)."""
        m = model_p()
        _model_get(ctypes.byref(m), self._s(), cstr(name, "name"))
        try:
            return Model(pystr(_model_name(m)), pystr(_model_description(m)), int(_model_created_ms(m)),
                         int(_model_last_version(m)))
        finally:
            _model_free(m)

    def list_models(self, prefix: Optional[str] = None) -> List[str]:
        """The names of the models starting with prefix (None: all), sorted."""
        names = ctypes.POINTER(_s)()
        n = ctypes.c_size_t()
        _model_list(ctypes.byref(names), ctypes.byref(n), self._s(), cstr_opt(prefix, "prefix"))
        try:
            return [pystr(names[i]) for i in range(n.value)]
        finally:
            _free(names)

    def rename_model(self, name: str, new_name: str) -> None:
        """Renames a model (its versions, aliases and tags follow; AlreadyExists if new_name is taken)."""
        _model_rename(self._s(), cstr(name, "name"), cstr(new_name, "new_name"))

    def set_model_description(self, name: str, description: Optional[str]) -> None:
        """Sets (None: clears) a model's description."""
        _model_set_description(self._s(), cstr(name, "name"), cstr_opt(description, "description"))

    def delete_model(self, name: str) -> None:
        """Deletes a model with its versions, aliases, tags and cards (the audit trail stays)."""
        _model_delete(self._s(), cstr(name, "name"))

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        """Sets a tag of a model (the last write wins)."""
        _model_tag_set(self._s(), cstr(name, "name"), cstr(key, "key"), cstr(value, "value"))

    def delete_model_tag(self, name: str, key: str) -> None:
        """Removes a tag of a model (NotFound if it is not set)."""
        _model_tag_delete(self._s(), cstr(name, "name"), cstr(key, "key"))

    def get_model_tag(self, name: str, key: str) -> str:
        """The value of a tag of a model (NotFound if it is not set)."""
        out = ctypes.c_void_p()
        _model_tag_get(ctypes.byref(out), self._s(), cstr(name, "name"), cstr(key, "key"))
        return take_string(out.value)

    # ---- versions ----
    def create_version(self, name: str, source: StrPath, run_id: Optional[str] = None) -> int:
        """Registers the next version of model name from source and returns its number."""
        out = _i64()
        _version_create(ctypes.byref(out), self._s(), cstr(name, "name"), cstr(source, "source"),
                        cstr_opt(run_id, "run_id"))
        return int(out.value)

    def get_version(self, name: str, version: int = 0) -> ModelVersion:
        """One version (0: the latest READY one)."""
        return _version(_version_get, self._s(), cstr(name, "name"), version)

    def set_version_status(self, name: str, version: int, status: int) -> None:
        """Sets a version's status (a :class:`VersionStatus`)."""
        _version_set_status(self._s(), cstr(name, "name"), version, int(status))

    def set_version_description(self, name: str, version: int, description: Optional[str]) -> None:
        """Sets (None: clears) a version's description."""
        _version_set_description(self._s(), cstr(name, "name"), version, cstr_opt(description, "description"))

    def set_validation(self, name: str, version: int, validation: int) -> None:
        """Sets the validation status; APPROVED by the version's creator is PermissionDenied."""
        _version_set_validation(self._s(), cstr(name, "name"), version, int(validation))

    def delete_version(self, name: str, version: int) -> None:
        """Deletes a version (its number is never reused)."""
        _version_delete(self._s(), cstr(name, "name"), version)

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Sets a tag of a version (the last write wins)."""
        _version_tag_set(self._s(), cstr(name, "name"), version, cstr(key, "key"), cstr(value, "value"))

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        """Removes a tag of a version (NotFound if it is not set)."""
        _version_tag_delete(self._s(), cstr(name, "name"), version, cstr(key, "key"))

    def get_version_tag(self, name: str, version: int, key: str) -> str:
        """The value of a tag of a version (NotFound if it is not set)."""
        out = ctypes.c_void_p()
        _version_tag_get(ctypes.byref(out), self._s(), cstr(name, "name"), version, cstr(key, "key"))
        return take_string(out.value)

    def verify(self, name: str, version: int) -> None:
        """Re-hashes a local source: Corrupt when it changed since registration."""
        _verify(self._s(), cstr(name, "name"), version)

    # ---- aliases ----
    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Points alias at version (PermissionDenied: protected alias, version not APPROVED)."""
        _alias_set(self._s(), cstr(name, "name"), cstr(alias, "alias"), version)

    def delete_alias(self, name: str, alias: str) -> None:
        """Removes an alias (NotFound if it is not set; PermissionDenied if protected)."""
        _alias_delete(self._s(), cstr(name, "name"), cstr(alias, "alias"))

    def get_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at (NotFound if it is not set)."""
        return _version(_alias_get, self._s(), cstr(name, "name"), cstr(alias, "alias"))

    def rollback_alias(self, name: str, alias: str) -> None:
        """Moves alias back to the version before its last move (InvalidState: none)."""
        _alias_rollback(self._s(), cstr(name, "name"), cstr(alias, "alias"))

    def protect_alias(self, name: str, alias: str, protect: bool = True) -> None:
        """Protects an alias (moving it then needs an APPROVED version), or lifts the protection."""
        _alias_protect(self._s(), cstr(name, "name"), cstr(alias, "alias"), 1 if protect else 0)

    # ---- resolution ----
    def resolve(self, ref: str) -> ModelVersion:
        """Resolves "name@alias", "name/7" or "name" (latest READY) to a version."""
        return _version(_resolve, self._s(), cstr(ref, "ref"))

    def set_cache_staleness(self, max_staleness_us: int) -> None:
        """Lets resolves trust the cache for up to max_staleness_us (0: check every time)."""
        _cache_staleness(self._s(), max_staleness_us)

    def changed(self, ref: str, held: Optional[ModelVersion]) -> bool:
        """Whether ref now resolves to another version than held (None: whether it resolves)."""
        out = _c_int()
        _changed(ctypes.byref(out), self._s(), cstr(ref, "ref"), None if held is None else held._handle())
        return bool(out.value)

    def watch(self, ref: str, callback: Callable[[str, Optional["VersionInfo"]], None],
              interval_ms: int = 0) -> Watcher:
        """Calls callback(ref, version or None) from a library thread when what ref resolves to
        changes; polls every interval_ms (0: 100). Stop it with close() (or ``with``).

        The version passed is a :class:`VersionInfo` (attributes only: the library's snapshot
        lives during the call only). An exception in the callback is printed, not raised.
        """
        def trampoline(cref: bytes, v: Any, _payload: Any) -> None:
            try:
                callback(pystr(cref), _info(v) if v else None)
            except BaseException:
                traceback.print_exc(file=sys.stderr)

        cb = WATCH_CB(trampoline)
        ptr = watcher_p()
        _watch(ctypes.byref(ptr), self._s(), cstr(ref, "ref"), interval_ms, cb, None)
        return Watcher(ptr, self.store, cb)

    # ---- cards ----
    def set_card(self, name: str, version: int, *, intended_use: Optional[str] = None,
                 training_data: Optional[str] = None, fairness: Optional[str] = None,
                 owner: Optional[str] = None, risk_tier: int = Risk.UNSET) -> None:
        """Sets the structured card fields given (None / UNSET: left as they are)."""
        card = ModelCard(MODEL_CARD_VERSION, cstr_opt(intended_use, "intended_use"),
                         cstr_opt(training_data, "training_data"), cstr_opt(fairness, "fairness"),
                         cstr_opt(owner, "owner"), int(risk_tier))
        _card_set(self._s(), cstr(name, "name"), version, ctypes.byref(card))

    def set_card_metric(self, name: str, version: int, metric: str, value: float) -> None:
        """Records an evaluation metric in a version's model card."""
        _card_set_metric(self._s(), cstr(name, "name"), version, cstr(metric, "metric"), value)

    def set_card_field(self, name: str, version: int, key: str, value: Optional[str]) -> None:
        """Sets (None: removes) a free-form field of a version's model card."""
        _card_set_field(self._s(), cstr(name, "name"), version, cstr(key, "key"), cstr_opt(value, "value"))

    def card(self, name: str, version: int) -> Dict[str, Any]:
        """The model card, parsed from the library's JSON."""
        out = ctypes.c_void_p()
        _card_json(ctypes.byref(out), self._s(), cstr(name, "name"), version)
        card: Dict[str, Any] = json.loads(take_string(out.value))
        return card

    # ---- audit ----
    def audit(self, name: Optional[str] = None) -> List[AuditEntry]:
        """The audit entries of model name (None: every model), oldest first."""
        entries = ctypes.POINTER(_AuditEntryC)()
        n = ctypes.c_size_t()
        _audit(ctypes.byref(entries), ctypes.byref(n), self._s(), cstr_opt(name, "name"))
        try:
            return [AuditEntry(e.id, e.timestamp_ms, pystr(e.actor), pystr(e.model), pystr(e.action),
                               pystr(e.target), pystr(e.from_), pystr(e.to), pystr(e.reason))
                    for e in (entries[i] for i in range(n.value))]
        finally:
            _free(entries)


class VersionInfo(NamedTuple):
    """The attributes of a model version, as passed to a watch callback."""
    name: str
    version: int
    source: str
    run_id: str
    sha256: str
    size: int
    status: int
    validation: int
    creator: str
    description: str
    created_ms: int


def _info(v: Any) -> VersionInfo:
    return VersionInfo(pystr(_v_str["name"](v)), int(_v_i64["number"](v)), pystr(_v_str["source"](v)),
                       pystr(_v_str["run_id"](v)), pystr(_v_str["sha256"](v)), int(_v_i64["size"](v)),
                       int(_v_int["status"](v)), int(_v_int["validation"](v)), pystr(_v_str["creator"](v)),
                       pystr(_v_str["description"](v)), int(_v_i64["created_ms"](v)))
