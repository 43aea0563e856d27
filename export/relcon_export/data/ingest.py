"""Your own recordings -> session files: many files at once, any separator, any time unit, gaps, units, labels.

    relcon-export data ingest recordings/ --out corpus                        # every CSV/TSV/TXT/NPY below it
    relcon-export data ingest 'logs/*.csv' --units m/s2 --labels labels.csv --out corpus
    relcon-export data ingest rec.tsv --time-unit ms --subject P01 --out corpus --json

One file = one subject's recording (the subject id is the file's stem, or its folder with
`--subject-from parent`, or `--subject` for a single file). Columns: a time column and x, y, z (named by
`--columns t,x,y,z` as header names or 0-based indices; by default the first of 4+ columns is time and the
last three are x, y, z), separated by commas, semicolons, tabs or runs of spaces (detected from the first
data line; a file whose rows do not split into numbers is refused with the separators it was tried with).

Timestamps: `--time-unit s|ms|us|ns|auto` (default auto). Auto picks the one unit whose median step gives a
rate of 10-1,000 Hz; any unit whose implied rate is outside 1-5,000 Hz is refused with the unit that would
have been plausible ("timestamps look like milliseconds: pass --time-unit ms"). Without a time column,
`--fs` gives the rate.

Uneven sampling: the nominal rate is 1 / median step; steps longer than `--max-gap-s` (default 1 s) or that go
backwards split the file into separate sessions of the same candidate group (never stitched); within a
session, samples are placed on a uniform grid at the nominal rate by linear interpolation at their own
timestamps (packet loss shorter than the gap threshold is filled, not ignored), then resampled to
`--target-fs` with the anti-aliased polyphase filter of every other reader. Jitter (the robust spread of the
steps, % of the nominal step) and the filled share are reported per file.

Units: `--units g|m/s2|mg|auto`. The static magnitude (the median |a| over the quietest seconds) must be about
1 g after conversion: 0.8-1.25 g passes, 0.5-2 g warns, anything else is refused naming the unit that fits
(`--units-check warn` only warns, `off` skips it). Auto picks the unit that puts it closest to 1 g.

Labels: `--labels FILE` (CSV with columns subject, start, end, label; start/end in the recordings' time unit
and clock, end exclusive), or `--label-column NAME` (a per-row label column of the recordings). Label names
map to ids in sorted order, stored in each session's meta (`label_names`).
"""

from __future__ import annotations

import csv
import glob
import gzip
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from relcon_export.data.recordings import G, Recording, resample
from relcon_export.data.sessions import save_session, session_path

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
UNITS = {"g": 1.0, "m/s2": 1.0 / G, "mg": 1e-3}
RATE_RANGE = (1.0, 5000.0)            # Hz: any implied rate outside is refused
TYPICAL_RATE = (10.0, 1000.0)         # Hz: what auto-detection accepts (unique: the units are 1000x apart)
SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".csv.gz", ".tsv.gz", ".txt.gz", ".npy")
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", None: "whitespace"}
MAX_FILE_BYTES = 2 * 1024 ** 3        # a text file larger than this is refused before it is read


class IngestError(ValueError):
    """A recording that cannot be read as asked; the message names the file and the likely cause."""


@dataclass
class FileReport:
    """What was read from one file (one line of the summary)."""
    path: str
    subject: str
    rows: int
    fs_source: float
    time_unit: str
    units: str
    static_g: float
    jitter_pct: float
    filled_pct: float
    gaps: int
    sessions: int
    hours: float
    labels: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    written: list = field(default_factory=list)


# ----------------------------------------------------------------------------------------------------------
# Reading tables


def _open_text(path: Path):
    return gzip.open(path, "rt", newline="") if path.name.endswith(".gz") else open(path, newline="")


