/* MLflow's validation of keys and values (mlflow/utils/validation.py). */
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "tracking/internal.h"

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* [/\w.\- :]: ASCII word characters and the listed ones; any non-ASCII character counts as \w. */
static int key_char_ok(unsigned char c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '/' || c == '.' || c == '-' || c == ' ' || c == ':';
}

int tk_validate_key(const char *what, const char *key)
{
	size_t len;

	if (key == NULL)
		return mlops__error(MLOPS_EINVAL, "%s key is NULL", what);
	len = strlen(key);
	if (!mlops__utf8_valid(key, len))
		return mlops__error(MLOPS_EINVAL, "%s key is not valid UTF-8", what);
	if (len == 0)
		return mlops__error(MLOPS_EINVAL, "%s key is empty", what);
	if (utf8_chars(key) > TK_MAX_KEY)
		return mlops__error(MLOPS_EINVAL, "%s key '%.40s...' is longer than %d characters",
			what, key, TK_MAX_KEY);
	for (size_t i = 0; i < len; i++)
		if (!key_char_ok((unsigned char)key[i]))
			return mlops__error(MLOPS_EINVAL, "%s key '%s' has character '%c' at %zu: keys may "
				"only contain letters, digits, '_', '-', '.', ' ', ':' and '/'", what, key, key[i], i);
	/* A normalised relative path, like posixpath.normpath(key) == key. */
	if (key[0] == '/' || key[len - 1] == '/' || strstr(key, "//") != NULL || strncmp(key, "..", 2) == 0)
		return mlops__error(MLOPS_EINVAL, "%s key '%s' is not a normalised relative path "
			"(no leading or trailing '/', no '//', no leading '..')", what, key);
	for (const char *seg = key; seg; ) {
		const char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return mlops__error(MLOPS_EINVAL, "%s key '%s' has a '.' or '..' segment", what, key);
		seg = slash ? slash + 1 : NULL;
	}
	return MLOPS_OK;
}

int tk_validate_value(const char *what, const char *key, const char *value, size_t max)
{
	size_t len;

	if (value == NULL)
		return mlops__error(MLOPS_EINVAL, "value of %s '%s' is NULL", what, key);
	len = strlen(value);
	if (!mlops__utf8_valid(value, len))
		return mlops__error(MLOPS_EINVAL, "value of %s '%s' is not valid UTF-8", what, key);
	if (utf8_chars(value) > max)
		return mlops__error(MLOPS_EINVAL, "value of %s '%s' has %zu characters, more than %zu",
			what, key, utf8_chars(value), max);
	return MLOPS_OK;
}

/*
 * Refuses what could leave the run's directory (MLOPS_EPERM) or name a file differently on
 * another system or in a listing (MLOPS_EINVAL): see tk_artifact_path_normalize.
 */
static int check_artifact_path(const char *path, size_t len)
{
	if (!mlops__utf8_valid(path, len))
		return mlops__error(MLOPS_EINVAL, "artifact path is not valid UTF-8");
	if (len > TK_MAX_ARTIFACT_PATH)
		return mlops__error(MLOPS_EINVAL, "artifact path '%.40s...' is longer than %d bytes",
			path, TK_MAX_ARTIFACT_PATH);
	/* Not echoed: a control character would forge lines in whatever prints the message. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return mlops__error(MLOPS_EINVAL, "artifact path has control character 0x%02x at "
				"byte %zu", (unsigned char)path[i], i);
	if (path[0] == '/' || path[0] == '\\')
		return mlops__error(MLOPS_EPERM, "artifact path '%s' is absolute: it must be relative "
			"to the run's artifact directory", path);
	if (strchr(path, '\\') != NULL)
		return mlops__error(MLOPS_EINVAL, "artifact path '%s' has a backslash", path);
	for (const char *seg = path; seg; ) {
		const char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return mlops__error(MLOPS_EPERM, "artifact path '%s' has a '..' segment: it would "
				"leave the run's artifact directory", path);
		if (n > TK_MAX_ARTIFACT_NAME)
			return mlops__error(MLOPS_EINVAL, "artifact path '%.40s...' has a segment longer than "
				"%d bytes", path, TK_MAX_ARTIFACT_NAME);
		seg = slash ? slash + 1 : NULL;
	}
	return MLOPS_OK;
}

int tk_artifact_path_normalize(char **out, const char *path)
{
	size_t len = strlen(path);
	char *o;
	int rc;

	*out = NULL;
	if ((rc = check_artifact_path(path, len)) < 0)
		return rc;
	if ((o = *out = mlops__malloc(len + 1)) == NULL)
		return MLOPS_ENOMEM;
	/* "a//b", "./a", "a/." and "a/" all name a/b, a, a, a: one record per file. */
	for (const char *seg = path; seg; ) {
		const char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
		if (n > 0 && !(n == 1 && seg[0] == '.')) {
			if (o != *out)
				*o++ = '/';
			memcpy(o, seg, n);
			o += n;
		}
		seg = slash ? slash + 1 : NULL;
	}
	*o = '\0';
	return MLOPS_OK;
}
