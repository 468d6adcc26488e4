package mlops

/*
#include <stdint.h>
#include <stdlib.h>
#include <dlpack/dlpack.h>
#include <mlops/drift.h>

// A DLTensor over rows x cols values, row-major, on the C stack of the call that uses it:
// data is Go memory (float64 or float32, holding no Go pointers) that C reads during the call
// only, so no Go pointer is ever stored in memory that outlives it.
#define MLOPS_GO_TENSOR(t, shape, data, bits, rows, cols) \
	int64_t shape[2] = { (rows), (cols) }; \
	DLTensor t = { (data), { kDLCPU, 0 }, 2, { kDLFloat, (uint8_t)(bits), 1 }, shape, NULL, 0 }

static int mlops_go_profile_build(mlops_drift_profile **out, void *data, int bits, int64_t rows,
	int64_t cols, const char *const *names, size_t n_names, const mlops_drift_profile_options *o)
{
	MLOPS_GO_TENSOR(t, shape, data, bits, rows, cols);
	return mlops_drift_profile_build(out, &t, names, n_names, o);
}

static int mlops_go_compare(mlops_drift_report **out, const mlops_drift_profile *p, void *data,
	int bits, int64_t rows, int64_t cols, const mlops_drift_compare_options *o)
{
	MLOPS_GO_TENSOR(t, shape, data, bits, rows, cols);
	return mlops_drift_compare(out, p, &t, o);
}

static int mlops_go_observe(mlops_drift_monitor *m, void *data, int bits, int64_t rows, int64_t cols)
{
	MLOPS_GO_TENSOR(t, shape, data, bits, rows, cols);
	return mlops_drift_monitor_observe(m, &t);
}

extern void mlopsGoDriftAlert(mlops_drift_report *r, uintptr_t payload);

static void mlops_go_alert(const mlops_drift_report *r, void *payload)
{
	mlopsGoDriftAlert((mlops_drift_report *)r, (uintptr_t)payload);
}

// The payload is a runtime/cgo.Handle: an integer, never a Go pointer.
static void mlops_go_set_alert(mlops_drift_monitor_options *o, uintptr_t handle)
{
	o->on_alert = mlops_go_alert;
	o->payload = (void *)handle;
}
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ProfileOptions are the fields of mlops_drift_profile_options; the zero value means defaults.
type ProfileOptions struct {
	MaxSamples int       // cap on the sorted sample kept per feature (0: every value)
	Bins       uint      // PSI/JS quantile bins (0: 10)
	NaNPolicy  NaNPolicy // NaNDrop (default) or NaNReject for the reference
	Seed       uint64    // of the subsample (0: a fixed default)
	Threads    uint      // 0: the online CPUs
}

// FeatureSummary summarises a feature over all its reference values (Std with ddof 0).
type FeatureSummary struct {
	Count, NaNCount, SampleSize uint64 // SampleSize: values kept in the sorted sample
	Mean, Std, Min, Max         float64
}

// Profile is the reference profile of a set of features (the sorted, possibly subsampled
// sample, the PSI bins and a summary per feature). Immutable: share it between goroutines.
type Profile struct {
	mu  sync.RWMutex // read-held during each call, write-held by Close
	ptr *C.mlops_drift_profile
}

// matrix checks that data holds rows x cols values (row-major) and returns its address.
func matrix[T float32 | float64](data []T, rows, cols int, what string) (unsafe.Pointer, error) {
	if rows < 0 || cols < 0 || (cols > 0 && rows > math.MaxInt/cols) || len(data) != rows*cols {
		return nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(
			"%s: %d values are not %d rows x %d features", what, len(data), rows, cols)}
	}
	if len(data) == 0 {
		return nil, nil
	}
	return unsafe.Pointer(&data[0]), nil
}

// flatten copies rows ([][]float64, one slice per row, all as long) into one row-major slice:
// separate row slices are not one strided tensor.
func flatten(rows [][]float64, what string) ([]float64, int, int, error) {
	if len(rows) == 0 {
		return nil, 0, 0, &Error{Code: CodeInvalidArgument, Message: what + " has no rows"}
	}
	cols := len(rows[0])
	flat := make([]float64, 0, len(rows)*cols)
	for i, r := range rows {
		if len(r) != cols {
			return nil, 0, 0, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(
				"%s: row %d has %d values, row 0 has %d", what, i, len(r), cols)}
		}
		flat = append(flat, r...)
	}
	return flat, len(rows), cols, nil
}

// BuildProfile profiles the columns of rows (one []float64 per row, copied once into a
// matrix). names: one distinct name per feature (nil: "f0", "f1", ...); opts nil: defaults.
func BuildProfile(rows [][]float64, names []string, opts *ProfileOptions) (*Profile, error) {
	flat, r, c, err := flatten(rows, "BuildProfile")
	if err != nil {
		return nil, err
	}
	return buildProfile(flat, 64, r, c, names, opts)
}

// BuildProfileFlat profiles data, rows x cols float64 values in row-major order, read in place.
func BuildProfileFlat(data []float64, rows, cols int, names []string, opts *ProfileOptions) (*Profile, error) {
	return buildProfile(data, 64, rows, cols, names, opts)
}

// BuildProfileFloat32 is BuildProfileFlat for float32 values (read in place, no conversion).
func BuildProfileFloat32(data []float32, rows, cols int, names []string, opts *ProfileOptions) (*Profile, error) {
	return buildProfile(data, 32, rows, cols, names, opts)
}

func buildProfile[T float32 | float64](data []T, bits, rows, cols int, names []string, opts *ProfileOptions) (*Profile, error) {
	if loadErr != nil {
		return nil, loadErr
	}
	ptr, err := matrix(data, rows, cols, "BuildProfile")
	if err != nil {
		return nil, err
	}
	co := C.mlops_drift_profile_options{version: C.MLOPS_DRIFT_PROFILE_OPTIONS_VERSION}
	if opts != nil {
		if opts.MaxSamples < 0 {
			return nil, &Error{Code: CodeInvalidArgument, Message: "ProfileOptions.MaxSamples is negative"}
		}
		co.max_samples, co.n_bins, co.nan_policy = C.size_t(opts.MaxSamples), C.unsigned(opts.Bins), C.int(opts.NaNPolicy)
		co.seed, co.threads = C.uint64_t(opts.Seed), C.unsigned(opts.Threads)
	}
	// The names array is C memory: it holds pointers.
	var cnames **C.char
	if len(names) > 0 {
		cnames = (**C.char)(C.calloc(C.size_t(len(names)), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
		defer C.free(unsafe.Pointer(cnames))
		arr := unsafe.Slice(cnames, len(names))
		for i, n := range names {
			arr[i] = C.CString(n)
			defer free(arr[i])
		}
	}
	var out *C.mlops_drift_profile
	_, err = call(func() C.int {
		return C.mlops_go_profile_build(&out, ptr, C.int(bits), C.int64_t(rows), C.int64_t(cols), cnames,
			C.size_t(len(names)), &co)
	})
	runtime.KeepAlive(data)
	if err != nil {
		return nil, err
	}
	return newProfile(out), nil
}

func newProfile(ptr *C.mlops_drift_profile) *Profile {
	p := &Profile{ptr: ptr}
	runtime.SetFinalizer(p, (*Profile).Close)
	return p
}

// ProfileFromBytes reads a profile serialised by Bytes: ErrCorrupt for a damaged blob,
// ErrVersionMismatch for a newer format.
func ProfileFromBytes(b []byte) (*Profile, error) {
	var out *C.mlops_drift_profile
	var empty byte
	data := unsafe.Pointer(&empty) // an empty blob is a truncated one (ErrCorrupt), not NULL
	if len(b) > 0 {
		data = unsafe.Pointer(&b[0])
	}
	if _, err := call(func() C.int { return C.mlops_drift_profile_deserialize(&out, data, C.size_t(len(b))) }); err != nil {
		return nil, err
	}
	runtime.KeepAlive(b)
	return newProfile(out), nil
}

// LoadProfile reads the profile stored with a model version ("fraud/3", "fraud@production",
// "fraud" = its latest READY version); ErrNotFound when it has none.
func LoadProfile(s *Store, modelRef string) (*Profile, error) {
	cr := cstr(modelRef)
	defer free(cr)
	var out *C.mlops_drift_profile
	if _, err := s.use(func(sp *C.mlops_store) C.int { return C.mlops_drift_profile_load(&out, sp, cr) }); err != nil {
		return nil, err
	}
	return newProfile(out), nil
}

// use runs f on the open profile, holding off Close until it returns.
func (p *Profile) use(f func(cp *C.mlops_drift_profile) C.int) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return errClosed("mlops.Profile")
	}
	_, err := call(func() C.int { return f(p.ptr) })
	runtime.KeepAlive(p)
	return err
}

// Close frees the profile; calling it again does nothing. Close the monitors over it first.
func (p *Profile) Close() error {
	p.mu.Lock()
	ptr := p.ptr
	p.ptr = nil
	p.mu.Unlock()
	if ptr != nil {
		runtime.SetFinalizer(p, nil)
		C.mlops_drift_profile_free(ptr)
	}
	return nil
}

// hold read-locks the open profile for a call that also needs another handle; release unlocks.
func (p *Profile) hold() (ptr *C.mlops_drift_profile, release func(), err error) {
	p.mu.RLock()
	if p.ptr == nil {
		p.mu.RUnlock()
		return nil, nil, errClosed("mlops.Profile")
	}
	return p.ptr, p.mu.RUnlock, nil
}

// hold read-locks the open run (see Profile.hold).
func (r *Run) hold(what string) (ptr *C.mlops_run, release func(), err error) {
	r.mu.RLock()
	if r.ptr == nil {
		r.mu.RUnlock()
		return nil, nil, errClosed(what)
	}
	return r.ptr, r.mu.RUnlock, nil
}

// Save stores the profile with a model version ("fraud/3", "fraud@production": resolved to
// the version), replacing the one it had.
func (p *Profile) Save(s *Store, modelRef string) error {
	cr := cstr(modelRef)
	defer free(cr)
	cp, release, err := p.hold()
	if err != nil {
		return err
	}
	defer release()
	_, err = s.use(func(sp *C.mlops_store) C.int { return C.mlops_drift_profile_save(sp, cr, cp) })
	runtime.KeepAlive(p)
	return err
}

// Bytes serialises the profile (versioned, zlib-compressed, CRC-32-checked).
func (p *Profile) Bytes() ([]byte, error) {
	var blob unsafe.Pointer
	var size C.size_t
	if err := p.use(func(cp *C.mlops_drift_profile) C.int {
		return C.mlops_drift_profile_serialize(&blob, &size, cp)
	}); err != nil {
		return nil, err
	}
	defer C.mlops_free(blob)
	return C.GoBytes(blob, C.int(size)), nil
}

// Count is the number of features (0 once closed).
func (p *Profile) Count() int {
	n := 0
	p.use(func(cp *C.mlops_drift_profile) C.int { n = int(C.mlops_drift_profile_count(cp)); return 0 })
	return n
}

// Names are the feature names in column order.
func (p *Profile) Names() []string {
	var names []string
	p.use(func(cp *C.mlops_drift_profile) C.int {
		for i := C.size_t(0); i < C.mlops_drift_profile_count(cp); i++ {
			names = append(names, C.GoString(C.mlops_drift_profile_name(cp, i)))
		}
		return 0
	})
	return names
}

// Index is the column of the feature called name (ErrNotFound if none).
func (p *Profile) Index(name string) (int, error) {
	cn := cstr(name)
	defer free(cn)
	var i C.size_t
	err := p.use(func(cp *C.mlops_drift_profile) C.int { return C.mlops_drift_profile_find(&i, cp, cn) })
	return int(i), err
}

// Summary of feature i.
func (p *Profile) Summary(i int) (FeatureSummary, error) {
	var s C.mlops_drift_feature_summary
	if i < 0 {
		return FeatureSummary{}, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("feature %d is negative", i)}
	}
	err := p.use(func(cp *C.mlops_drift_profile) C.int { return C.mlops_drift_profile_summary(&s, cp, C.size_t(i)) })
	return FeatureSummary{uint64(s.count), uint64(s.nan_count), uint64(s.sample_size), float64(s.mean),
		float64(s.std), float64(s.min), float64(s.max)}, err
}

// Edges are the interior PSI edges of feature i, and the reference's share of each bin
// (len(edges)+1 values).
func (p *Profile) Edges(i int) (edges, proportions []float64, err error) {
	if i < 0 {
		return nil, nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("feature %d is negative", i)}
	}
	err = p.use(func(cp *C.mlops_drift_profile) C.int {
		var e *C.double
		var n C.size_t
		if rc := C.mlops_drift_profile_edges(&e, &n, nil, cp, C.size_t(i)); rc < 0 {
			return rc
		}
		edges = append([]float64(nil), unsafe.Slice((*float64)(unsafe.Pointer(e)), int(n))...)
		proportions = make([]float64, int(n)+1)
		return C.mlops_drift_profile_edges(&e, &n, (*C.double)(unsafe.Pointer(&proportions[0])), cp, C.size_t(i))
	})
	return edges, proportions, err
}

// Sample is the sorted reference sample of feature i (a copy).
func (p *Profile) Sample(i int) ([]float64, error) {
	s, err := p.Summary(i)
	if err != nil {
		return nil, err
	}
	out := make([]float64, s.SampleSize)
	err = p.use(func(cp *C.mlops_drift_profile) C.int {
		return C.mlops_drift_profile_sample(ptr(out), C.size_t(len(out)), cp, C.size_t(i))
	})
	return out, err
}

// Stat selects the statistics of a comparison (CompareOptions.Stats).
type Stat uint

const (
	StatKS          Stat = C.MLOPS_DRIFT_STAT_KS
	StatPSI         Stat = C.MLOPS_DRIFT_STAT_PSI
	StatWasserstein Stat = C.MLOPS_DRIFT_STAT_WASSERSTEIN // normalised (Evidently)
	StatJS          Stat = C.MLOPS_DRIFT_STAT_JS
)

// DriftGPU says where a comparison runs (CompareOptions.GPU).
type DriftGPU int

const (
	GPUAuto   DriftGPU = C.MLOPS_DRIFT_GPU_AUTO   // device tensors on their GPU, host data on the CPU
	GPUPrefer DriftGPU = C.MLOPS_DRIFT_GPU_PREFER // host data too on a usable GPU
	GPUNever  DriftGPU = C.MLOPS_DRIFT_GPU_NEVER  // the CPU only
)

// CompareOptions are the fields of mlops_drift_compare_options; the zero value means the
// defaults (KS and PSI; drifted when PSI >= 0.2 or p < 0.05).
type CompareOptions struct {
	Stats                Stat // 0: StatKS | StatPSI
	Correction           Correction
	NaNPolicy            NaNPolicy // of the current sample
	Alternative          Alternative
	KSMethod             KSMethod
	PSIThreshold         float64 // 0: 0.2
	PValueThreshold      float64 // 0: 0.05
	WassersteinThreshold float64 // 0: 0.1
	JSThreshold          float64 // 0: 0.1
	Epsilon              float64 // PSI zero share (0: 1e-4)
	EvidentlyPSI         bool
	Threads              uint
	GPU                  DriftGPU
}

func (o *CompareOptions) c() C.mlops_drift_compare_options {
	co := C.mlops_drift_compare_options{version: C.MLOPS_DRIFT_COMPARE_OPTIONS_VERSION}
	if o != nil {
		co.stats, co.correction, co.nan_policy = C.unsigned(o.Stats), C.int(o.Correction), C.int(o.NaNPolicy)
		co.alternative, co.ks_method = C.int(o.Alternative), C.int(o.KSMethod)
		co.psi_threshold, co.pvalue_threshold = C.double(o.PSIThreshold), C.double(o.PValueThreshold)
		co.wasserstein_threshold, co.js_threshold = C.double(o.WassersteinThreshold), C.double(o.JSThreshold)
		co.epsilon, co.threads, co.gpu = C.double(o.Epsilon), C.unsigned(o.Threads), C.int(o.GPU)
		if o.EvidentlyPSI {
			co.evidently_psi = 1
		}
	}
	return co
}

// FeatureDrift is one feature of a Report; a value that was not computed is NaN.
type FeatureDrift struct {
	Name                  string
	KSStatistic, KSPValue float64 // KSPValue: after the correction across features
	KSPValueRaw           float64
	PSI, Wasserstein, JS  float64 // Wasserstein: normalised
	MissingRate           float64
	Drifted               bool
	NRef, NCur            uint64
	NaNRef, NaNCur        uint64
}

// Report is the result of Compare (or a monitor's window): Features holds Go values; Log and
// Prometheus use the C report, freed by Close (a finalizer does otherwise).
type Report struct {
	Features []FeatureDrift

	mu    sync.RWMutex
	ptr   *C.mlops_drift_report
	owned bool
}

func newReport(r *C.mlops_drift_report, owned bool) *Report {
	n := int(C.mlops_drift_report_count(r))
	rep := &Report{Features: make([]FeatureDrift, n), ptr: r, owned: owned}
	for i := 0; i < n; i++ {
		ci := C.size_t(i)
		v := func(what C.int) float64 { return float64(C.mlops_drift_report_value(r, ci, what)) }
		var nr, nc, nanr, nanc C.uint64_t
		C.mlops_drift_report_counts(r, ci, &nr, &nc, &nanr, &nanc)
		rep.Features[i] = FeatureDrift{C.GoString(C.mlops_drift_report_name(r, ci)),
			v(C.MLOPS_DRIFT_VALUE_KS_STATISTIC), v(C.MLOPS_DRIFT_VALUE_KS_PVALUE),
			v(C.MLOPS_DRIFT_VALUE_KS_PVALUE_RAW), v(C.MLOPS_DRIFT_VALUE_PSI),
			v(C.MLOPS_DRIFT_VALUE_WASSERSTEIN), v(C.MLOPS_DRIFT_VALUE_JS),
			v(C.MLOPS_DRIFT_VALUE_MISSING_RATE), C.mlops_drift_report_drifted(r, ci) == 1,
			uint64(nr), uint64(nc), uint64(nanr), uint64(nanc)}
	}
	if owned {
		runtime.SetFinalizer(rep, (*Report).Close)
	}
	return rep
}

// Compare compares data (rows x cols float64 values, row-major, read in place; cols = the
// profile's feature count, in its order) with profile p. opts nil: defaults.
func Compare(p *Profile, data []float64, rows, cols int, opts *CompareOptions) (*Report, error) {
	return compare(p, data, 64, rows, cols, opts)
}

// CompareFloat32 is Compare for float32 values.
func CompareFloat32(p *Profile, data []float32, rows, cols int, opts *CompareOptions) (*Report, error) {
	return compare(p, data, 32, rows, cols, opts)
}

// CompareRows is Compare for one []float64 per row (copied once into a matrix).
func CompareRows(p *Profile, rows [][]float64, opts *CompareOptions) (*Report, error) {
	flat, r, c, err := flatten(rows, "CompareRows")
	if err != nil {
		return nil, err
	}
	return compare(p, flat, 64, r, c, opts)
}

func compare[T float32 | float64](p *Profile, data []T, bits, rows, cols int, opts *CompareOptions) (*Report, error) {
	ptr, err := matrix(data, rows, cols, "Compare")
	if err != nil {
		return nil, err
	}
	co := opts.c()
	var out *C.mlops_drift_report
	err = p.use(func(cp *C.mlops_drift_profile) C.int {
		return C.mlops_go_compare(&out, cp, ptr, C.int(bits), C.int64_t(rows), C.int64_t(cols), &co)
	})
	runtime.KeepAlive(data)
	if err != nil {
		return nil, err
	}
	return newReport(out, true), nil
}

// Feature is the row of the feature called name.
func (r *Report) Feature(name string) (FeatureDrift, bool) {
	for _, f := range r.Features {
		if f.Name == name {
			return f, true
		}
	}
	return FeatureDrift{}, false
}

// Drifted are the names of the drifted features.
func (r *Report) Drifted() []string {
	var out []string
	for _, f := range r.Features {
		if f.Drifted {
			out = append(out, f.Name)
		}
	}
	return out
}

func (r *Report) use(f func(cr *C.mlops_drift_report) C.int) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ptr == nil {
		return errClosed("mlops.Report")
	}
	_, err := call(func() C.int { return f(r.ptr) })
	runtime.KeepAlive(r)
	return err
}

// Close frees the C report (Features stay readable); calling it again does nothing.
func (r *Report) Close() error {
	r.mu.Lock()
	ptr := r.ptr
	r.ptr = nil
	r.mu.Unlock()
	if ptr != nil && r.owned {
		runtime.SetFinalizer(r, nil)
		C.mlops_drift_report_free(ptr)
	}
	return nil
}

// Log logs every computed value to run as "<prefix>/<feature>/<stat>" at step ("": "drift").
func (r *Report) Log(run *Run, prefix string, step int64) error {
	cp := cstringOpt(prefix)
	defer free(cp)
	rp, release, err := run.hold("mlops.Run")
	if err != nil {
		return err
	}
	defer release()
	err = r.use(func(cr *C.mlops_drift_report) C.int { return C.mlops_drift_report_log(cr, rp, cp, C.int64_t(step)) })
	runtime.KeepAlive(run)
	return err
}

// Prometheus renders the report in the Prometheus text exposition format.
func (r *Report) Prometheus() (string, error) {
	var text *C.char
	if err := r.use(func(cr *C.mlops_drift_report) C.int { return C.mlops_drift_report_prometheus(&text, cr) }); err != nil {
		return "", err
	}
	defer C.mlops_free(unsafe.Pointer(text))
	return C.GoString(text), nil
}

// MonitorOptions are the fields of mlops_drift_monitor_options; the zero value means defaults.
type MonitorOptions struct {
	WindowRows     int           // a window closes after this many rows (0: 10000, or by time only)
	Window         time.Duration // ... or at the first Observe this long after its first row (0: off)
	Compare        *CompareOptions
	Run            *Run   // nil: no logging; else each window's values, step = window index
	Prefix         string // of the logged keys ("": "drift")
	OnAlert        func(*Report)
	WebhookURL     string // a Slack-compatible JSON POST per alert, from a background thread
	WebhookTimeout time.Duration
	WebhookRetries uint
	Name           string // the monitor's name in alerts ("": "drift monitor")
}

// MonitorCounters are a monitor's counters.
type MonitorCounters struct{ Windows, Alerts, WebhooksSent, WebhooksFailed uint64 }

// Monitor compares windows of observed rows with a profile and alerts once per crossing.
// Observe may be called from several goroutines at once.
type Monitor struct {
	mu      sync.RWMutex
	ptr     *C.mlops_drift_monitor
	profile *Profile
	run     *Run
	cols    int
	handle  cgo.Handle
	onAlert func(*Report)

	callbackPanics atomic.Uint64
}

// NewMonitor starts a monitor over p. OnAlert runs on the goroutine calling Observe (or
// Flush), inside the library: its *Report is valid during the call only (Features stay
// readable after). A panic in OnAlert is recovered, logged and counted (CallbackPanics). The
// profile and the run must stay open while the monitor is: its calls fail once they close.
func NewMonitor(p *Profile, o *MonitorOptions) (*Monitor, error) {
	if o == nil {
		o = &MonitorOptions{}
	}
	if o.WindowRows < 0 || o.Window < 0 || o.WebhookTimeout < 0 {
		return nil, &Error{Code: CodeInvalidArgument, Message: "MonitorOptions: a negative window or timeout"}
	}
	m := &Monitor{profile: p, run: o.Run, onAlert: o.OnAlert, cols: p.Count()}
	// Everything handed to C is C memory: the options hold pointers.
	co := (*C.mlops_drift_monitor_options)(C.calloc(1, C.sizeof_mlops_drift_monitor_options))
	defer C.free(unsafe.Pointer(co))
	cmp := (*C.mlops_drift_compare_options)(C.calloc(1, C.sizeof_mlops_drift_compare_options))
	defer C.free(unsafe.Pointer(cmp))
	*cmp = o.Compare.c()
	co.version = C.MLOPS_DRIFT_MONITOR_OPTIONS_VERSION
	co.window_rows, co.window_ms = C.size_t(o.WindowRows), C.unsigned((o.Window+time.Millisecond-1)/time.Millisecond)
	co.compare = cmp
	co.prefix, co.webhook_url, co.name = cstringOpt(o.Prefix), cstringOpt(o.WebhookURL), cstringOpt(o.Name)
	defer free(co.prefix)
	defer free(co.webhook_url)
	defer free(co.name)
	co.webhook_timeout_ms = C.unsigned((o.WebhookTimeout + time.Millisecond - 1) / time.Millisecond)
	co.webhook_retries = C.unsigned(o.WebhookRetries)
	if o.OnAlert != nil {
		m.handle = cgo.NewHandle(m)
		C.mlops_go_set_alert(co, C.uintptr_t(m.handle))
	}
	var out *C.mlops_drift_monitor
	err := m.holding(func() error {
		co.run = nil
		if o.Run != nil {
			co.run = o.Run.ptr
		}
		_, err := call(func() C.int { return C.mlops_drift_monitor_create(&out, p.ptr, co) })
		return err
	})
	if err != nil {
		if m.handle != 0 {
			m.handle.Delete()
		}
		return nil, err
	}
	m.ptr = out
	runtime.SetFinalizer(m, (*Monitor).Close)
	return m, nil
}

// use runs f on the open monitor while its profile (and run) are open, holding off the Close
// of all three until it returns.
func (m *Monitor) use(f func(cm *C.mlops_drift_monitor) C.int) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.ptr == nil {
		return errClosed("mlops.Monitor")
	}
	err := m.holding(func() error {
		_, err := call(func() C.int { return f(m.ptr) })
		return err
	})
	runtime.KeepAlive(m)
	return err
}

// holding runs f with the monitor's profile and run read-locked and open.
func (m *Monitor) holding(f func() error) error {
	_, release, err := m.profile.hold()
	if err != nil {
		return err
	}
	defer release()
	if m.run != nil {
		_, releaseRun, err := m.run.hold("mlops.Run of the monitor")
		if err != nil {
			return err
		}
		defer releaseRun()
	}
	return f()
}

// Observe adds rows x (profile feature count) float64 values, row-major, read in place, to the
// current window, closing windows (comparison, logging, alert) as they fill.
func (m *Monitor) Observe(data []float64, rows int) error { return observe(m, data, 64, rows) }

// ObserveFloat32 is Observe for float32 values.
func (m *Monitor) ObserveFloat32(data []float32, rows int) error { return observe(m, data, 32, rows) }

func observe[T float32 | float64](m *Monitor, data []T, bits, rows int) error {
	ptr, err := matrix(data, rows, m.cols, "Monitor.Observe")
	if err != nil {
		return err
	}
	err = m.use(func(cm *C.mlops_drift_monitor) C.int {
		return C.mlops_go_observe(cm, ptr, C.int(bits), C.int64_t(rows), C.int64_t(m.cols))
	})
	runtime.KeepAlive(data)
	return err
}

// Flush closes the current window now (when it has rows).
func (m *Monitor) Flush() error {
	return m.use(func(cm *C.mlops_drift_monitor) C.int { return C.mlops_drift_monitor_flush(cm) })
}

// Counters reads the monitor's counters.
func (m *Monitor) Counters() (MonitorCounters, error) {
	var w, a, s, f C.uint64_t
	err := m.use(func(cm *C.mlops_drift_monitor) C.int { return C.mlops_drift_monitor_counters(cm, &w, &a, &s, &f) })
	return MonitorCounters{uint64(w), uint64(a), uint64(s), uint64(f)}, err
}

// CallbackPanics counts the panics of OnAlert that were recovered.
func (m *Monitor) CallbackPanics() uint64 { return m.callbackPanics.Load() }

// Prometheus renders the last window's values and the counters (Prometheus text format).
func (m *Monitor) Prometheus() (string, error) {
	var text *C.char
	if err := m.use(func(cm *C.mlops_drift_monitor) C.int { return C.mlops_drift_monitor_prometheus(&text, cm) }); err != nil {
		return "", err
	}
	defer C.mlops_free(unsafe.Pointer(text))
	return C.GoString(text), nil
}

// Drain waits up to timeout for queued webhook POSTs; false when some are still pending.
func (m *Monitor) Drain(timeout time.Duration) (bool, error) {
	ms := C.unsigned(timeout / time.Millisecond)
	err := m.use(func(cm *C.mlops_drift_monitor) C.int { return C.mlops_drift_monitor_drain(cm, ms) })
	if e, ok := err.(*Error); ok && e.Code == CodeBusy {
		return false, nil
	}
	return err == nil, err
}

// Close stops the webhook thread and frees the monitor; calling it again does nothing.
func (m *Monitor) Close() error {
	m.mu.Lock()
	ptr := m.ptr
	m.ptr = nil
	m.mu.Unlock()
	if ptr == nil {
		return nil
	}
	runtime.SetFinalizer(m, nil)
	C.mlops_drift_monitor_free(ptr)
	if m.handle != 0 {
		m.handle.Delete()
	}
	return nil
}
