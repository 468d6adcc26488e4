/* mlops version. */
#include "cli.h"
#include "commands.h"

static json_t *features_json(void)
{
	unsigned f = mlops_features();

	return json_pack("{s:b, s:b, s:b}", "cuda", !!(f & MLOPS_FEATURE_CUDA),
		"gpu", !!(f & MLOPS_FEATURE_GPU), "remote", !!(f & MLOPS_FEATURE_REMOTE));
}

int cmd_version(cli *c)
{
	unsigned f = mlops_features();

	if (c->argc > 1)
		return cli_usage_error("version takes no arguments");
	if (c->json)
		return cli_print_json(json_pack("{s:s, s:i, s:o}", "version", mlops_version_string(),
			"version_number", mlops_version_number(), "features", features_json()));
	printf("mlops %s\ncuda: %s\ngpu: %s\nremote: %s\n", mlops_version_string(),
		f & MLOPS_FEATURE_CUDA ? "built in" : "not built",
		f & MLOPS_FEATURE_GPU ? "usable" : "none usable",
		f & MLOPS_FEATURE_REMOTE ? "built in" : "not built");
	return CLI_OK;
}
