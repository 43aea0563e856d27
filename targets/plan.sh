#!/usr/bin/env bash
# Writes the device test plan (targets/common/harness.c commands) for one target to stdout:
#   targets/plan.sh TARGET FIXTURES_DIR REF_DIR        TARGET: aarch64 | cortex-m4 | cortex-m4-int8
# Everything a target runs is listed here. Golden sets that `make fixtures` could not write (no data) and the
# real-window references (REF_DIR/<model>.golden, written by the x86-64 build) are skipped when absent, with a
# comment in the plan. Cortex-M4 runs under full-system emulation (~100x slower than qemu-aarch64): it runs
# every set, but fewer windows of the big ones (M4_WINDOWS, M4_REFERENCE_WINDOWS), to keep `make test` short.
set -euo pipefail
target=${1:?usage: plan.sh TARGET FIXTURES_DIR REF_DIR}
fix=${2:?}
ref=${3:?}
M4_WINDOWS=${M4_WINDOWS:-6}
M4_REFERENCE_WINDOWS=${M4_REFERENCE_WINDOWS:-1}
int8_only=0
case "$target" in
  aarch64) limit() { echo ""; } ;;
  cortex-m4)
    limit() { case "$1" in reference*) echo " $M4_REFERENCE_WINDOWS" ;; *) echo " $M4_WINDOWS" ;; esac; } ;;
  cortex-m4-int8)   # the same int8 code as cortex-m4 (which runs the full int8 suite): a short pass
    limit() { echo " 2"; } ;;
  *) echo "plan.sh: unknown target $target" >&2; exit 2 ;;
esac
[ "$target" = cortex-m4-int8 ] && int8_only=1
echo "# device test plan for $target (targets/plan.sh)"
is_int8() { case "$1" in *int8*|*u7*) return 0 ;; *) return 1 ;; esac; }

# Committed fixtures: the tiny encoder in every precision (int8 / u7 bit-exact).
for t in tiny tiny_int8 tiny_u7 tiny_f16; do
  if [ $int8_only = 1 ] && ! is_int8 $t; then echo "reject Tests/Fixtures/$t.blob RELCON_E_BLOB_VERSION"; continue; fi
  echo "golden Tests/Fixtures/$t.blob Tests/Fixtures/$t.golden"
done
# Golden sets of `make fixtures` (real windows; int8 against the NumPy integer reference, bit for bit).
for s in compact_int8 reference_int8 compact compact_f16 reference reference_f16; do
  if [ ! -f "$fix/$s.golden" ]; then echo "# SKIP $s: no $fix/$s.golden (make fixtures needs the data)"; continue; fi
  if [ $int8_only = 1 ] && ! is_int8 $s; then continue; fi
  if [ $int8_only = 1 ] && [ $s = reference_int8 ]; then echo "# $s: run by the full cortex-m4 build"; continue; fi
  if [ "$target" != aarch64 ] && { [ $s = reference ] || [ $s = reference_f16 ]; }; then
    echo "# $s: float reference model not run under qemu-system-arm (tens of seconds per window); aarch64 runs it"
    continue
  fi
  echo "golden $fix/$s.blob $fix/$s.golden$(limit $s)"
done
# Defect fixtures: each gives its own status (the f32 ones are not read by an int8-only library at all).
dirs="Tests/Fixtures/bad_v2"
[ $int8_only = 1 ] || dirs="Tests/Fixtures/bad $dirs $fix/bad_heads"
for d in $dirs; do
  [ -d "$d" ] || { echo "# SKIP $d: absent"; continue; }
  for b in "$d"/*.blob; do echo "bad $b"; done
done
# Single-byte corruptions of a whole blob (every 13th byte; aarch64: every byte).
[ "$target" = aarch64 ] && echo "corrupt Tests/Fixtures/tiny_int8.blob 1" || echo "corrupt Tests/Fixtures/tiny_int8.blob 13"
# Heads (classifier, regressor; their f32 tail and the software exp) and self-test vectors.
for t in tiny_int8_heads tiny_heads tiny_f16_heads; do
  [ -f "$fix/$t.blob" ] || { echo "# SKIP $t: absent"; continue; }
  if [ $int8_only = 1 ] && ! is_int8 $t; then continue; fi
  echo "heads $fix/$t.blob $fix/$t.heads.golden"
  echo "selftest $fix/$t.blob"
done
# The shipped models: self-test, and real windows against the x86-64 build's embeddings (bit for bit for int8).
for b in models/*.blob; do
  name=$(basename "$b" .blob)
  if [ $int8_only = 1 ] && ! is_int8 "$name"; then echo "reject $b RELCON_E_BLOB_VERSION"; continue; fi
  echo "selftest $b"
  if [ -f "$ref/$name.golden" ]; then echo "golden $b $ref/$name.golden$(limit $name)"
  else echo "# SKIP real windows of $name: no $ref/$name.golden (needs the data)"; fi
done