def _split(line: str, sep: str | None) -> list[str]:
    return [v.strip() for v in (line.split(sep) if sep else line.split())]


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def read_table(path: str | Path, label_column: str | None = None) -> tuple[list[str] | None, np.ndarray, list | None]:
    """(header or None, float64 rows (N, C), the label column's strings or None) of a CSV/TSV/whitespace/NPY file."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as e:
            raise IngestError(f"{path}: not a plain numeric .npy array ({e})") from None
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
            raise IngestError(f"{path}: a .npy recording must be a 2-D numeric array, got {arr.dtype} {arr.shape}")
        if label_column:
            raise IngestError(f"{path}: --label-column needs a text file with a header")
        return None, arr.astype(np.float64), None
    if path.stat().st_size > MAX_FILE_BYTES:
        raise IngestError(f"{path}: {path.stat().st_size / 1e9:.1f} GB is more than the "
                          f"{MAX_FILE_BYTES / 1e9:.0f} GB a text recording may have; split it")
    with _open_text(path) as f:
        lines = [ln for ln in (raw.strip() for raw in f) if ln and not ln.startswith("#")]
    if not lines:
        raise IngestError(f"{path}: the file is empty")
    first = lines[0]
    header = None
    # the separator: the first of , ; tab that splits the first line into >= 3 fields, else whitespace
    sep = next((s for s in (",", ";", "\t") if len(_split(first, s)) >= 3), None)
    fields = _split(first, sep)
    if not all(_is_number(v) for v in fields):
        header, lines = [h.lower() for h in fields], lines[1:]
        if not lines:
            raise IngestError(f"{path}: a header and no samples")
    label_idx = None
    if label_column:
        if header is None or label_column.lower() not in header:
            raise IngestError(f"{path}: no label column '{label_column}' (header: {header})")
        label_idx = header.index(label_column.lower())
    rows, labels = [], [] if label_idx is not None else None
    width = len(header) if header else len(_split(lines[0], sep))
    for n, ln in enumerate(lines, start=2 if header else 1):
        vals = _split(ln, sep)
        if len(vals) != width:
            raise IngestError(f"{path}, line {n}: {len(vals)} fields where the first row has {width} "
                              f"(separator read as {SEPARATORS[sep]}; expected one of comma, semicolon, tab or "
                              f"spaces, the same on every line)")
        if label_idx is not None:
            labels.append(vals[label_idx])
            vals = vals[:label_idx] + vals[label_idx + 1:]
        try:
            rows.append([float(v) for v in vals])
        except ValueError:
            raise IngestError(f"{path}, line {n}: '{ln[:60]}' is not numeric (separator read as {SEPARATORS[sep]}; "
                              f"expected numbers separated by comma, semicolon, tab or spaces)") from None
    if label_idx is not None:
        header = header[:label_idx] + header[label_idx + 1:]
    arr = np.array(rows, np.float64)
    if arr.ndim != 2 or arr.shape[1] < 3:
        got = arr.shape[1] if arr.ndim == 2 else 0
        raise IngestError(f"{path}: need at least 3 numeric columns (x, y, z), got {got} "
                          f"(separator read as {SEPARATORS[sep]})")
    return header, arr, labels


def pick_columns(path: Path, header: list[str] | None, arr: np.ndarray, columns: str | None):
    """(time or None, xyz (N, 3)) from `columns` ("t,x,y,z" / "x,y,z", names or indices) or the default layout."""
    if not columns:
        return (arr[:, 0] if arr.shape[1] >= 4 else None), arr[:, -3:]
    idx = []
    for c in (c.strip() for c in columns.split(",")):
        if c.isdigit() and int(c) < arr.shape[1]:
            idx.append(int(c))
        elif header and c.lower() in header:
            idx.append(header.index(c.lower()))
        else:
            raise IngestError(f"{path}: column '{c}' not found (header: {header}, {arr.shape[1]} columns)")
    if len(idx) == 4:
        return arr[:, idx[0]], arr[:, idx[1:]]
    if len(idx) == 3:
        return None, arr[:, idx]
    raise IngestError(f"{path}: --columns needs 3 (x,y,z) or 4 (t,x,y,z) entries, got {len(idx)}")


# ----------------------------------------------------------------------------------------------------------
# Time, rate, gaps


def _plausible_unit(step_raw: float) -> str | None:
    for u, scale in TIME_UNITS.items():
        if TYPICAL_RATE[0] <= 1.0 / (step_raw * scale) <= TYPICAL_RATE[1]:
            return u
    return None


def time_unit_of(path: Path, t: np.ndarray, unit: str) -> str:
    """The time unit to use: `unit`, or the detected one; refuses an implied rate outside RATE_RANGE."""
    steps = np.diff(t)
    pos = steps[steps > 0]
    if len(pos) == 0:
        raise IngestError(f"{path}: the time column never increases")
    step = float(np.median(pos))
    guess = _plausible_unit(step)
    if unit == "auto":
        if guess is None:
            rates = ", ".join(f"{1 / (step * s):.3g} Hz as {u}" for u, s in TIME_UNITS.items())
            raise IngestError(f"{path}: no time unit gives a plausible rate from the median step {step:g} "
                              f"({rates}); pass --time-unit, or --fs without a time column")
        return guess
    if unit not in TIME_UNITS:
        raise IngestError(f"--time-unit must be one of s, ms, us, ns, auto; got '{unit}'")
    rate = 1.0 / (step * TIME_UNITS[unit])
    if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        hint = f"timestamps look like {UNIT_NAMES[guess]}: pass --time-unit {guess}" if guess else \
            "check the time column"
        raise IngestError(f"{path}: read as {UNIT_NAMES[unit]}, the timestamps imply {rate:.4g} Hz, outside "
                          f"{RATE_RANGE[0]:g}-{RATE_RANGE[1]:g} Hz; {hint}")
    return unit


def split_at_gaps(t_s: np.ndarray, max_gap_s: float) -> list[tuple[int, int]]:
    """[lo, hi) row ranges between steps that go backwards, repeat a time, or exceed max_gap_s."""
    steps = np.diff(t_s)
    cut = np.flatnonzero((steps <= 0) | (steps > max_gap_s)) + 1
    bounds = np.concatenate([[0], cut, [len(t_s)]])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def regularise(t_s: np.ndarray, xyz: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Samples at their own times -> a uniform grid at fs (linear interpolation); (t, xyz, filled share)."""
    n = int(math.floor((t_s[-1] - t_s[0]) * fs + 1e-6)) + 1
    grid = t_s[0] + np.arange(n) / fs
    out = np.stack([np.interp(grid, t_s, xyz[:, a]) for a in range(3)], 1)
    filled = max(0.0, 1.0 - len(t_s) / n)
    return grid, out, filled


