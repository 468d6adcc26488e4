#include "core/error.h"
#include "core/options.h"

int mlops__check_version(unsigned version, unsigned latest, const char *what)
{
	if (version == 0)
		return mlops__error(MLOPS_EVERSION,
			"%s: version is 0 (initialise it with the _INIT macro or _init function)", what);
	if (version > latest)
		return mlops__error(MLOPS_EVERSION,
			"%s: version %u is newer than this library supports (%u); "
			"the program was built against a newer libmlops", what, version, latest);
	return MLOPS_OK;
}
