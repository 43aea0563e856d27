#!/usr/bin/env bash
# Checks a device build of librelcon (mk/arm.mk):
#   targets/check_lib.sh TARGET librelcon.a [librelcon.so.X.Y.Z]      TARGET: cortex-m4 | aarch64
# librelcon.a: its only global symbols are the relcon_* API (the Swift internals are local), every API function is
# there, and what it needs from outside is only what the target's C environment provides: on Cortex-M the
# freestanding string functions and the EABI compiler helpers (no allocator, no stdio, no getenv); on aarch64 Linux
# also getenv (RELCON_ISA) and getauxval (the CPU features: the aarch64 ISA level). The shared library: SONAME librelcon.so.<major>, only relcon_* exported, libc only.
set -euo pipefail
target=${1:?usage: check_lib.sh TARGET librelcon.a [librelcon.so]}
lib=${2:?usage: check_lib.sh TARGET librelcon.a [librelcon.so]}
so=${3:-}
case "$target" in
  cortex-m4) tp=arm-none-eabi-; allowed='^(memcpy|memmove|memset|memcmp|strlen|__aeabi_[a-z0-9_]+)$' ;;
  aarch64) tp=aarch64-linux-gnu-; allowed='^(memcpy|memmove|memset|memcmp|strlen|getenv|getauxval)$' ;;
  *) echo "check_lib: unknown target $target" >&2; exit 2 ;;
esac
fail=0
[ -f "$lib" ] || { echo "check_lib: $lib does not exist" >&2; exit 1; }
globals=$(${tp}nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}')
bad=$(echo "$globals" | grep -v '^relcon_' || true)
if [ -n "$bad" ]; then echo "check_lib [$target]: $lib defines non-relcon_ globals:" >&2; echo "$bad" | head -20 >&2; fail=1; fi
api="relcon_version relcon_version_string relcon_status_string relcon_inspect relcon_meta relcon_session_init relcon_embed
     relcon_head_count relcon_head_info relcon_head_class_name relcon_classify relcon_regress relcon_classify_recording
     relcon_regress_recording relcon_selftest relcon_session_info relcon_session_head_info relcon_session_head_class_name"
for f in $api; do grep -qx "$f" <<<"$globals" || { echo "check_lib [$target]: $lib lacks $f" >&2; fail=1; }; done
undef=$(${tp}nm -u "$lib" | awk '{print $NF}' | grep -v ':$' | sort -u)
extra=$(echo "$undef" | grep -Ev "$allowed" | grep -v '^$' || true)
if [ -n "$extra" ]; then echo "check_lib [$target]: $lib needs symbols the target does not provide:" >&2; echo "$extra" >&2; fail=1; fi
locals=$(${tp}nm "$lib" | grep -c ' [tTdDbBrR] ' || true)
msg="$lib: $(echo "$globals" | wc -l) globals, all relcon_*; $locals symbols in all; needs $(echo $undef | tr '\n' ' ')"
if [ -n "$so" ]; then
  soname=$(${tp}readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
  major=$(basename "$so" | sed -n 's/^librelcon\.so\.\([0-9]*\)\..*/\1/p')
  [ -n "$major" ] && [ "$soname" = "librelcon.so.$major" ] || { echo "check_lib [$target]: $so SONAME '$soname', want librelcon.so.$major" >&2; fail=1; }
  exports=$(${tp}nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^$')
  bad=$(echo "$exports" | grep -v '^relcon_' || true)
  [ -z "$bad" ] || { echo "check_lib [$target]: $so exports non-relcon_ symbols: $bad" >&2; fail=1; }
  for f in $api; do grep -qx "$f" <<<"$exports" || { echo "check_lib [$target]: $so lacks export $f" >&2; fail=1; }; done
  needed=$(${tp}readelf -d "$so" | sed -n 's/.*NEEDED.*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
  for d in $needed; do case "$d" in libc.so.6|libm.so.6) ;; *) echo "check_lib [$target]: $so needs $d" >&2; fail=1 ;; esac; done
  msg="$msg; $so: SONAME $soname, $(echo "$exports" | wc -l) relcon_* exports, needs $needed"
fi
[ $fail -eq 0 ] && echo "check_lib [$target]: OK: $msg"
exit $fail
