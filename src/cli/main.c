/*
 * mlops — the command-line tool over libmlops.
 *   mlops [--store URI] [--json] <command> [args]     (mlops --help lists the commands)
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const cli_command commands[] = {
	{ "version", "print the library version and what this build can do", "version", cmd_version },
	{ "store",   "the store: info, check", "store info|check", cmd_store },
	{ "runs",    "runs: list, show, search", "runs list|show|search", cmd_runs },
	{ "metrics", "a metric's history: mlops metrics RUN_ID KEY [--max-points N]", "metrics", cmd_metrics },
	{ "models",  "the registry: list, show, alias, approve, audit", "models ...", cmd_models },
	{ "drift",   "drift profile build | drift compare (exit 4 on drift)", "drift ...", cmd_drift },
	{ "sync",    "send what waits in an MLflow store's spool", "sync", cmd_sync },
	{ "report",  "write an HTML report of runs and models: report RUN|MODEL... -o FILE", "report", cmd_report },
	{ "gpu",     "gpu info: the allocator's backend here", "gpu info", cmd_gpu },
};

static void help(FILE *out)
{
	fputs("usage: mlops [--store URI] [--json] <command> [args]\n\n"
		"  --store URI   the store (default: $MLOPS_TRACKING_URI, $MLFLOW_TRACKING_URI, mlops.db)\n"
		"  --json        machine-readable output\n"
		"  --actor NAME  who makes registry changes (default: $USER)\n\ncommands:\n", out);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nexit codes: 0 ok, 1 failed, 2 bad usage, 3 not found, 4 drift detected\n", out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "actor", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli c = { 0 };
	int opt;

	/* "+": stop at the first non-option, the command; its own options are its business. */
	while ((opt = getopt_long(argc, argv, "+s:ja:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': c.store_uri = optarg; break;
		case 'j': c.json = 1; break;
		case 'a': c.actor = optarg; break;
		case 'h': help(stdout); return CLI_OK;
		default: help(stderr); return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return CLI_USAGE;
	}
	c.argc = argc - optind;
	c.argv = argv + optind;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(c.argv[0], commands[i].name) == 0)
			return commands[i].run(&c);
	}
	return cli_usage_error("unknown command '%s' (see 'mlops --help')", c.argv[0]);
}
