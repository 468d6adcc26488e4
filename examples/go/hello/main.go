// Command hello opens the default store (mlops.db, or $MLOPS_TRACKING_URI) and says what this
// libmlops can do.
//
// From a checkout, after `make build`:
//
//	cd examples/go && PKG_CONFIG_PATH=$PWD/../../build go run ./hello
package main

import (
	"fmt"
	"os"

	mlops "libmlops/bindings/go"
)

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func main() {
	uri := ""
	if len(os.Args) > 1 {
		uri = os.Args[1]
	}
	f := mlops.Features()
	fmt.Printf("libmlops %s (headers %d)\n", mlops.Version(), mlops.HeaderVersion)
	fmt.Printf("features: cuda=%s gpu=%s remote=%s\n", yesNo(f.Has(mlops.FeatureCUDA)),
		yesNo(f.Has(mlops.FeatureGPU)), yesNo(f.Has(mlops.FeatureRemote)))
	store, err := mlops.Open(uri)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot open store:", err)
		os.Exit(1)
	}
	defer store.Close()
	v, err := store.SchemaVersion()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("store: %s (schema version %d)\n", store.URI(), v)
}
