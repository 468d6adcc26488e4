/* mlops_model_version and mlops_model: accessors and lifetime. */
#include <stdlib.h>

#include "registry/internal.h"

void reg_version_release(mlops_model_version *v)
{
	/* Built by a backend as one allocation; shared by the resolve cache through refs. */
	if (v != NULL && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(v);
}

void mlops_model_version_free(mlops_model_version *v)
{
	reg_version_release(v);
}

static const char *str(const char *s)
{
	return s ? s : "";
}

int64_t mlops_model_version_number(const mlops_model_version *v) { return v ? v->version : 0; }
const char *mlops_model_version_name(const mlops_model_version *v) { return v ? str(v->name) : ""; }
const char *mlops_model_version_source(const mlops_model_version *v) { return v ? str(v->source) : ""; }
const char *mlops_model_version_run_id(const mlops_model_version *v) { return v ? str(v->run_id) : ""; }
const char *mlops_model_version_sha256(const mlops_model_version *v) { return v ? str(v->sha256) : ""; }
int64_t mlops_model_version_size(const mlops_model_version *v) { return v ? v->size : -1; }
int mlops_model_version_status(const mlops_model_version *v) { return v ? v->status : -1; }
int mlops_model_version_validation(const mlops_model_version *v) { return v ? v->validation : -1; }
const char *mlops_model_version_creator(const mlops_model_version *v) { return v ? str(v->creator) : ""; }
const char *mlops_model_version_description(const mlops_model_version *v)
{
	return v ? str(v->description) : "";
}
int64_t mlops_model_version_created_ms(const mlops_model_version *v) { return v ? v->created_ms : 0; }

const char *mlops_model_name(const mlops_model *m) { return m ? str(m->name) : ""; }
const char *mlops_model_description(const mlops_model *m) { return m ? str(m->description) : ""; }
int64_t mlops_model_created_ms(const mlops_model *m) { return m ? m->created_ms : 0; }
int64_t mlops_model_last_version(const mlops_model *m) { return m ? m->last_version : 0; }

void mlops_model_free(mlops_model *m)
{
	free(m); /* one allocation with its strings */
}
