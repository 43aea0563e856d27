#!/usr/bin/env bash
# Checks the shipped librelcon.so: it depends on libc/libm only (no Swift runtime) and exports only relcon_*.
#   Tests/CTests/check_so.sh .build/release/librelcon.so
set -euo pipefail
so=${1:?usage: check_so.sh path/to/librelcon.so}
[ -f "$so" ] || { echo "check_so: $so does not exist" >&2; exit 1; }
fail=0
deps=$(ldd "$so" | awk '{print $1}')
for d in $deps; do
  case "$d" in
    linux-vdso.so.*|libc.so.*|libm.so.*|/lib64/ld-linux-x86-64.so.*|ld-linux-*) ;;
    *) echo "check_so: unexpected dependency $d" >&2; fail=1 ;;
  esac
done
if ldd "$so" | grep -qi swift; then echo "check_so: links a Swift library" >&2; fail=1; fi
syms=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^$' || true)
bad=$(echo "$syms" | grep -v '^relcon_' | grep -v '^RELCON_' || true)
if [ -n "$bad" ]; then echo "check_so: non-relcon symbols exported:" >&2; echo "$bad" >&2; fail=1; fi
# The API is every function include/relcon.h declares (each declaration starts with RELCON_API; check_header.sh
# checks that): each one is exported, and nothing else is.
header="$(dirname "$0")/../../include/relcon.h"
api=$(sed -n 's/^RELCON_API .*[ *]\(relcon_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u)
[ -n "$api" ] || { echo "check_so: no RELCON_API declarations in $header" >&2; fail=1; }
for f in $api; do
  grep -qx "$f" <<<"$syms" || { echo "check_so: missing export $f" >&2; fail=1; }
done
extra=$(comm -13 <(echo "$api") <(echo "$syms" | grep '^relcon_' | sort -u) || true)
if [ -n "$extra" ]; then echo "check_so: exported but not declared in relcon.h:" >&2; echo "$extra" >&2; fail=1; fi
soname=$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
[ "$soname" = "librelcon.so" ] || { echo "check_so: SONAME is '$soname', want librelcon.so" >&2; fail=1; }
[ $fail -eq 0 ] && echo "check_so: OK ($(stat -c %s "$so") bytes; deps: $(echo $deps | tr '\n' ' '); $(echo "$syms" | wc -l) relcon_* exports = the $(echo "$api" | wc -l) functions of relcon.h)"
exit $fail
