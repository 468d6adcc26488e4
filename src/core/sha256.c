#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/sha256.h"

/* mlops__sha256 is OpenSSL's EVP_MD_CTX under a name of our own. */
int mlops__sha256_begin(mlops__sha256 **ctx)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	*ctx = NULL;
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return mlops__error(MLOPS_ENOMEM, "cannot start a SHA-256 context");
	}
	*ctx = (mlops__sha256 *)md;
	return MLOPS_OK;
}

int mlops__sha256_update(mlops__sha256 *ctx, const void *data, size_t n)
{
	if (EVP_DigestUpdate((EVP_MD_CTX *)ctx, data, n) != 1)
		return mlops__error(MLOPS_EIO, "SHA-256 update failed");
	return MLOPS_OK;
}

int mlops__sha256_end(mlops__sha256 *ctx, char hex[MLOPS__SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)ctx, md, &len) == 1 && len == 32;

	EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
	if (!ok)
		return mlops__error(MLOPS_EIO, "SHA-256 final failed");
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return MLOPS_OK;
}

int mlops__sha256_buffer(char hex[MLOPS__SHA256_HEX], const void *data, size_t n)
{
	mlops__sha256 *ctx;
	int rc = mlops__sha256_begin(&ctx);

	if (rc < 0)
		return rc;
	if ((rc = mlops__sha256_update(ctx, data, n)) < 0) {
		EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
		return rc;
	}
	return mlops__sha256_end(ctx, hex);
}

int mlops__sha256_file_update(mlops__sha256 *ctx, const char *path, uint64_t *bytes)
{
	unsigned char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = MLOPS_OK;

	if (f == NULL)
		return mlops__error(mlops__errno_code(errno), "cannot open %s: %s", path, strerror(errno));
	while (rc == MLOPS_OK && (n = fread(buf, 1, sizeof buf, f)) > 0) {
		rc = mlops__sha256_update(ctx, buf, n);
		if (bytes != NULL)
			*bytes += n;
	}
	if (rc == MLOPS_OK && ferror(f))
		rc = mlops__error(MLOPS_EIO, "cannot read %s: %s", path, strerror(errno));
	fclose(f);
	return rc;
}

int mlops__sha256_file(char hex[MLOPS__SHA256_HEX], uint64_t *bytes, const char *path)
{
	mlops__sha256 *ctx;
	int rc = mlops__sha256_begin(&ctx);

	if (rc < 0)
		return rc;
	if (bytes != NULL)
		*bytes = 0;
	if ((rc = mlops__sha256_file_update(ctx, path, bytes)) < 0) {
		EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
		return rc;
	}
	return mlops__sha256_end(ctx, hex);
}
