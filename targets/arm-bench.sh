#!/usr/bin/env bash
# The Cortex-M int8 kernel's benchmark (make arm-bench): QEMU instruction counts per relcon_embed for each library
# variant side by side in one run, from the same measurement image as targets/figures.sh
# (targets/cortex-m4/measure.c: blob and a real window in flash, -icount shift=0, mean over 3 windows):
#   targets/arm-bench.sh RECORDING.csv "VARIANTS" BLOB...
# int8-only variants run the int8 blobs, full ones every blob. The table replaces the text between the arm-bench
# markers of docs/embedded.md (temporary file, then rename) and is printed. Figures only, never a test threshold.
set -euo pipefail
rec=${1:?usage: arm-bench.sh RECORDING.csv "VARIANTS" BLOB...}
variants=${2:?}
shift 2
: "${ARM:?}" "${M4_CC:?}" "${M4_CFLAGS:?}" "${M4_LD:?}" "${M4_RT:?}" "${BLOB2C:?}" "${REC2C:?}" "${QEMU_M4:?}"
out=$ARM/arm-bench
mkdir -p "$out"
doc=docs/embedded.md
"$REC2C" "$rec" --name fw_rec --start 1500 --count 1000 --out-c "$out/fw_rec.c" --out-h "$out/fw_rec.h"
secsum() { arm-none-eabi-size -A "$1" | awk -v re="$2" '$1 ~ re {s += $2} END {print s + 0}'; }
fmt() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
lane_of() {
  case "$1" in
    *-portable) echo "portable (ConvDriver generic lanes)" ;;
    *-nodsp) echo "Cortex-M kernel, scalar lane (no DSP)" ;;
    *) echo "Cortex-M kernel, SMLAD lane" ;;
  esac
}
rows=""
for blob in "$@"; do
  name=$(basename "$blob" .blob)
  bdir=$out/$name
  mkdir -p "$bdir"
  "$BLOB2C" "$blob" --name fw_model --out-c "$bdir/fw_model.c" --out-h "$bdir/fw_model.h"
  for v in $variants; do
    case "$v" in *int8*) case "$name" in *int8*) ;; *) continue ;; esac ;; esac
    elf=$bdir/measure-$v.elf
    # shellcheck disable=SC2086
    $M4_CC $M4_CFLAGS -std=c11 -Wall -Wextra -Werror -O2 -ffunction-sections -fdata-sections -Iinclude -Itargets/common \
      -I"$bdir" -I"$out" targets/cortex-m4/measure.c "$bdir/fw_model.c" "$out/fw_rec.c" targets/common/out.c $M4_RT \
      "$ARM/$v/librelcon.a" $M4_LD -lc -lgcc -o "$elf"
    # shellcheck disable=SC2086
    line=$($QEMU_M4,arg=measure -icount shift=0 -kernel "$elf" | grep '^figures') || { echo "arm-bench: $name $v failed" >&2; exit 1; }
    get() { tr ' ' '\n' <<<"$line" | sed -n "s/^$1=//p"; }
    emb=$(get embed); macs=$(get macs)
    lib=$ARM/$v/librelcon.o
    flash=$(( $(secsum "$lib" '^\.text') + $(secsum "$lib" '^\.rodata') + $(secsum "$lib" '^\.data') + $(secsum "$lib" '^\.ARM\.ex') ))
    case "$v" in *int8*) kind="int8-only" ;; *) kind="full" ;; esac
    lane=$(lane_of "$v"); case "$name" in *int8*) ;; *) lane="portable fp32/f16 lanes" ;; esac
    rows+="| $name | $kind \`$v\` | $lane | $(awk -v x="$emb" 'BEGIN {printf "%.1f", x / 1e6}') M | $(awk -v a="$emb" -v b="$macs" 'BEGIN {printf "%.2f", a / b}') | $(fmt $flash) | $(fmt $(get stack_embed)) | $(fmt $(get arena)) |"$'\n'
    echo "arm-bench: $name $v: $line" >&2
  done
done
qv=$(qemu-system-arm --version | head -1 | sed 's/.*version \([^ ]*\).*/\1/')
sv=$(swiftc --version 2>&1 | head -1 | sed 's/.*Swift version \([^ ]*\).*/\1/')
{
  echo "<!-- arm-bench:begin (written by \`make arm-bench\`; do not edit by hand) -->"
  echo
  echo "Measured on $(date -u +%Y-%m-%d), Swift $sv, QEMU $qv \`-M mps2-an386\` (Cortex-M4F), \`-icount shift=0\`: guest"
  echo "instructions per \`relcon_embed\` of one real 256-sample window (mean of 3), not cycles. Library flash: .text +"
  echo ".rodata + .data + .ARM.exidx of \`librelcon.a\`."
  echo
  echo "| model | library | CONV1D lane | instructions / window | per MAC | library flash B | stack B (embed) | arena B |"
  echo "|---|---|---|---:|---:|---:|---:|---:|"
  printf "%s" "$rows"
  echo
  echo "<!-- arm-bench:end -->"
} > "$out/arm-bench.md"
cat "$out/arm-bench.md"
awk -v tables="$out/arm-bench.md" '
  /<!-- arm-bench:begin/ { while ((getline l < tables) > 0) print l; skip = 1; next }
  /<!-- arm-bench:end/ { skip = 0; next }
  !skip { print }' "$doc" > "$doc.tmp"
grep -q 'arm-bench:begin' "$doc.tmp" || { rm -f "$doc.tmp"; echo "arm-bench: no arm-bench markers in $doc" >&2; exit 1; }
mv "$doc.tmp" "$doc"
echo "arm-bench: $doc updated"
