#!/bin/sh
# Compiles every public header on its own, as strict C99 and as C++, so that each one is
# self-contained and usable from both. Usage: check_headers.sh SRC_INCLUDE BUILD_INCLUDE
set -eu
src_inc=$1
build_inc=$2
cc=${CC:-cc}
cxx=${CXX:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
count=0
for h in "$src_inc"/mlops/*.h "$build_inc"/mlops/*.h; do
	[ -f "$h" ] || continue
	name=mlops/$(basename "$h")
	printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$name" "$name" > "$tmp/t.c"
	if ! $cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$src_inc" -I"$build_inc" -c "$tmp/t.c" -o "$tmp/t.o"; then
		echo "FAIL (C99): $name"; status=1
	fi
	cp "$tmp/t.c" "$tmp/t.cpp"
	if ! $cxx -std=c++11 -pedantic -Wall -Wextra -Werror -I"$src_inc" -I"$build_inc" -c "$tmp/t.cpp" -o "$tmp/t.o"; then
		echo "FAIL (C++): $name"; status=1
	fi
	count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "no headers found under $src_inc"; exit 1; }
echo "$count public headers compile alone as C99 and C++"
exit $status
