/*
 * Drift reference profiles on SQLite: one blob per model version (dr_profiles), deleted with
 * the version by its foreign key.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/drift_profiles.h"
#include "store/sqlite/registry.h"

int sdrift_profile_put(mlops_store *s, const char *model, int64_t version, const void *blob, size_t size)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if (size > INT32_MAX)
		return mlops__error(MLOPS_ELIMIT, "drift profile of %s/%" PRId64 " is %zu bytes: more "
			"than SQLite stores in one blob", model, version, size);
	pthread_mutex_lock(&b->db->lock);
	rc = sreg_model_id(b->db, model, &id);
	if (rc == MLOPS_OK)
		rc = sreg_version_exists(b->db, id, model, version);
	if (rc == MLOPS_OK) {
		st = sdb_stmt(b->db, "INSERT OR REPLACE INTO dr_profiles(model_id, version, data, "
			"created_ms) VALUES (?1, ?2, ?3, ?4)");
		if (st == NULL) {
			rc = mlops_errcode();
		} else {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int64(st, 2, version);
			sqlite3_bind_blob(st, 3, blob, (int)size, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, mlops__now_ms());
			rc = sqlite3_step(st);
			sqlite3_reset(st);
			rc = rc == SQLITE_DONE ? MLOPS_OK : sdb_error(b->db, rc, "store a drift profile");
		}
	}
	pthread_mutex_unlock(&b->db->lock);
	return rc;
}

int sdrift_profile_get(void **blob, size_t *size, mlops_store *s, const char *model, int64_t version)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	*blob = NULL;
	*size = 0;
	pthread_mutex_lock(&b->db->lock);
	rc = sreg_model_id(b->db, model, &id);
	if (rc == MLOPS_OK && (st = sdb_stmt(b->db, "SELECT data FROM dr_profiles "
			"WHERE model_id = ?1 AND version = ?2")) == NULL)
		rc = mlops_errcode();
	if (rc == MLOPS_OK) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, version);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			/* The blob first, then its size: SQLite's order for a value of another type. */
			const void *p = sqlite3_column_blob(st, 0);
			int n = sqlite3_column_bytes(st, 0);
			if ((*blob = mlops__malloc(n > 0 ? (size_t)n : 1)) == NULL) {
				rc = MLOPS_ENOMEM;
			} else {
				if (n > 0)
					memcpy(*blob, p, (size_t)n);
				*size = (size_t)n;
				rc = MLOPS_OK;
			}
		} else if (rc == SQLITE_DONE) {
			rc = mlops__error(MLOPS_ENOTFOUND, "model version %s/%" PRId64 " has no drift "
				"profile", model, version);
		} else {
			rc = sdb_error(b->db, rc, "read a drift profile");
		}
		sqlite3_reset(st);
	}
	pthread_mutex_unlock(&b->db->lock);
	return rc;
}
