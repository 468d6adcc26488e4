package mlops_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"unsafe"

	mlops "libmlops/bindings/go"
)

func openWith(t *testing.T, path string, o *mlops.StoreOptions) *mlops.Store {
	t.Helper()
	s, err := mlops.OpenWithOptions(path, o)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return s
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunRoundTrip(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	s := mustOpen(t, db)
	run, err := s.StartRun("exp", "first")
	check(t, err)
	id := run.ID()
	check(t, run.LogParam("lr", "0.01"))
	check(t, run.LogParams(map[string]string{"layers": "3"}))
	check(t, run.SetTag("team", "fraud"))
	for step := int64(0); step < 5; step++ {
		check(t, run.LogMetric("loss", 1/float64(step+1), step))
	}
	check(t, run.LogMetric("odd", math.Inf(1), 0))
	wantErr(t, run.LogParam("lr", "0.2"), mlops.ErrInvalidArgument, "lr")
	check(t, run.End(mlops.RunFinished))
	check(t, run.End(mlops.RunFinished)) // again: nothing
	wantErr(t, run.LogMetric("loss", 1, 9), mlops.ErrInvalidState, "closed")
	check(t, s.Close())

	again := openWith(t, db, &mlops.StoreOptions{ReadOnly: true})
	defer again.Close()
	info, err := again.Run(id)
	check(t, err)
	if info.Name != "first" || info.Status != mlops.RunFinished || info.Params["lr"] != "0.01" ||
		info.Params["layers"] != "3" || info.Tags["team"] != "fraud" || info.Metrics["loss"].Step != 4 ||
		info.EndTime.Before(info.StartTime) || info.ParentID != "" {
		t.Fatalf("read back %+v", info)
	}
	h, err := again.MetricHistory(id, "loss")
	check(t, err)
	if len(h) != 5 || h[2].Value != 1.0/3 || h[2].Step != 2 || h[2].TimestampMs == 0 {
		t.Fatalf("history %+v", h)
	}
	odd, err := again.MetricHistory(id, "odd")
	check(t, err)
	if !math.IsInf(odd[0].Value, 1) {
		t.Fatalf("odd %+v", odd)
	}
	if v, err := again.Param(id, "lr"); err != nil || v != "0.01" {
		t.Fatalf("param %q %v", v, err)
	}
	_, err = again.MetricHistory(id, "never")
	wantErr(t, err, mlops.ErrNotFound, "never")
	exps, err := again.Experiments()
	check(t, err)
	if len(exps) != 1 || exps[0].Name != "exp" || exps[0].ID != info.ExperimentID {
		t.Fatalf("experiments %+v", exps)
	}
}

func TestSearchArtifactsAndStoreCloseEndsRuns(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, filepath.Join(dir, "s.db"))
	var ids []string
	for i, acc := range []float64{0.8, 0.85, 0.9} {
		r, err := s.StartRun("search", fmt.Sprintf("r%d", i))
		check(t, err)
		check(t, r.LogMetric("acc", acc, 0))
		check(t, r.Close())
		ids = append(ids, r.ID())
	}
	hits, err := s.SearchRuns(mlops.SearchOptions{Experiment: "search", Filter: "metrics.acc > 0.82", OrderBy: "metrics.acc DESC"})
	check(t, err)
	if len(hits) != 2 || hits[0].ID != ids[2] || hits[1].ID != ids[1] {
		t.Fatalf("search %+v", hits)
	}
	_, err = s.SearchRuns(mlops.SearchOptions{Filter: "metrics.acc >>> 1"})
	wantErr(t, err, mlops.ErrInvalidArgument, "")
	check(t, s.DeleteRun(ids[0]))
	_, err = s.ResumeRun(ids[0])
	wantErr(t, err, mlops.ErrInvalidState, "deleted")
	check(t, s.RestoreRun(ids[0]))
	_, err = s.CreateExperiment("search")
	wantErr(t, err, mlops.ErrAlreadyExists, "search")

	f := filepath.Join(dir, "w.bin")
	check(t, os.WriteFile(f, []byte("weights"), 0o644))
	live, err := s.StartRunWithOptions("search", "", &mlops.RunOptions{ParentRunID: ids[1]})
	check(t, err)
	check(t, live.LogArtifact(f, "", false))
	check(t, live.LogArtifact(f, "gz", true))
	wantErr(t, live.LogArtifact(f, "../out", false), mlops.ErrPermissionDenied, "")
	key, err := live.MetricKey("k")
	check(t, err)
	check(t, key.Log(1, 0))
	check(t, s.Close()) // ends the live run first
	wantErr(t, key.Log(2, 1), mlops.ErrInvalidState, "closed")

	s = mustOpen(t, filepath.Join(dir, "s.db"))
	defer s.Close()
	info, err := s.Run(live.ID())
	check(t, err)
	if info.Status != mlops.RunFinished || info.ParentID != ids[1] || info.Metrics["k"].Value != 1 {
		t.Fatalf("live run after store close: %+v", info)
	}
	arts, err := s.Artifacts(live.ID())
	check(t, err)
	if len(arts) != 2 || arts[0].Path != "gz/w.bin" || arts[1].Path != "w.bin" || arts[0].Size != 7 || arts[0].SHA256 != arts[1].SHA256 {
		t.Fatalf("artifacts %+v", arts)
	}
	check(t, s.DownloadArtifact(live.ID(), "gz/w.bin", filepath.Join(dir, "back")))
	if b, _ := os.ReadFile(filepath.Join(dir, "back")); string(b) != "weights" {
		t.Fatalf("download %q", b)
	}
}

