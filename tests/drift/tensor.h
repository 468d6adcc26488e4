/* Test helpers: DLPack views of host arrays and deterministic samples. */
#ifndef MLOPS_TEST_DRIFT_TENSOR_H
#define MLOPS_TEST_DRIFT_TENSOR_H

#include <dlpack/dlpack.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct view {
	DLTensor t;
	int64_t shape[2], strides[2];
} view;

/* A 2-D view [rows, cols] of data with element strides rs, cs (bits 32 or 64). */
static inline DLTensor *view2(view *v, void *data, int bits, int64_t rows, int64_t cols, int64_t rs, int64_t cs)
{
	memset(v, 0, sizeof *v);
	v->t.data = data;
	v->t.device.device_type = kDLCPU;
	v->t.ndim = 2;
	v->t.dtype.code = kDLFloat;
	v->t.dtype.bits = (uint8_t)bits;
	v->t.dtype.lanes = 1;
	v->shape[0] = rows;
	v->shape[1] = cols;
	v->strides[0] = rs;
	v->strides[1] = cs;
	v->t.shape = v->shape;
	v->t.strides = v->strides;
	return &v->t;
}

static inline uint64_t t_splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Approximately normal (sum of 4 uniforms), mean shift, scale. */
static inline double t_normal(uint64_t *s, double shift, double scale)
{
	double a = 0;
	for (int i = 0; i < 4; i++)
		a += (double)(t_splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
	return shift + scale * (a - 2.0);
}

#endif
