package mlops_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mlops "libmlops/bindings/go"
)

// The test binary doubles as helper processes (lock holder, unprivileged opener).
func TestMain(m *testing.M) {
	switch os.Getenv("MLOPS_TEST_HELPER") {
	case "lock":
		os.Exit(holdLock(os.Getenv("MLOPS_TEST_PATH")))
	case "open":
		_, err := mlops.Open(os.Getenv("MLOPS_TEST_PATH"))
		var e *mlops.Error
		if errors.As(err, &e) {
			fmt.Printf("code %d: %s\n", e.Code, e.Message)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holdLock takes SQLite's exclusive lock on a rollback-journal database (a write lock on
// the PENDING, RESERVED and SHARED bytes at 1 GiB) until stdin closes.
func holdLock(path string) int {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 1
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0x40000000, Len: 512}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		return 1
	}
	fmt.Println("locked")
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
	return 0
}

func mustOpen(t *testing.T, uri string) *mlops.Store {
	t.Helper()
	s, err := mlops.Open(uri)
	if err != nil {
		t.Fatalf("Open(%q): %v", uri, err)
	}
	return s
}

func wantErr(t *testing.T, err error, sentinel *mlops.Error, substr string) *mlops.Error {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want %v", err, sentinel)
	}
	var e *mlops.Error
	if !errors.As(err, &e) || e.Code != sentinel.Code || !strings.Contains(e.Message, substr) {
		t.Fatalf("got %#v, want code %d and a message containing %q", err, sentinel.Code, substr)
	}
	for _, other := range allSentinels {
		if other != sentinel && errors.Is(err, other) {
			t.Fatalf("%v also matches %v", err, other)
		}
	}
	return e
}

var allSentinels = []*mlops.Error{
	mlops.ErrInvalidArgument, mlops.ErrOutOfMemory, mlops.ErrNotFound, mlops.ErrAlreadyExists,
	mlops.ErrIO, mlops.ErrBusy, mlops.ErrCorrupt, mlops.ErrUnsupported, mlops.ErrNetwork,
	mlops.ErrInvalidState, mlops.ErrLimitExceeded, mlops.ErrVersionMismatch, mlops.ErrPermissionDenied,
}

func TestVersionAndFeatures(t *testing.T) {
	var major, minor, patch int
	if _, err := fmt.Sscanf(mlops.Version(), "%d.%d.%d", &major, &minor, &patch); err != nil {
		t.Fatalf("Version() = %q: %v", mlops.Version(), err)
	}
	if n := mlops.VersionNumber(); n != major*10000+minor*100+patch || n < mlops.HeaderVersion {
		t.Fatalf("VersionNumber() = %d, Version() = %s, headers %d", n, mlops.Version(), mlops.HeaderVersion)
	}
	f := mlops.Features()
	if f&^(mlops.FeatureCUDA|mlops.FeatureGPU|mlops.FeatureRemote) != 0 {
		t.Fatalf("unknown feature bits %#x", uint(f))
	}
	if f.Has(mlops.FeatureGPU) && !f.Has(mlops.FeatureCUDA) {
		t.Fatal("GPU usable without CUDA built in")
	}
}

func TestRunTimeVersionCheck(t *testing.T) {
	if err := mlops.CheckLoaded(mlops.HeaderVersion); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int{mlops.HeaderVersion - 1, 10000, 20000} {
		wantErr(t, mlops.CheckLoaded(v), mlops.ErrVersionMismatch, "built against")
	}
}

