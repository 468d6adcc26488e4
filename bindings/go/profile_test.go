package mlops_test

import (
	"bytes"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mlops "libmlops/bindings/go"
)

var featureNames = []string{"amount", "age", "score", "hour"}

// normal is an n x 4 row-major matrix of float32-representable normals, column j shifted by
// shift[j].
func normal(seed int64, n int, shift [4]float64) []float64 {
	rng := rand.New(rand.NewSource(seed))
	xs := make([]float64, n*4)
	for i := range xs {
		xs[i] = float64(float32(rng.NormFloat64() + shift[i%4]))
	}
	return xs
}

func column(xs []float64, cols, j int) []float64 {
	out := make([]float64, 0, len(xs)/cols)
	for i := j; i < len(xs); i += cols {
		out = append(out, xs[i])
	}
	return out
}

// profileBytes(t)(mlops.BuildProfile...(...)) is the serialised profile, closed after.
func profileBytes(t *testing.T) func(p *mlops.Profile, err error) []byte {
	return func(p *mlops.Profile, err error) []byte {
		t.Helper()
		check(t, err)
		defer p.Close()
		b, err := p.Bytes()
		check(t, err)
		return b
	}
}

func TestProfileFromEveryInputIsTheSame(t *testing.T) {
	ref := normal(1, 500, [4]float64{})
	want := profileBytes(t)(mlops.BuildProfileFlat(ref, 500, 4, featureNames, nil))
	rows := make([][]float64, 500)
	f32 := make([]float32, len(ref))
	for i := range rows {
		rows[i] = ref[i*4 : i*4+4]
	}
	for i, x := range ref {
		f32[i] = float32(x)
	}
	if got := profileBytes(t)(mlops.BuildProfile(rows, featureNames, nil)); !bytes.Equal(got, want) {
		t.Fatal("[][]float64 gives another profile")
	}
	if got := profileBytes(t)(mlops.BuildProfileFloat32(f32, 500, 4, featureNames, nil)); !bytes.Equal(got, want) {
		t.Fatal("float32 gives another profile")
	}
	p, err := mlops.BuildProfileFlat(ref, 500, 4, nil, &mlops.ProfileOptions{MaxSamples: 100, Bins: 5})
	check(t, err)
	defer p.Close()
	s, err := p.Summary(1)
	check(t, err)
	sample, err := p.Sample(1)
	check(t, err)
	edges, props, err := p.Edges(0)
	check(t, err)
	i, err := p.Index("f2")
	check(t, err)
	if p.Count() != 4 || p.Names()[3] != "f3" || i != 2 || s.Count != 500 || s.SampleSize != 100 ||
		len(sample) != 100 || len(edges) != 4 || len(props) != 5 || math.Abs(props[0]-0.2) > 1e-12 {
		t.Fatalf("profile %d %v %d %+v %d %v %v", p.Count(), p.Names(), i, s, len(sample), edges, props)
	}
	_, err = p.Index("nope")
	wantErr(t, err, mlops.ErrNotFound, "nope")
	_, err = mlops.BuildProfileFlat(ref, 400, 4, featureNames, nil)
	wantErr(t, err, mlops.ErrInvalidArgument, "400 rows")
	_, err = mlops.BuildProfileFlat(ref, 500, 4, featureNames[:3], nil)
	wantErr(t, err, mlops.ErrInvalidArgument, "")
	_, err = mlops.BuildProfile([][]float64{{1, 2}, {3}}, nil, nil)
	wantErr(t, err, mlops.ErrInvalidArgument, "row 1")
	check(t, p.Close())
	_, err = p.Summary(0)
	wantErr(t, err, mlops.ErrInvalidState, "closed")
}

