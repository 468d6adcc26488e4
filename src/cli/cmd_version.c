/* mlops version, mlops store info. */
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

static int store_info(cli *c)
{
	mlops_store *s;
	int rc;

	if (c->argc > 1)
		return cli_usage_error("store info takes no arguments");
	if ((rc = cli_open_store(&s, c)) != CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:i}", "uri", mlops_store_uri(s),
			"schema_version", mlops_store_schema_version(s)));
	else
		printf("store: %s\nschema version: %d\n", mlops_store_uri(s), mlops_store_schema_version(s));
	if ((rc = mlops_store_close(s)) < 0)
		return cli_fail(rc, "closing the store");
	return CLI_OK;
}

int cmd_store(cli *c)
{
	static const cli_command cmds[] = {
		{ "info", "where the store is and its schema version", "info", store_info },
	};
	return cli_dispatch(c, "store", cmds, sizeof cmds / sizeof cmds[0]);
}