func TestCodes(t *testing.T) {
	seen := map[mlops.Code]bool{}
	for i, s := range allSentinels {
		if s.Code != mlops.Code(-1-i) || seen[s.Code] {
			t.Fatalf("sentinel %d has code %d", i, s.Code)
		}
		seen[s.Code] = true
		if s.Code.String() == mlops.Code(-1000).String() {
			t.Fatalf("code %d has no text", s.Code)
		}
	}
	e := &mlops.Error{Code: mlops.CodeNotFound, Message: "model x"}
	if !errors.Is(fmt.Errorf("wrapped: %w", e), mlops.ErrNotFound) || errors.Is(e, mlops.ErrIO) {
		t.Fatal("errors.Is does not follow the code")
	}
	if e.Error() != "mlops: model x [not found]" {
		t.Fatalf("Error() = %q", e.Error())
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt.db")
	s := mustOpen(t, path)
	if s.URI() != path {
		t.Fatalf("URI() = %q", s.URI())
	}
	v, err := s.SchemaVersion()
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion() = %d, %v", v, err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wantErr(t, s.Flush(), mlops.ErrInvalidState, "closed")
	if _, err := s.SchemaVersion(); !errors.Is(err, mlops.ErrInvalidState) {
		t.Fatalf("SchemaVersion after Close: %v", err)
	}
	// The file is a real SQLite database (header), a libmlops store at that version.
	hdr := readHeader(t, path)
	if !bytes.HasPrefix(hdr, []byte("SQLite format 3\x00")) || int(binary.BigEndian.Uint32(hdr[60:])) != v {
		t.Fatalf("header: %q, user_version %d", hdr[:16], binary.BigEndian.Uint32(hdr[60:]))
	}
	r, err := mlops.OpenWithOptions("sqlite:///"+path, &mlops.StoreOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if v2, _ := r.SchemaVersion(); v2 != v {
		t.Fatalf("reopened at %d, want %d", v2, v)
	}
}

func TestDefaultURI(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MLOPS_TRACKING_URI", filepath.Join(dir, "env.db"))
	s := mustOpen(t, "")
	if s.URI() != filepath.Join(dir, "env.db") {
		t.Fatalf("URI() = %q", s.URI())
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "env.db")); err != nil {
		t.Fatal(err)
	}
}

func readHeader(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 100 {
		t.Fatalf("read %s: %v (%d bytes)", path, err, len(b))
	}
	return b[:100]
}

// patchHeader rewrites a 4-byte big-endian field of a closed store's SQLite header.
func patchHeader(t *testing.T, path string, offset int, value uint32) {
	t.Helper()
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatalf("%s-wal still exists after close", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint32(b[offset:], value)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func closedStore(t *testing.T, name string) string {
	path := filepath.Join(t.TempDir(), name)
	mustOpen(t, path).Close()
	return path
}

func TestErrInvalidArgument(t *testing.T) {
	dir := t.TempDir()
	_, err := mlops.OpenWithOptions(filepath.Join(dir, "a.db"), &mlops.StoreOptions{Durability: 7})
	wantErr(t, err, mlops.ErrInvalidArgument, "durability 7")
	_, err = mlops.OpenWithOptions(filepath.Join(dir, "a.db"), &mlops.StoreOptions{OnFull: 9})
	wantErr(t, err, mlops.ErrInvalidArgument, "on_full 9")
	_, err = mlops.Open("sqlite:///")
	wantErr(t, err, mlops.ErrInvalidArgument, "names no file")
	_, err = mlops.OpenWithOptions(filepath.Join(dir, "a.db"), &mlops.StoreOptions{BusyTimeout: -time.Second})
	wantErr(t, err, mlops.ErrInvalidArgument, "BusyTimeout")
	_, err = mlops.OpenWithOptions(filepath.Join(dir, "a.db"), &mlops.StoreOptions{BufferCapacity: -1})
	wantErr(t, err, mlops.ErrInvalidArgument, "BufferCapacity")
	// An SQLite file of another program (application_id not ours).
	path := closedStore(t, "foreign.db")
	patchHeader(t, path, 68, 0x12345678)
	_, err = mlops.Open(path)
	wantErr(t, err, mlops.ErrInvalidArgument, "not a libmlops store")
}

func TestErrNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := mlops.OpenWithOptions(path, &mlops.StoreOptions{ReadOnly: true})
	wantErr(t, err, mlops.ErrNotFound, "does not exist")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a read-only open created the file")
	}
}

func TestErrIO(t *testing.T) {
	_, err := mlops.Open(filepath.Join(t.TempDir(), "no-such-dir", "x.db"))
	wantErr(t, err, mlops.ErrIO, "no-such-dir")
}

func TestErrCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	junk := bytes.Repeat([]byte("not an SQLite file "), 300)
	os.WriteFile(path, junk, 0o644)
	_, err := mlops.Open(path)
	wantErr(t, err, mlops.ErrCorrupt, "not a database")
	if b, _ := os.ReadFile(path); !bytes.Equal(b, junk) {
		t.Fatal("the file was changed")
	}
}

