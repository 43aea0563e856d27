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
for f in relcon_version relcon_version_string relcon_status_string relcon_inspect relcon_meta relcon_session_init relcon_embed \
         relcon_head_count relcon_head_info relcon_head_class_name relcon_classify relcon_regress \
         relcon_classify_recording relcon_regress_recording relcon_selftest relcon_resample_info relcon_resample \
         relcon_stream_arena_bytes relcon_stream_init relcon_stream_push_f32 relcon_stream_push_i16 relcon_stream_gap \
         relcon_stream_session; do
  grep -qx "$f" <<<"$syms" || { echo "check_so: missing export $f" >&2; fail=1; }
done
soname=$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
[ "$soname" = "librelcon.so" ] || { echo "check_so: SONAME is '$soname', want librelcon.so" >&2; fail=1; }
[ $fail -eq 0 ] && echo "check_so: OK ($(stat -c %s "$so") bytes; deps: $(echo $deps | tr '\n' ' '); $(echo "$syms" | wc -l) relcon_* exports)"
exit $fail