func TestGoroutinesLogWithoutLosingPoints(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "g.db"))
	defer s.Close()
	run, err := s.StartRun("goroutines", "")
	check(t, err)
	const workers, points = 8, 2000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			key, err := run.MetricKey("hot")
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < points; i++ {
				if err := key.Log(float64(w), int64(w*points+i)); err != nil {
					errs <- err
					return
				}
				if err := run.LogMetric(fmt.Sprintf("w%d", w), float64(i), int64(i)); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	check(t, run.End(mlops.RunFinished))
	h, err := s.MetricHistory(run.ID(), "hot")
	check(t, err)
	if len(h) != workers*points {
		t.Fatalf("%d points, want %d", len(h), workers*points)
	}
	steps := make([]int, len(h))
	for i, p := range h {
		steps[i] = int(p.Step)
		if int(p.Value) != steps[i]/points {
			t.Fatalf("point %+v", p)
		}
	}
	sort.Ints(steps)
	for i, st := range steps {
		if st != i {
			t.Fatalf("step %d missing", i)
		}
	}
}

func TestBusyWhenTheBufferIsFull(t *testing.T) {
	s := openWith(t, filepath.Join(t.TempDir(), "b.db"),
		&mlops.StoreOptions{OnFull: mlops.OnFullBusy, BufferCapacity: 4, FlushInterval: 60e9})
	defer s.Close()
	run, err := s.StartRun("", "")
	check(t, err)
	n := 0
	for ; n < 1000000; n++ {
		if err = run.LogMetric("m", float64(n), int64(n)); err != nil {
			break
		}
	}
	wantErr(t, err, mlops.ErrBusy, "full")
	check(t, run.Close())
	h, err := s.MetricHistory(run.ID(), "m")
	check(t, err)
	if len(h) != n {
		t.Fatalf("%d points stored, %d accepted", len(h), n)
	}
}

