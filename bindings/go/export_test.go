package mlops

// Unexported pieces the tests drive directly.
var (
	OpenVersion = openStore   // open with a given mlops_store_options version
	CheckLoaded = checkLoaded // the run-time version check
)