func TestErrVersionMismatch(t *testing.T) {
	path := closedStore(t, "future.db")
	patchHeader(t, path, 60, 99) // PRAGMA user_version
	_, err := mlops.Open(path)
	wantErr(t, err, mlops.ErrVersionMismatch, "schema version 99")
	_, err = mlops.OpenVersion(filepath.Join(t.TempDir(), "x.db"), nil, 99)
	wantErr(t, err, mlops.ErrVersionMismatch, "mlops_store_options")
}

func TestErrUnsupported(t *testing.T) {
	_, err := mlops.Open("ftp://example.invalid/x.db")
	wantErr(t, err, mlops.ErrUnsupported, "unknown scheme")
}

func TestErrInvalidState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	os.WriteFile(path, nil, 0o644)
	_, err := mlops.OpenWithOptions(path, &mlops.StoreOptions{ReadOnly: true})
	wantErr(t, err, mlops.ErrInvalidState, "needs migrating")
}

func TestErrBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MLOPS_TEST_HELPER=lock", "MLOPS_TEST_PATH="+path)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	buf := make([]byte, 7)
	if n, _ := out.Read(buf); string(buf[:n]) != "locked\n" {
		t.Fatalf("helper said %q", buf[:n])
	}
	start := time.Now()
	_, err := mlops.OpenWithOptions(path, &mlops.StoreOptions{BusyTimeout: 50 * time.Millisecond})
	wantErr(t, err, mlops.ErrBusy, "locked")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("busy timeout of 50ms took %v", d)
	}
}

func TestErrPermissionDenied(t *testing.T) {
	// A store file the user may read but not write. Root bypasses file modes, so as root
	// a copy of this test binary opens it as nobody.
	dir, err := os.MkdirTemp("", "mlops-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "s.db")
	mustOpen(t, path).Close()
	os.Chmod(path, 0o444)
	if os.Geteuid() != 0 {
		_, err := mlops.Open(path)
		wantErr(t, err, mlops.ErrPermissionDenied, "not writable")
		return
	}
	self, _ := os.Executable()
	exe := filepath.Join(dir, "helper")
	b, err := os.ReadFile(self)
	if err != nil || os.WriteFile(exe, b, 0o755) != nil {
		t.Fatal("cannot copy the test binary")
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "MLOPS_TEST_HELPER=open", "MLOPS_TEST_PATH="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("cannot run as nobody: %v %s", err, got)
	}
	want := fmt.Sprintf("code %d:", mlops.CodePermissionDenied)
	if !strings.HasPrefix(string(got), want) || !strings.Contains(string(got), "not writable") {
		t.Fatalf("as nobody: %q, want %q...", got, want)
	}
}

func TestMessagesArePerGoroutine(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				_, err := mlops.Open(filepath.Join(dir, fmt.Sprintf("dir%d", i), "x.db"))
				var e *mlops.Error
				if !errors.As(err, &e) || !strings.Contains(e.Message, fmt.Sprintf("dir%d/", i)) {
					errs <- fmt.Errorf("goroutine %d got %v", i, err)
					return
				}
				runtime.Gosched()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestConcurrentOpens(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared.db")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				s, err := mlops.Open(shared)
				if err != nil {
					errs <- err
					return
				}
				if v, err := s.SchemaVersion(); err != nil || v < 1 {
					errs <- fmt.Errorf("schema %d: %v", v, err)
				}
				if err := s.Close(); err != nil {
					errs <- err
				}
				own, err := mlops.Open(filepath.Join(dir, fmt.Sprintf("own-%d-%d.db", i, j)))
				if err != nil {
					errs <- err
					return
				}
				if err := own.Flush(); err != nil {
					errs <- err
				}
				own.Close()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "own-*.db")); len(m) != 80 {
		t.Fatalf("%d stores created, want 80", len(m))
	}
}

func TestOneStoreManyGoroutinesAndClose(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "s.db"))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				// Either it works, or the store was closed under it: never a crash.
				if err := s.Flush(); err != nil && !errors.Is(err, mlops.ErrInvalidState) {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func TestFinalizerIsASafetyNet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leak.db")
	func() { mustOpen(t, path) }() // dropped without Close
	for i := 0; i < 20; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		if _, err := os.Stat(path + "-wal"); os.IsNotExist(err) {
			break
		}
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatal("the finalizer did not close the store (WAL file still present)")
	}
}