func TestCompareEqualsTheSingleFeatureFunctions(t *testing.T) {
	// feature 0 is scipy's golden case of TestDriftAgainstScipy: D 0.26, p 1.3685145173071567e-08
	sin07 := func(i float64) float64 { return math.Sin(i * 0.7) }
	cos03 := func(i float64) float64 { return math.Cos(i * 0.3) }
	r0, c0 := series(300, sin07, 2, 0), series(250, cos03, 1.5, 0.2)
	ref, cur := make([]float64, 600), make([]float64, 500)
	for i := 0; i < 300; i++ {
		ref[2*i], ref[2*i+1] = r0[i], float64(i%17)
	}
	for i := 0; i < 250; i++ {
		cur[2*i], cur[2*i+1] = c0[i], float64(i%13)
	}
	p, err := mlops.BuildProfileFlat(ref, 300, 2, []string{"wave", "cycle"}, nil)
	check(t, err)
	defer p.Close()
	r, err := mlops.Compare(p, cur, 250, 2, &mlops.CompareOptions{
		Stats: mlops.StatKS | mlops.StatPSI | mlops.StatWasserstein | mlops.StatJS})
	check(t, err)
	defer r.Close()
	wave, _ := r.Feature("wave")
	if math.Abs(wave.KSStatistic-0.26) > 1e-12 || math.Abs(wave.KSPValue-1.3685145173071567e-08) > 1e-6*1.37e-8 {
		t.Fatalf("wave against scipy: %+v", wave)
	}
	for j, f := range r.Features {
		rj, cj := column(ref, 2, j), column(cur, 2, j)
		d, pv, err := mlops.KS(rj, cj)
		check(t, err)
		psi, err := mlops.PSI(rj, cj, 0)
		check(t, err)
		w, err := mlops.Wasserstein(rj, cj, true, nil)
		check(t, err)
		js, err := mlops.JensenShannon(rj, cj, nil)
		check(t, err)
		if f.KSStatistic != d || f.KSPValue != pv || f.KSPValueRaw != pv || math.Abs(f.PSI-psi) > 1e-12*math.Max(1, psi) ||
			math.Abs(f.Wasserstein-w) > 1e-12*math.Max(1, w) || math.Abs(f.JS-js) > 1e-12 ||
			f.NRef != 300 || f.NCur != 250 || f.MissingRate != 0 {
			t.Fatalf("feature %d: %+v, single %v %v %v %v %v", j, f, d, pv, psi, w, js)
		}
	}
	if d := r.Drifted(); len(d) == 0 || d[0] != "wave" {
		t.Fatalf("drifted %v", d)
	}
	bonf, err := mlops.Compare(p, cur, 250, 2, &mlops.CompareOptions{Correction: mlops.CorrectBonferroni})
	check(t, err)
	defer bonf.Close()
	if !math.IsNaN(bonf.Features[0].JS) || bonf.Features[1].KSPValue != math.Min(1, 2*r.Features[1].KSPValue) {
		t.Fatalf("bonferroni %+v", bonf.Features)
	}
	text, err := bonf.Prometheus()
	check(t, err)
	if !strings.Contains(text, `mlops_drift_psi{feature="wave"}`) {
		t.Fatal(text)
	}
	never, err := mlops.Compare(p, cur, 250, 2, &mlops.CompareOptions{GPU: mlops.GPUNever})
	check(t, err)
	defer never.Close()
	if never.Features[0].KSPValue != r.Features[0].KSPValue || never.Features[1].PSI != r.Features[1].PSI {
		t.Fatalf("GPUNever %+v", never.Features)
	}
	_, err = mlops.Compare(p, cur, 250, 2, &mlops.CompareOptions{GPU: 7})
	wantErr(t, err, mlops.ErrInvalidArgument, "gpu")
	_, err = mlops.Compare(p, cur, 500, 1, nil)
	wantErr(t, err, mlops.ErrInvalidArgument, "1 features")
	f32 := make([]float32, len(cur))
	_, err = mlops.CompareFloat32(p, f32, 250, 2, nil)
	check(t, err)
	check(t, r.Close())
	_, err = r.Prometheus()
	wantErr(t, err, mlops.ErrInvalidState, "closed")
}