# ----------------------------------------------------------------------------------------------------------
# Units


def static_magnitude(xyz: np.ndarray, fs: float) -> float:
    """Median |a| over the quietest 10 % of one-second windows (gravity alone when the sensor is still)."""
    w = max(1, int(round(fs)))
    n = len(xyz) // w
    if n == 0:
        return float(np.median(np.linalg.norm(xyz, axis=1)))
    blocks = xyz[: n * w].reshape(n, w, 3)
    quiet = np.argsort(blocks.std(1).sum(1))[: max(1, n // 10)]
    return float(np.median(np.linalg.norm(blocks[quiet], axis=2)))


def units_of(path: Path, mag_raw: float, units: str, check: str) -> tuple[str, list[str]]:
    """The units to use and any warnings; refuses implausible static magnitudes (check == 'refuse')."""
    if units == "auto":
        units = min(UNITS, key=lambda u: abs(math.log(max(mag_raw * UNITS[u], 1e-12))))
    if units not in UNITS:
        raise IngestError(f"--units must be one of g, m/s2, mg, auto; got '{units}'")
    mag = mag_raw * UNITS[units]
    if check == "off" or 0.8 <= mag <= 1.25:
        return units, []
    fits = [u for u in UNITS if 0.8 <= mag_raw * UNITS[u] <= 1.25]
    hint = f"it looks like {fits[0]}: pass --units {fits[0]}" if fits else \
        "it fits none of g, m/s2, mg (raw ADC counts? convert them to g first)"
    msg = f"{path}: the static magnitude is {mag:.3g} g read as {units} (about 1 g expected); {hint}"
    if check == "warn" or 0.5 <= mag <= 2.0:
        return units, [msg]
    raise IngestError(msg + " (or --units-check warn)")


# ----------------------------------------------------------------------------------------------------------
# Labels


def read_label_table(path: str | Path) -> list[tuple[str, float, float, str]]:
    """(subject, start, end, label) rows of a labels CSV (header with those four names, any order)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"labels file {path} does not exist")
    with _open_text(path) as f:
        sample = f.read(4096)
        f.seek(0)
        delim = "\t" if "\t" in sample.splitlines()[0] else (";" if ";" in sample.splitlines()[0] else ",")
        rows = list(csv.reader(f, delimiter=delim))
    if not rows:
        raise IngestError(f"labels file {path} is empty")
    head = [h.strip().lower() for h in rows[0]]
    need = ("subject", "start", "end", "label")
    if not all(k in head for k in need):
        raise IngestError(f"labels file {path}: the header must name subject, start, end, label; got {rows[0]}")
    ix = [head.index(k) for k in need]
    out = []
    for n, r in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in r):
            continue
        try:
            s, a, b, lab = (r[i].strip() for i in ix)
            a, b = float(a), float(b)
        except (IndexError, ValueError):
            raise IngestError(f"labels file {path}, line {n}: expected subject, start, end, label; got {r}") from None
        if not b > a:
            raise IngestError(f"labels file {path}, line {n}: end {b:g} is not after start {a:g}")
        out.append((s, a, b, lab))
    return out


# ----------------------------------------------------------------------------------------------------------
# Ingestion


def find_inputs(inputs: list[str]) -> list[Path]:
    """Files named, folders searched recursively for recordings, and glob patterns; sorted, unique."""
    found: list[Path] = []
    for spec in inputs:
        p = Path(spec)
        if p.is_dir():
            found += [q for q in sorted(p.rglob("*")) if q.is_file() and q.name.lower().endswith(SUFFIXES)]
        elif p.is_file():
            found.append(p)
        else:
            hits = sorted(Path(h) for h in glob.glob(spec, recursive=True))
            hits = [h for h in hits if h.is_file()]
            if not hits:
                raise IngestError(f"{spec}: no such file, folder or matching files")
            found += hits
    out, seen = [], set()
    for f in found:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            out.append(f)
    if not out:
        raise IngestError(f"no recordings ({', '.join(SUFFIXES)}) in {', '.join(inputs)}")
    return out


def _stem(p: Path) -> str:
    name = p.name
    for suf in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suf):
            return name[: -len(suf)]
    return p.stem


@dataclass
class IngestOptions:
    out: str
    subject: str | None = None           # one file only: its subject id
    subject_from: str = "stem"           # stem | parent
    dataset: str = "user"
    columns: str | None = None
    time_unit: str = "auto"
    fs: float | None = None              # source rate when there is no time column
    max_gap_s: float = 1.0
    units: str = "g"
    units_check: str = "refuse"          # refuse | warn | off
    target_fs: float = 100.0
    labels: str | None = None
    label_column: str | None = None
    min_seconds: float = 2.56            # shorter sessions (after splitting) are dropped, and reported
    session: str | None = None           # one file only: its session name (default: the file stem)
    group: str | None = None             # one file only: its candidate pool (default: the file stem)


def ingest(inputs: list[str], opt: IngestOptions, log=print) -> dict:
    """Reads every input recording and writes its sessions; returns the summary (also printed through `log`)."""
    if opt.units_check not in ("refuse", "warn", "off"):
        raise IngestError(f"--units-check must be refuse, warn or off; got '{opt.units_check}'")
    if opt.subject_from not in ("stem", "parent"):
        raise IngestError(f"--subject-from must be stem or parent; got '{opt.subject_from}'")
    if not (opt.max_gap_s > 0 and math.isfinite(opt.max_gap_s)):
        raise IngestError(f"--max-gap-s must be a positive number of seconds, got {opt.max_gap_s}")
    if not RATE_RANGE[0] <= opt.target_fs <= RATE_RANGE[1]:
        raise IngestError(f"--target-fs {opt.target_fs:g} Hz is outside {RATE_RANGE[0]:g}-{RATE_RANGE[1]:g} Hz")
    if opt.fs is not None and not RATE_RANGE[0] <= opt.fs <= RATE_RANGE[1]:
        raise IngestError(f"--fs {opt.fs:g} Hz is outside {RATE_RANGE[0]:g}-{RATE_RANGE[1]:g} Hz")
    if opt.labels and opt.label_column:
        raise IngestError("give --labels or --label-column, not both")
    files = find_inputs(inputs)
    if (opt.subject or opt.session or opt.group) and len(files) > 1:
        raise IngestError(f"--subject/--session/--group name one recording but {len(files)} files were found; let "
                          "the file names (--subject-from stem|parent) name them")
    label_rows = read_label_table(opt.labels) if opt.labels else []
    # read everything first: nothing is written unless every file reads (no half-ingested corpus)
    parsed = []
    names: set[str] = {r[3] for r in label_rows}
    for path in files:
        header, arr, col_labels = read_table(path, opt.label_column)
        t, xyz = pick_columns(path, header, arr, opt.columns)
        if not np.isfinite(xyz).all() or (t is not None and not np.isfinite(t).all()):
            raise IngestError(f"{path}: holds NaN or infinite values")
        if col_labels is not None:
            names |= set(col_labels)
        parsed.append((path, t, xyz, col_labels))
    label_names = sorted(names)
    label_id = {n: i for i, n in enumerate(label_names)}
    reports, pending = [], []
    for path, t, xyz, col_labels in parsed:
        subject = opt.subject or (path.parent.name if opt.subject_from == "parent" else _stem(path))
        warnings: list[str] = []
        if t is None:
            if opt.fs is None:
                raise IngestError(f"{path}: no time column (4+ columns or --columns t,x,y,z): pass --fs")
            unit, fs = "s", float(opt.fs)
            t_s = np.arange(len(xyz)) / fs
        else:
            unit = time_unit_of(path, t, opt.time_unit)
            t_s = (t - t[0]) * TIME_UNITS[unit]                      # relative: keeps float64 precision
            fs = 1.0 / float(np.median(np.diff(t_s)[np.diff(t_s) > 0]))
            if opt.fs is not None and abs(opt.fs - fs) > 0.02 * opt.fs:
                warnings.append(f"{path}: --fs {opt.fs:g} Hz but the timestamps give {fs:.4g} Hz; using the timestamps")
        t0_raw = float(t[0]) if t is not None else 0.0
        steps = np.diff(t_s)
        nominal = 1.0 / fs
        ok = steps[(steps > 0) & (steps <= opt.max_gap_s)]
        jitter = float(1.4826 * np.median(np.abs(ok - nominal)) / nominal * 100) if len(ok) else 0.0
        mag = static_magnitude(xyz, fs)
        units, w = units_of(path, mag, opt.units, opt.units_check)
        warnings += w
        acc_g = xyz * UNITS[units]
        per_row = np.full(len(xyz), -1, np.int16)
        if col_labels is not None:
            per_row = np.array([label_id[v] for v in col_labels], np.int16)
        elif label_rows:
            t_raw = t if t is not None else t_s
            for s, a, b, lab in label_rows:
                if s == subject:
                    per_row[(t_raw >= a) & (t_raw < b)] = label_id[lab]
        runs = split_at_gaps(t_s, opt.max_gap_s)
        gaps = len(runs) - 1
        filled_n, total_n, written, hours, dropped = 0, 0, [], 0.0, 0
        for k, (lo, hi) in enumerate(runs):
            if (t_s[hi - 1] - t_s[lo]) < opt.min_seconds:
                dropped += 1
                continue
            grid, acc, filled = regularise(t_s[lo:hi], acc_g[lo:hi], fs)
            idx = np.clip(np.searchsorted(t_s[lo:hi], grid, side="right") - 1, 0, hi - lo - 1)
            lab = per_row[lo:hi][idx]                                  # the label of the sample at or before
            filled_n += int(round(filled * len(grid)))
            total_n += len(grid)
            session = (opt.session or _stem(path)) + (f"_part{k + 1:02d}" if len(runs) > 1 else "")
            rec = Recording(acc.astype(np.float32), grid - grid[0], fs,
                            subject if ":" in subject else f"{opt.dataset}:{subject}", opt.dataset, session,
                            opt.group or _stem(path), lab,
                            {"source_file": path.name, "source_fs": fs, "units_source": units,
                             "time_unit_source": unit, "t0_source": t0_raw + float(t_s[lo]) / TIME_UNITS[unit],
                             "label_names": label_names, "jitter_pct": jitter})
            pending.append(rec)
            written.append(str(session_path(opt.out, rec)))
            hours += len(grid) / fs / 3600
        if dropped:
            warnings.append(f"{path}: {dropped} piece(s) between gaps shorter than {opt.min_seconds:g} s were dropped")
        if not written:
            raise IngestError(f"{path}: nothing of at least {opt.min_seconds:g} s between gaps of more than "
                              f"{opt.max_gap_s:g} s (is --time-unit right?)")
        counts = {label_names[i]: int(n) for i, n in enumerate(np.bincount(per_row[per_row >= 0],
                                                                           minlength=len(label_names))) if n}
        reports.append(FileReport(str(path), subject, len(xyz), fs, unit, units, mag * UNITS[units], jitter,
                                  100.0 * filled_n / max(1, total_n), gaps, len(written), hours, counts,
                                  warnings, written))
        for w in warnings:
            log(f"warning: {w}")
    if len(set(str(Path(w)) for r in reports for w in r.written)) < sum(len(r.written) for r in reports):
        raise IngestError("two recordings map to the same session file (same subject and file stem): rename one")
    for rec in pending:                       # every file read and checked: only now is anything written
        save_session(session_path(opt.out, rec), resample(rec, opt.target_fs))
    summary = {"files": len(reports), "subjects": len({r.subject for r in reports}),
               "sessions": sum(r.sessions for r in reports), "hours": sum(r.hours for r in reports),
               "gaps": sum(r.gaps for r in reports), "target_fs": opt.target_fs, "label_names": label_names,
               "label_samples": {n: sum(r.labels.get(n, 0) for r in reports) for n in label_names},
               "reports": [asdict(r) for r in reports]}
    log(f"{'file':28s} {'subject':>10s} {'rate Hz':>8s} {'t unit':>6s} {'units':>5s} {'static g':>8s} "
        f"{'jitter%':>7s} {'filled%':>7s} {'gaps':>5s} {'hours':>6s}")
    for r in reports:
        log(f"{Path(r.path).name[:28]:28s} {r.subject[:10]:>10s} {r.fs_source:8.3f} {r.time_unit:>6s} {r.units:>5s} "
            f"{r.static_g:8.3f} {r.jitter_pct:7.2f} {r.filled_pct:7.2f} {r.gaps:5d} {r.hours:6.3f}")
    log(f"{summary['files']} files, {summary['subjects']} subjects, {summary['sessions']} sessions, "
        f"{summary['hours']:.2f} h at {opt.target_fs:g} Hz, {summary['gaps']} gaps split; labels: "
        + (", ".join(f"{n} ({c} samples)" for n, c in summary["label_samples"].items()) or "none")
        + f" -> {opt.out}")
    return summary


def convert_file(src, out, subject: str, fs: float | None = None, units: str = "g", session: str | None = None,
                 group: str = "", dataset: str = "user", target_fs: float = 100.0, columns: str | None = None,
                 time_unit: str = "auto", log=lambda *_: None) -> Path:
    """One recording of one subject -> its session file(s) (ingest() with one file); the first file's path."""
    if not Path(src).is_file():
        raise FileNotFoundError(f"input file {src} does not exist")
    summary = ingest([str(src)], IngestOptions(out=str(out), subject=subject, dataset=dataset, columns=columns,
                                               time_unit=time_unit, fs=fs, units=units, target_fs=target_fs,
                                               session=session, group=group or None), log=log)
    return Path(summary["reports"][0]["written"][0])


def summary_json(summary: dict) -> str:
    return json.dumps(summary, indent=2, default=float)

