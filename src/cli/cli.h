/*
 * The mlops command-line tool: shared pieces. The tool is a client of the public API only
 * (include/mlops/); it never includes anything from src/.
 */
#ifndef MLOPS_CLI_H
#define MLOPS_CLI_H

#include <jansson.h>
#include <stdio.h>

#include <mlops/mlops.h>

/* Exit codes, stable for scripts. */
#define CLI_OK        0 /* success */
#define CLI_FAILED    1 /* the operation failed (the message says why) */
#define CLI_USAGE     2 /* bad command line */
#define CLI_NOTFOUND  3 /* the named run, model, version or key does not exist */
#define CLI_DRIFT     4 /* `drift compare`: drift was detected */

/* What every command receives: the global options and its own arguments. */
typedef struct cli {
	const char *store_uri;  /* --store, else NULL: $MLOPS_TRACKING_URI, ... as the library does */
	int json;               /* --json: machine-readable output on stdout */
	const char *actor;      /* --actor: who makes registry changes, else $USER */
	int argc;               /* the command's arguments, argv[0] being the command's name */
	char **argv;
} cli;

typedef struct cli_command {
	const char *name;
	const char *summary;
	const char *usage;      /* shown by `mlops <name> --help` */
	int (*run)(cli *c);
} cli_command;

/* Prints "mlops: <message>" to stderr; returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

/* Reports a failed library call ("mlops: <what>: <errmsg>") and maps its code to an exit code. */
int cli_fail(int code, const char *what);

/* Opens the store named by --store (or the defaults). Reports failures itself. */
int cli_open_store(mlops_store **out, const cli *c);

/*
 * The same for a command that only reads: a missing store is not created (exit 3, "no store
 * at ..."), and one this process cannot write (a read-only mount) is opened read-only.
 */
int cli_open_store_to_read(mlops_store **out, const cli *c);

/* Prints j as indented JSON on stdout and frees it; returns CLI_OK. */
int cli_print_json(json_t *j);

/* A double as JSON: a number, or "NaN", "Infinity", "-Infinity" (JSON has no such numbers). */
json_t *cli_json_number(double v);

/* Parses a non-negative integer option value; reports a usage error naming the option. */
int cli_parse_size(size_t *out, const char *text, const char *option);

/* "YYYY-mm-dd HH:MM:SS" (UTC) of a time in ms since the epoch, "-" for 0. */
void cli_format_time(char *buf, size_t n, int64_t ms);

/* A run snapshot as JSON (attributes, params, tags, latest metrics). */
json_t *cli_run_json(const mlops_run_info *ri);

/* True when argv asks for help (-h or --help anywhere). */
int cli_wants_help(int argc, char **argv);

/* Runs the subcommand of a group: argv[0] is the group, argv[1] the subcommand. */
int cli_dispatch(cli *c, const char *group, const cli_command *cmds, size_t n);

#endif
