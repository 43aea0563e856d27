#!/usr/bin/env bash
# Checks the rules of include/relcon.h that a compiler alone does not:
#   - every function declaration carries RELCON_API, and the comment right above it a "Since 0.x." note;
#   - the header compiles alone, warning-free, as C99 and C11 (-pedantic) and as C++11 (when c++ exists);
#   - RELCON_DEPRECATED(msg) makes a call a warning that carries msg;
#   - RELCON_NO_EXPERIMENTAL leaves the experimental section (the streaming API) out, and only it.
#   Tests/CTests/check_header.sh include/relcon.h
set -euo pipefail
h=${1:?usage: check_header.sh include/relcon.h}
[ -f "$h" ] || { echo "check_header: $h does not exist" >&2; exit 1; }
inc=$(dirname "$h")
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# 1. RELCON_API and "Since" on every declaration: a line that starts a declaration of relcon_NAME( (not a
#    comment, not a #define), and the end of the comment above it.
awk '
  /^[A-Za-z_].*[ *]relcon_[a-z0-9_]+\(/ && !/^#/ && !/^typedef/ {
    match($0, /relcon_[a-z0-9_]+\(/); name = substr($0, RSTART, RLENGTH - 1)
    if ($0 !~ /^RELCON_API /) { print "check_header: " name " is declared without RELCON_API"; bad = 1 }
    if (prev !~ /Since 0\.[0-9]+\. \*\/$/) { print "check_header: the comment above " name " has no \"Since 0.x.\" note"; bad = 1 }
    n++
  }
  { prev = $0 }
  END { if (n == 0) { print "check_header: no declarations found"; bad = 1 }; exit bad }
' "$h" >&2 || fail=1
n_decl=$(grep -cE '^RELCON_API ' "$h")

# 2. Compiles alone in C99, C11 and C++11, without warnings.
printf '#include "relcon.h"\nint main(void) { return (int)relcon_version() & 0; }\n' > "$tmp/alone.c"
for std in c99 c11; do
  "$cc" -std=$std -pedantic -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/alone.c" \
    || { echo "check_header: $h does not compile as $std" >&2; fail=1; }
done
if command -v c++ >/dev/null 2>&1; then
  printf '#include "relcon.h"\nint main() { return static_cast<int>(relcon_version()) & 0; }\n' > "$tmp/alone.cc"
  c++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/alone.cc" \
    || { echo "check_header: $h does not compile as C++11" >&2; fail=1; }
fi

# 3. RELCON_DEPRECATED: a call is a warning naming the replacement; the declaration alone is not.
printf '#include "relcon.h"\nRELCON_DEPRECATED("use relcon_new_thing") RELCON_API int relcon_old_thing(void);\n' > "$tmp/dep.c"
"$cc" -std=c11 -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/dep.c" \
  || { echo "check_header: a RELCON_DEPRECATED declaration alone warns" >&2; fail=1; }
printf 'int main(void) { return relcon_old_thing(); }\n' >> "$tmp/dep.c"
if "$cc" -std=c11 -Wall -Werror=deprecated-declarations -I"$inc" -fsyntax-only "$tmp/dep.c" 2> "$tmp/dep.err"; then
  echo "check_header: calling a RELCON_DEPRECATED function does not warn" >&2; fail=1
elif ! grep -q "use relcon_new_thing" "$tmp/dep.err"; then
  echo "check_header: the deprecation warning does not carry its message:" >&2; cat "$tmp/dep.err" >&2; fail=1
fi

# 4. RELCON_NO_EXPERIMENTAL: the streaming API is gone, the rest is there.
printf '#define RELCON_NO_EXPERIMENTAL\n#include "relcon.h"\nint f(relcon_session *s) { return relcon_selftest(s, 0); }\n' > "$tmp/noexp.c"
"$cc" -std=c11 -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/noexp.c" \
  || { echo "check_header: the stable API does not compile with RELCON_NO_EXPERIMENTAL" >&2; fail=1; }
printf 'int g(relcon_stream *st) { return relcon_stream_gap(st); }\n' >> "$tmp/noexp.c"
if "$cc" -std=c11 -I"$inc" -fsyntax-only "$tmp/noexp.c" 2>/dev/null; then
  echo "check_header: RELCON_NO_EXPERIMENTAL does not hide the streaming API" >&2; fail=1
fi

[ $fail -eq 0 ] && echo "check_header: OK ($n_decl functions, each RELCON_API with a Since note; C99/C11$(command -v c++ >/dev/null 2>&1 && echo /C++11) clean)"
exit $fail