func TestRegistry(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	src := filepath.Join(dir, "model.onnx")
	check(t, os.WriteFile(src, []byte("weights"), 0o644))
	alice := openWith(t, db, &mlops.StoreOptions{Actor: "alice"})
	defer alice.Close()
	bob := openWith(t, db, &mlops.StoreOptions{Actor: "bob"})
	defer bob.Close()
	reg, review := alice.Registry(), bob.Registry()
	check(t, reg.CreateModel("fraud", "detector"))
	wantErr(t, reg.CreateModel("fraud", ""), mlops.ErrAlreadyExists, "fraud")
	v1, err := reg.CreateVersion("fraud", src, "")
	check(t, err)
	v2, err := reg.CreateVersion("fraud", "s3://b/2", "")
	check(t, err)
	if v1 != 1 || v2 != 2 {
		t.Fatalf("versions %d %d", v1, v2)
	}
	check(t, reg.ProtectAlias("fraud", "production", true))
	wantErr(t, reg.SetAlias("fraud", "production", v1), mlops.ErrPermissionDenied, "production")
	wantErr(t, reg.SetValidation("fraud", v1, mlops.ValidationApproved), mlops.ErrPermissionDenied, "")
	check(t, review.SetValidation("fraud", v1, mlops.ValidationApproved))
	check(t, reg.SetAlias("fraud", "production", v1))

	mv, err := review.Resolve("fraud@production") // the other handle
	check(t, err)
	if mv.Name != "fraud" || mv.Version != 1 || mv.Source != src || mv.Size != 7 || len(mv.SHA256) != 64 ||
		mv.Creator != "alice" || mv.Validation != mlops.ValidationApproved || mv.Status != mlops.VersionReady {
		t.Fatalf("resolved %+v", mv)
	}
	if ch, err := reg.Changed("fraud@production", mv); err != nil || ch {
		t.Fatalf("changed %v %v", ch, err)
	}
	check(t, review.SetValidation("fraud", v2, mlops.ValidationApproved))
	check(t, reg.SetAlias("fraud", "production", v2))
	if ch, err := review.Changed("fraud@production", mv); err != nil || !ch {
		t.Fatalf("changed after move %v %v", ch, err)
	}
	check(t, reg.RollbackAlias("fraud", "production"))
	if v, err := review.Resolve("fraud@production"); err != nil || v.Version != 1 {
		t.Fatalf("after rollback %+v %v", v, err)
	}
	wantErr(t, reg.RollbackAlias("fraud", "nothing"), mlops.ErrInvalidState, "")
	mv.Close()
	_, err = reg.Changed("fraud@production", mv)
	wantErr(t, err, mlops.ErrInvalidState, "closed")
	_, err = reg.Resolve("fraud@staging")
	wantErr(t, err, mlops.ErrNotFound, "")
	check(t, reg.Verify("fraud", v1))
	check(t, os.WriteFile(src, []byte("tampered"), 0o644))
	wantErr(t, reg.Verify("fraud", v1), mlops.ErrCorrupt, "")

	check(t, reg.SetCard("fraud", v1, mlops.Card{IntendedUse: "scoring", RiskTier: mlops.RiskHigh}))
	check(t, reg.SetCardMetric("fraud", v1, "auc", 0.9))
	card, err := reg.Card("fraud", v1)
	check(t, err)
	if card["intended_use"] != "scoring" || card["risk_tier"] != "high" {
		t.Fatalf("card %v", card)
	}
	audit, err := reg.Audit("fraud")
	check(t, err)
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Action)
	}
	if len(audit) < 6 || audit[0].Action != "model.create" || audit[0].Actor != "alice" {
		t.Fatalf("audit %v", actions)
	}
	names, err := reg.Models("")
	check(t, err)
	if len(names) != 1 || names[0] != "fraud" {
		t.Fatalf("models %v", names)
	}
	m, err := reg.Model("fraud")
	check(t, err)
	if m.LastVersion != 2 || m.Description != "detector" {
		t.Fatalf("model %+v", m)
	}
}

func TestPool(t *testing.T) {
	p, err := mlops.NewPool(&mlops.PoolOptions{Device: -1, MaxBytes: 1 << 20, ChunkBytes: 1 << 20})
	check(t, err)
	if p.Backend() != mlops.BackendHost {
		t.Fatalf("backend %v", p.Backend())
	}
	a, err := p.Alloc(1000, nil)
	check(t, err)
	if uintptr(a)%256 != 0 {
		t.Fatalf("alignment %p", a)
	}
	b := unsafe.Slice((*byte)(a), 1000)
	b[999] = 7 // host backend: real memory
	_, err = p.Alloc(1<<20, nil)
	wantErr(t, err, mlops.ErrLimitExceeded, "max_bytes")
	st, err := p.Stats()
	check(t, err)
	if st.BytesInUse != 1024 || st.BytesRequested != 1000 || st.OOMCount != 1 || st.BytesReserved != 1<<20 {
		t.Fatalf("stats %+v", st)
	}
	check(t, p.Free(a, nil))
	if st, err = p.Stats(); err != nil || st.BytesCached != 1024 || st.BytesInUse != 0 {
		t.Fatalf("the freed block is kept in the thread cache: %+v %v", st, err)
	}
	wantErr(t, p.Free(a, nil), mlops.ErrInvalidArgument, "")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				q, err := p.Alloc(uint64(64+i), nil)
				if err == nil {
					err = p.Free(q, nil)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if released, err := p.Trim(0); err != nil || released != 1<<20 {
		t.Fatalf("trim %d %v", released, err)
	}
	check(t, p.Close())
	_, err = p.Alloc(1, nil)
	wantErr(t, err, mlops.ErrInvalidState, "closed")
}

func TestPoolWithoutThreadCache(t *testing.T) {
	p, err := mlops.NewPool(&mlops.PoolOptions{Device: -1, ChunkBytes: 1 << 20, NoThreadCache: true})
	check(t, err)
	defer p.Close()
	a, err := p.Alloc(33000, nil) // 256-byte rounding only: 33024, not the class size 36864
	check(t, err)
	st, err := p.Stats()
	check(t, err)
	if st.BytesInUse != 33024 {
		t.Fatalf("stats %+v", st)
	}
	check(t, p.Free(a, nil))
	if st, err = p.Stats(); err != nil || st.BytesCached != 0 || st.LargestFreeBlock != 1<<20 {
		t.Fatalf("freed straight into the pool: %+v %v", st, err)
	}
}

func series(n int, f func(float64) float64, scale, shift float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = scale*f(float64(i)) + shift
	}
	return xs
}

