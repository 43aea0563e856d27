"""Real accelerometer windows for golden vectors and tests (minimal; the full dataset readers are in data.py).

    from relcon_export.windows import hapt_windows
    w = hapt_windows(4)          # (4, 256, 3) float32, time-major x,y,z in g at 100 Hz

Source: UCI HAPT (Reyes-Ortiz et al. 2016, CC BY 4.0), waist smartphone, 50 Hz, already in g:
`<data>/uci_hapt/RawData/acc_expXX_userYY.txt.gz`, one "x y z" line per sample. The recording is resampled to
100 Hz with scipy.signal.resample_poly(x, 2, 1) (polyphase, Kaiser-windowed FIR), cut into non-overlapping
256-sample windows (2.56 s, the RelCon pretraining window), and `n_windows` of them are taken evenly spaced
over the recording so that they span its different activities.

The data folder is $RELCON_DATA_DIR, else <repo>/../shared/data (see ../shared/data/README.md). The recordings
are never copied into the repository.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
HAPT_RATE_HZ = 50.0
TARGET_RATE_HZ = 100.0


def data_dir() -> Path:
    """$RELCON_DATA_DIR, else <repo>/../shared/data."""
    env = os.environ.get("RELCON_DATA_DIR")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data")


def hapt_path(exp: int = 1, user: int = 1) -> Path:
    return data_dir() / "uci_hapt" / "RawData" / f"acc_exp{exp:02d}_user{user:02d}.txt.gz"


def load_hapt_recording(exp: int = 1, user: int = 1) -> np.ndarray:
    """One UCI HAPT accelerometer recording at 50 Hz, in g: (N, 3) float64 (x, y, z)."""
    path = hapt_path(exp, user)
    if not path.is_file():
        raise FileNotFoundError(
            f"real recording {path} not found: set RELCON_DATA_DIR to the shared data folder "
            f"(default {REPO_ROOT.parent / 'shared' / 'data'}; see its README.md)")
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, dtype=np.float64, ndmin=2)
    if data.shape[1] != 3:
        raise ValueError(f"{path}: expected 3 columns (x y z), got {data.shape[1]}")
    return data


def resample_to_100hz(x: np.ndarray, rate_hz: float) -> np.ndarray:
    """(N, 3) at rate_hz -> (M, 3) at 100 Hz (polyphase; integer ratios only, e.g. 50 -> 100 = up 2)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(TARGET_RATE_HZ / rate_hz).limit_denominator(1000)
    if float(ratio) != TARGET_RATE_HZ / rate_hz:
        raise ValueError(f"cannot resample {rate_hz} Hz to {TARGET_RATE_HZ} Hz with a small integer ratio")
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=0)


def cut_windows(x: np.ndarray, window: int) -> np.ndarray:
    """Non-overlapping windows: (N, C) -> (N // window, window, C)."""
    n = x.shape[0] // window
    return x[:n * window].reshape(n, window, x.shape[1])


def hapt_windows(n_windows: int, *, exp: int = 1, user: int = 1, window: int = 256) -> np.ndarray:
    """n_windows real windows from one UCI HAPT recording at 100 Hz: (n_windows, window, 3) float32, in g,
    time-major (interleaved x, y, z per sample). Deterministic."""
    if n_windows < 1 or window < 1:
        raise ValueError("n_windows and window must be >= 1")
    all_windows = cut_windows(resample_to_100hz(load_hapt_recording(exp, user), HAPT_RATE_HZ), window)
    if n_windows > len(all_windows):
        raise ValueError(f"{hapt_path(exp, user).name} holds {len(all_windows)} windows of {window} samples "
                         f"at 100 Hz, {n_windows} were asked for")
    idx = np.linspace(0, len(all_windows) - 1, n_windows).round().astype(int)
    return np.ascontiguousarray(all_windows[idx], dtype=np.float32)


def describe_hapt_windows(n_windows: int, *, exp: int = 1, user: int = 1, window: int = 256) -> str:
    """One line naming the windows hapt_windows() returns (for blob metadata and READMEs)."""
    return (f"uci_hapt/RawData/{hapt_path(exp, user).name}: {n_windows} windows of {window} samples, "
            f"50 Hz resampled to 100 Hz (resample_poly 2/1), non-overlapping, evenly spaced over the recording")
