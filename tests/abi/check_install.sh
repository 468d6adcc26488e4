#!/bin/sh
# Installs the build into a scratch root and builds a program the way users do:
# cc app.c $(pkg-config --cflags --libs libmlops), shared and static; runs both. Also checks
# that libmlops.so needs no CUDA library (the runtime is linked statically), and that the
# installed mlops tool starts.
# Usage: check_install.sh BUILD_DIR APP_C
set -eu
build=$1; app=$2
cc=${CC:-cc}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --no-rebuild --quiet >/dev/null
pc=$(find "$root" -name libmlops.pc | head -n 1)
[ -n "$pc" ] || { echo "libmlops.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$root
lib=$(find "$root" -name 'libmlops.so.[0-9]' | head -n 1)
[ -n "$lib" ] || { echo "libmlops.so.<major> was not installed"; exit 1; }
[ -f "$(dirname "$pc")/../../include/mlops/mlops.h" ] || [ -n "$(find "$root" -path '*include/mlops/mlops.h')" ] \
	|| { echo "headers not installed under include/mlops/"; exit 1; }
if readelf -d "$lib" | grep -E 'NEEDED.*lib(cudart|cuda)\.so'; then
	echo "FAIL: $lib needs a CUDA shared library"; exit 1
fi
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror -o "$root/app" "$app" $(pkg-config --cflags --libs libmlops)
LD_LIBRARY_PATH=$(dirname "$lib") "$root/app" "$root/app.db"
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror -o "$root/app-static" "$app" $(pkg-config --cflags libmlops) \
	"$(dirname "$lib")/libmlops.a" $(pkg-config --libs-only-other --libs-only-L --static libmlops | sed 's/-lmlops//') \
	$(pkg-config --static --libs-only-l libmlops | sed 's/-lmlops//')
"$root/app-static" "$root/app-static.db"
# The installed tool starts with no help from the environment (its rpath finds the library).
cli=$(find "$root" -path '*/bin/mlops' | head -n 1)
[ -n "$cli" ] || { echo "bin/mlops was not installed"; exit 1; }
env -u LD_LIBRARY_PATH "$cli" version >/dev/null || { echo "FAIL: the installed mlops does not start"; exit 1; }
echo "installed headers, pkg-config file and libraries build and run a program (shared and static)"
