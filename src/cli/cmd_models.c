/* mlops models list|show|alias|approve|audit. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char *version_status(int s)
{
	return s == MLOPS_MODEL_VERSION_READY ? "READY" : s == MLOPS_MODEL_VERSION_PENDING_REGISTRATION
		? "PENDING_REGISTRATION" : "FAILED_REGISTRATION";
}

static const char *validation_name(int v)
{
	static const char *const names[] = { "NONE", "PENDING", "APPROVED", "REJECTED" };
	return v >= 0 && v <= 3 ? names[v] : "?";
}

static int parse_version(int64_t *out, const char *text)
{
	char *end;
	long long v = strtoll(text, &end, 10);

	if (text[0] == '\0' || *end != '\0' || v <= 0)
		return cli_usage_error("'%s' is not a version number (1, 2, ...)", text);
	*out = v;
	return CLI_OK;
}

/* Runs a change with an optional --reason (recorded in the audit trail). */
static int with_reason(cli *c, int min_args, int max_args, const char *usage, const char **reason)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*reason = NULL;
	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "r:", opts, NULL)) != -1) {
		if (opt != 'r')
			return CLI_USAGE;
		*reason = optarg;
	}
	int n = c->argc - optind;
	if (n < min_args || n > max_args)
		return cli_usage_error("usage: mlops models %s", usage);
	c->argv += optind - 1; /* argv[1..] are now the positional arguments */
	c->argc = n + 1;
	return CLI_OK;
}

static int finish(mlops_store *s, int rc, const char *what)
{
	if (rc < 0)
		rc = cli_fail(rc, what);
	mlops_store_close(s);
	return rc < 0 ? CLI_FAILED : rc;
}

static int models_list(cli *c)
{
	mlops_store *s;
	char **names;
	size_t n;
	int rc;

	if (c->argc > 2)
		return cli_usage_error("usage: mlops models list [PREFIX]");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	if ((rc = mlops_model_list(&names, &n, s, c->argc == 2 ? c->argv[1] : NULL)) < 0)
		return finish(s, rc, "models list");
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_string(names[i]));
		cli_print_json(a);
	} else {
		for (size_t i = 0; i < n; i++)
			puts(names[i]);
	}
	mlops_free(names);
	return finish(s, CLI_OK, NULL);
}

static json_t *version_json(const mlops_model_version *v)
{
	return json_pack("{s:I, s:s, s:s?, s:s, s:s, s:s, s:s?, s:I, s:I, s:s?}",
		"version", (json_int_t)mlops_model_version_number(v), "source", mlops_model_version_source(v),
		"run_id", mlops_model_version_run_id(v), "status", version_status(mlops_model_version_status(v)),
		"validation", validation_name(mlops_model_version_validation(v)),
		"creator", mlops_model_version_creator(v), "sha256", mlops_model_version_sha256(v),
		"size", (json_int_t)mlops_model_version_size(v), "created_ms", (json_int_t)mlops_model_version_created_ms(v),
		"description", mlops_model_version_description(v));
}

static int models_show(cli *c)
{
	mlops_store *s;
	mlops_model *m;
	int rc;

	if (c->argc != 2)
		return cli_usage_error("usage: mlops models show NAME");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	if ((rc = mlops_model_get(&m, s, c->argv[1])) < 0) {
		rc = cli_fail(rc, "models show");
		mlops_store_close(s);
		return rc;
	}
	json_t *versions = json_array();
	for (int64_t k = 1; k <= mlops_model_last_version(m); k++) {
		mlops_model_version *v;
		if (mlops_model_version_get(&v, s, c->argv[1], k) < 0)
			continue; /* deleted versions keep their number */
		json_array_append_new(versions, version_json(v));
		mlops_model_version_free(v);
	}
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:I, s:o}", "name", mlops_model_name(m),
			"description", mlops_model_description(m), "created_ms", (json_int_t)mlops_model_created_ms(m),
			"versions", versions));
	} else {
		size_t i;
		json_t *v;
		printf("model %s\n  description: %s\nversions:\n", mlops_model_name(m), mlops_model_description(m));
		printf("  %7s  %-20s  %-9s  %-10s  %s\n", "VERSION", "STATUS", "VALIDATION", "CREATOR", "SOURCE");
		json_array_foreach(versions, i, v) {
			printf("  %7" JSON_INTEGER_FORMAT "  %-20s  %-10s  %-10s  %s\n",
				json_integer_value(json_object_get(v, "version")),
				json_string_value(json_object_get(v, "status")),
				json_string_value(json_object_get(v, "validation")),
				json_string_value(json_object_get(v, "creator")),
				json_string_value(json_object_get(v, "source")));
		}
		json_decref(versions);
	}
	mlops_model_free(m);
	return finish(s, CLI_OK, NULL);
}

static int alias_set(cli *c)
{
	const char *reason;
	int64_t version = 0;
	mlops_store *s;
	int rc;

	if ((rc = with_reason(c, 3, 3, "alias set NAME ALIAS VERSION [--reason TEXT]", &reason)) != CLI_OK)
		return rc;
	if ((rc = parse_version(&version, c->argv[3])) != CLI_OK || (rc = cli_open_store(&s, c)) != CLI_OK)
		return rc;
	mlops_registry_reason(reason);
	return finish(s, mlops_model_alias_set(s, c->argv[1], c->argv[2], version), "alias set");
}

static int alias_delete(cli *c)
{
	const char *reason;
	mlops_store *s;
	int rc;

	if ((rc = with_reason(c, 2, 2, "alias delete NAME ALIAS [--reason TEXT]", &reason)) != CLI_OK ||
	    (rc = cli_open_store(&s, c)) != CLI_OK)
		return rc;
	mlops_registry_reason(reason);
	return finish(s, mlops_model_alias_delete(s, c->argv[1], c->argv[2]), "alias delete");
}

