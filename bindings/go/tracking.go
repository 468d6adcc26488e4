package mlops

/*
#include <stdlib.h>
#include <mlops/tracking.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// RunStatus is a run's status (MLflow's RunStatus numbers).
type RunStatus int

const (
	RunRunning   RunStatus = C.MLOPS_RUN_RUNNING
	RunScheduled RunStatus = C.MLOPS_RUN_SCHEDULED
	RunFinished  RunStatus = C.MLOPS_RUN_FINISHED
	RunFailed    RunStatus = C.MLOPS_RUN_FAILED
	RunKilled    RunStatus = C.MLOPS_RUN_KILLED
)

// MetricPoint is one point of a metric; the layout of mlops_metric_point.
type MetricPoint struct {
	Value       float64
	Step        int64
	TimestampMs int64
}

// Run is a run being logged to, from StartRun (or ResumeRun) to End. Its methods may be
// called from several goroutines at once.
type Run struct {
	mu    sync.RWMutex // read-held during each call, write-held by End
	ptr   *C.mlops_run
	store *Store
	id    string
}

// MetricKey is a metric of one run resolved once, for hot loops; it dies with its run.
type MetricKey struct {
	run *Run
	ptr *C.mlops_metric_key
	Key string
}

// RunOptions are the fields of mlops_run_options.
type RunOptions struct {
	ParentRunID string    // nested run: the parent's id ("": top level)
	StartTime   time.Time // zero: now
}

func cstr(s string) *C.char { return C.CString(s) }

func free(p *C.char) { C.free(unsafe.Pointer(p)) }

// StartRun starts a run in experiment (created if missing; "" = "Default"); name "" gives a
// random readable name. End it with End or Close.
func (s *Store) StartRun(experiment, name string) (*Run, error) {
	return s.StartRunWithOptions(experiment, name, nil)
}

// StartRunWithOptions is StartRun with options (nil: defaults).
func (s *Store) StartRunWithOptions(experiment, name string, opts *RunOptions) (*Run, error) {
	copts := C.mlops_run_options{version: C.MLOPS_RUN_OPTIONS_VERSION}
	if opts != nil {
		copts.parent_run_id = cstringOpt(opts.ParentRunID)
		defer free(copts.parent_run_id)
		if !opts.StartTime.IsZero() {
			copts.start_time_ms = C.int64_t(opts.StartTime.UnixMilli())
		}
	}
	cexp, cname := cstringOpt(experiment), cstringOpt(name)
	defer free(cexp)
	defer free(cname)
	var ptr *C.mlops_run
	if _, err := s.use(func(p *C.mlops_store) C.int {
		return C.mlops_run_start_ext(&ptr, p, cexp, cname, &copts)
	}); err != nil {
		return nil, err
	}
	return s.newRun(ptr), nil
}

// ResumeRun reopens run id for logging (status back to RUNNING).
func (s *Store) ResumeRun(id string) (*Run, error) {
	cid := cstr(id)
	defer free(cid)
	var ptr *C.mlops_run
	if _, err := s.use(func(p *C.mlops_store) C.int { return C.mlops_run_resume(&ptr, p, cid) }); err != nil {
		return nil, err
	}
	return s.newRun(ptr), nil
}

func (s *Store) newRun(ptr *C.mlops_run) *Run {
	r := &Run{ptr: ptr, store: s, id: C.GoString(C.mlops_run_id(ptr))}
	s.adopt(r)
	runtime.SetFinalizer(r, (*Run).finalize)
	return r
}

// ID is the run's id: 32 lowercase hex characters (still valid after End).
func (r *Run) ID() string { return r.id }

func (r *Run) use(f func(p *C.mlops_run) C.int) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ptr == nil {
		return errClosed("mlops.Run")
	}
	_, err := call(func() C.int { return f(r.ptr) })
	runtime.KeepAlive(r)
	return err
}

// LogParam logs a param; params are immutable (another value for key is ErrInvalidArgument).
func (r *Run) LogParam(key, value string) error {
	ck, cv := cstr(key), cstr(value)
	defer free(ck)
	defer free(cv)
	return r.use(func(p *C.mlops_run) C.int { return C.mlops_run_log_param(p, ck, cv) })
}

// LogParams logs every key/value of params.
func (r *Run) LogParams(params map[string]string) error {
	for k, v := range params {
		if err := r.LogParam(k, v); err != nil {
			return err
		}
	}
	return nil
}

// SetTag sets a tag (the last write wins).
func (r *Run) SetTag(key, value string) error {
	ck, cv := cstr(key), cstr(value)
	defer free(ck)
	defer free(cv)
	return r.use(func(p *C.mlops_run) C.int { return C.mlops_run_set_tag(p, ck, cv) })
}

// LogMetric appends (value, step, now) to metric key: buffered, no I/O (NaN and ±Inf kept).
func (r *Run) LogMetric(key string, value float64, step int64) error {
	ck := cstr(key)
	defer free(ck)
	return r.use(func(p *C.mlops_run) C.int {
		return C.mlops_run_log_metric(p, ck, C.double(value), C.int64_t(step))
	})
}

// LogMetricAt is LogMetric with an explicit timestamp.
func (r *Run) LogMetricAt(key string, value float64, step int64, at time.Time) error {
	ck := cstr(key)
	defer free(ck)
	return r.use(func(p *C.mlops_run) C.int {
		return C.mlops_run_log_metric_at(p, ck, C.double(value), C.int64_t(step), C.int64_t(at.UnixMilli()))
	})
}

// MetricKey resolves metric key once; (*MetricKey).Log skips the key lookup.
func (r *Run) MetricKey(key string) (*MetricKey, error) {
	ck := cstr(key)
	defer free(ck)
	var k *C.mlops_metric_key
	if err := r.use(func(p *C.mlops_run) C.int { return C.mlops_run_metric_key(&k, p, ck) }); err != nil {
		return nil, err
	}
	return &MetricKey{run: r, ptr: k, Key: key}, nil
}

// Log appends (value, step, now) to the key's metric; ErrInvalidState once the run ended.
func (k *MetricKey) Log(value float64, step int64) error {
	return k.run.use(func(*C.mlops_run) C.int { return C.mlops_run_log(k.ptr, C.double(value), C.int64_t(step)) })
}

// LogArtifact copies a file into the run's artifacts (dir "": the root), recording its size
// and SHA-256; compress stores it gzip-compressed (read back transparently).
func (r *Run) LogArtifact(localPath, dir string, compress bool) error {
	cp, cd := cstr(localPath), cstringOpt(dir)
	defer free(cp)
	defer free(cd)
	opts := C.mlops_artifact_options{version: C.MLOPS_ARTIFACT_OPTIONS_VERSION}
	if compress {
		opts.compress = 1
	}
	return r.use(func(p *C.mlops_run) C.int { return C.mlops_run_log_artifact_ext(p, cp, cd, &opts) })
}

// End flushes the run's metrics, sets its status and end time and frees it; ending again
// does nothing. Its metric keys become invalid.
func (r *Run) End(status RunStatus) error {
	r.mu.Lock()
	ptr := r.ptr
	r.ptr = nil
	r.mu.Unlock()
	if ptr == nil {
		return nil
	}
	runtime.SetFinalizer(r, nil)
	r.store.disown(r)
	_, err := call(func() C.int { return C.mlops_run_end(ptr, C.int(status)) })
	return err
}

// RemoteID is where run runID (either id) is on an MLflow server: MLflow's own run id, and the
// run's page in MLflow's UI. ErrBusy while its creation still waits in the spool (Sync
// delivers it), ErrUnsupported for other stores.
func (s *Store) RemoteID(runID string) (id, url string, err error) {
	cid := cstr(runID)
	defer free(cid)
	var cidOut, curl *C.char
	if _, err = s.use(func(p *C.mlops_store) C.int { return C.mlops_run_remote_id(&cidOut, &curl, p, cid) }); err != nil {
		return "", "", err
	}
	defer C.mlops_free(unsafe.Pointer(cidOut))
	defer C.mlops_free(unsafe.Pointer(curl))
	return C.GoString(cidOut), C.GoString(curl), nil
}

// RemoteID is the run's MLflow id and UI page (Store.RemoteID); valid after End too.
func (r *Run) RemoteID() (id, url string, err error) { return r.store.RemoteID(r.id) }

// Close ends the run FINISHED (io.Closer).
func (r *Run) Close() error { return r.End(RunFinished) }

func (r *Run) finalize() { r.End(RunFinished) }

// ---- reading ----

// Experiment is an experiment's id and name.
type Experiment struct{ ID, Name string }

func (s *Store) takeString(f func(p *C.mlops_store, out **C.char) C.int) (string, error) {
	var out *C.char
	if _, err := s.use(func(p *C.mlops_store) C.int { return f(p, &out) }); err != nil {
		return "", err
	}
	defer C.mlops_free(unsafe.Pointer(out))
	return C.GoString(out), nil
}

// CreateExperiment creates an experiment and returns its id (ErrAlreadyExists if taken).
func (s *Store) CreateExperiment(name string) (string, error) {
	cn := cstr(name)
	defer free(cn)
	return s.takeString(func(p *C.mlops_store, out **C.char) C.int { return C.mlops_experiment_create(out, p, cn) })
}

// ExperimentID is the id of experiment name (ErrNotFound if none).
func (s *Store) ExperimentID(name string) (string, error) {
	cn := cstr(name)
	defer free(cn)
	return s.takeString(func(p *C.mlops_store, out **C.char) C.int {
		return C.mlops_experiment_get_by_name(out, p, cn)
	})
}

// Experiments lists every experiment, by id.
func (s *Store) Experiments() ([]Experiment, error) {
	var l *C.mlops_experiment_list
	if _, err := s.use(func(p *C.mlops_store) C.int { return C.mlops_experiment_list_get(&l, p) }); err != nil {
		return nil, err
	}
	defer C.mlops_experiment_list_free(l)
	n := int(C.mlops_experiment_list_count(l))
	out := make([]Experiment, n)
	for i := range out {
		out[i] = Experiment{C.GoString(C.mlops_experiment_list_id(l, C.size_t(i))),
			C.GoString(C.mlops_experiment_list_name(l, C.size_t(i)))}
	}
	return out, nil
}

// Param is the value of param key of run runID (ErrNotFound if not logged).
func (s *Store) Param(runID, key string) (string, error) {
	cr, ck := cstr(runID), cstr(key)
	defer free(cr)
	defer free(ck)
	return s.takeString(func(p *C.mlops_store, out **C.char) C.int { return C.mlops_run_get_param(out, p, cr, ck) })
}

// MetricHistory is every point of metric key of run runID, by step then timestamp.
func (s *Store) MetricHistory(runID, key string) ([]MetricPoint, error) {
	return s.history(runID, key, 0)
}

// MetricHistorySampled is at most maxPoints (>= 2) points of the series for plotting; the
// lowest and highest of each slice survive.
func (s *Store) MetricHistorySampled(runID, key string, maxPoints int) ([]MetricPoint, error) {
	if maxPoints <= 0 {
		return nil, &Error{Code: CodeInvalidArgument, Message: "maxPoints must be positive"}
	}
	return s.history(runID, key, maxPoints)
}

func (s *Store) history(runID, key string, maxPoints int) ([]MetricPoint, error) {
	cr, ck := cstr(runID), cstr(key)
	defer free(cr)
	defer free(ck)
	var pts *C.mlops_metric_point
	var n C.size_t
	if _, err := s.use(func(p *C.mlops_store) C.int {
		if maxPoints == 0 {
			return C.mlops_metric_history(&pts, &n, p, cr, ck)
		}
		return C.mlops_metric_history_sampled(&pts, &n, p, cr, ck, C.size_t(maxPoints))
	}); err != nil {
		return nil, err
	}
	defer C.mlops_free(unsafe.Pointer(pts))
	out := make([]MetricPoint, int(n))
	if n > 0 {
		// mlops_metric_point is frozen: {double, int64_t, int64_t}, the layout of MetricPoint.
		copy(out, unsafe.Slice((*MetricPoint)(unsafe.Pointer(pts)), int(n)))
	}
	return out, nil
}

// RunInfo is a snapshot of a run, copied out of C.
type RunInfo struct {
	ID, Name, ExperimentID string
	ParentID               string // "": top-level run
	ArtifactURI            string
	Status                 RunStatus
	Deleted                bool
	StartTime, EndTime     time.Time // EndTime zero while running
	Params, Tags           map[string]string
	Metrics                map[string]MetricPoint // the latest point of each metric
}

func ms(v C.int64_t) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(v))
}

func runInfo(ri *C.mlops_run_info) *RunInfo {
	info := &RunInfo{
		ID: C.GoString(C.mlops_run_info_id(ri)), Name: C.GoString(C.mlops_run_info_name(ri)),
		ExperimentID: C.GoString(C.mlops_run_info_experiment_id(ri)),
		ParentID:     C.GoString(C.mlops_run_info_parent_id(ri)),
		ArtifactURI:  C.GoString(C.mlops_run_info_artifact_uri(ri)),
		Status:       RunStatus(C.mlops_run_info_status(ri)), Deleted: C.mlops_run_info_deleted(ri) != 0,
		StartTime: ms(C.mlops_run_info_start_time(ri)), EndTime: ms(C.mlops_run_info_end_time(ri)),
		Params: map[string]string{}, Tags: map[string]string{}, Metrics: map[string]MetricPoint{},
	}
	for i := C.size_t(0); i < C.mlops_run_info_param_count(ri); i++ {
		info.Params[C.GoString(C.mlops_run_info_param_key(ri, i))] = C.GoString(C.mlops_run_info_param_value(ri, i))
	}
	for i := C.size_t(0); i < C.mlops_run_info_tag_count(ri); i++ {
		info.Tags[C.GoString(C.mlops_run_info_tag_key(ri, i))] = C.GoString(C.mlops_run_info_tag_value(ri, i))
	}
	for i := C.size_t(0); i < C.mlops_run_info_metric_count(ri); i++ {
		var p C.mlops_metric_point
		if C.mlops_run_info_metric(&p, ri, i) == 0 {
			info.Metrics[C.GoString(C.mlops_run_info_metric_key(ri, i))] = MetricPoint{
				float64(p.value), int64(p.step), int64(p.timestamp_ms)}
		}
	}
	return info
}

// Run is a snapshot of run id (deleted runs too).
func (s *Store) Run(id string) (*RunInfo, error) {
	cid := cstr(id)
	defer free(cid)
	var ri *C.mlops_run_info
	if _, err := s.use(func(p *C.mlops_store) C.int { return C.mlops_run_get(&ri, p, cid) }); err != nil {
		return nil, err
	}
	defer C.mlops_run_info_free(ri)
	return runInfo(ri), nil
}

// SearchOptions select runs (MLflow's filter and order_by grammars; see tracking.h).
type SearchOptions struct {
	Experiment string // "": every experiment
	Filter     string // e.g. "metrics.acc > 0.9 and params.lr = '0.01'"
	OrderBy    string // "": attributes.start_time DESC
	MaxResults int    // 0: 1000
}

// SearchRuns lists the runs (not deleted) that match.
func (s *Store) SearchRuns(o SearchOptions) ([]*RunInfo, error) {
	if o.MaxResults < 0 {
		return nil, &Error{Code: CodeInvalidArgument, Message: "SearchOptions.MaxResults is negative"}
	}
	ce, cf, co := cstringOpt(o.Experiment), cstringOpt(o.Filter), cstringOpt(o.OrderBy)
	defer free(ce)
	defer free(cf)
	defer free(co)
	var l *C.mlops_run_list
	if _, err := s.use(func(p *C.mlops_store) C.int {
		return C.mlops_runs_search(&l, p, ce, cf, co, C.size_t(o.MaxResults))
	}); err != nil {
		return nil, err
	}
	defer C.mlops_run_list_free(l)
	out := make([]*RunInfo, int(C.mlops_run_list_count(l)))
	for i := range out {
		out[i] = runInfo(C.mlops_run_list_get(l, C.size_t(i)))
	}
	return out, nil
}

// DeleteRun marks a run deleted; RestoreRun undoes it.
func (s *Store) DeleteRun(id string) error { return s.runOp(id, true) }

// RestoreRun restores a deleted run.
func (s *Store) RestoreRun(id string) error { return s.runOp(id, false) }

func (s *Store) runOp(id string, del bool) error {
	cid := cstr(id)
	defer free(cid)
	_, err := s.use(func(p *C.mlops_store) C.int {
		if del {
			return C.mlops_run_delete(p, cid)
		}
		return C.mlops_run_restore(p, cid)
	})
	return err
}

// Artifact is one artifact of a run.
type Artifact struct {
	Path   string
	Size   uint64
	SHA256 string
}

// Artifacts lists the artifacts of a run, sorted by path.
func (s *Store) Artifacts(runID string) ([]Artifact, error) {
	cr := cstr(runID)
	defer free(cr)
	var l *C.mlops_artifact_list
	if _, err := s.use(func(p *C.mlops_store) C.int { return C.mlops_artifact_list_get(&l, p, cr) }); err != nil {
		return nil, err
	}
	defer C.mlops_artifact_list_free(l)
	out := make([]Artifact, int(C.mlops_artifact_list_count(l)))
	for i := range out {
		j := C.size_t(i)
		out[i] = Artifact{C.GoString(C.mlops_artifact_list_path(l, j)), uint64(C.mlops_artifact_list_size(l, j)),
			C.GoString(C.mlops_artifact_list_sha256(l, j))}
	}
	return out, nil
}

// DownloadArtifact copies artifact path of run runID to localPath, verifying size and
// SHA-256 (ErrCorrupt on a mismatch).
func (s *Store) DownloadArtifact(runID, path, localPath string) error {
	cr, cp, cl := cstr(runID), cstr(path), cstr(localPath)
	defer free(cr)
	defer free(cp)
	defer free(cl)
	_, err := s.use(func(p *C.mlops_store) C.int { return C.mlops_artifact_download(p, cr, cp, cl) })
	return err
}
