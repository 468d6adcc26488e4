/*
 * The metric block codec on a block as a damaged store may hold it. Input: byte 0 the codec
 * (signed: 1 raw, 2 deflated, anything else unknown), bytes 1-2 the point count (little-endian),
 * the rest the blob. Decoding never reads or writes past either buffer; a block that decodes
 * encodes again to a block that decodes to the same points, bit for bit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/tracking.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlops_metric_point *p, *q;
	unsigned char *buf, *blob;
	size_t n, len;
	int codec;

	if (size < 3)
		return 0;
	n = (size_t)data[1] | (size_t)data[2] << 8;
	/* An exact-size copy of the blob, so that ASan sees a read past its end. */
	blob = malloc(size - 3 ? size - 3 : 1);
	p = malloc((n ? n : 1) * sizeof *p);
	if (blob == NULL || p == NULL)
		abort();
	memcpy(blob, data + 3, size - 3);
	if (tk_codec_decode(p, n, (int8_t)data[0], size - 3 ? blob : NULL, size - 3) == MLOPS_OK) {
		if ((buf = malloc(tk_codec_bound(n) + 1)) == NULL || (q = malloc((n ? n : 1) * sizeof *q)) == NULL)
			abort();
		if (tk_codec_encode(buf, &len, &codec, p, n) != MLOPS_OK ||
		    tk_codec_decode(q, n, codec, buf, len) != MLOPS_OK || memcmp(p, q, n * sizeof *p) != 0)
			abort();
		free(q);
		free(buf);
	}
	free(p);
	free(blob);
	return 0;
}