static int alias_rollback(cli *c)
{
	const char *reason;
	mlops_store *s;
	mlops_model_version *v;
	int rc;

	if ((rc = with_reason(c, 2, 2, "alias rollback NAME ALIAS [--reason TEXT]", &reason)) != CLI_OK ||
	    (rc = cli_open_store(&s, c)) != CLI_OK)
		return rc;
	mlops_registry_reason(reason);
	if ((rc = mlops_model_alias_rollback(s, c->argv[1], c->argv[2])) < 0)
		return finish(s, rc, "alias rollback");
	if (mlops_model_alias_get(&v, s, c->argv[1], c->argv[2]) == MLOPS_OK) {
		if (!c->json)
			printf("%s@%s -> version %" PRId64 "\n", c->argv[1], c->argv[2], mlops_model_version_number(v));
		else
			cli_print_json(json_pack("{s:s, s:s, s:I}", "model", c->argv[1], "alias", c->argv[2],
				"version", (json_int_t)mlops_model_version_number(v)));
		mlops_model_version_free(v);
	}
	return finish(s, CLI_OK, NULL);
}

static int alias_protect(cli *c)
{
	const char *reason;
	mlops_store *s;
	int rc;

	if ((rc = with_reason(c, 2, 2, "alias protect NAME ALIAS [--reason TEXT]", &reason)) != CLI_OK ||
	    (rc = cli_open_store(&s, c)) != CLI_OK)
		return rc;
	mlops_registry_reason(reason);
	return finish(s, mlops_model_alias_protect(s, c->argv[1], c->argv[2], 1), "alias protect");
}

static int models_alias(cli *c)
{
	static const cli_command cmds[] = {
		{ "set", "point ALIAS at VERSION (atomic; protected aliases need an APPROVED version)",
		  "set NAME ALIAS VERSION [--reason TEXT]", alias_set },
		{ "delete", "remove an alias", "delete NAME ALIAS [--reason TEXT]", alias_delete },
		{ "rollback", "move an alias back to its previous version", "rollback NAME ALIAS [--reason TEXT]", alias_rollback },
		{ "protect", "only APPROVED versions may take this alias from now on", "protect NAME ALIAS [--reason TEXT]", alias_protect },
	};
	return cli_dispatch(c, "models alias", cmds, sizeof cmds / sizeof cmds[0]);
}

static int models_approve(cli *c)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "reject", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL;
	int reject = 0, opt, rc;
	int64_t version = 0;
	mlops_store *s;

	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "r:x", opts, NULL)) != -1) {
		if (opt == 'r')
			reason = optarg;
		else if (opt == 'x')
			reject = 1;
		else
			return CLI_USAGE;
	}
	if (c->argc - optind != 2)
		return cli_usage_error("usage: mlops models approve NAME VERSION [--reject] [--reason TEXT]");
	if ((rc = parse_version(&version, c->argv[optind + 1])) != CLI_OK || (rc = cli_open_store(&s, c)) != CLI_OK)
		return rc;
	mlops_registry_reason(reason);
	return finish(s, mlops_model_version_set_validation(s, c->argv[optind], version,
		reject ? MLOPS_VALIDATION_REJECTED : MLOPS_VALIDATION_APPROVED), "approve");
}

static int models_audit(cli *c)
{
	mlops_audit_entry *e;
	mlops_store *s;
	size_t n;
	int rc;

	if (c->argc > 2)
		return cli_usage_error("usage: mlops models audit [NAME]");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	if ((rc = mlops_model_audit(&e, &n, s, c->argc == 2 ? c->argv[1] : NULL)) < 0)
		return finish(s, rc, "audit");
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				"id", (json_int_t)e[i].id, "timestamp_ms", (json_int_t)e[i].timestamp_ms,
				"actor", e[i].actor, "model", e[i].model, "action", e[i].action, "target", e[i].target,
				"from", e[i].from, "to", e[i].to, "reason", e[i].reason));
		cli_print_json(a);
	} else {
		printf("%-19s  %-10s  %-16s  %-16s  %-14s  %s\n", "WHEN (UTC)", "ACTOR", "MODEL", "ACTION", "TARGET", "FROM -> TO  (REASON)");
		for (size_t i = 0; i < n; i++) {
			char when[32];
			cli_format_time(when, sizeof when, e[i].timestamp_ms);
			printf("%-19s  %-10s  %-16s  %-16s  %-14s  %s -> %s%s%s%s\n", when, e[i].actor, e[i].model,
				e[i].action, e[i].target, e[i].from[0] ? e[i].from : "-", e[i].to[0] ? e[i].to : "-",
				e[i].reason[0] ? "  (" : "", e[i].reason, e[i].reason[0] ? ")" : "");
		}
	}
	mlops_free(e);
	return finish(s, CLI_OK, NULL);
}

int cmd_models(cli *c)
{
	static const cli_command cmds[] = {
		{ "list", "registered models", "list [PREFIX]", models_list },
		{ "show", "a model and its versions", "show NAME", models_show },
		{ "alias", "set, delete, roll back or protect an alias", "alias set|delete|rollback|protect ...", models_alias },
		{ "approve", "approve (or --reject) a version; the approver must not be its creator",
		  "approve NAME VERSION [--reject] [--reason TEXT]", models_approve },
		{ "audit", "the audit trail of one model or all", "audit [NAME]", models_audit },
	};
	return cli_dispatch(c, "models", cmds, sizeof cmds / sizeof cmds[0]);
}