func TestDriftAgainstScipy(t *testing.T) {
	// Golden values: scipy.stats.ks_2samp(np.sin(np.arange(n)*0.7)*2, np.cos(np.arange(m)*0.3)*1.5+shift)
	sin07 := func(i float64) float64 { return math.Sin(i * 0.7) }
	cos03 := func(i float64) float64 { return math.Cos(i * 0.3) }
	for _, c := range []struct {
		n, m        int
		shift, d, p float64
	}{
		{300, 250, 0.2, 0.26, 1.3685145173071567e-08},
		{12000, 11000, 0.05, 0.24183333333333334, 6.303740625584555e-296},
	} {
		ref, cur := series(c.n, sin07, 2, 0), series(c.m, cos03, 1.5, c.shift)
		d, p, err := mlops.KS(ref, cur)
		check(t, err)
		if math.Abs(d-c.d) > 1e-12 || math.Abs(p-c.p) > 1e-6*c.p {
			t.Fatalf("KS(%d,%d) = %v %v, scipy %v %v", c.n, c.m, d, p, c.d, c.p)
		}
	}
	ref, cur := series(300, sin07, 2, 0), series(250, cos03, 1.5, 0.2)
	w, err := mlops.Wasserstein(ref, cur, false, nil)
	check(t, err)
	if math.Abs(w-0.33825961116515113) > 1e-12 {
		t.Fatalf("wasserstein %v", w)
	}
	r, err := mlops.KSEx(append(ref, math.NaN()), cur, &mlops.DriftOptions{Alternative: mlops.Greater})
	check(t, err)
	if r.NaNRef != 1 || r.NRef != 300 || !r.Exact {
		t.Fatalf("ks_ex %+v", r)
	}
	_, err = mlops.KSEx(append(ref, math.NaN()), cur, &mlops.DriftOptions{NaNPolicy: mlops.NaNReject, Feature: "age"})
	wantErr(t, err, mlops.ErrInvalidArgument, "age")
	psi, err := mlops.PSI(ref, cur, 10)
	check(t, err)
	same, err := mlops.PSI(ref, ref, 10)
	check(t, err)
	fixed, err := mlops.PSIEx(ref, cur, &mlops.DriftOptions{Binning: mlops.BinsFixed, Edges: []float64{-1, 0, 1}})
	check(t, err)
	if psi <= 0.1 || math.Abs(same) > 1e-12 || fixed <= 0 {
		t.Fatalf("psi %v %v %v", psi, same, fixed)
	}
	_, err = mlops.PSIEx(ref, cur, &mlops.DriftOptions{Binning: mlops.BinsFixed, Edges: []float64{1, 0}})
	wantErr(t, err, mlops.ErrInvalidArgument, "")
	_, _, err = mlops.KS(nil, cur)
	wantErr(t, err, mlops.ErrInvalidArgument, "")
	js, err := mlops.JensenShannon(ref, cur, &mlops.DriftOptions{JSBase: 2})
	check(t, err)
	stat, pv, unseen, err := mlops.ChiSquare([]float64{1, 1, 2, 2, 3}, []float64{1, 2, 3, 4, 4}, nil)
	check(t, err)
	mr, err := mlops.MissingRate([]float64{1, math.NaN(), 3, math.NaN()})
	check(t, err)
	adj, err := mlops.Correct([]float64{0.01, 0.04, 0.03}, mlops.CorrectBonferroni)
	check(t, err)
	if js <= 0 || js >= 1 || stat <= 0 || pv > 1 || unseen != 1 || mr != 0.5 ||
		math.Abs(adj[0]-0.03) > 1e-15 || math.Abs(adj[1]-0.12) > 1e-15 {
		t.Fatalf("js %v chi2 %v %v %v missing %v adjusted %v", js, stat, pv, unseen, mr, adj)
	}
	// Concurrent goroutines on shared read-only slices (no copy, no race).
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if d, _, err := mlops.KS(ref, cur); err != nil || d != 0.26 {
					t.Errorf("KS %v %v", d, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
