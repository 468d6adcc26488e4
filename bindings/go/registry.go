package mlops

/*
#include <stdlib.h>
#include <mlops/registry.h>
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// VersionStatus is a model version's status.
type VersionStatus int

const (
	VersionPendingRegistration VersionStatus = C.MLOPS_MODEL_VERSION_PENDING_REGISTRATION
	VersionReady               VersionStatus = C.MLOPS_MODEL_VERSION_READY
	VersionFailedRegistration  VersionStatus = C.MLOPS_MODEL_VERSION_FAILED_REGISTRATION
)

// Validation is a model version's validation status (the approval gate).
type Validation int

const (
	ValidationNone     Validation = C.MLOPS_VALIDATION_NONE
	ValidationPending  Validation = C.MLOPS_VALIDATION_PENDING
	ValidationApproved Validation = C.MLOPS_VALIDATION_APPROVED
	ValidationRejected Validation = C.MLOPS_VALIDATION_REJECTED
)

// Risk is the risk tier of a model card.
type Risk int

const (
	RiskUnset  Risk = C.MLOPS_RISK_UNSET
	RiskLow    Risk = C.MLOPS_RISK_LOW
	RiskMedium Risk = C.MLOPS_RISK_MEDIUM
	RiskHigh   Risk = C.MLOPS_RISK_HIGH
)

// Registry is the model registry of a store: every call goes to libmlops.
type Registry struct{ s *Store }

// Registry returns the store's model registry.
func (s *Store) Registry() *Registry { return &Registry{s: s} }

// SetRegistryReason sets the reason recorded with the next registry change made on the
// calling OS thread ("" clears it). Call it from a goroutine locked to its thread
// (runtime.LockOSThread) together with the change it explains.
func SetRegistryReason(reason string) error {
	cr := cstringOpt(reason)
	defer free(cr)
	_, err := call(func() C.int { return C.mlops_registry_reason(cr) })
	return err
}

// ModelVersion is a model version: attributes copied at creation, plus the library's shared
// immutable snapshot, used by Changed. Close frees the snapshot (a finalizer does otherwise).
type ModelVersion struct {
	Name        string
	Version     int64
	Source      string
	RunID       string
	SHA256      string
	Size        int64 // -1 when unknown
	Status      VersionStatus
	Validation  Validation
	Creator     string
	Description string
	Created     time.Time

	mu  sync.Mutex
	ptr *C.mlops_model_version
}

func newVersion(p *C.mlops_model_version) *ModelVersion {
	v := versionAttrs(p)
	v.ptr = p
	runtime.SetFinalizer(v, (*ModelVersion).Close)
	return v
}

// versionAttrs copies the attributes of p, without keeping p.
func versionAttrs(p *C.mlops_model_version) *ModelVersion {
	return &ModelVersion{
		Name: C.GoString(C.mlops_model_version_name(p)), Version: int64(C.mlops_model_version_number(p)),
		Source: C.GoString(C.mlops_model_version_source(p)), RunID: C.GoString(C.mlops_model_version_run_id(p)),
		SHA256: C.GoString(C.mlops_model_version_sha256(p)), Size: int64(C.mlops_model_version_size(p)),
		Status:      VersionStatus(C.mlops_model_version_status(p)),
		Validation:  Validation(C.mlops_model_version_validation(p)),
		Creator:     C.GoString(C.mlops_model_version_creator(p)),
		Description: C.GoString(C.mlops_model_version_description(p)),
		Created:     time.UnixMilli(int64(C.mlops_model_version_created_ms(p))),
	}
}

// Close frees the library's snapshot; the fields stay readable. Calling it again does nothing.
func (v *ModelVersion) Close() error {
	v.mu.Lock()
	p := v.ptr
	v.ptr = nil
	v.mu.Unlock()
	if p != nil {
		runtime.SetFinalizer(v, nil)
		C.mlops_model_version_free(p)
	}
	return nil
}

func (g *Registry) version(f func(p *C.mlops_store, out **C.mlops_model_version) C.int) (*ModelVersion, error) {
	var out *C.mlops_model_version
	if _, err := g.s.use(func(p *C.mlops_store) C.int { return f(p, &out) }); err != nil {
		return nil, err
	}
	return newVersion(out), nil
}

func (g *Registry) do(f func(p *C.mlops_store) C.int) error {
	_, err := g.s.use(f)
	return err
}

// CreateModel creates a model (ErrAlreadyExists when the name is taken).
func (g *Registry) CreateModel(name, description string) error {
	cn, cd := cstr(name), cstringOpt(description)
	defer free(cn)
	defer free(cd)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_create(p, cn, cd) })
}

// Model is a registered model.
type Model struct {
	Name, Description string
	Created           time.Time
	LastVersion       int64
}

// Model reads a model.
func (g *Registry) Model(name string) (*Model, error) {
	cn := cstr(name)
	defer free(cn)
	var m *C.mlops_model
	if err := g.do(func(p *C.mlops_store) C.int { return C.mlops_model_get(&m, p, cn) }); err != nil {
		return nil, err
	}
	defer C.mlops_model_free(m)
	return &Model{C.GoString(C.mlops_model_name(m)), C.GoString(C.mlops_model_description(m)),
		time.UnixMilli(int64(C.mlops_model_created_ms(m))), int64(C.mlops_model_last_version(m))}, nil
}

// Models lists the names of the models starting with prefix ("": all), sorted.
func (g *Registry) Models(prefix string) ([]string, error) {
	cp := cstringOpt(prefix)
	defer free(cp)
	var names **C.char
	var n C.size_t
	if err := g.do(func(p *C.mlops_store) C.int { return C.mlops_model_list(&names, &n, p, cp) }); err != nil {
		return nil, err
	}
	defer C.mlops_free(unsafe.Pointer(names))
	out := make([]string, int(n))
	for i, s := range unsafe.Slice(names, int(n)) {
		out[i] = C.GoString(s)
	}
	return out, nil
}

// DeleteModel deletes a model with its versions, aliases, tags and cards.
func (g *Registry) DeleteModel(name string) error {
	cn := cstr(name)
	defer free(cn)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_delete(p, cn) })
}

// RenameModel renames a model.
func (g *Registry) RenameModel(name, newName string) error {
	cn, cm := cstr(name), cstr(newName)
	defer free(cn)
	defer free(cm)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_rename(p, cn, cm) })
}

// SetModelTag sets a tag of a model.
func (g *Registry) SetModelTag(name, key, value string) error {
	cn, ck, cv := cstr(name), cstr(key), cstr(value)
	defer free(cn)
	defer free(ck)
	defer free(cv)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_tag_set(p, cn, ck, cv) })
}

// ModelTag reads a tag of a model (ErrNotFound when unset).
func (g *Registry) ModelTag(name, key string) (string, error) {
	cn, ck := cstr(name), cstr(key)
	defer free(cn)
	defer free(ck)
	return g.s.takeString(func(p *C.mlops_store, out **C.char) C.int { return C.mlops_model_tag_get(out, p, cn, ck) })
}

// CreateVersion registers the next version of model name from source and returns its number.
func (g *Registry) CreateVersion(name, source, runID string) (int64, error) {
	cn, cs, cr := cstr(name), cstr(source), cstringOpt(runID)
	defer free(cn)
	defer free(cs)
	defer free(cr)
	var v C.int64_t
	err := g.do(func(p *C.mlops_store) C.int { return C.mlops_model_version_create(&v, p, cn, cs, cr) })
	return int64(v), err
}

// Version reads one version (0: the latest READY one).
func (g *Registry) Version(name string, version int64) (*ModelVersion, error) {
	cn := cstr(name)
	defer free(cn)
	return g.version(func(p *C.mlops_store, out **C.mlops_model_version) C.int {
		return C.mlops_model_version_get(out, p, cn, C.int64_t(version))
	})
}

// SetValidation sets a version's validation status; ValidationApproved by the version's
// creator is ErrPermissionDenied (four eyes).
func (g *Registry) SetValidation(name string, version int64, v Validation) error {
	cn := cstr(name)
	defer free(cn)
	return g.do(func(p *C.mlops_store) C.int {
		return C.mlops_model_version_set_validation(p, cn, C.int64_t(version), C.int(v))
	})
}

// SetVersionStatus sets a version's status.
func (g *Registry) SetVersionStatus(name string, version int64, s VersionStatus) error {
	cn := cstr(name)
	defer free(cn)
	return g.do(func(p *C.mlops_store) C.int {
		return C.mlops_model_version_set_status(p, cn, C.int64_t(version), C.int(s))
	})
}

// DeleteVersion deletes a version (its number is never reused).
func (g *Registry) DeleteVersion(name string, version int64) error {
	cn := cstr(name)
	defer free(cn)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_version_delete(p, cn, C.int64_t(version)) })
}

// Verify re-hashes a version's local source: ErrCorrupt when it changed since registration.
func (g *Registry) Verify(name string, version int64) error {
	cn := cstr(name)
	defer free(cn)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_verify(p, cn, C.int64_t(version)) })
}

// SetAlias points alias at version (ErrPermissionDenied: protected alias, version not approved).
func (g *Registry) SetAlias(name, alias string, version int64) error {
	cn, ca := cstr(name), cstr(alias)
	defer free(cn)
	defer free(ca)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_alias_set(p, cn, ca, C.int64_t(version)) })
}

// DeleteAlias removes an alias (ErrPermissionDenied when protected).
func (g *Registry) DeleteAlias(name, alias string) error {
	cn, ca := cstr(name), cstr(alias)
	defer free(cn)
	defer free(ca)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_alias_delete(p, cn, ca) })
}

// RollbackAlias moves alias back to where it pointed before its last move (ErrInvalidState: nowhere).
func (g *Registry) RollbackAlias(name, alias string) error {
	cn, ca := cstr(name), cstr(alias)
	defer free(cn)
	defer free(ca)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_alias_rollback(p, cn, ca) })
}

// ProtectAlias marks an alias protected or not.
func (g *Registry) ProtectAlias(name, alias string, protect bool) error {
	cn, ca := cstr(name), cstr(alias)
	defer free(cn)
	defer free(ca)
	flag := C.int(0)
	if protect {
		flag = 1
	}
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_alias_protect(p, cn, ca, flag) })
}

// Resolve resolves "name@alias", "name/7" or "name" (the latest READY version).
func (g *Registry) Resolve(ref string) (*ModelVersion, error) {
	cr := cstr(ref)
	defer free(cr)
	return g.version(func(p *C.mlops_store, out **C.mlops_model_version) C.int {
		return C.mlops_model_resolve(out, p, cr)
	})
}

// SetCacheStaleness lets resolves trust the cache for up to d (0: check every time).
func (g *Registry) SetCacheStaleness(d time.Duration) error {
	us := C.unsigned(d / time.Microsecond)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_registry_cache_staleness(p, us) })
}

// Changed reports whether ref now resolves to another version than held (nil: whether it
// resolves at all); as cheap as a cached resolve.
func (g *Registry) Changed(ref string, held *ModelVersion) (bool, error) {
	cr := cstr(ref)
	defer free(cr)
	var hp *C.mlops_model_version
	if held != nil {
		held.mu.Lock()
		defer held.mu.Unlock()
		if held.ptr == nil {
			return false, errClosed("mlops.ModelVersion")
		}
		hp = held.ptr
	}
	var changed C.int
	err := g.do(func(p *C.mlops_store) C.int { return C.mlops_model_changed(&changed, p, cr, hp) })
	runtime.KeepAlive(held)
	return changed != 0, err
}

// Card holds the structured fields of a model card ("" and RiskUnset: leave the field as it is).
type Card struct {
	IntendedUse, TrainingData, Fairness, Owner string
	RiskTier                                   Risk
}

// SetCard sets the structured fields of a version's model card.
func (g *Registry) SetCard(name string, version int64, c Card) error {
	cn := cstr(name)
	defer free(cn)
	cc := C.mlops_model_card{version: C.MLOPS_MODEL_CARD_VERSION, intended_use: cstringOpt(c.IntendedUse),
		training_data: cstringOpt(c.TrainingData), fairness: cstringOpt(c.Fairness), owner: cstringOpt(c.Owner),
		risk_tier: C.int(c.RiskTier)}
	defer free(cc.intended_use)
	defer free(cc.training_data)
	defer free(cc.fairness)
	defer free(cc.owner)
	return g.do(func(p *C.mlops_store) C.int { return C.mlops_model_card_set(p, cn, C.int64_t(version), &cc) })
}

// SetCardMetric sets an evaluation metric of a card (finite values only).
func (g *Registry) SetCardMetric(name string, version int64, metric string, value float64) error {
	cn, cm := cstr(name), cstr(metric)
	defer free(cn)
	defer free(cm)
	return g.do(func(p *C.mlops_store) C.int {
		return C.mlops_model_card_set_metric(p, cn, C.int64_t(version), cm, C.double(value))
	})
}

// CardJSON is the card as the library's JSON; Card decodes it.
func (g *Registry) CardJSON(name string, version int64) (string, error) {
	cn := cstr(name)
	defer free(cn)
	return g.s.takeString(func(p *C.mlops_store, out **C.char) C.int {
		return C.mlops_model_card_json(out, p, cn, C.int64_t(version))
	})
}

// Card decodes the card JSON into a map.
func (g *Registry) Card(name string, version int64) (map[string]any, error) {
	js, err := g.CardJSON(name, version)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal([]byte(js), &m)
}

// AuditEntry is one entry of the audit trail.
type AuditEntry struct {
	ID                                             int64
	Time                                           time.Time
	Actor, Model, Action, Target, From, To, Reason string
}

// Audit lists the audit entries of model name ("": every model), oldest first.
func (g *Registry) Audit(name string) ([]AuditEntry, error) {
	cn := cstringOpt(name)
	defer free(cn)
	var es *C.mlops_audit_entry
	var n C.size_t
	if err := g.do(func(p *C.mlops_store) C.int { return C.mlops_model_audit(&es, &n, p, cn) }); err != nil {
		return nil, err
	}
	defer C.mlops_free(unsafe.Pointer(es))
	out := make([]AuditEntry, int(n))
	for i, e := range unsafe.Slice(es, int(n)) {
		out[i] = AuditEntry{int64(e.id), time.UnixMilli(int64(e.timestamp_ms)), C.GoString(e.actor),
			C.GoString(e.model), C.GoString(e.action), C.GoString(e.target), C.GoString(e.from),
			C.GoString(e.to), C.GoString(e.reason)}
	}
	return out, nil
}
