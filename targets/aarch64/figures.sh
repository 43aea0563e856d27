#!/usr/bin/env bash
# docs/embedded.md's aarch64 table, from one command (make a64-figures, which builds what this needs):
#   targets/aarch64/figures.sh MEASURE PLUGIN BLOB...
# For each blob and each aarch64 ISA level (portable, neon, dotprod: qemu-aarch64 -cpu max with RELCON_ISA caps,
# so only the level differs), the guest instructions per relcon_embed: MEASURE (targets/aarch64/measure.c) under the
# instruction-counting plugin (targets/aarch64/insn_count.c) with 3 windows minus the same run with 0, divided by 3.
# int8 blobs must give the same embeddings (checksum) on every level. Replaces the text between the a64-figures
# markers of docs/embedded.md (a temporary file, then a rename).
set -euo pipefail
measure=${1:?usage: figures.sh MEASURE PLUGIN BLOB...}
plugin=${2:?}
shift 2
: "${QEMU_A64:?}"
doc=docs/embedded.md
levels="portable neon dotprod"
count() {  # count LEVEL BLOB WINDOWS -> "instructions checksum macs"
  local out
  # shellcheck disable=SC2086
  out=$(RELCON_ISA=$1 $QEMU_A64 -cpu max -plugin "$plugin" "$measure" "$2" "$3" 2>&1) || {
    echo "figures: $2 at $1 failed: $out" >&2; exit 1; }
  local insns sum macs
  insns=$(sed -n 's/^insns \([0-9]*\)$/\1/p' <<<"$out")
  sum=$(sed -n 's/.*checksum=\([0-9a-f]*\).*/\1/p' <<<"$out")
  macs=$(sed -n 's/.*macs=\([0-9]*\).*/\1/p' <<<"$out")
  [ -n "$insns" ] && [ -n "$macs" ] || { echo "figures: no count from $2 at $1: $out" >&2; exit 1; }
  echo "$insns $sum $macs"
}
m() { awk -v x="$1" 'BEGIN {printf "%.1f", x / 1e6}'; }
rows=""
for blob in "$@"; do
  name=$(basename "$blob" .blob)
  cells=""
  base=""; first_sum=""; macs=0
  for lv in $levels; do
    read -r i0 _ macs < <(count "$lv" "$blob" 0)
    read -r i3 s3 _ < <(count "$lv" "$blob" 3)
    per=$(( (i3 - i0) / 3 ))
    case "$name" in *int8*)
      if [ -z "$first_sum" ]; then first_sum=$s3
      elif [ "$s3" != "$first_sum" ]; then echo "figures: $name: $lv embeddings differ from portable's (int8 must be bit-exact)" >&2; exit 1; fi ;;
    esac
    [ -n "$base" ] || base=$per
    ratio=$(awk -v a="$base" -v b="$per" 'BEGIN {printf "%.2f", a / b}')
    ipm=$(awk -v a="$per" -v b="$macs" 'BEGIN {printf "%.3f", a / b}')
    cells+=" $(m "$per") M ($ipm / MAC, ${ratio}×) |"
    echo "figures: $name $lv: $per instructions per relcon_embed ($ipm per MAC), checksum $s3" >&2
  done
  rows+="| $name | $(m "$macs") M |$cells"$'\n'
done
qv=$(qemu-aarch64 --version | head -1 | sed 's/.*version \([^ ]*\).*/\1/')
sv=$(swiftc --version 2>&1 | head -1 | sed 's/.*Swift version \([^ ]*\).*/\1/')
{
  echo "<!-- a64-figures:begin (written by \`make a64-figures\`; do not edit by hand) -->"
  echo
  echo "Measured on $(date -u +%Y-%m-%d) with Swift $sv, QEMU $qv (\`qemu-aarch64 -cpu max\`, \`RELCON_ISA\` caps the level;"
  echo "a TCG plugin counts retired guest instructions: 3 real 256-sample windows minus the same run with none, / 3)."
  echo "**Instruction counts, not cycles** (QEMU models no pipeline). Ratios: portable ÷ level, same run."
  echo
  echo "| model | MAC / window | portable | neon | dotprod |"
  echo "|---|---:|---:|---:|---:|"
  printf "%s" "$rows"
  echo
  echo "<!-- a64-figures:end -->"
} > "$doc.a64.tmp"
awk -v tables="$doc.a64.tmp" '
  /<!-- a64-figures:begin/ { while ((getline l < tables) > 0) print l; skip = 1; next }
  /<!-- a64-figures:end/ { skip = 0; next }
  !skip { print }' "$doc" > "$doc.tmp"
rm -f "$doc.a64.tmp"
grep -q 'a64-figures:begin' "$doc.tmp" || { rm -f "$doc.tmp"; echo "figures: no a64-figures markers in $doc" >&2; exit 1; }
mv "$doc.tmp" "$doc"
echo "figures: $doc updated (aarch64 levels)"
