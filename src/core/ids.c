#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "core/error.h"
#include "core/ids.h"

int mlops__random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return mlops__error(MLOPS_EIO, "getrandom failed: %s", strerror(errno));
		}
		p += got;
		n -= (size_t)got;
	}
	return MLOPS_OK;
}

int mlops__new_id(char out[MLOPS__ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[MLOPS__ID_LEN / 2];
	int rc = mlops__random_bytes(raw, sizeof raw);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sizeof raw; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[MLOPS__ID_LEN] = '\0';
	return MLOPS_OK;
}

int mlops__id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return i == MLOPS__ID_LEN;
}
