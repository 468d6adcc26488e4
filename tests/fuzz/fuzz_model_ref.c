/*
 * Model references ("name@alias", "name/7", "models:/name/latest") and the name, alias and key
 * checks: never crash, and what parses round-trips through its parts.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ref = malloc(size + 1);
	reg_ref r;

	if (ref == NULL)
		return 0;
	memcpy(ref, data, size);
	ref[size] = '\0';
	reg_check_name(ref, "model name");
	reg_check_alias(ref);
	reg_check_key(ref, "tag key");
	reg_check_text(ref, 64, "description");
	if (reg_parse_ref(&r, ref) == MLOPS_OK) {
		char again[sizeof r.name + sizeof r.alias + 32];
		reg_ref r2;

		/* The parts of a parsed reference make a reference that parses to the same parts. */
		if (r.has_alias)
			snprintf(again, sizeof again, "%s@%s", r.name, r.alias);
		else if (r.version > 0)
			snprintf(again, sizeof again, "%s/%" PRId64, r.name, r.version);
		else
			snprintf(again, sizeof again, "%s", r.name);
		if (reg_parse_ref(&r2, again) != MLOPS_OK || strcmp(r.name, r2.name) != 0 ||
		    strcmp(r.alias, r2.alias) != 0 || r.version != r2.version || r.has_alias != r2.has_alias)
			abort();
	}
	free(ref);
	return 0;
}