func TestProfileBytesSaveLoadAndCorruption(t *testing.T) {
	ref := normal(2, 400, [4]float64{})
	p, err := mlops.BuildProfileFlat(ref, 400, 4, featureNames, nil)
	check(t, err)
	defer p.Close()
	blob, err := p.Bytes()
	check(t, err)
	q, err := mlops.ProfileFromBytes(blob)
	check(t, err)
	if again := profileBytes(t)(q, nil); !bytes.Equal(again, blob) {
		t.Fatal("round trip changed the profile")
	}
	bad := append([]byte(nil), blob...)
	bad[len(bad)/2] ^= 0x40
	for _, b := range [][]byte{bad, blob[:len(blob)-5], nil} {
		_, err = mlops.ProfileFromBytes(b)
		wantErr(t, err, mlops.ErrCorrupt, "")
	}

	db := filepath.Join(t.TempDir(), "p.db")
	s := mustOpen(t, db)
	reg := s.Registry()
	check(t, reg.CreateModel("fraud", ""))
	_, err = reg.CreateVersion("fraud", "s3://m/1", "")
	check(t, err)
	_, err = reg.CreateVersion("fraud", "s3://m/2", "")
	check(t, err)
	check(t, reg.SetAlias("fraud", "production", 2))
	check(t, p.Save(s, "fraud@production"))
	_, err = mlops.LoadProfile(s, "fraud/1")
	wantErr(t, err, mlops.ErrNotFound, "")
	check(t, s.Close())
	wantErr(t, p.Save(s, "fraud/1"), mlops.ErrInvalidState, "closed")

	again := openWith(t, db, &mlops.StoreOptions{ReadOnly: true})
	defer again.Close()
	for _, ref := range []string{"fraud/2", "fraud@production", "fraud"} {
		l, err := mlops.LoadProfile(again, ref)
		if got := profileBytes(t)(l, err); !bytes.Equal(got, blob) {
			t.Fatalf("%s: another profile", ref)
		}
	}
}

func TestReportLoggedToARun(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "l.db"))
	defer s.Close()
	run, err := s.StartRun("drift", "")
	check(t, err)
	p, err := mlops.BuildProfileFlat(normal(3, 400, [4]float64{}), 400, 4, featureNames, nil)
	check(t, err)
	defer p.Close()
	r, err := mlops.Compare(p, normal(4, 300, [4]float64{0, 1, 0, 0}), 300, 4, nil)
	check(t, err)
	defer r.Close()
	check(t, r.Log(run, "", 7))
	check(t, run.End(mlops.RunFinished))
	wantErr(t, r.Log(run, "", 8), mlops.ErrInvalidState, "closed")
	check(t, s.Flush())
	age, _ := r.Feature("age")
	h, err := s.MetricHistory(run.ID(), "drift/age/psi")
	check(t, err)
	d, err := s.MetricHistory(run.ID(), "drift/age/drifted")
	check(t, err)
	if len(h) != 1 || h[0].Value != age.PSI || h[0].Step != 7 || d[0].Value != 1 || !age.Drifted {
		t.Fatalf("history %+v %+v, report %+v", h, d, age)
	}
}

func TestMonitorAlertsOncePerCrossing(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "m.db"))
	defer s.Close()
	run, err := s.StartRun("serve", "")
	check(t, err)
	p, err := mlops.BuildProfileFlat(normal(5, 600, [4]float64{}), 600, 4, featureNames, nil)
	check(t, err)
	defer p.Close()
	var alerts [][]string
	m, err := mlops.NewMonitor(p, &mlops.MonitorOptions{WindowRows: 300, Run: run,
		Compare: &mlops.CompareOptions{Stats: mlops.StatPSI},
		OnAlert: func(r *mlops.Report) {
			text, err := r.Prometheus()
			if err != nil || !strings.Contains(text, "mlops_drift_psi") {
				t.Errorf("prometheus in the callback: %v", err)
			}
			alerts = append(alerts, r.Drifted())
		}})
	check(t, err)
	defer m.Close()
	// windows: ok, drift, drift (no new alert), ok (re-arms), drift -> 2 alerts
	var data []float64
	for i, shift := range []float64{0, 2, 2, 0, 2} {
		data = append(data, normal(int64(10+i), 300, [4]float64{0, shift, 0, 0})...)
	}
	for off := 0; off < 1500; off += 250 { // batches that straddle windows
		check(t, m.Observe(data[off*4:(off+250)*4], 250))
	}
	c, err := m.Counters()
	check(t, err)
	if c.Windows != 5 || c.Alerts != 2 || len(alerts) != 2 || alerts[0][0] != "age" || alerts[1][0] != "age" {
		t.Fatalf("counters %+v alerts %v", c, alerts)
	}
	check(t, m.Flush()) // empty window: nothing
	check(t, s.Flush())
	h, err := s.MetricHistory(run.ID(), "drift/age/drifted")
	check(t, err)
	want := []float64{0, 1, 1, 0, 1}
	for i, pt := range h {
		if pt.Value != want[i] || pt.Step != int64(i) {
			t.Fatalf("history %+v", h)
		}
	}
	text, err := m.Prometheus()
	check(t, err)
	if !strings.Contains(text, "mlops_drift_alerts_total") && !strings.Contains(text, "alerts") {
		t.Fatal(text)
	}
	wantErr(t, m.Observe(data[:8], 3), mlops.ErrInvalidArgument, "3 rows")
	check(t, run.End(mlops.RunFinished))
	wantErr(t, m.Observe(data[:4], 1), mlops.ErrInvalidState, "Run")
	check(t, m.Close())
	wantErr(t, m.Flush(), mlops.ErrInvalidState, "closed")
}

