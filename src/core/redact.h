/*
 * Internal: URIs and URLs as they may be shown (messages, outputs, files) without their
 * secrets. Every place that formats a store URI, server URL, webhook URL or artifact URI into
 * text goes through one of these, never through "%s" of the raw string.
 */
#ifndef MLOPS_CORE_REDACT_H
#define MLOPS_CORE_REDACT_H

#include <stddef.h>

/*
 * Writes uri to out with its secrets masked: "scheme://user:***@host:port/path?key=***#***".
 * A user name is kept only beside a password ("user:***@"); a bare userinfo may be a token
 * ("***@host"). Query values and the fragment are masked, keys kept. Control characters become
 * '?'. Plain paths ("runs/mlops.db") are unchanged but for a query string. What cannot be
 * parsed is masked rather than shown: text before "://" that is no scheme is "***", and a
 * password holding an unencoded '/', '?' or '#' is still taken to end at the '@' after it
 * (so an '@' in the path of "host:port/path" masks up to it: the two cannot be told apart).
 *
 * Like snprintf: writes at most cap bytes, always NUL-terminated when cap > 0 (out may be NULL
 * when cap is 0), and returns the length of the whole redacted text. Never fails.
 */
size_t mlops__uri_redact(char *out, size_t cap, const char *uri);

/* The same in a fresh heap string; NULL (and MLOPS_ENOMEM recorded) when out of memory. */
char *mlops__uri_redact_dup(const char *uri);

/*
 * Only where a URL points: "scheme://host:port", then "/..." when anything followed. For URLs
 * whose path is the secret (a Slack webhook's is its credential). Same contract as above.
 */
size_t mlops__uri_origin(char *out, size_t cap, const char *url);

#endif
