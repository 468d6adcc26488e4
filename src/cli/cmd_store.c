/* mlops store info | check. */
#include <string.h>

#include "cli.h"
#include "commands.h"

static int store_info(cli *c)
{
	mlops_store *s;
	int rc;

	if (c->argc > 1)
		return cli_usage_error("store info takes no arguments");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
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

/* The findings as a JSON array of lines. */
static json_t *findings_json(const char *report)
{
	json_t *a = json_array();

	while (a != NULL && *report != '\0') {
		size_t n = strcspn(report, "\n");
		json_array_append_new(a, json_stringn(report, n));
		report += n + (report[n] == '\n');
	}
	return a;
}

static int store_check(cli *c)
{
	mlops_store *s;
	char *report = NULL;
	int rc, check_rc;

	if (c->argc > 1)
		return cli_usage_error("store check takes no arguments");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	check_rc = mlops_store_check(&report, s);
	if (check_rc < 0 && check_rc != MLOPS_ECORRUPT) {
		rc = cli_fail(check_rc, "store check");
		mlops_store_close(s);
		return rc == CLI_NOTFOUND ? CLI_FAILED : rc;
	}
	if (c->json)
		cli_print_json(json_pack("{s:s, s:b, s:o}", "uri", mlops_store_uri(s), "ok",
			check_rc == MLOPS_OK, "findings", check_rc == MLOPS_OK ? json_array() : findings_json(report)));
	else
		fputs(report, stdout);
	if (check_rc < 0)
		cli_fail(check_rc, "store check");
	mlops_free(report);
	mlops_store_close(s);
	return check_rc < 0 ? CLI_FAILED : CLI_OK;
}

int cmd_store(cli *c)
{
	static const cli_command cmds[] = {
		{ "info", "where the store is and its schema version", "info", store_info },
		{ "check", "look for damage: every page and the library's own records (exit 1 on findings)",
		  "check", store_check },
	};
	return cli_dispatch(c, "store", cmds, sizeof cmds / sizeof cmds[0]);
}
