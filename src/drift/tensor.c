/* DLPack tensors as host matrices, and the keys of one column. */
#include <dlpack/dlpack.h>

#include "core/error.h"
#include "drift/batch.h"
#include "drift/sort.h"

int drift_matrix_from(drift_matrix *m, const void *tensor, const char *what, int allow_device)
{
	const DLTensor *t = tensor;
	int64_t rows, cols = 1, rs, cs = 0;
	int device = -1;

	if (t == NULL)
		return mlops__error(MLOPS_EINVAL, "%s tensor is NULL", what);
	switch (t->device.device_type) {
	case kDLCPU: case kDLCUDAHost: case kDLCUDAManaged:
		break;
	case kDLCUDA:
		if (!allow_device)
			return mlops__error(MLOPS_EUNSUPPORTED, "%s tensor is in CUDA device memory: only "
				"mlops_drift_compare reads device memory (copy it to the host)", what);
		device = t->device.device_id;
		break;
	default:
		return mlops__error(MLOPS_EUNSUPPORTED, "%s tensor is on DLPack device type %d: only "
			"host memory is supported", what, (int)t->device.device_type);
	}
	if (t->dtype.code != kDLFloat || t->dtype.lanes != 1 || (t->dtype.bits != 32 && t->dtype.bits != 64))
		return mlops__error(MLOPS_EINVAL, "%s tensor has dtype (code %u, %u bits, %u lanes): "
			"float32 or float64 expected", what, (unsigned)t->dtype.code,
			(unsigned)t->dtype.bits, (unsigned)t->dtype.lanes);
	if (t->ndim != 1 && t->ndim != 2)
		return mlops__error(MLOPS_EINVAL, "%s tensor has %d dimensions: 1 (rows) or 2 (rows, "
			"features) expected", what, t->ndim);
	if (t->shape == NULL)
		return mlops__error(MLOPS_EINVAL, "%s tensor has no shape", what);
	rows = t->shape[0];
	if (t->ndim == 2)
		cols = t->shape[1];
	if (rows < 0 || cols < 0 || (rows > 0 && cols > 0 && (uint64_t)rows > SIZE_MAX / 8 / (uint64_t)cols))
		return mlops__error(MLOPS_EINVAL, "%s tensor has a bad shape (%lld x %lld)", what,
			(long long)rows, (long long)cols);
	if (t->strides != NULL) {
		rs = t->strides[0];
		if (t->ndim == 2)
			cs = t->strides[1];
	} else {
		rs = cols;
		cs = 1;
	}
	if (t->data == NULL && rows > 0 && cols > 0)
		return mlops__error(MLOPS_EINVAL, "%s tensor has NULL data", what);
	if (cols == 0)
		return mlops__error(MLOPS_EINVAL, "%s tensor has no features (shape %lld x 0)", what,
			(long long)rows);
	m->base = (const char *)t->data + t->byte_offset;
	m->rows = (size_t)rows;
	m->cols = (size_t)cols;
	m->row_stride = (ptrdiff_t)rs;
	m->col_stride = (ptrdiff_t)cs;
	m->dtype = t->dtype.bits == 32 ? DRIFT_F32 : DRIFT_F64;
	m->device = device;
	return MLOPS_OK;
}

size_t drift_column_keys(uint64_t *keys, const void *col, size_t n, ptrdiff_t stride, int dtype,
	size_t *n_nan)
{
	return dtype == DRIFT_F32 ? drift_keys_f32(keys, col, n, stride, n_nan)
		: drift_keys_f64(keys, col, n, stride, n_nan);
}

size_t drift_block_of(const drift_matrix *m)
{
	return m->cols > 1 && m->col_stride == 1 && m->row_stride >= (ptrdiff_t)DRIFT_BLOCK ? DRIFT_BLOCK : 1;
}

void drift_gather(double *dst, const drift_matrix *m, size_t j0, size_t nb)
{
	for (size_t i = 0; i < m->rows; i++) {
		if (m->dtype == DRIFT_F32) {
			const float *row = (const float *)drift_matrix_col(m, j0) + (ptrdiff_t)i * m->row_stride;
			for (size_t f = 0; f < nb; f++)
				dst[f * m->rows + i] = (double)row[(ptrdiff_t)f * m->col_stride];
		} else {
			const double *row = (const double *)drift_matrix_col(m, j0) + (ptrdiff_t)i * m->row_stride;
			for (size_t f = 0; f < nb; f++)
				dst[f * m->rows + i] = row[(ptrdiff_t)f * m->col_stride];
		}
	}
}
