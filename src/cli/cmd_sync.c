/* mlops sync: drains an MLflow store's spool on demand. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"

int cmd_sync(cli *c)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	size_t timeout = 60000;
	uint64_t pending = 0, rejected = 0;
	mlops_store *s;
	int opt, rc;

	if (cli_wants_help(c->argc, c->argv)) {
		printf("usage: mlops sync [--timeout MS]   (send what waits in an MLflow store's spool)\n");
		return CLI_OK;
	}
	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "t:", opts, NULL)) != -1) {
		if (opt != 't' || cli_parse_size(&timeout, optarg, "--timeout") != CLI_OK)
			return CLI_USAGE;
	}
	if (optind != c->argc || timeout > 86400000)
		return cli_usage_error("usage: mlops sync [--timeout MS]");
	if ((rc = cli_open_store(&s, c)) != CLI_OK)
		return rc;
	int sync_rc = mlops_store_sync(s, (unsigned)timeout);
	if (sync_rc < 0)
		cli_fail(sync_rc, "sync");
	mlops_store_backlog(&pending, &rejected, s);
	if (c->json)
		cli_print_json(json_pack("{s:b, s:I, s:I}", "synced", sync_rc == MLOPS_OK,
			"pending", (json_int_t)pending, "rejected", (json_int_t)rejected));
	else
		printf("%s: %" PRIu64 " writes waiting, %" PRIu64 " refused by the server\n",
			sync_rc == MLOPS_OK ? "synced" : "not synced", pending, rejected);
	mlops_store_close(s);
	return sync_rc < 0 ? CLI_FAILED : CLI_OK;
}
