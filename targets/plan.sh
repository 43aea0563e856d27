#!/usr/bin/env bash
# Writes the device test plan (targets/common/harness.c commands) for one target to stdout:
#   targets/plan.sh TARGET FIXTURES_DIR REF_DIR   TARGET: aarch64 | aarch64-so | aarch64-isa | cortex-m4 | cortex-m4-int8
#   | cortex-m4-int8-nodsp (the Cortex-M int8 kernel's scalar lane, the one for cores without the DSP extension)
# Everything a target runs is listed here. Golden sets that `make fixtures` could not write (no data) and the
# real-window references (REF_DIR/<model>.golden, written by the x86-64 build) are skipped when absent, with a
# comment in the plan. The -so and -int8 variants run the same runtime code again (through librelcon.so, or
# built with RELCON_INT8_ONLY) and take a short pass.
set -euo pipefail
target=${1:?usage: plan.sh TARGET FIXTURES_DIR REF_DIR}
fix=${2:?}
ref=${3:?}
# Windows run per golden set (empty: all of them). qemu-aarch64 and qemu-system-arm both take seconds per window of
# the reference model with the portable lanes: the big sets run a few windows, the compact int8 set all 32.
int8_only=0
short=0
case "$target" in
  aarch64) limit() { case "$1" in reference*) echo " 4" ;; compact_f16) echo " 8" ;; *) echo "" ;; esac; } ;;
  aarch64-so) short=1; limit() { echo " 2"; } ;;   # the same code through librelcon.so: a short pass
  # the other aarch64 ISA levels (mk/arm-a64.mk: Cortex-A53's neon, RELCON_ISA=portable): every golden set and
  # shipped model, fewer windows; no defect fixtures (the validator rejects them before any kernel runs)
  aarch64-isa) limit() { case "$1" in compact_int8) echo " 8" ;; reference*) echo " 1" ;; *) echo " 2" ;; esac; } ;;
  cortex-m4) limit() { case "$1" in reference*) echo " 2" ;; compact_int8|relcon-*) echo "" ;; *) echo " 4" ;; esac; } ;;
  cortex-m4-int8) short=1; limit() { echo " 2"; } ;;   # the same int8 code as cortex-m4: a short pass
  cortex-m4-int8-nodsp) short=1; limit() { echo " 2"; } ;;   # the scalar int8 lane: a short pass
  *) echo "plan.sh: unknown target $target" >&2; exit 2 ;;
esac
case "$target" in cortex-m4-int8*) int8_only=1 ;; esac
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
  case "$s" in reference*) if [ $short = 1 ]; then echo "# $s: run by the full build of this target"; continue; fi ;; esac
  if [ "${target%-*}" != aarch64 ] && { [ $s = reference ] || [ $s = reference_f16 ]; }; then
    echo "# $s: not run on Cortex-M4: the float reference blobs (14.5 / 7.3 MB) do not fit the board's 4 MB flash"
    continue
  fi
  echo "golden $fix/$s.blob $fix/$s.golden$(limit $s)"
done
if [ "$target" = aarch64-isa ]; then
  for t in tiny_int8_heads tiny_heads tiny_f16_heads; do
    [ -f "$fix/$t.blob" ] && echo "heads $fix/$t.blob $fix/$t.heads.golden"
  done
  for b in models/*.blob; do
    name=$(basename "$b" .blob)
    echo "selftest $b"
    [ -f "$ref/$name.golden" ] && echo "golden $b $ref/$name.golden$(limit $name)"
  done
  exit 0
fi
# Defect fixtures: each gives its own status (the f32 ones are not read by an int8-only library at all).
dirs="Tests/Fixtures/bad_v2"
[ $int8_only = 1 ] || dirs="Tests/Fixtures/bad $dirs $fix/bad_heads"
[ "$target" = aarch64-so ] && dirs="Tests/Fixtures/bad"
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
