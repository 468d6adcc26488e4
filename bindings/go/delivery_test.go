package mlops_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mlops "libmlops/bindings/go"
)

const serverRun = "5e7e75e7e75e7e75e7e75e7e75e7e75e"

// An MLflow server that has the experiment and makes runs, but answers 503 to every log-batch.
func overloadedMLflow(t *testing.T, batches *int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow/experiments/get-by-name"):
			w.Write([]byte(`{"experiment": {"experiment_id": "7", "name": "e"}}`))
		case strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow/runs/create"):
			w.Write([]byte(`{"run": {"info": {"run_id": "` + serverRun + `", "experiment_id": "7"}}}`))
		case strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow/runs/get"):
			w.Write([]byte(`{"run": {"info": {"run_id": "` + serverRun + `", "experiment_id": "7", "status": "RUNNING"}, "data": {}}}`))
		case strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow/runs/search"):
			w.Write([]byte(`{"runs": []}`))
		default:
			if strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow/runs/log-batch") {
				atomic.AddInt32(batches, 1)
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Close with writes still undelivered is an error matching ErrBusy that says where they wait;
// the run's MLflow id and UI page are known once the server made the run.
func TestCloseReportsUndeliveredWrites(t *testing.T) {
	var batches int32
	srv := overloadedMLflow(t, &batches)
	spool := filepath.Join(t.TempDir(), "spool.db")
	s, err := mlops.OpenWithOptions(srv.URL, &mlops.StoreOptions{SpoolPath: spool, CloseTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.StartRun("e", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := run.RemoteID(); err != nil && !errors.Is(err, mlops.ErrBusy) {
		t.Fatalf("RemoteID before delivery: %v, want nil or ErrBusy", err)
	}
	for i := 0; i < 300; i++ {
		if err := run.LogMetric("loss", 1/float64(i+1), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.End(mlops.RunFinished); err != nil {
		t.Fatal(err)
	}
	var id, url string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if id, url, err = run.RemoteID(); !errors.Is(err, mlops.ErrBusy) {
			break
		}
	}
	if err != nil || id != serverRun || url != srv.URL+"/#/experiments/7/runs/"+serverRun {
		t.Fatalf("RemoteID = %q, %q, %v", id, url, err)
	}
	if id == run.ID() {
		t.Fatal("the MLflow id is the local one")
	}
	pending, rejected, err := s.Backlog()
	if err != nil || pending < 300 || rejected != 0 {
		t.Fatalf("Backlog = %d, %d, %v", pending, rejected, err)
	}
	err = s.Close()
	if !errors.Is(err, mlops.ErrBusy) {
		t.Fatalf("Close = %v, want ErrBusy", err)
	}
	if !strings.Contains(err.Error(), "writes wait in the spool "+spool) || !strings.Contains(err.Error(), "mlops sync") {
		t.Fatalf("Close's message: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}

	// Nothing lost: the next store for that server finds every write.
	s, err = mlops.OpenWithOptions(srv.URL, &mlops.StoreOptions{SpoolPath: spool, CloseTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s.Backlog(); p != pending {
		t.Fatalf("the next store finds %d writes, want %d", p, pending)
	}
	if err := s.Close(); !errors.Is(err, mlops.ErrBusy) {
		t.Fatalf("Close = %v, want ErrBusy", err)
	}

	// A SQLite store has no remote id.
	local, err := mlops.Open(filepath.Join(t.TempDir(), "local.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	if _, _, err := local.RemoteID(strings.Repeat("0", 32)); !errors.Is(err, mlops.ErrUnsupported) {
		t.Fatalf("RemoteID on SQLite = %v, want ErrUnsupported", err)
	}
}
