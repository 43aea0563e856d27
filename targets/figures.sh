#!/usr/bin/env bash
# docs/embedded.md's figures, from one command (make embedded-figures, which builds what this needs):
#   targets/figures.sh RECORDING.csv "VARIANTS" BLOB...
# For each Cortex-M4F library variant (.build/arm/<variant>/librelcon.a): its section sizes. For each blob and
# variant that reads it: a measurement image (targets/cortex-m4/measure.c, the blob and a real window in flash)
# run under qemu-system-arm -icount shift=0: instructions per relcon_embed / relcon_session_init / relcon_inspect,
# arena, stack high-water. The tables replace the text between the embedded-figures markers of docs/embedded.md
# (written to a temporary file, then renamed).
set -euo pipefail
rec=${1:?usage: figures.sh RECORDING.csv "VARIANTS" BLOB...}
variants=${2:?}
shift 2
: "${ARM:?}" "${M4_CC:?}" "${M4_CFLAGS:?}" "${M4_LD:?}" "${M4_RT:?}" "${BLOB2C:?}" "${REC2C:?}" "${QEMU_M4:?}"
out=$ARM/figures
mkdir -p "$out"
doc=docs/embedded.md
# A real window source: 10 s of UCI HAPT subject 01 (walking part) at 100 Hz.
"$REC2C" "$rec" --name fw_rec --start 1500 --count 1000 --out-c "$out/fw_rec.c" --out-h "$out/fw_rec.h"

opt_of() { case "$1" in *-O) echo "-O" ;; *) echo "-Osize" ;; esac; }
kind_of() { case "$1" in *int8*) echo "int8-only" ;; *) echo "full" ;; esac; }
secsum() {  # secsum FILE REGEX: bytes of the sections whose name matches
  arm-none-eabi-size -A "$1" | awk -v re="$2" '$1 ~ re {s += $2} END {print s + 0}'
}
fmt() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }   # 1234567 -> 1,234,567

lib_rows=""
for v in $variants; do
  o=$ARM/$v/librelcon.o
  t=$(secsum "$o" '^\.text'); r=$(secsum "$o" '^\.rodata'); d=$(secsum "$o" '^\.data'); b=$(secsum "$o" '^\.bss')
  x=$(secsum "$o" '^\.ARM\.ex')
  lib_rows+="| $(kind_of $v) | \`$(opt_of $v)\` | $(fmt $t) | $(fmt $r) | $(fmt $d) | $(fmt $b) | $(fmt $x) | $(fmt $((t + r + d + x))) |"$'\n'
done

model_rows=""
per_tick=""
for blob in "$@"; do
  name=$(basename "$blob" .blob)
  bdir=$out/$name
  mkdir -p "$bdir"
  "$BLOB2C" "$blob" --name fw_model --out-c "$bdir/fw_model.c" --out-h "$bdir/fw_model.h"
  bytes=$(stat -c %s "$blob")
  for v in $variants; do
    case "$v" in *int8*) case "$name" in *int8*) ;; *) continue ;; esac ;; esac
    elf=$bdir/measure-$v.elf
    # shellcheck disable=SC2086
    $M4_CC $M4_CFLAGS -std=c11 -Wall -Wextra -Werror -O2 -ffunction-sections -fdata-sections -Iinclude -Itargets/common \
      -I"$bdir" -I"$out" targets/cortex-m4/measure.c "$bdir/fw_model.c" "$out/fw_rec.c" targets/common/out.c $M4_RT \
      "$ARM/$v/librelcon.a" $M4_LD -lc -lgcc -o "$elf"
    # shellcheck disable=SC2086
    line=$($QEMU_M4,arg=measure -icount shift=0 -kernel "$elf" | grep '^figures') || { echo "figures: $name $v failed" >&2; exit 1; }
    get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    per_tick=$(get per_tick)
    emb=$(get embed); init=$(get init); insp=$(get inspect); macs=$(get macs)
    it=$(secsum "$elf" '^\.text'); ir=$(secsum "$elf" '^\.rodata'); id=$(secsum "$elf" '^\.data'); ib=$(secsum "$elf" '^\.bss')
    m() { awk -v x="$1" 'BEGIN {printf "%.1f", x / 1e6}'; }
    ipm=$(awk -v a="$emb" -v b="$macs" 'BEGIN {printf "%.2f", a / b}')
    model_rows+="| $name | $(fmt $bytes) | $(kind_of $v) \`$(opt_of $v)\` | $(fmt $(get arena)) | $(fmt $(get stack_init)) / $(fmt $(get stack_embed)) | $(m $emb) M ($ipm / MAC) | $(m $init) M | $(m $insp) M | $(fmt $it) / $(fmt $ir) / $(fmt $id) / $(fmt $ib) |"$'\n'
    echo "figures: $name $v: $line" >&2
  done
done

qv=$(qemu-system-arm --version | head -1 | sed 's/.*version \([^ ]*\).*/\1/')
sv=$(swiftc --version 2>&1 | head -1 | sed 's/.*Swift version \([^ ]*\).*/\1/')
gv=$(arm-none-eabi-gcc -dumpversion)
{
  echo "<!-- embedded-figures:begin (written by \`make embedded-figures\`; do not edit by hand) -->"
  echo
  echo "Measured on $(date -u +%Y-%m-%d) with Swift $sv, arm-none-eabi-gcc $gv, QEMU $qv (\`-M mps2-an386\`, \`-icount shift=0\`;"
  echo "CMSDK timer 0 calibrated against a loop of known length: $per_tick instructions per tick). **QEMU is not cycle-accurate:**"
  echo "the counts are guest instructions retired, not cycles; a real Cortex-M4F adds wait states, pipeline stalls"
  echo "and 2-cycle loads."
  echo
  echo "**librelcon.a for Cortex-M4F** (bytes; the library alone, what a firmware links when it uses the whole API):"
  echo
  echo "| build | Swift | .text | .rodata | .data | .bss | .ARM.exidx | flash |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  printf "%s" "$lib_rows"
  echo
  echo "**Per model** (mean over 3 real 256-sample windows; stack: high-water below"
  echo "the caller's frame during \`relcon_session_init\` / \`relcon_embed\`; image: the measurement image, blob in"
  echo ".rodata, arena in .bss):"
  echo
  echo "| model | blob B (flash) | build | arena B | stack B init / embed | instructions per \`relcon_embed\` | per \`session_init\` | per \`inspect\` | image .text / .rodata / .data / .bss |"
  echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
  printf "%s" "$model_rows"
  echo
  echo "<!-- embedded-figures:end -->"
} > "$out/tables.md"
awk -v tables="$out/tables.md" '
  /<!-- embedded-figures:begin/ { while ((getline l < tables) > 0) print l; skip = 1; next }
  /<!-- embedded-figures:end/ { skip = 0; next }
  !skip { print }' "$doc" > "$doc.tmp"
grep -q 'embedded-figures:begin' "$doc.tmp" || { rm -f "$doc.tmp"; echo "figures: no embedded-figures markers in $doc" >&2; exit 1; }
mv "$doc.tmp" "$doc"
echo "figures: $doc updated"
