#!/usr/bin/env bash
# make install into a temporary DESTDIR, then build examples/embed_recording against the installed files with
# pkg-config, dynamically and statically (--static, -static), run both on a real recording and compare their
# embeddings; check the versioned shared library, nm of librelcon.a, the CLI; make uninstall removes every file.
#   Tests/install_test.sh VERSION RECORDING.csv        (make test-install)
set -euo pipefail
version=${1:?usage: install_test.sh VERSION RECORDING.csv}
rec=${2:?}
major=${version%%.*}
make=${MAKE:-make}
cc=${CC:-cc}
prefix=/opt/relcon-test
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }

$make --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "make install"; }
lib=$dest$prefix/lib
for f in include/relcon.h lib/librelcon.so.$version lib/librelcon.a lib/pkgconfig/relcon.pc bin/relcon; do
  [ -f "$dest$prefix/$f" ] || fail "$prefix/$f not installed"
done
[ "$(readlink "$lib/librelcon.so.$major")" = "librelcon.so.$version" ] || fail "librelcon.so.$major is not a link to librelcon.so.$version"
[ "$(readlink "$lib/librelcon.so")" = "librelcon.so.$major" ] || fail "librelcon.so is not a link to librelcon.so.$major"
soname=$(readelf -d "$lib/librelcon.so.$version" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
[ "$soname" = "librelcon.so.$major" ] || fail "SONAME '$soname', want librelcon.so.$major"
bad=$(nm -g --defined-only "$lib/librelcon.a" | awk 'NF == 3 && $3 !~ /^relcon_/ {print $3}')
[ -z "$bad" ] || fail "librelcon.a defines non-relcon_ globals: $(echo $bad | head -c 300)"
bad=$(nm -D --defined-only "$lib/librelcon.so.$version" | awk 'NF == 3 && $3 !~ /^relcon_/ {print $3}')
[ -z "$bad" ] || fail "librelcon.so exports non-relcon_ symbols: $bad"

export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$lib/pkgconfig
[ "$(pkg-config --modversion relcon)" = "$version" ] || fail "pkg-config --modversion relcon: $(pkg-config --modversion relcon)"
dyn_flags=$(pkg-config --cflags --libs relcon)
st_flags=$(pkg-config --static --cflags --libs relcon)
$cc -O2 -std=c11 examples/embed_recording/embed_recording.c $dyn_flags -lm -o "$tmp/embed_dyn" 2> "$tmp/cc.log" ||
  { cat "$tmp/cc.log" >&2; fail "cc ... \$(pkg-config --cflags --libs relcon)"; }
$cc -O2 -std=c11 examples/embed_recording/embed_recording.c $st_flags -lm -static -o "$tmp/embed_static" 2> "$tmp/cc.log" ||
  { cat "$tmp/cc.log" >&2; fail "cc ... \$(pkg-config --static --cflags --libs relcon) -static"; }
grep -q "NEEDED.*\[librelcon.so.$major\]" <<<"$(readelf -d "$tmp/embed_dyn")" || fail "the dynamic example does not need librelcon.so.$major"
readelf -d "$tmp/embed_static" 2>/dev/null | grep -q NEEDED && fail "the -static example still needs shared libraries"
if [ -f "$rec" ]; then
  LD_LIBRARY_PATH=$lib "$tmp/embed_dyn" models/relcon-compact-int8.blob "$rec" --hop 512 --out "$tmp/dyn.csv" > /dev/null
  "$tmp/embed_static" models/relcon-compact-int8.blob "$rec" --hop 512 --out "$tmp/static.csv" > /dev/null
  cmp -s "$tmp/dyn.csv" "$tmp/static.csv" || fail "the static and the dynamic example wrote different embeddings"
  ran="ran both on $(basename "$rec") ($(($(wc -l < "$tmp/dyn.csv") - 1)) windows, identical embeddings)"
else
  ran="SKIP running them: no recording $rec (needs the data)"
fi
"$dest$prefix/bin/relcon" inspect Tests/Fixtures/tiny.blob > /dev/null || fail "the installed CLI does not run"

$make --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" > /dev/null
left=$(find "$dest" \( -type f -o -type l \) | sed "s|^$dest||")
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install_test: OK: $prefix (DESTDIR) with librelcon.so.$version (SONAME librelcon.so.$major), librelcon.a" \
     "(relcon_* globals only), relcon.pc, bin/relcon; embed_recording built with pkg-config dynamic and --static, $ran;" \
     "make uninstall removed every file"
