/* Opens the default store (mlops.db, or $MLOPS_TRACKING_URI) and says what this libmlops can do. */
#include <stdio.h>

#include <mlops/mlops.h>

int main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : NULL;
	mlops_store *store;
	unsigned f = mlops_features();

	printf("libmlops %s (headers %s)\n", mlops_version_string(), MLOPS_VERSION_STRING);
	printf("features: cuda=%s gpu=%s remote=%s\n",
		f & MLOPS_FEATURE_CUDA ? "yes" : "no",
		f & MLOPS_FEATURE_GPU ? "yes" : "no",
		f & MLOPS_FEATURE_REMOTE ? "yes" : "no");
	if (mlops_store_open(&store, uri, NULL) < 0) {
		fprintf(stderr, "cannot open store: %s\n", mlops_errmsg());
		return 1;
	}
	printf("store: %s (schema version %d)\n", mlops_store_uri(store), mlops_store_schema_version(store));
	return mlops_store_close(store) < 0;
}
