// Command track tracks a run, registers the model it produced, stores a drift profile with it
// and checks serving data against that profile.
//
// From a checkout, after `make build`:
//
//	cd examples/go && PKG_CONFIG_PATH=$PWD/../../build go run ./track [store.db]
package main

import (
	"errors"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	mlops "libmlops/bindings/go"
)

func main() {
	uri := filepath.Join(os.TempDir(), fmt.Sprintf("mlops-example-%d.db", os.Getpid()))
	if len(os.Args) > 1 {
		uri = os.Args[1]
	}
	store, err := mlops.Open(uri)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	run, err := store.StartRun("fraud", "xgb-baseline")
	if err != nil {
		log.Fatal(err)
	}
	if err := run.LogParam("max_depth", "6"); err != nil {
		log.Fatal(err)
	}
	loss, err := run.MetricKey("loss") // resolved once for the training loop
	if err != nil {
		log.Fatal(err)
	}
	for step := int64(0); step < 100; step++ {
		if err := loss.Log(1/float64(step+1), step); err != nil {
			log.Fatal(err)
		}
	}
	model := uri + ".model"
	if err := os.WriteFile(model, []byte("trained weights"), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := run.End(mlops.RunFinished); err != nil {
		log.Fatal(err)
	}
	points, err := store.MetricHistory(run.ID(), "loss")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("run %s: %d loss points\n", run.ID(), len(points))

	reg := store.Registry()
	if err := reg.CreateModel("fraud", "fraud detector"); err != nil && !errors.Is(err, mlops.ErrAlreadyExists) {
		log.Fatal(err)
	}
	version, err := reg.CreateVersion("fraud", model, run.ID())
	if err != nil {
		log.Fatal(err)
	}
	if err := reg.SetAlias("fraud", "candidate", version); err != nil {
		log.Fatal(err)
	}
	mv, err := reg.Resolve("fraud@candidate")
	if err != nil {
		log.Fatal(err)
	}
	defer mv.Close()
	fmt.Printf("fraud@candidate -> version %d (%s, sha256 %s...)\n", mv.Version, mv.Source, mv.SHA256[:12])

	// drift: a profile of the training data stored with the version, compared with serving data
	names := []string{"amount", "age"}
	reference, current := make([]float64, 5000*2), make([]float64, 2000*2) // rows x features
	for i := range reference {
		reference[i] = math.Sin(float64(i) * 0.7)
	}
	for i := range current {
		current[i] = math.Sin(float64(i)*0.7) + 0.3*float64(i%2) // "age" shifted
	}
	profile, err := mlops.BuildProfileFlat(reference, 5000, 2, names, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer profile.Close()
	if err := profile.Save(store, "fraud@candidate"); err != nil {
		log.Fatal(err)
	}
	report, err := mlops.Compare(profile, current, 2000, 2, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer report.Close()
	for _, f := range report.Features {
		fmt.Printf("drift %-6s PSI %.4f KS p=%.3g drifted=%v\n", f.Name, f.PSI, f.KSPValue, f.Drifted)
	}
}
