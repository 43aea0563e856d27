#!/usr/bin/env bash
# Tests of the `relcon` command-line tool (docs/cli.md), run by `make test-cli`.
#
#   Tests/cli_test.sh [RELCON_CLI]      default .build/release/relcon-cli
#
# Uses the committed fixtures (Tests/Fixtures), Python with NumPy for numeric checks ($PY, default .venv/bin/python)
# and, when ../shared/data is present ($RELCON_DATA_DIR), real recordings written by `relcon-export recording`.
# The resampler's own unit tests (frequency response, DC gain, sines) are Swift tests in Tests/CLITests.
set -uo pipefail
cd "$(dirname "$0")/.."
CLI=${1:-.build/release/relcon-cli}
PY=${PY:-.venv/bin/python}
EXPORT=${EXPORT:-.venv/bin/relcon-export}
FIX=Tests/Fixtures
T=$(mktemp -d "${TMPDIR:-/tmp}/relcon-cli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0; fail=0

ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# run NAME EXPECTED_RC ARGS...: runs the CLI, keeps stdout/stderr in $T/out, $T/err.
run() {
    local name=$1 want=$2; shift 2
    "$CLI" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then bad "$name: exit $rc, expected $want ($(head -c 300 "$T/err"))"; return 1; fi
    return 0
}

# expect_error NAME EXPECTED_RC PATTERN ARGS...: non-zero exit, exactly one stderr line matching PATTERN, no stdout.
expect_error() {
    local name=$1 want=$2 pat=$3; shift 3
    run "$name" "$want" "$@" || return
    local lines; lines=$(wc -l <"$T/err")
    if [ "$lines" -ne 1 ]; then bad "$name: $lines stderr lines: $(cat "$T/err")"; return; fi
    if ! grep -qE "^relcon: .*$pat" "$T/err"; then bad "$name: stderr '$(cat "$T/err")' lacks /$pat/"; return; fi
    if [ -s "$T/out" ]; then bad "$name: wrote to stdout on error"; return; fi
    ok "$name: exit $want, '$(cat "$T/err")'"
}

[ -x "$CLI" ] || { echo "cli_test: $CLI not built (swift build -c release)"; exit 1; }

# ---- inspect / selftest / bench on every committed fixture -------------------------------------------------
for b in tiny tiny_int8 tiny_f16; do
    [ -f "$FIX/$b.blob" ] || continue
    if run "inspect $b" 0 inspect "$FIX/$b.blob" && grep -q ": valid" "$T/out" && grep -q "arena bytes" "$T/out" \
        && grep -q "model_name" "$T/out"; then ok "inspect $b"; else bad "inspect $b: $(head -3 "$T/out")"; fi
    if run "inspect --json $b" 0 inspect "$FIX/$b.blob" --json --samples 512 \
        && "$PY" -c "
import json, sys
d = json.load(open('$T/out'))
assert d['valid'] and d['embedding_dim'] == 32 and d['window_samples'] == 256 and d['n_samples'] == 512, d
assert d['sample_rate_hz'] == 100 and d['axis_order'] == 'xyz' and d['units'] == 'g'
assert d['arena_bytes'] > 0 and d['blob_bytes'] == d['file_bytes'] and d['macs'] > 0 and 'model_name' in d['metadata']
"; then ok "inspect --json $b"; else bad "inspect --json $b"; fi
    if run "selftest $b" 0 selftest "$FIX/$b.blob" && grep -q "all checks passed" "$T/out" && ! grep -q FAIL "$T/out"
    then ok "selftest $b"; else bad "selftest $b: $(grep FAIL "$T/out")"; fi
done
if run "inspect tiny arena" 0 inspect "$FIX/tiny.blob" && grep -qE "arena bytes +25600 " "$T/out"; then
    ok "inspect tiny: arena 25600 bytes at 256 samples (docs/runtime.md)"; else bad "inspect tiny arena"; fi
if run bench 0 bench "$FIX/tiny.blob" --runs 5 && grep -q "p50" "$T/out" && grep -q "arena 25600 B" "$T/out"; then
    ok "bench tiny"; else bad "bench tiny: $(cat "$T/out")"; fi
# the kernel ISA level (relcon_session_info): the machine's by default, what RELCON_ISA selects otherwise
if run "inspect kernels" 0 inspect "$FIX/tiny.blob" && grep -qE "^  kernels +(portable|v3|v4) " "$T/out" \
    && RELCON_ISA=portable "$CLI" inspect "$FIX/tiny.blob" | grep -qE "^  kernels +portable " \
    && RELCON_ISA=portable "$CLI" bench "$FIX/tiny.blob" --runs 2 | grep -q ", kernels portable$" \
    && RELCON_ISA=portable "$CLI" inspect "$FIX/tiny.blob" --json | "$PY" -c "import json, sys; assert json.load(sys.stdin)['isa'] == 'portable'"
then ok "inspect/bench print the kernels: $(grep -E '^  kernels' "$T/out" | tr -s ' ')"; else bad "inspect/bench kernels: $(grep kernels "$T/out")"; fi
run "--version" 0 --version && ok "--version: $(cat "$T/out")"

# ---- synthetic recordings (no data needed) --------------------------------------------------------------
"$PY" - "$T" <<'EOF'
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(0)
def sig(fs, secs=12.0):
    t = np.arange(int(secs * fs)) / fs
    x = 0.3 * np.sin(2 * np.pi * 1.8 * t) + 0.05 * np.sin(2 * np.pi * 6.1 * t)
    y = 0.2 * np.cos(2 * np.pi * 1.1 * t + 0.3)
    z = 1.0 + 0.1 * np.sin(2 * np.pi * 2.7 * t)
    return t, np.column_stack([x, y, z])
for fs in (100, 50, 40):
    t, a = sig(fs)
    with open(f"{d}/syn{fs}.csv", "w") as f:
        f.write(f"# synthetic, {fs} Hz, g\nt,x,y,z\n")
        np.savetxt(f, np.column_stack([t, a]), fmt="%.6f", delimiter=",")
t, a = sig(50)
np.save(f"{d}/syn50.npy", a.astype(np.float32))
np.savetxt(f"{d}/syn50_xyz.csv", a, fmt="%.6f", delimiter=",")
np.savetxt(f"{d}/syn50_mg.csv", np.column_stack([t, a * 1000]), fmt="%.6f", delimiter=",")
np.savetxt(f"{d}/syn50_ms2.csv", np.column_stack([t, a * 9.80665]), fmt="%.8f", delimiter=",")
open(f"{d}/cols.csv", "w").write("t,x,y,z\n0,1,0,0\n0.01,1,0\n")
open(f"{d}/nan.csv", "w").write("0,1,0,0\n0.01,nan,0,0\n")
open(f"{d}/text.csv", "w").write("0,1,0,0\n0.01,1,oops,0\n")
open(f"{d}/short.csv", "w").write("".join(f"{i/100:.2f},0,0,1\n" for i in range(100)))
open(f"{d}/backwards.csv", "w").write("0,1,0,0\n0.01,1,0,0\n0.005,1,0,0\n")
EOF

# embed: same signal at 100 Hz (not resampled), 50 and 40 Hz (resampled by the CLI): embeddings close.
for fs in 100 50 40; do
    run "embed syn$fs" 0 embed "$FIX/tiny.blob" "$T/syn$fs.csv" --hop 64 --out "$T/emb$fs.csv" && ok "embed syn$fs: $(cat "$T/out")"
done
run "embed syn50 npy out" 0 embed "$FIX/tiny.blob" "$T/syn50.csv" --hop 64 --out "$T/emb50.npy" && ok "embed --out .npy"
run "embed npy in" 0 embed "$FIX/tiny.blob" "$T/syn50.npy" --rate 50 --hop 64 --out "$T/emb50n.csv" && ok "embed NPY input"
run "embed xyz" 0 embed "$FIX/tiny.blob" "$T/syn50_xyz.csv" --rate 50 --hop 64 --out "$T/emb50x.csv" && ok "embed x,y,z --rate"
run "embed mg" 0 embed "$FIX/tiny.blob" "$T/syn50_mg.csv" --units mg --hop 64 --out "$T/emb50mg.csv" && ok "embed --units mg"
run "embed m/s2" 0 embed "$FIX/tiny.blob" "$T/syn50_ms2.csv" --units m/s2 --hop 64 --out "$T/emb50ms.csv" && ok "embed --units m/s2"
run "embed stdout" 0 embed "$FIX/tiny.blob" "$T/syn100.csv" && [ "$(head -1 "$T/out" | cut -c1-11)" = "t_start,e0," ] \
    && ok "embed to stdout ($(($(wc -l <"$T/out") - 1)) windows)"
if ls "$T"/*.tmp* >/dev/null 2>&1; then bad "temporary files left behind"; else ok "no temporary files left (atomic writes)"; fi
if "$PY" - "$T" <<'EOF'
import sys, numpy as np
d = sys.argv[1]
load = lambda n: np.loadtxt(f"{d}/{n}", delimiter=",", skiprows=1)
ref = load("emb100.csv")
assert ref.shape == (ref.shape[0], 33) and ref.shape[0] == (1200 - 256) // 64 + 1, ref.shape
def close(name, e, tol):
    assert e.shape == ref.shape, (name, e.shape, ref.shape)
    assert np.allclose(e[:, 0], ref[:, 0], atol=1e-3), name
    rel = np.linalg.norm(e[:, 1:] - ref[:, 1:], axis=1) / np.linalg.norm(ref[:, 1:], axis=1)
    assert rel.max() < tol, (name, rel.max())
    print(f"  {name}: max relative difference to the 100 Hz input {rel.max():.2e}")
close("50 Hz resampled", load("emb50.csv"), 5e-3)
close("40 Hz resampled", load("emb40.csv"), 5e-3)
e50 = load("emb50.csv")
npy = np.load(f"{d}/emb50.npy")
assert npy.dtype == np.float64 and npy.shape == e50.shape and np.allclose(npy, e50, rtol=1e-6, atol=1e-6), "npy out"
for n in ("emb50n.csv", "emb50x.csv", "emb50mg.csv", "emb50ms.csv"):
    e = load(n)
    assert e.shape == e50.shape and np.allclose(e[:, 1:], e50[:, 1:], rtol=1e-4, atol=1e-5), (n, np.abs(e - e50).max())
EOF
then ok "embeddings: 50/40 Hz resampled ~ 100 Hz native; NPY out = CSV out; NPY in, x,y,z, mg, m/s2 = g CSV"
else bad "embedding comparisons"; fi

# ---- bad inputs: one stderr line, non-zero exit ----------------------------------------------------------
expect_error "missing blob" 1 "no such file" inspect "$T/nope.blob"
cp "$FIX/tiny.blob" "$T/corrupt.blob"
printf '\x55' | dd of="$T/corrupt.blob" bs=1 seek=20000 conv=notrunc status=none
expect_error "corrupt blob (inspect)" 1 "checksum" inspect "$T/corrupt.blob"
expect_error "corrupt blob (embed)" 1 "checksum" embed "$T/corrupt.blob" "$T/syn100.csv"
run "corrupt blob (selftest)" 1 selftest "$T/corrupt.blob" && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "checksum" "$T/err" \
    && grep -q "^FAIL inspect" "$T/out" && ok "corrupt blob (selftest): exit 1, '$(cat "$T/err")'" || bad "selftest of a corrupt blob"
expect_error "not a blob" 1 "magic|small" inspect "$T/syn100.csv"
nbad=0; nbadok=0
for f in "$FIX"/bad/*.blob; do
    nbad=$((nbad + 1))
    "$CLI" inspect "$f" >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -s "$T/out" ] && nbadok=$((nbadok + 1)) || echo "  $f: rc $rc $(cat "$T/err")"
done
[ $nbad -gt 0 ] && [ $nbadok -eq $nbad ] && ok "all $nbad defect blobs in $FIX/bad: exit 1, one stderr line" || bad "defect blobs: $nbadok/$nbad"
expect_error "missing recording" 1 "no such file" embed "$FIX/tiny.blob" "$T/nope.csv"
expect_error "wrong column count" 1 "columns" embed "$FIX/tiny.blob" "$T/cols.csv"
expect_error "NaN sample" 1 "not finite" embed "$FIX/tiny.blob" "$T/nan.csv"
expect_error "non-numeric sample" 1 "not a number" embed "$FIX/tiny.blob" "$T/text.csv"
expect_error "timestamps backwards" 1 "timestamps must increase" embed "$FIX/tiny.blob" "$T/backwards.csv"
expect_error "x,y,z without --rate" 1 "--rate" embed "$FIX/tiny.blob" "$T/syn50_xyz.csv"
expect_error "NPY without --rate" 1 "--rate" embed "$FIX/tiny.blob" "$T/syn50.npy"
expect_error "shorter than a window" 1 "shorter than one window" embed "$FIX/tiny.blob" "$T/short.csv"
expect_error "missing argument" 2 "Missing" embed "$FIX/tiny.blob"
expect_error "hop 0" 2 "hop" embed "$FIX/tiny.blob" "$T/syn100.csv" --hop 0
expect_error "bad units" 2 "units" embed "$FIX/tiny.blob" "$T/syn100.csv" --units furlongs
expect_error "bad --out extension" 2 "out" embed "$FIX/tiny.blob" "$T/syn100.csv" --out "$T/x.txt"
expect_error "unknown subcommand" 2 "" frobnicate
expect_error "unwritable --out" 1 "cannot write" embed "$FIX/tiny.blob" "$T/syn100.csv" --out "$T/no/such/dir/x.csv"

# ---- classify / heads (API 0.3) --------------------------------------------------------------------------
expect_error "classify a blob without heads" 1 "no heads" classify "$FIX/tiny.blob" "$T/syn100.csv"
cat >"$T/check_classify.py" <<'EOF'
import sys, collections
lines = open(sys.argv[1]).read().splitlines()
rows = [l.split(",") for l in lines if l and not l.startswith("#") and not l.startswith("t_start")]
assert len(rows) == (1199 - 256) // 64 + 1, len(rows)
last = lines[-1]
assert last.startswith("# recording: "), last
if sys.argv[2] == "classifier":
    assert all(0 <= float(r[3]) <= 1 for r in rows)
    counts = collections.Counter(r[2] for r in rows)
    # the runtime's majority vote (relcon_classify_recording) agrees with the per-window top classes
    for name, n in counts.items():
        assert f"{name} {n}" in last, (counts, last)
    best = max(counts.values())
    assert any(last.startswith(f"# recording: {c} ") for c, n in counts.items() if n == best), last
else:
    vals = [float(r[2]) for r in rows]
    mean = float(last.split()[3])
    assert abs(mean - sum(vals) / len(vals)) <= 1e-3 * max(1, abs(mean)), (mean, sum(vals) / len(vals))
EOF
# Blobs with heads: `make fixtures` writes them to .build/fixtures (relcon-export heads-fixture), or $HEADS_FIXTURES.
HFIX=${HEADS_FIXTURES:-.build/fixtures}
for name in tiny_heads tiny_int8_heads tiny_f16_heads; do
    b=""
    for d in "$FIX" "$HFIX"; do [ -f "$d/$name.blob" ] && b="$d/$name" && break; done
    [ -n "$b" ] || { echo "skip $name: not in $FIX or $HFIX (make fixtures)"; continue; }
    if run "selftest $b" 0 selftest "$b.blob" && grep -q "^ok   shipped self-test vector" "$T/out" \
        && grep -q "^ok   head " "$T/out" && ! grep -q FAIL "$T/out"; then ok "selftest $b (shipped vector, heads)"
    else bad "selftest $b: $(grep -E 'FAIL|skip' "$T/out")"; fi
    if run "inspect $b heads" 0 inspect "$b.blob" --json && "$PY" -c "
import json; d = json.load(open('$T/out')); h = d['heads']
assert len(h) >= 1 and all(x['kind'] in ('classifier', 'regressor') for x in h), h
assert all(len(x['classes']) == x['n_outputs'] for x in h if x['kind'] == 'classifier'), h
"; then ok "inspect --json $b lists heads"; else bad "inspect $b heads"; fi
    heads=$("$PY" -c "import json; print(' '.join(x['name'] + ':' + x['kind'] for x in json.load(open('$T/out'))['heads']))")
    for hk in $heads; do
        h=${hk%%:*}; kind=${hk#*:}
        run "classify $b $h" 0 classify "$b.blob" "$T/syn50.csv" --head "$h" --hop 64 || continue
        if "$PY" "$T/check_classify.py" "$T/out" "$kind"; then ok "classify $b --head $h ($kind): $(tail -1 "$T/out")"
        else bad "classify $b --head $h: $(tail -3 "$T/out")"; fi
    done
    expect_error "classify $b unknown head" 1 "no head" classify "$b.blob" "$T/syn100.csv" --head nope
done

# ---- examples/firmware_sim (C, links librelcon.so) ---------------------------------------------------------
LIBDIR=${LIBDIR:-.build/release}
if [ -f "$LIBDIR/librelcon.so" ] && command -v "${CC:-cc}" >/dev/null; then
    if "${CC:-cc}" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude examples/firmware_sim/firmware_sim.c -o "$T/firmware_sim" \
        -L"$LIBDIR" -lrelcon -Wl,-rpath,"$(cd "$LIBDIR" && pwd)" -lm; then
        fwb="$FIX/tiny.blob"; [ -f "$HFIX/tiny_heads.blob" ] && fwb="$HFIX/tiny_heads.blob"
        if "$T/firmware_sim" "$fwb" "$T/syn100.csv" --hop 64 >"$T/out" 2>"$T/err" \
            && grep -q "summary: 15 windows (hop 64 contract samples, 0 restarts)" "$T/out" && grep -q "heap calls after boot: 0" "$T/out"
        then ok "firmware_sim $(basename "$fwb"): $(grep summary "$T/out" | cut -c1-80)..."; else bad "firmware_sim: $(cat "$T/err") $(tail -2 "$T/out")"; fi
        # a recording at 50 Hz streams at its own rate (resampled inside relcon_stream_*), as floats and as counts
        for counts in "" "--counts 4096"; do
            if "$T/firmware_sim" "$fwb" "$T/syn50.csv" --hop 64 $counts >"$T/out" 2>"$T/err" \
                && grep -q "sensor 50 Hz" "$T/out" && grep -qE "summary: [1-9][0-9]* windows" "$T/out" \
                && grep -q "heap calls after boot: 0" "$T/out"
            then ok "firmware_sim streams a 50 Hz recording $counts"; else bad "firmware_sim 50 Hz $counts: $(cat "$T/err")"; fi
        done
        # the Python binding's Stream (relcon_export.runtime, issue 14) = the C stream of firmware_sim, line for line:
        # the same 25-sample bursts with their timestamps, as float g and as int16 counts (fw_compare REC, here and
        # on a real recording below)
        cat >"$T/fwcmp.py" <<'PYEOF'
import re, sys, numpy as np
from relcon_export.runtime import Session
blob, rec, out = sys.argv[1:4]
lsb = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
a = np.loadtxt(rec, delimiter=",", comments="#", skiprows=2)
t, x = a[:, 0], a[:, 1:].astype(np.float32)
s = Session(blob)
st = s.stream(50, hop=64, count_scale=np.float32(1.0 / lsb) if lsb else None)
parts = []
for i in range(0, len(x), 25):                                  # FW_FIFO_WATERMARK bursts, each with its timestamp
    if lsb:
        c = np.clip(np.rint(x[i:i + 25].astype(np.float64) * lsb), -32768, 32767).astype(np.int16)
        parts.append(st.push_counts(c, t_first=t[i]))
    else:
        parts.append(st.push(x[i:i + 25], t_first=t[i]))
mine = []
for r in parts:
    for j in range(len(r)):
        if s.heads and s.heads[0].kind == "classifier":
            p = r.head(0)[j]
            k = int(np.argmax(p))
            res = f"{s.heads[0].classes[k]} ({p[k]:.3f})"
        elif s.heads:
            res = f"{r.head(0)[j]:.4g}"
        else:
            res = f"{np.sqrt(np.sum(r.embedding[j].astype(np.float64) ** 2)):.4f}"
        mine.append(f"{r.start[j] / 50:.2f} {r.end[j] / 50:.2f} {res}")
theirs = []
for line in open(out):
    m = re.match(r"^\s*(-?\d+\.\d\d)\s+(-?\d+\.\d\d)\s{2}(.*?)\s{2,}", line)
    if m and not line.startswith(("boot", "summary")):
        theirs.append(f"{m[1]} {m[2]} {m[3].strip()}")
assert len(theirs) > 5 and mine == theirs, (len(mine), len(theirs), [p for p in zip(mine, theirs) if p[0] != p[1]][:3])
print(f"  {len(mine)} windows, e.g. {mine[0]}")
PYEOF
        fw_compare() {
            local rec=$1 counts
            for counts in "" "--counts 4096"; do
                "$T/firmware_sim" "$fwb" "$rec" --hop 64 $counts >"$T/fw.out" 2>"$T/err"
                if RELCON_LIB="$LIBDIR/librelcon.so" "$PY" "$T/fwcmp.py" "$fwb" "$rec" "$T/fw.out" $counts; then
                    ok "Python Stream = firmware_sim's C stream on $(basename "$rec") $counts (window times, class, probability)"
                else bad "Python Stream vs firmware_sim on $rec $counts: $(cat "$T/err")"; fi
            done
        }
        fw_compare "$T/syn50.csv"
        "$T/firmware_sim" "$FIX/tiny.blob" "$T/syn50.csv" --rate 1e6 >"$T/out" 2>"$T/err"
        [ $? -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && ok "firmware_sim refuses --rate 1e6: $(cat "$T/err")" \
            || bad "firmware_sim --rate 1e6: $(cat "$T/err")"
    else bad "firmware_sim does not compile"; fi
else
    echo "skip firmware_sim: no $LIBDIR/librelcon.so or C compiler"
fi

# ---- real recordings (relcon-export recording), when ../shared/data is there -------------------------------
DATA=${RELCON_DATA_DIR:-../shared/data}
if [ -d "$DATA" ] && [ -x "$EXPORT" ]; then
    for fs in 50 100; do
        "$EXPORT" recording --dataset hapt --subject 01 --fs $fs --max-seconds 60 --out "$T/hapt$fs.csv" >/dev/null \
            || bad "relcon-export recording --fs $fs"
        run "embed hapt $fs Hz" 0 embed "$FIX/tiny.blob" "$T/hapt$fs.csv" --hop 128 --out "$T/hemb$fs.csv" \
            && ok "embed real recording at $fs Hz: $(cat "$T/out")"
    done
    run "resample hapt 50->100" 0 resample "$T/hapt50.csv" --to 100 --out "$T/hapt50to100.csv" && ok "resample 50 -> 100 Hz"
    if declare -F fw_compare >/dev/null; then fw_compare "$T/hapt50.csv"; fi
    if "$PY" - "$T" <<'EOF'
import sys, numpy as np
d = sys.argv[1]
a = np.loadtxt(f"{d}/hemb50.csv", delimiter=",", skiprows=1)
b = np.loadtxt(f"{d}/hemb100.csv", delimiter=",", skiprows=1)
assert a.shape == b.shape and a.shape[0] > 10, (a.shape, b.shape)
rel = np.linalg.norm(a[:, 1:] - b[:, 1:], axis=1) / np.linalg.norm(b[:, 1:], axis=1)
cos = (a[:, 1:] * b[:, 1:]).sum(1) / np.linalg.norm(a[:, 1:], axis=1) / np.linalg.norm(b[:, 1:], axis=1)
print(f"  HAPT subject 01, 50 Hz via the CLI resampler vs 100 Hz via scipy: embeddings max rel diff {rel.max():.2e}, min cosine {cos.min():.6f}")
assert rel.max() < 1e-2 and cos.min() > 0.9999
# the signals themselves: CLI polyphase vs scipy resample_poly, interior samples
x = np.loadtxt(f"{d}/hapt50to100.csv", delimiter=",", comments="#", skiprows=2)
y = np.loadtxt(f"{d}/hapt100.csv", delimiter=",", comments="#", skiprows=2)
n = min(len(x), len(y)) - 100
err = np.abs(x[100:n, 1:] - y[100:n, 1:])
print(f"  resampled signal vs scipy: max abs diff {err.max():.2e} g, rms {np.sqrt((err**2).mean()):.2e} g (signal std {y[:, 1:].std():.2f} g)")
assert np.allclose(x[:n, 0], y[:n, 0], atol=1e-3) and np.sqrt((err ** 2).mean()) < 5e-3
EOF
    then ok "real recording: CLI-resampled 50 Hz ~ 100 Hz (embeddings and signal)"; else bad "real recording comparison"; fi
else
    echo "skip real-recording tests: $DATA or $EXPORT missing"
fi


# ---- issue 13, section 3: rates out of range, timestamps in the wrong unit, huge files, writes -------------
python3 - "$T" <<'PYEOF'
import sys, math
d = sys.argv[1]
with open(f"{d}/r600.csv", "w") as f:                       # 600 rows, x,y,z only
    for i in range(600): f.write(f"{0.1*math.sin(i/7):.4f},{0.05*math.cos(i/5):.4f},1.0\n")
with open(f"{d}/ms.csv", "w") as f:                         # 50 Hz, timestamps in milliseconds
    for i in range(600): f.write(f"{i*20},{0.1*math.sin(i/7):.4f},0,1\n")
with open(f"{d}/ghz.csv", "w") as f:                        # timestamps 1 ns apart read as seconds
    for i in range(600): f.write(f"{i*1e-9:.12f},0,0,1\n")
with open(f"{d}/days.csv", "w") as f:                       # 600 rows over 69 days
    for i in range(600): f.write(f"{i*69*86400/599:.3f},0,0,1\n")
PYEOF
for r in 1e6 1e9 1e30 1e-30 1e-300 1e-5 0.0001 -50 0 nan inf; do
    expect_error "embed --rate $r" 2 "--rate must be a number of Hz within 1.5000, got" embed "$FIX/tiny.blob" "$T/r600.csv" --rate "$r"
done
expect_error "embed --rate 50000" 2 "got 50000" embed "$FIX/tiny.blob" "$T/r600.csv" --rate 50000
expect_error "timestamps in ms" 1 "look like milliseconds: pass --time-unit ms" embed "$FIX/tiny.blob" "$T/ms.csv"
if run "timestamps in ms with --time-unit ms" 0 embed "$FIX/tiny.blob" "$T/ms.csv" --time-unit ms; then ok "--time-unit ms"; fi
expect_error "timestamps imply GHz" 1 "timestamps imply 1e\+09 Hz.*check the timestamps" embed "$FIX/tiny.blob" "$T/ghz.csv"
expect_error "timestamps over 69 days" 1 "timestamps imply .*outside 1.5000 Hz" embed "$FIX/tiny.blob" "$T/days.csv"
expect_error "resample --to 0" 2 "--to must be" resample "$T/r600.csv" --rate 50 --to 0
# a 2 GB sparse file: inspect and embed stop after the header (well under a second, a few MB of memory)
truncate -s 2G "$T/huge.bin"
start=$(date +%s%N)
expect_error "inspect 2 GB non-blob" 1 "huge.bin: not a relcon blob" inspect "$T/huge.bin"
expect_error "embed 2 GB non-blob" 1 "huge.bin: not a relcon blob" embed "$T/huge.bin" "$T/r600.csv" --rate 50
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 20000 ] && ok "2 GB file refused in $ms ms" || bad "2 GB file took $ms ms"
rm -f "$T/huge.bin"
# writes: errors name --out, a read-only target is not replaced
mkdir -p "$T/ro"; echo keep > "$T/ro/emb.csv"; chmod 444 "$T/ro/emb.csv"
expect_error "--out read-only" 1 "cannot write $T/ro/emb.csv: .*read-only" embed "$FIX/tiny.blob" "$T/r600.csv" --rate 100 --out "$T/ro/emb.csv"
[ "$(cat "$T/ro/emb.csv")" = keep ] && ok "read-only --out untouched" || bad "read-only --out replaced"
expect_error "--out in a missing folder" 1 "cannot write $T/nodir/emb.csv: No such file" embed "$FIX/tiny.blob" "$T/r600.csv" --rate 100 --out "$T/nodir/emb.csv"
ls "$T"/nodir* >/dev/null 2>&1 && bad "temporary file left" || ok "no temporary file left"


# ---- issue 14: '-' for standard input, separators, --json (JSON Lines: one object per window/check/run + a summary)
"$PY" - "$T" <<'PYEOF'
import sys
d = sys.argv[1]
rows = [l for l in open(f"{d}/syn100.csv").read().splitlines() if l and l[0].isdigit()]
for name, sep in (("tab", "\t"), ("semi", ";"), ("space", "  ")):
    open(f"{d}/syn100_{name}.txt", "w").write(f"t{sep}x{sep}y{sep}z\n" + "".join(r.replace(",", sep) + "\n" for r in rows))
open(f"{d}/mixed.txt", "w").write(rows[0] + "\n" + rows[1].replace(",", "\t") + "\n")
open(f"{d}/deccomma.txt", "w").write("t;x;y;z\n" + "".join(r.replace(",", "#").replace(".", ",").replace("#", ";") + "\n" for r in rows[:300]))
open(f"{d}/pipes.txt", "w").write("".join(r.replace(",", "|") + "\n" for r in rows[:300]))
with open(f"{d}/ms_xyz.csv", "w") as f:
    for i, r in enumerate(rows):
        t, x, y, z = r.split(",")
        f.write(f"{1733000000000 + 10 * i},{x},{y},{z}\n")
PYEOF
run "embed file" 0 embed "$FIX/tiny.blob" "$T/syn100.csv" --hop 64 && cp "$T/out" "$T/emb_file.csv"
"$CLI" embed "$FIX/tiny.blob" - --hop 64 <"$T/syn100.csv" >"$T/emb_stdin.csv" 2>"$T/err" && cmp -s "$T/emb_file.csv" "$T/emb_stdin.csv" \
    && ok "embed - (stdin) = embed FILE" || bad "embed from stdin: $(cat "$T/err")"
"$CLI" classify "$FIX/tiny.blob" - <"$T/syn100.csv" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && grep -q "no heads" "$T/err" && ok "classify - reads stdin (then: no heads)" || bad "classify -: $(cat "$T/err")"
"$CLI" embed "$FIX/tiny.blob" - <"$T/nan.csv" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^relcon: stdin line 2: column 2 is not finite" "$T/err" \
    && ok "stdin errors name stdin: $(cat "$T/err")" || bad "stdin error: $(cat "$T/err")"
"$CLI" embed "$FIX/tiny.blob" - --time-unit ms --hop 64 <"$T/ms_xyz.csv" >"$T/out" 2>"$T/err" && cmp -s <(cut -d, -f2- "$T/out") <(cut -d, -f2- "$T/emb_file.csv") \
    && ok "stdin with --time-unit ms: the same embeddings" || bad "stdin --time-unit ms: $(cat "$T/err")"
"$CLI" resample - --to 50 <"$T/syn100.csv" >"$T/out" 2>"$T/err" && [ "$(grep -c '^[0-9]' "$T/out")" -eq 600 ] \
    && ok "resample - (stdin)" || bad "resample from stdin: $(cat "$T/err")"
"$CLI" embed --help >"$T/out" 2>&1; grep -q "'-' for standard input" "$T/out" && ok "embed --help says which input takes '-'" || bad "embed --help: no '-'"
for name in tab semi space; do
    run "embed $name-separated" 0 embed "$FIX/tiny.blob" "$T/syn100_$name.txt" --hop 64 && cmp -s "$T/out" "$T/emb_file.csv" \
        && ok "embed $name-separated = comma-separated" || bad "embed $name-separated differs"
done
expect_error "mixed separators" 1 "line 2: separated by tabs, but the first sample line by commas" embed "$FIX/tiny.blob" "$T/mixed.txt"
expect_error "decimal commas" 1 "decimal comma" embed "$FIX/tiny.blob" "$T/deccomma.txt"
expect_error "unknown separator" 1 "holds no samples \(no line of 3 or 4 numbers separated by commas, semicolons, tabs or spaces\)" embed "$FIX/tiny.blob" "$T/pipes.txt"
expect_error "--json --out .csv" 2 "--out with --json must end in .jsonl" embed "$FIX/tiny.blob" "$T/syn100.csv" --json --out "$T/x.csv"

run "embed --json" 0 embed "$FIX/tiny.blob" "$T/syn50.csv" --hop 64 --json && cp "$T/out" "$T/emb.jsonl"
run "embed --json --out" 0 embed "$FIX/tiny.blob" "$T/syn50.csv" --hop 64 --json --out "$T/emb2.jsonl"
if cmp -s "$T/emb.jsonl" "$T/emb2.jsonl" && "$PY" - "$T" <<'PYEOF'
import json, sys, numpy as np
d = sys.argv[1]
lines = [json.loads(l) for l in open(f"{d}/emb.jsonl")]
win, summ = lines[:-1], lines[-1]
csv = np.loadtxt(f"{d}/emb50.csv", delimiter=",", skiprows=1)
assert summ["type"] == "summary" and summ["windows"] == len(win) == len(csv), (summ, len(win))
assert summ["source_rate_hz"] == 50 and summ["rate_hz"] == 100 and summ["resampled"] == {"up": 2, "down": 1}
assert summ["embedding_dim"] == 32 and summ["hop"] == 64 and summ["window_samples"] == 256
assert all(w["type"] == "window" and w["index"] == i and w["start"] == 64 * i for i, w in enumerate(win))
z = np.array([w["embedding"] for w in win])
assert np.allclose(z, csv[:, 1:], rtol=1e-6, atol=1e-7) and np.allclose([w["t_start"] for w in win], csv[:, 0], atol=1e-3)
# the JSON floats are the f32 values exactly: float32(json) printed again with %.7g gives the CSV's text
assert np.array_equal(np.float32(z).astype(np.float64), z)
PYEOF
then ok "embed --json: one object per window + summary; = the CSV; f32-exact floats"; else bad "embed --json"; fi
for d in "$FIX" "$HFIX"; do [ -f "$d/tiny_int8_heads.blob" ] && HB="$d/tiny_int8_heads.blob" && break; done
if [ -n "${HB:-}" ]; then
    run "classify csv" 0 classify "$HB" "$T/syn50.csv" --hop 64 && cp "$T/out" "$T/cls.csv"
    run "classify --json" 0 classify "$HB" "$T/syn50.csv" --hop 64 --json && cp "$T/out" "$T/cls.jsonl"
    for h in $("$PY" -c "import json; print(' '.join(x['name'] for x in json.load(open('/dev/stdin'))['heads']))" < <("$CLI" inspect "$HB" --json)); do
        run "classify --json $h" 0 classify "$HB" "$T/syn50.csv" --hop 64 --json --head "$h" && cp "$T/out" "$T/cls_$h.jsonl"
    done
    if "$PY" - "$T" <<'PYEOF'
import json, sys, glob, collections
d = sys.argv[1]
csv = [l.split(",") for l in open(f"{d}/cls.csv").read().splitlines() if l and l[0].isdigit()]
lines = [json.loads(l) for l in open(f"{d}/cls.jsonl")]
win, s = lines[:-1], lines[-1]
assert s["type"] == "summary" and s["kind"] == "classifier" and s["windows"] == len(win) == len(csv) == s["vote_windows"]
assert [w["class"] for w in win] == [r[2] for r in csv] and all(f"{w['probability']:.4f}" == r[3] for w, r in zip(win, csv))
assert all(abs(sum(w["probabilities"]) - 1) < 1e-5 and w["probabilities"][w["class_index"]] == w["probability"] for w in win)
assert s["votes"] == [collections.Counter(w["class_index"] for w in win)[k] for k in range(len(s["classes"]))]
assert s["class"] == s["classes"][s["class_index"]] and s["votes"][s["class_index"]] == max(s["votes"])
kinds = set()
for f in glob.glob(f"{d}/cls_*.jsonl"):
    ls = [json.loads(l) for l in open(f)]
    kinds.add(ls[-1]["kind"])
    if ls[-1]["kind"] == "regressor":
        vals = [w["value"] for w in ls[:-1]]
        assert abs(ls[-1]["mean"] - sum(vals) / len(vals)) <= 1e-4 * max(1, abs(ls[-1]["mean"])) and "unit" in ls[-1]
assert kinds == {"classifier", "regressor"}, kinds
PYEOF
    then ok "classify --json: windows = the CSV's, votes = the windows' tops; regressor mean"; else bad "classify --json"; fi
    run "selftest --json" 0 selftest "$HB" --json && "$PY" -c "
import json; ls = [json.loads(l) for l in open('$T/out')]
assert all(l['type'] == 'check' and l['status'] in ('ok', 'skip') for l in ls[:-1]) and len(ls) > 10, ls
s = ls[-1]; assert s['type'] == 'summary' and s['ok'] and s['failed'] == 0 and s['passed'] == len(ls) - 1 - s['skipped'], s
assert any('shipped self-test vector' in l['check'] for l in ls[:-1])
" && ok "selftest --json: $(tail -1 "$T/out")" || bad "selftest --json"
else
    echo "skip classify/selftest --json: no tiny_int8_heads.blob (make fixtures)"
fi
"$CLI" selftest "$T/corrupt.blob" --json >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && "$PY" -c "
import json; ls = [json.loads(l) for l in open('$T/out')]
assert ls[-1]['type'] == 'summary' and not ls[-1]['ok'] and ls[-1]['failed'] >= 1 and ls[-2]['status'] == 'FAIL'
" && ok "selftest --json of a corrupt blob: exit 1, FAIL object, summary ok false" || bad "selftest --json corrupt: rc $rc"
"$CLI" selftest "$T/nope.blob" --json >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && "$PY" -c "
import json; ls = [json.loads(l) for l in open('$T/out')]
assert ls[-1]['type'] == 'summary' and not ls[-1]['ok'] and ls[-2]['status'] == 'FAIL' and 'no such file' in ls[-2]['check']
" && ok "selftest --json of a missing blob: FAIL object, summary ok false" || bad "selftest --json missing blob: rc $rc $(cat "$T/out")"
run "bench --json" 0 bench "$FIX/tiny_int8.blob" --runs 7 --json && "$PY" -c "
import json; ls = [json.loads(l) for l in open('$T/out')]
runs, s = ls[:-1], ls[-1]
assert [r['index'] for r in runs] == list(range(7)) and all(r['type'] == 'run' and r['latency_us'] > 0 for r in runs)
assert s['type'] == 'summary' and s['runs'] == 7 and s['weight_dtype'] == 'int8' and s['samples'] == 256
assert s['latency_us']['p50'] <= s['latency_us']['max'] == max(r['latency_us'] for r in runs) and s['arena_bytes'] > 0
" && ok "bench --json: 7 run objects + summary" || bad "bench --json: $(cat "$T/out")"


# ---- the CLI fuzz corpus (Tests/Fuzz/cli_corpus, mk/fuzz.mk) and every CLI crash and slow unit the fuzzer found
# (Tests/Fuzz/crashes/cli-*) replayed through the binary: every input is a
# recording (first byte: the harness's rate/unit selector, dropped here); exit 0 or 1, never a signal, one line
# on stderr when it fails
if [ -d Tests/Fuzz/cli_corpus ]; then
    n=0; badrc=0
    for f in Tests/Fuzz/cli_corpus/* Tests/Fuzz/cli_seeds/* Tests/Fuzz/crashes/cli-*; do
        [ -f "$f" ] || continue
        tail -c +2 "$f" > "$T/fz.csv"
        "$CLI" resample "$T/fz.csv" --rate 50 --to 100 --out "$T/fz.out.csv" >/dev/null 2>"$T/fz.err"; rc=$?
        n=$((n + 1))
        if [ "$rc" -gt 1 ] || { [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/fz.err")" -ne 1 ]; }; then
            badrc=$((badrc + 1)); echo "  $f: exit $rc, $(head -c 200 "$T/fz.err")"; fi
    done
    [ "$badrc" -eq 0 ] && ok "CLI fuzz corpus: $n inputs, exit 0/1 with one error line" || bad "CLI fuzz corpus: $badrc of $n inputs"
fi

echo "cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
