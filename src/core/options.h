/* Internal: checks of versioned option structs (first field: unsigned version). */
#ifndef MLOPS_CORE_OPTIONS_H
#define MLOPS_CORE_OPTIONS_H

/*
 * MLOPS_OK when 1 <= version <= latest, else MLOPS_EVERSION with a message naming the struct
 * (what) and both versions. version 0 means the caller forgot to initialise the struct.
 */
int mlops__check_version(unsigned version, unsigned latest, const char *what);

#endif
