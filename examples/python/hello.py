#!/usr/bin/env python3
"""Opens the default store (mlops.db, or $MLOPS_TRACKING_URI) and says what this libmlops can do.

From a checkout, after `make build`:  PYTHONPATH=bindings/python python3 examples/python/hello.py
"""
import sys

import mlops


def main() -> int:
    uri = sys.argv[1] if len(sys.argv) > 1 else None
    f = mlops.features()
    print("libmlops %s (from %s)" % (mlops.version(), mlops.library_path()))
    print("features: cuda=%s gpu=%s remote=%s" % tuple(
        "yes" if f & bit else "no" for bit in (mlops.Feature.CUDA, mlops.Feature.GPU, mlops.Feature.REMOTE)))
    try:
        with mlops.Store(uri) as store:
            print("store: %s (schema version %d)" % (store.uri, store.schema_version))
    except mlops.Error as e:
        print("cannot open store: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
