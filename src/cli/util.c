/* Error reporting, store opening and JSON output shared by every command. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mlops: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return CLI_USAGE;
}

int cli_fail(int code, const char *what)
{
	fprintf(stderr, "mlops: %s: %s\n", what, mlops_errmsg()[0] ? mlops_errmsg() : mlops_strerror(code));
	return code == MLOPS_ENOTFOUND ? CLI_NOTFOUND : code == MLOPS_EINVAL ? CLI_USAGE : CLI_FAILED;
}

int cli_open_store(mlops_store **out, const cli *c)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	int rc;

	o.actor = c->actor;
	rc = mlops_store_open(out, c->store_uri, &o);

	return rc < 0 ? cli_fail(rc, "cannot open the store") : CLI_OK;
}

int cli_open_store_to_read(mlops_store **out, const cli *c)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	int rc;

	o.actor = c->actor;
	o.must_exist = 1;
	rc = mlops_store_open(out, c->store_uri, &o);
	if (rc == MLOPS_EPERM) {
		o.read_only = 1;
		rc = mlops_store_open(out, c->store_uri, &o);
	}
	return rc < 0 ? cli_fail(rc, "cannot open the store") : CLI_OK;
}

int cli_print_json(json_t *j)
{
	if (j == NULL)
		return cli_fail(MLOPS_ENOMEM, "cannot build the JSON output");
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
	return CLI_OK;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	return 0;
}

static void group_help(FILE *out, const char *group, const cli_command *cmds, size_t n)
{
	fprintf(out, "usage: mlops %s <command> [options]\n\ncommands:\n", group);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
}

int cli_dispatch(cli *c, const char *group, const cli_command *cmds, size_t n)
{
	if (c->argc < 2 || strcmp(c->argv[1], "-h") == 0 || strcmp(c->argv[1], "--help") == 0) {
		group_help(c->argc < 2 ? stderr : stdout, group, cmds, n);
		return c->argc < 2 ? CLI_USAGE : CLI_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(c->argv[1], cmds[i].name) != 0)
			continue;
		c->argc--;
		c->argv++;
		if (cli_wants_help(c->argc, c->argv)) {
			printf("usage: mlops %s %s\n", group, cmds[i].usage);
			return CLI_OK;
		}
		return cmds[i].run(c);
	}
	cli_usage_error("unknown command '%s %s' (see 'mlops %s --help')", group, c->argv[1], group);
	return CLI_USAGE;
}

json_t *cli_json_number(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

int cli_parse_size(size_t *out, const char *text, const char *option)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (text[0] == '\0' || text[0] == '-' || *end != '\0' || errno != 0 || v > SIZE_MAX)
		return cli_usage_error("%s needs a non-negative integer, not '%s'", option, text);
	*out = (size_t)v;
	return CLI_OK;
}
