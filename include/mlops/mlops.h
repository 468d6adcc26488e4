/* libmlops — the umbrella header: include this one. */
#ifndef MLOPS_H
#define MLOPS_H

#include "mlops/common.h"
#include "mlops/drift.h"
#include "mlops/gpu.h"
#include "mlops/registry.h"
#include "mlops/store.h"
#include "mlops/tracking.h"

#endif /* MLOPS_H */
