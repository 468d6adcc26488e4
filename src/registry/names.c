/* Registry names and references: what MLflow accepts, checked before anything is written. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/util.h"
#include "registry/internal.h"

/* Code points of valid UTF-8 s (callers check validity first). */
static size_t code_points(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int reg_check_name(const char *name, const char *what)
{
	if (name == NULL)
		return mlops__error(MLOPS_EINVAL, "%s is NULL", what);
	if (name[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "%s is empty", what);
	if (!mlops__utf8_valid(name, strlen(name)))
		return mlops__error(MLOPS_EINVAL, "%s is not valid UTF-8", what);
	if (code_points(name) > MLOPS_MODEL_NAME_MAX)
		return mlops__error(MLOPS_EINVAL, "%s has %zu characters, more than %d", what,
			code_points(name), MLOPS_MODEL_NAME_MAX);
	if (has_control(name))
		return mlops__error(MLOPS_EINVAL, "%s contains a control character", what);
	if (strpbrk(name, "/@") != NULL)
		return mlops__error(MLOPS_EINVAL, "%s '%s' contains '/' or '@' (reserved for references)",
			what, name);
	return MLOPS_OK;
}

int reg_check_alias(const char *alias)
{
	size_t n;

	if (alias == NULL)
		return mlops__error(MLOPS_EINVAL, "alias is NULL");
	if (alias[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "alias is empty");
	n = strlen(alias);
	if (n > MLOPS_MODEL_ALIAS_MAX)
		return mlops__error(MLOPS_EINVAL, "alias has %zu characters, more than %d", n, MLOPS_MODEL_ALIAS_MAX);
	if (strspn(alias, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		return mlops__error(MLOPS_EINVAL, "alias '%.64s' may contain only letters, digits, '_' and '-'",
			alias);
	if (strcasecmp(alias, "latest") == 0)
		return mlops__error(MLOPS_EINVAL, "alias 'latest' is reserved");
	if ((alias[0] == 'v' || alias[0] == 'V') && n > 1 && strspn(alias + 1, "0123456789") == n - 1)
		return mlops__error(MLOPS_EINVAL, "alias '%s' is reserved (v<digits> names a version)", alias);
	return MLOPS_OK;
}

int reg_check_key(const char *key, const char *what)
{
	if (key == NULL)
		return mlops__error(MLOPS_EINVAL, "%s is NULL", what);
	if (key[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "%s is empty", what);
	if (!mlops__utf8_valid(key, strlen(key)) || has_control(key))
		return mlops__error(MLOPS_EINVAL, "%s is not printable UTF-8", what);
	if (code_points(key) > REG_TAG_KEY_MAX)
		return mlops__error(MLOPS_EINVAL, "%s is longer than %d characters", what, REG_TAG_KEY_MAX);
	return MLOPS_OK;
}

int reg_check_text(const char *text, size_t max, const char *what)
{
	if (text == NULL)
		return MLOPS_OK;
	if (!mlops__utf8_valid(text, strlen(text)))
		return mlops__error(MLOPS_EINVAL, "%s is not valid UTF-8", what);
	if (code_points(text) > max)
		return mlops__error(MLOPS_EINVAL, "%s is longer than %zu characters", what, max);
	return MLOPS_OK;
}

int reg_check_version(int64_t version, const char *name)
{
	if (version < 1)
		return mlops__error(MLOPS_EINVAL, "version %" PRId64 " of model '%s' is not a version "
			"number (they start at 1)", version, name ? name : "");
	return MLOPS_OK;
}

int reg_parse_ref(reg_ref *r, const char *ref)
{
	const char *sep, *rest;
	size_t len;
	int rc;

	memset(r, 0, sizeof *r);
	if (ref == NULL)
		return mlops__error(MLOPS_EINVAL, "model reference is NULL");
	if (strncmp(ref, "models:/", 8) == 0)
		ref += 8;
	sep = strpbrk(ref, "@/");
	len = sep ? (size_t)(sep - ref) : strlen(ref);
	if (len >= sizeof r->name)
		return mlops__error(MLOPS_EINVAL, "model reference '%.64s...': the name is too long", ref);
	memcpy(r->name, ref, len);
	r->name[len] = '\0';
	if ((rc = reg_check_name(r->name, "model name in reference")) < 0)
		return mlops__error_wrap(rc, ref);
	if (sep == NULL)
		return MLOPS_OK;
	rest = sep + 1;
	if (*sep == '@') {
		if ((rc = reg_check_alias(rest)) < 0)
			return mlops__error_wrap(rc, "model reference");
		strcpy(r->alias, rest);
		r->has_alias = 1;
		return MLOPS_OK;
	}
	if (strcmp(rest, "latest") == 0)
		return MLOPS_OK;
	if (rest[0] >= '1' && rest[0] <= '9' && strspn(rest, "0123456789") == strlen(rest)) {
		char *end;
		errno = 0;
		long long v = strtoll(rest, &end, 10);
		if (errno == 0 && *end == '\0') {
			r->version = v;
			return MLOPS_OK;
		}
	}
	return mlops__error(MLOPS_EINVAL, "model reference '%s': '%s' is not a version number "
		"(use name@alias, name/7 or name)", ref, rest);
}
