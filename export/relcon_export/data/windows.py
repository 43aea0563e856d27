"""The real windows of the golden vectors: one UCI HAPT recording cut into evenly spaced 2.56 s windows.

    from relcon_export.data.windows import hapt_windows
    w = hapt_windows(4)          # (4, 256, 3) float32, time-major x,y,z in g at 100 Hz

Source: UCI HAPT (Reyes-Ortiz et al. 2016, CC BY 4.0), waist smartphone, 50 Hz, already in g, read by
relcon_export.data.recordings (`load_hapt_file`). The recording is resampled to 100 Hz with
`recordings.resample_array(..., padtype="constant")` (scipy resample_poly 2/1, polyphase, Kaiser-windowed FIR, zero
padded at the edges: what the committed golden files were made with), cut into non-overlapping 256-sample windows
(the RelCon pretraining window), and `n_windows` of them are taken evenly spaced over the recording so that they
span its different activities.

The data folder is relcon_export.io.resolve_data_dir (see ../shared/data/README.md). The recordings are never
copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from relcon_export.data.recordings import HAPT_RATE_HZ, hapt_file, load_hapt_file, resample_array
from relcon_export.io import DEFAULT_DATA_DIR, resolve_data_dir

TARGET_RATE_HZ = 100.0


def hapt_path(exp: int = 1, user: int = 1) -> Path:
    """The experiment's file under the data folder (FileNotFoundError when the folder itself is missing)."""
    return hapt_file(resolve_data_dir(None), exp, user)


def load_hapt_recording(exp: int = 1, user: int = 1) -> np.ndarray:
    """One UCI HAPT accelerometer recording at 50 Hz, in g: (N, 3) float64 (x, y, z)."""
    path = hapt_path(exp, user)
    if not path.is_file():
        raise FileNotFoundError(
            f"real recording {path} not found: set RELCON_DATA_DIR to the shared data folder "
            f"(default {DEFAULT_DATA_DIR or 'none outside a source checkout'}; see its README.md)")
    return load_hapt_file(path)


def cut_windows(x: np.ndarray, window: int) -> np.ndarray:
    """Non-overlapping windows: (N, C) -> (N // window, window, C)."""
    n = x.shape[0] // window
    return x[:n * window].reshape(n, window, x.shape[1])


def hapt_windows(n_windows: int, *, exp: int = 1, user: int = 1, window: int = 256) -> np.ndarray:
    """n_windows real windows from one UCI HAPT recording at 100 Hz: (n_windows, window, 3) float32, in g,
    time-major (interleaved x, y, z per sample). Deterministic."""
    if n_windows < 1 or window < 1:
        raise ValueError("n_windows and window must be >= 1")
    x = resample_array(load_hapt_recording(exp, user), HAPT_RATE_HZ, TARGET_RATE_HZ, padtype="constant", exact=True)
    all_windows = cut_windows(x, window)
    if n_windows > len(all_windows):
        raise ValueError(f"{hapt_path(exp, user).name} holds {len(all_windows)} windows of {window} samples "
                         f"at 100 Hz, {n_windows} were asked for")
    idx = np.linspace(0, len(all_windows) - 1, n_windows).round().astype(int)
    return np.ascontiguousarray(all_windows[idx], dtype=np.float32)


def describe_hapt_windows(n_windows: int, *, exp: int = 1, user: int = 1, window: int = 256) -> str:
    """One line naming the windows hapt_windows() returns (for blob metadata and READMEs)."""
    return (f"uci_hapt/RawData/{hapt_file(Path('.'), exp, user).name}: {n_windows} windows of {window} samples, "
            f"50 Hz resampled to 100 Hz (resample_poly 2/1), non-overlapping, evenly spaced over the recording")
