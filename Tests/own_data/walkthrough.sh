#!/usr/bin/env bash
# docs/own-data.md, followed verbatim: the commands between its walkthrough markers run in a scratch folder on real
# UCI HAPT recordings rewritten into a user's layout (Tests/own_data/make_layout.py: epoch-ms timestamps, m/s^2, tabs,
# a gap, packet loss, a labels CSV); then the figures they print are checked, the Python binding is compared with the
# CLI on the same windows (bit for bit: int8), and the layouts' classic mistakes must be refused with their cause.
# Needs .venv, .build/release/{librelcon.so,relcon-cli} and ../shared/data (skips, saying so, without the data).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY=$REPO/.venv/bin/python
EXPORT=$REPO/.venv/bin/relcon-export
CLI=$REPO/.build/release/relcon-cli
if ! RELCON_DATA_DIR=${RELCON_DATA_DIR:-} "$PY" -c "from relcon_export.io import resolve_data_dir; resolve_data_dir(None)" 2>/dev/null; then
  echo "own-data walkthrough: SKIP (no real recordings: set RELCON_DATA_DIR)"; exit 0
fi
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"
ln -s "$REPO/.venv" .venv; mkdir -p .build; ln -s "$REPO/.build/release" .build/release; ln -s "$REPO/models" models
"$PY" "$REPO/Tests/own_data/make_layout.py" "$W" > /dev/null
fail() { echo "own-data walkthrough: FAIL: $*" >&2; exit 1; }

# 1. the doc's commands, verbatim
"$PY" - "$REPO/docs/own-data.md" > walkthrough.sh <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
part = text.split("<!-- walkthrough:begin -->")[1].split("<!-- walkthrough:end -->")[0]
blocks = re.findall(r"```sh\n(.*?)```", part, re.S)
assert len(blocks) >= 4, f"docs/own-data.md: expected the walkthrough's sh blocks, found {len(blocks)}"
print("set -euo pipefail\n" + "\n".join(blocks))
PYEOF
bash walkthrough.sh > out.log 2>&1 || { tail -30 out.log >&2; fail "a documented command failed (output above)"; }

# 2. what they printed
grep -q "6 files, 6 subjects, 7 sessions" out.log || fail "ingest summary: expected 6 files, 6 subjects, 7 sessions"
[ "$(grep -cE '^S0[1-6]\.(csv|tsv) +S0[1-6] +50\.000 +ms +m/s2' out.log)" = 6 ] || fail "ingest: not all files read as 50 Hz, ms, m/s2"
grep -E '^S03\.csv' out.log | awk '{ if ($8 < 1.5 || $8 > 2.5) exit 1 }' || fail "ingest: S03's 2 % packet loss not reported as filled"
grep -E '^S02\.csv' out.log | awk '{ if ($9 != 1) exit 1 }' || fail "ingest: S02's gap not split"
grep -q "my_activity .*macro-F1 held-out" out.log || fail "ship: no held-out fit printed"
for p in f32 f16 int8; do [ -f my_model/my-model-$p.blob ] || fail "ship: my_model/my-model-$p.blob missing"; done
grep -q "still device ->" out.log || fail "the Python binding did not classify"
grep -qE "^stream: [1-9][0-9]* windows, 1 restart\(s\) after a gap" out.log || fail "the Python stream: $(grep '^stream' out.log)"
"$PY" -c "
import json; ls = [json.loads(l) for l in open('S01.jsonl')]
s = ls[-1]
assert s['type'] == 'summary' and s['source_rate_hz'] == 50 and s['rate_hz'] == 100 and s['head'] == 'my_activity'
assert s['windows'] == len(ls) - 1 > 10 and sum(s['votes']) == s['vote_windows'] and s['class'] in s['classes']
" || fail "classify --json of S01.tsv from stdin: $(tail -1 S01.jsonl)"

# 3. the binding equals the CLI on the same windows (100 Hz g CSV cut from the corpus, so no resampling differs)
"$PY" - <<'PYEOF' || fail "Python binding != relcon-cli"
import subprocess, numpy as np
from relcon_export.data.labelled import corpus_windowset
from relcon_export.runtime import Session
ws = corpus_windowset("my_corpus")
x = ws.x[:6].transpose(0, 2, 1).reshape(-1, 3)                        # 6 windows, back to back, (1536, 3) g
np.savetxt("w.csv", np.c_[np.arange(len(x)) / 100.0, x], delimiter=",", header="t,x,y,z", comments="", fmt="%.9g")
x = np.loadtxt("w.csv", delimiter=",", skiprows=1)[:, 1:].astype(np.float32)
subprocess.run([".build/release/relcon-cli", "embed", "my_model/my-model-int8.blob", "w.csv", "--out", "cli.npy"],
               check=True, capture_output=True)
cli = np.load("cli.npy")                                              # rows: t_start (s), then the embedding
py = Session("my_model/my-model-int8.blob").embed(x.reshape(6, 256, 3))
assert cli.shape == (6, 1 + py.shape[1]), (cli.shape, py.shape)
assert np.allclose(cli[:, 0], np.arange(6) * 2.56), cli[:, 0]
cli = cli[:, 1:].astype(np.float32)
assert np.array_equal(cli.view(np.uint32), py.view(np.uint32)), np.abs(cli - py).max()
print("binding == CLI on", len(py), "windows")
PYEOF

# ... and the binding's stream (sensor rate, bursts, resampled inside librelcon) equals the CLI's --json on S05
.build/release/relcon-cli classify my_model/my-model-int8.blob my_recordings/S05.csv --time-unit ms --units m/s2 \
    --head my_activity --json > S05.jsonl
"$PY" - <<'PYEOF' || fail "Python Stream != relcon-cli classify --json"
import json, numpy as np
from relcon_export.runtime import Session
cli = [json.loads(l) for l in open("S05.jsonl")][:-1]
rec = np.loadtxt("my_recordings/S05.csv", delimiter=",", skiprows=1)
t, g = rec[:, 0] * 1e-3, (rec[:, 1:] * (1 / 9.80665)).astype(np.float32)   # the CLI's unit conversion, in double
s = Session("my_model/my-model-int8.blob")
st = s.stream(50, hop=256)                                                # the CLI's default hop: one window
r = st.run(g, chunk=25, t_first=t[0])
assert 10 < len(r) <= len(cli), (len(r), len(cli))
p_cli = np.array([w["probabilities"] for w in cli[:len(r)]], np.float32)
assert np.array_equal(r.head("my_activity").view(np.uint32), p_cli.view(np.uint32)), np.abs(r.head(0) - p_cli).max()
assert np.allclose(r.t_start, [w["t_start"] for w in cli[:len(r)]], atol=1e-6)
print("stream == CLI on", len(r), "windows")
PYEOF

# 4. the classic mistakes, refused with their cause (exit 2, one line)
set +e
"$EXPORT" data ingest my_recordings/ --time-unit s --units m/s2 --out bad1 2> err1; rc1=$?
"$EXPORT" data ingest my_recordings/ --out bad2 2> err2; rc2=$?
set -e
[ $rc1 = 2 ] && grep -q "look like milliseconds: pass --time-unit ms" err1 || fail "ms read as s not refused: $(cat err1)"
[ $rc2 = 2 ] && grep -q "looks like m/s2: pass --units m/s2" err2 || fail "m/s2 read as g not refused: $(cat err2)"
[ ! -e bad1 ] && [ ! -e bad2 ] || fail "a refused ingest wrote files"
echo "own-data walkthrough: docs/own-data.md followed verbatim: ok (ingest, evaluate, ship, CLI, --json, stream, binding == CLI, refusals)"