func TestMonitorCallbackPanicIsRecoveredAndGoroutinesObserve(t *testing.T) {
	p, err := mlops.BuildProfileFlat(normal(6, 600, [4]float64{}), 600, 4, featureNames, nil)
	check(t, err)
	defer p.Close()
	var mu sync.Mutex
	calls := 0
	m, err := mlops.NewMonitor(p, &mlops.MonitorOptions{WindowRows: 200, OnAlert: func(*mlops.Report) {
		mu.Lock()
		calls++
		mu.Unlock()
		panic("alert handler failed")
	}})
	check(t, err)
	defer m.Close()
	drifting := normal(7, 100, [4]float64{3, 0, 0, 0})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if err := m.Observe(drifting, 100); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	c, err := m.Counters()
	check(t, err)
	if c.Windows != 10 || c.Alerts != 1 || calls != 1 || m.CallbackPanics() != 1 {
		t.Fatalf("counters %+v calls %d panics %d", c, calls, m.CallbackPanics())
	}
	_, err = mlops.NewMonitor(p, &mlops.MonitorOptions{WebhookURL: "ftp://example.com"})
	wantErr(t, err, mlops.ErrInvalidArgument, "webhook_url")
	check(t, p.Close())
	wantErr(t, m.Observe(drifting, 100), mlops.ErrInvalidState, "Profile")
}

func TestWatchSeesAnAliasMove(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	s := mustOpen(t, db)
	defer s.Close()
	reg := s.Registry()
	check(t, reg.CreateModel("fraud", ""))
	for i := 0; i < 2; i++ {
		_, err := reg.CreateVersion("fraud", "s3://m", "")
		check(t, err)
	}
	check(t, reg.SetAlias("fraud", "production", 1))
	seen := make(chan int64, 8)
	w, err := reg.Watch("fraud@production", 5*time.Millisecond, func(ref string, v *mlops.ModelVersion) {
		if ref != "fraud@production" {
			t.Errorf("ref %q", ref)
		}
		if v == nil {
			seen <- 0
			return
		}
		seen <- v.Version
	})
	check(t, err)
	next := func(wait time.Duration) int64 {
		select {
		case v := <-seen:
			return v
		case <-time.After(wait):
			return -1
		}
	}
	// another handle moves the alias. The watcher's first look (on its thread) records the
	// baseline: if that came after the move, moving back is the change it reports.
	other := mustOpen(t, db)
	defer other.Close()
	check(t, other.Registry().SetAlias("fraud", "production", 2))
	if v := next(2 * time.Second); v != 2 {
		check(t, other.Registry().SetAlias("fraud", "production", 1))
		if v, w := v, next(5*time.Second); v != -1 || w != 1 {
			t.Fatalf("saw versions %d, %d", v, w)
		}
	}
	check(t, other.Registry().DeleteAlias("fraud", "production"))
	if v := next(5 * time.Second); v != 0 {
		t.Fatalf("after delete saw %d", v)
	}
	check(t, w.Close())
	check(t, w.Close())
	_, err = reg.Watch("fraud@production", -time.Second, func(string, *mlops.ModelVersion) {})
	wantErr(t, err, mlops.ErrInvalidArgument, "interval")
	// the store's Close stops a watcher still running
	w2, err := reg.Watch("fraud", 0, func(string, *mlops.ModelVersion) {})
	check(t, err)
	check(t, s.Close())
	check(t, w2.Close())
}
