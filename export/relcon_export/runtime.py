"""The real device runtime from Python: a ctypes binding of librelcon.so (include/relcon.h).

    from relcon_export.runtime import Session
    s = Session("models/relcon-compact-int8.blob")          # or bytes; max_samples = the contract's window
    z = s.embed(windows)                                    # (N, T, 3) or (T, 3) float g -> (N, D) / (D,)
    probs, top = s.classify(windows, head="activity")       # or a head index
    s.selftest()                                            # max relative error; raises on failure
    st = s.stream(input_rate_hz=50, hop=128)                # the device's stream: sensor-rate chunks in
    r = st.push(chunk_xyz_g)                                # -> StreamResults: embedding, head_outputs, t_start ...
    s.session_info().isa_name                               # the kernel level the session runs: "v4", "v3", ...

This is what firmware executes (the same library, the same kernels, bit for bit for int8 blobs), not a NumPy
re-implementation of the graph: use it to check a blob before it goes to a device. Every non-OK status is
raised as `RelconError` carrying the status number, its name and `relcon_status_string`.

The library is found, in order: the `lib` argument, `$RELCON_LIB`, `librelcon.so` next to a source checkout
of this package (`<repo>/.build/release`, after `swift build -c release`), then the system's library path
(`make install`). Only NumPy and the standard library are needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARENA_ALIGN = 64
BLOB_ALIGN = 16
HEAD_CLASSIFIER, HEAD_REGRESSOR = 1, 2

STATUS_NAMES = {
    0: "RELCON_OK",
    10: "RELCON_E_NULL_ARGUMENT", 11: "RELCON_E_INVALID_ARGUMENT", 12: "RELCON_E_BUFFER_TOO_SMALL",
    20: "RELCON_E_BLOB_TOO_SMALL", 21: "RELCON_E_BLOB_MAGIC", 22: "RELCON_E_BLOB_VERSION",
    23: "RELCON_E_BLOB_CHECKSUM", 24: "RELCON_E_BLOB_BOUNDS", 25: "RELCON_E_BLOB_ALIGNMENT",
    26: "RELCON_E_BLOB_TENSOR", 27: "RELCON_E_BLOB_GRAPH", 28: "RELCON_E_BLOB_CONTRACT",
    29: "RELCON_E_BLOB_METADATA",
    30: "RELCON_E_ARENA_TOO_SMALL", 31: "RELCON_E_ARENA_MISALIGNED", 32: "RELCON_E_SESSION_INVALID",
    40: "RELCON_E_WINDOW_TOO_SHORT", 41: "RELCON_E_WINDOW_TOO_LONG", 42: "RELCON_E_INPUT_NOT_FINITE",
    43: "RELCON_E_OUTPUT_NOT_FINITE",
    50: "RELCON_E_NOT_FOUND", 51: "RELCON_E_NO_SUCH_HEAD", 52: "RELCON_E_SELFTEST_FAILED",
}


class RelconError(RuntimeError):
    """A librelcon call returned a status other than RELCON_OK.

    From Stream.push / push_counts also: `consumed` (samples of the chunk taken before the failing one) and
    `results` (the StreamResults that became ready before it), so a caller can go on from there."""

    def __init__(self, function: str, status: int, message: str) -> None:
        self.function, self.status, self.message = function, status, message
        self.consumed, self.results = 0, None
        self.name = STATUS_NAMES.get(status, f"status {status}")
        super().__init__(f"{function}: {self.name} ({status}): {message}")


class _ModelInfo(ctypes.Structure):
    _fields_ = [
        ("format_version", ctypes.c_uint32), ("weight_dtype", ctypes.c_uint32),
        ("input_channels", ctypes.c_uint32), ("embedding_dim", ctypes.c_uint32),
        ("sample_rate_hz", ctypes.c_float), ("window_samples", ctypes.c_uint32),
        ("min_samples", ctypes.c_uint32), ("units", ctypes.c_uint32), ("axis_order", ctypes.c_char * 4),
        ("input_scale", ctypes.c_float * 3), ("input_offset", ctypes.c_float * 3),
        ("input_clip", ctypes.c_float), ("n_layers", ctypes.c_uint32), ("n_tensors", ctypes.c_uint32),
        ("n_parameters", ctypes.c_uint64), ("macs", ctypes.c_uint64), ("blob_bytes", ctypes.c_uint64),
        ("arena_bytes", ctypes.c_uint64), ("n_samples", ctypes.c_uint32), ("reserved", ctypes.c_uint32),
    ]


class _ResampleDesc(ctypes.Structure):
    _fields_ = [("up", ctypes.c_uint32), ("down", ctypes.c_uint32), ("taps", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32), ("effective_rate_hz", ctypes.c_double),
                ("work_bytes", ctypes.c_uint64)]


class _StreamConfig(ctypes.Structure):
    _fields_ = [("input_rate_hz", ctypes.c_double), ("hop", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("count_scale", ctypes.c_float * 3), ("count_offset", ctypes.c_float * 3),
                ("reserved", ctypes.c_uint32 * 4)]


class _StreamResult(ctypes.Structure):
    _fields_ = [("ready", ctypes.c_uint32), ("restarted", ctypes.c_uint32), ("index", ctypes.c_uint64),
                ("start", ctypes.c_double), ("end", ctypes.c_double),
                ("embedding", ctypes.POINTER(ctypes.c_float)), ("head_outputs", ctypes.POINTER(ctypes.c_float)),
                ("n_head_outputs", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]


class _HeadDesc(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("target", ctypes.c_char_p), ("unit", ctypes.c_char_p),
                ("kind", ctypes.c_uint32), ("n_outputs", ctypes.c_uint32)]


class _SessionDesc(ctypes.Structure):
    _fields_ = [
        ("struct_bytes", ctypes.c_uint32), ("isa_level", ctypes.c_uint32), ("arena_bytes", ctypes.c_uint64),
        ("blob_bytes", ctypes.c_uint64), ("min_samples", ctypes.c_uint32), ("max_samples", ctypes.c_uint32),
        ("window_samples", ctypes.c_uint32), ("input_channels", ctypes.c_uint32), ("sample_rate_hz", ctypes.c_float),
        ("embedding_dim", ctypes.c_uint32), ("precision", ctypes.c_uint32), ("n_heads", ctypes.c_uint32),
        ("isa_name", ctypes.c_char_p),
    ]


@dataclass(frozen=True)
class SessionInfo:
    """relcon_session_desc (relcon_session_info, 0.5): what a session was planned with and runs at."""
    isa_level: int                 # 0 portable, 1 x86-64-v3, 2 x86-64-v4 (+ VNNI); new levels may be added
    isa_name: str                  # "portable", "v3", "v4": the RELCON_ISA value that selects the level
    arena_bytes: int
    blob_bytes: int
    min_samples: int
    max_samples: int
    window_samples: int
    input_channels: int
    sample_rate_hz: float
    embedding_dim: int
    precision: int                 # 1 f32, 2 f16, 3 int8
    n_heads: int


@dataclass(frozen=True)
class ModelInfo:
    """relcon_model_info, as Python values."""
    format_version: int
    weight_dtype: int
    input_channels: int
    embedding_dim: int
    sample_rate_hz: float
    window_samples: int
    min_samples: int
    units: int
    axis_order: str
    input_scale: tuple
    input_offset: tuple
    input_clip: float
    n_layers: int
    n_tensors: int
    n_parameters: int
    macs: int
    blob_bytes: int
    arena_bytes: int
    n_samples: int


@dataclass(frozen=True)
class Head:
    index: int
    name: str
    kind: str                      # "classifier" | "regressor"
    n_outputs: int
    classes: tuple = ()            # classifiers
    target: str = ""               # regressors
    unit: str = ""


def _candidates(lib: str | os.PathLike | None):
    if lib:
        yield Path(lib)
        return
    if os.environ.get("RELCON_LIB"):
        yield Path(os.environ["RELCON_LIB"])
        return
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "Package.swift").is_file() and (parent / "include" / "relcon.h").is_file():
            yield parent / ".build" / "release" / "librelcon.so"
            break
    found = ctypes.util.find_library("relcon")
    if found:
        yield Path(found)


_LIBS: dict[str, ctypes.CDLL] = {}
_LIBS_LOCK = threading.Lock()


def load_library(lib: str | os.PathLike | None = None) -> ctypes.CDLL:
    """The librelcon shared library, with its prototypes declared (cached per path)."""
    tried = []
    for path in _candidates(lib):
        tried.append(str(path))
        if path.is_file() or (not path.is_absolute() and path.name == str(path)):
            key = str(path)
            with _LIBS_LOCK:
                if key not in _LIBS:
                    _LIBS[key] = _declare(ctypes.CDLL(key))
                return _LIBS[key]
    raise FileNotFoundError("librelcon.so not found (tried: " + (", ".join(tried) or "nothing") +
                            "); build it with `swift build -c release` or set RELCON_LIB=/path/to/librelcon.so")


def _declare(L: ctypes.CDLL) -> ctypes.CDLL:
    P, u32, f32 = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_float
    pu32, pf32 = ctypes.POINTER(u32), ctypes.POINTER(f32)
    protos = {
        "relcon_version": (u32, []),
        "relcon_version_string": (ctypes.c_char_p, []),
        "relcon_status_string": (ctypes.c_char_p, [ctypes.c_int]),
        "relcon_inspect": (ctypes.c_int, [P, ctypes.c_size_t, u32, ctypes.POINTER(_ModelInfo)]),
        "relcon_meta": (ctypes.c_int, [P, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]),
        "relcon_session_init": (ctypes.c_int, [P, ctypes.c_size_t, u32, P, ctypes.c_size_t,
                                               ctypes.POINTER(P)]),
        "relcon_embed": (ctypes.c_int, [P, pf32, u32, pf32, u32]),
        "relcon_head_count": (ctypes.c_int, [P, ctypes.c_size_t, pu32]),
        "relcon_head_info": (ctypes.c_int, [P, ctypes.c_size_t, u32, ctypes.POINTER(_HeadDesc)]),
        "relcon_head_class_name": (ctypes.c_int, [P, ctypes.c_size_t, u32, u32, ctypes.POINTER(ctypes.c_char_p)]),
        "relcon_classify": (ctypes.c_int, [P, pf32, u32, u32, pf32, u32, pu32]),
        "relcon_regress": (ctypes.c_int, [P, pf32, u32, u32, pf32]),
        "relcon_classify_recording": (ctypes.c_int, [P, pf32, u32, u32, u32, pu32, u32, pu32, pu32]),
        "relcon_regress_recording": (ctypes.c_int, [P, pf32, u32, u32, u32, pf32, pu32]),
        "relcon_selftest": (ctypes.c_int, [P, pf32]),
        "relcon_resample_info": (ctypes.c_int, [ctypes.c_double, ctypes.c_double, ctypes.POINTER(_ResampleDesc)]),
        "relcon_resample": (ctypes.c_int, [ctypes.c_double, ctypes.c_double, pf32, u32, P, ctypes.c_size_t, pf32,
                                           u32, pu32]),
        "relcon_stream_arena_bytes": (ctypes.c_int, [P, ctypes.c_size_t, ctypes.POINTER(_StreamConfig),
                                                     ctypes.POINTER(ctypes.c_uint64)]),
        "relcon_stream_init": (ctypes.c_int, [P, ctypes.c_size_t, ctypes.POINTER(_StreamConfig), P, ctypes.c_size_t,
                                              ctypes.POINTER(P)]),
        "relcon_stream_push_f32": (ctypes.c_int, [P, pf32, u32, ctypes.c_double, pu32,
                                                  ctypes.POINTER(_StreamResult)]),
        "relcon_stream_push_i16": (ctypes.c_int, [P, ctypes.POINTER(ctypes.c_int16), u32, ctypes.c_double, pu32,
                                                  ctypes.POINTER(_StreamResult)]),
        "relcon_stream_gap": (ctypes.c_int, [P]),
        "relcon_stream_session": (ctypes.c_int, [P, ctypes.POINTER(P)]),
        "relcon_session_info": (ctypes.c_int, [P, ctypes.POINTER(_SessionDesc)]),
        "relcon_session_head_info": (ctypes.c_int, [P, u32, ctypes.POINTER(_HeadDesc)]),
        "relcon_session_head_class_name": (ctypes.c_int, [P, u32, u32, ctypes.POINTER(ctypes.c_char_p)]),
    }
    for name, (res, args) in protos.items():
        fn = getattr(L, name)
        fn.restype, fn.argtypes = res, args
    return L


def _aligned(nbytes: int, align: int):
    """A zeroed ctypes buffer and the address inside it that is `align`-aligned (keep the buffer alive)."""
    buf = (ctypes.c_uint8 * (nbytes + align))()
    addr = ctypes.addressof(buf)
    return buf, addr + (-addr % align)


def _floats(a: np.ndarray):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


class Session:
    """One librelcon session over a blob, in an arena this object owns (sized by relcon_inspect).

    blob: a path or the blob's bytes (copied into a 16-byte-aligned buffer that lives as long as the session).
    max_samples: the longest window to run (0 = the contract's window_samples).
    Calls on one Session are serialised by a lock (the C rule: one thread at a time per session).
    """

    def __init__(self, blob: str | os.PathLike | bytes, max_samples: int = 0, lib: str | os.PathLike | None = None):
        self._lib = load_library(lib)
        data = bytes(blob) if isinstance(blob, (bytes, bytearray, memoryview)) else Path(blob).read_bytes()
        if not 0 <= int(max_samples) <= 0xFFFFFFFF:
            raise ValueError(f"max_samples {max_samples} is outside 0 .. 2^32-1")
        self._blob_buf, self._blob = _aligned(len(data), BLOB_ALIGN)
        ctypes.memmove(self._blob, data, len(data))
        self._n = len(data)
        self._lock = threading.Lock()
        info = _ModelInfo()
        self._check("relcon_inspect", self._lib.relcon_inspect(self._blob, self._n, max_samples, ctypes.byref(info)))
        self.info = ModelInfo(
            format_version=info.format_version, weight_dtype=info.weight_dtype, input_channels=info.input_channels,
            embedding_dim=info.embedding_dim, sample_rate_hz=float(info.sample_rate_hz),
            window_samples=info.window_samples, min_samples=info.min_samples, units=info.units,
            axis_order=info.axis_order.decode(), input_scale=tuple(info.input_scale),
            input_offset=tuple(info.input_offset), input_clip=float(info.input_clip), n_layers=info.n_layers,
            n_tensors=info.n_tensors, n_parameters=info.n_parameters, macs=info.macs, blob_bytes=info.blob_bytes,
            arena_bytes=info.arena_bytes, n_samples=info.n_samples)
        self.max_samples = info.n_samples
        self._arena_buf, arena = _aligned(int(info.arena_bytes), ARENA_ALIGN)
        sess = ctypes.c_void_p()
        self._check("relcon_session_init", self._lib.relcon_session_init(
            self._blob, self._n, max_samples, arena, int(info.arena_bytes), ctypes.byref(sess)))
        self._s = sess
        self.heads = self._read_heads()

    # -- helpers ------------------------------------------------------------------------------------------

    def _check(self, fn: str, st: int) -> None:
        if st != 0:
            raise RelconError(fn, st, self._lib.relcon_status_string(st).decode())

    def _read_heads(self) -> tuple:
        # from the session (no blob validation; the blob-level relcon_head_* would CRC the blob on every call)
        heads = []
        for h in range(self.session_info().n_heads):
            d = _HeadDesc()
            self._check("relcon_session_head_info", self._lib.relcon_session_head_info(self._s, h, ctypes.byref(d)))
            if d.kind == HEAD_CLASSIFIER:
                names = []
                for k in range(d.n_outputs):
                    s = ctypes.c_char_p()
                    self._check("relcon_session_head_class_name",
                                self._lib.relcon_session_head_class_name(self._s, h, k, ctypes.byref(s)))
                    names.append(s.value.decode())
                heads.append(Head(h, d.name.decode(), "classifier", d.n_outputs, tuple(names)))
            else:
                heads.append(Head(h, d.name.decode(), "regressor", d.n_outputs, (), d.target.decode(),
                                  d.unit.decode()))
        return tuple(heads)

    def session_info(self) -> SessionInfo:
        """relcon_session_info: the session's plan, the blob's contract and heads, and the kernel ISA level it
        runs at (chosen at init from the CPU, capped by $RELCON_ISA)."""
        d = _SessionDesc()
        d.struct_bytes = ctypes.sizeof(_SessionDesc)
        with self._lock:
            self._check("relcon_session_info", self._lib.relcon_session_info(self._s, ctypes.byref(d)))
        return SessionInfo(
            isa_level=d.isa_level, isa_name=d.isa_name.decode(), arena_bytes=d.arena_bytes, blob_bytes=d.blob_bytes,
            min_samples=d.min_samples, max_samples=d.max_samples, window_samples=d.window_samples,
            input_channels=d.input_channels, sample_rate_hz=float(d.sample_rate_hz), embedding_dim=d.embedding_dim,
            precision=d.precision, n_heads=d.n_heads)

    def head(self, head: int | str, kind: str | None = None) -> Head:
        """A head by index or name (ValueError naming the heads there are)."""
        if isinstance(head, str):
            match = [h for h in self.heads if h.name == head]
            if not match:
                raise ValueError(f"no head '{head}' in this blob (heads: {[h.name for h in self.heads] or 'none'})")
            h = match[0]
        else:
            if not 0 <= int(head) < len(self.heads):
                raise ValueError(f"head index {head} out of range (the blob has {len(self.heads)} heads)")
            h = self.heads[int(head)]
        if kind and h.kind != kind:
            raise ValueError(f"head '{h.name}' is a {h.kind}, not a {kind}")
        return h

    @staticmethod
    def _windows(x) -> tuple[np.ndarray, bool]:
        a = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
        single = a.ndim == 2
        if single:
            a = a[None]
        if a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"windows must be (T, 3) or (N, T, 3) float samples in g, got shape {a.shape}")
        return a, single

    def meta(self, key: str) -> str | None:
        """A metadata string of the blob, or None when the key is absent."""
        out = ctypes.c_char_p()
        st = self._lib.relcon_meta(self._blob, self._n, key.encode(), ctypes.byref(out))
        if st == 50:
            return None
        self._check("relcon_meta", st)
        return out.value.decode()

    # -- inference ----------------------------------------------------------------------------------------

    def embed(self, windows) -> np.ndarray:
        """(T, 3) -> (D,) or (N, T, 3) -> (N, D) float32 embeddings (relcon_embed per window)."""
        x, single = self._windows(windows)
        d = self.info.embedding_dim
        out = np.empty((len(x), d), np.float32)
        with self._lock:
            for i in range(len(x)):
                self._check("relcon_embed", self._lib.relcon_embed(self._s, _floats(x[i]), x.shape[1],
                                                                   _floats(out[i]), d))
        return out[0] if single else out

    def classify(self, windows, head: int | str = 0) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, K) and top classes (N,) of classifier `head` (single window: (K,), int)."""
        h = self.head(head, "classifier")
        x, single = self._windows(windows)
        probs = np.empty((len(x), h.n_outputs), np.float32)
        top = np.empty(len(x), np.int64)
        t = ctypes.c_uint32()
        with self._lock:
            for i in range(len(x)):
                self._check("relcon_classify", self._lib.relcon_classify(
                    self._s, _floats(x[i]), x.shape[1], h.index, _floats(probs[i]), h.n_outputs, ctypes.byref(t)))
                top[i] = t.value
        return (probs[0], int(top[0])) if single else (probs, top)

    def regress(self, windows, head: int | str = 0):
        """Values (N,) of regressor `head`, in its unit (single window: a float)."""
        h = self.head(head, "regressor")
        x, single = self._windows(windows)
        out = np.empty(len(x), np.float32)
        v = ctypes.c_float()
        with self._lock:
            for i in range(len(x)):
                self._check("relcon_regress", self._lib.relcon_regress(self._s, _floats(x[i]), x.shape[1], h.index,
                                                                      ctypes.byref(v)))
                out[i] = v.value
        return float(out[0]) if single else out

    def classify_recording(self, samples, hop: int, head: int | str = 0) -> tuple[int, np.ndarray, int]:
        """Majority vote over windows of max_samples every `hop` samples: (top class, votes (K,), windows)."""
        h = self.head(head, "classifier")
        x = np.ascontiguousarray(np.asarray(samples, dtype=np.float32))
        if x.ndim != 2 or x.shape[1] != 3:
            raise ValueError(f"a recording must be (N, 3) float samples in g, got shape {x.shape}")
        if not 0 <= int(hop) <= 0xFFFFFFFF or len(x) > 0xFFFFFFFF:
            raise ValueError("hop and the recording length must fit in 32 bits")
        votes = np.zeros(h.n_outputs, np.uint32)
        top, n = ctypes.c_uint32(), ctypes.c_uint32()
        with self._lock:
            self._check("relcon_classify_recording", self._lib.relcon_classify_recording(
                self._s, _floats(x), len(x), int(hop), h.index,
                votes.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32)), h.n_outputs, ctypes.byref(top),
                ctypes.byref(n)))
        return int(top.value), votes.astype(np.int64), int(n.value)

    def regress_recording(self, samples, hop: int, head: int | str = 0) -> tuple[float, int]:
        """Mean of regressor `head` over the same windows as classify_recording: (mean, windows)."""
        h = self.head(head, "regressor")
        x = np.ascontiguousarray(np.asarray(samples, dtype=np.float32))
        if x.ndim != 2 or x.shape[1] != 3:
            raise ValueError(f"a recording must be (N, 3) float samples in g, got shape {x.shape}")
        mean, n = ctypes.c_float(), ctypes.c_uint32()
        with self._lock:
            self._check("relcon_regress_recording", self._lib.relcon_regress_recording(
                self._s, _floats(x), len(x), int(hop), h.index, ctypes.byref(mean), ctypes.byref(n)))
        return float(mean.value), int(n.value)

    def selftest(self) -> float:
        """Runs the blob's self-test vector; returns the max relative error (raises RelconError on failure)."""
        err = ctypes.c_float()
        with self._lock:
            self._check("relcon_selftest", self._lib.relcon_selftest(self._s, ctypes.byref(err)))
        return float(err.value)

    def stream(self, input_rate_hz: float, hop: int = 0, count_scale=None, count_offset=None) -> "Stream":
        """A Stream over this session's blob (see Stream)."""
        return Stream(self, input_rate_hz, hop, count_scale, count_offset)


@dataclass(frozen=True)
class StreamResults:
    """The windows a Stream push produced, stacked (M results; M may be 0).

    index (M,) int64: results since the stream began; restarted (M,) bool: first result after the start or a gap;
    start, end (M,) float64: window bounds in input samples since the stream's first sample (end is one contract
    sample past the last); t_start, t_end (M,) float64: the same in seconds (from the first timestamp pushed, else
    from 0); embedding (M, D) float32; head_outputs (M, K) float32: every head in blob order (classifiers'
    probabilities, regressors' value), K = 0 for a blob without heads. `head(name)` slices one head out.
    """
    index: np.ndarray
    restarted: np.ndarray
    start: np.ndarray
    end: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray
    embedding: np.ndarray
    head_outputs: np.ndarray
    heads: tuple = ()

    def __len__(self) -> int:
        return len(self.index)

    def head(self, head: int | str) -> np.ndarray:
        """(M, K) probabilities of a classifier head, or (M,) values of a regressor head."""
        match = [h for h in self.heads if (h.name == head if isinstance(head, str) else h.index == head)]
        if not match:
            raise ValueError(f"no head {head!r} in this blob (heads: {[h.name for h in self.heads] or 'none'})")
        h = match[0]
        off = sum(x.n_outputs for x in self.heads[:h.index])
        out = self.head_outputs[:, off:off + h.n_outputs]
        return out if h.kind == "classifier" else out[:, 0]

    @staticmethod
    def concat(parts, dim: int, k: int, heads: tuple = ()) -> "StreamResults":
        """Several StreamResults as one (the empty one of that shape for no parts)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            e = np.empty(0)
            return StreamResults(e.astype(np.int64), e.astype(bool), e, e, e, e, np.empty((0, dim), np.float32),
                                 np.empty((0, k), np.float32), heads)
        cat = lambda f: np.concatenate([getattr(p, f) for p in parts])
        return StreamResults(*(cat(f) for f in ("index", "restarted", "start", "end", "t_start", "t_end",
                                                "embedding", "head_outputs")), heads)


def _f32_3(v, name: str, default: float):
    if v is None:
        return (ctypes.c_float * 3)(default, default, default)
    a = np.broadcast_to(np.asarray(v, dtype=np.float64), (3,))
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {a.tolist()}")
    return (ctypes.c_float * 3)(*a.tolist())


class Stream:
    """The runtime's stream (relcon_stream_*): samples at the sensor's own rate in, in chunks of any length;
    resampled to the contract rate inside librelcon, a window every `hop` contract samples, the encoder and every
    head run on it. What a wearable's firmware runs, in an arena this object owns (relcon_stream_arena_bytes).

        st = Stream(session, input_rate_hz=50, hop=128)           # or session.stream(50, 128), or a blob path
        r = st.push(xyz_g)                                        # (n, 3) float g -> StreamResults
        r = st.push_counts(raw, t_first=12.5)                     # (n, 3) int16, g = count*scale + offset
        st.gap()                                                  # missing data: the window restarts

    Results equal relcon_resample on each segment (between gaps) followed by relcon_embed / classify / regress on
    the same windows, bit for bit. blob: a Session (its blob and library are reused) or what Session takes.
    hop: contract samples between results, 0 = half a window. count_scale / count_offset: per-axis (or one value)
    for push_counts (default 1/4096 g per count, offset 0). Non-OK statuses raise RelconError with the samples
    consumed and the results ready before the failure (`e.consumed`, `e.results`); after
    RELCON_E_OUTPUT_NOT_FINITE (a window dropped) or RELCON_E_INPUT_NOT_FINITE (the bad sample not taken) the
    stream goes on: push the rest. One thread at a time (a lock).
    """

    def __init__(self, blob, input_rate_hz: float, hop: int = 0, count_scale=None, count_offset=None,
                 lib: str | os.PathLike | None = None):
        self.session = blob if isinstance(blob, Session) else Session(blob, 0, lib)
        sess = self.session
        self._lib = sess._lib
        self.input_rate_hz = float(input_rate_hz)
        if not 0 <= int(hop) <= 0xFFFFFFFF:
            raise ValueError(f"hop {hop} is outside 0 .. 2^32-1")
        cfg = _StreamConfig()
        cfg.input_rate_hz = self.input_rate_hz
        cfg.hop = int(hop)
        cfg.count_scale = _f32_3(count_scale, "count_scale", 1.0 / 4096)
        cfg.count_offset = _f32_3(count_offset, "count_offset", 0.0)
        self._cfg = cfg
        nbytes = ctypes.c_uint64()
        self._check("relcon_stream_arena_bytes", self._lib.relcon_stream_arena_bytes(
            sess._blob, sess._n, ctypes.byref(cfg), ctypes.byref(nbytes)))
        self.arena_bytes = int(nbytes.value)
        self._arena_buf, arena = _aligned(self.arena_bytes, ARENA_ALIGN)
        st = ctypes.c_void_p()
        self._check("relcon_stream_init", self._lib.relcon_stream_init(
            sess._blob, sess._n, ctypes.byref(cfg), arena, self.arena_bytes, ctypes.byref(st)))
        self._st = st
        self.hop = int(hop) or sess.info.window_samples // 2
        self.heads = sess.heads
        self._k = sum(h.n_outputs for h in sess.heads)
        self._dim = sess.info.embedding_dim
        self._pushed = 0                # samples consumed (the sample clock until a timestamp moves it)
        self.time_origin = None         # timestamp of sample position 0, from the first timed chunk
        self._lock = threading.Lock()

    def _check(self, fn: str, st: int) -> None:
        if st != 0:
            raise RelconError(fn, st, self._lib.relcon_status_string(st).decode())

    def _push(self, fn: str, a: np.ndarray, ptr_type, t_first) -> StreamResults:
        if a.ndim != 2 or a.shape[1] != 3:
            raise ValueError(f"samples must be (n, 3) (x, y, z per row), got shape {a.shape}")
        if len(a) > 0xFFFFFFFF:
            raise ValueError("a chunk must hold fewer than 2^32 samples")
        t = -1.0 if t_first is None else float(t_first)
        push = getattr(self._lib, fn)
        rows, res, used = [], _StreamResult(), ctypes.c_uint32()
        n, done = len(a), 0
        with self._lock:
            if self.time_origin is None and np.isfinite(t) and t >= 0 and n > 0:
                self.time_origin = t - self._pushed / self.input_rate_hz
            base = a.ctypes.data
            first = True
            while first or done < n:
                ptr = ctypes.cast(base + done * 3 * a.itemsize, ptr_type)
                # only the chunk's first call carries its timestamp: the rest continue it
                st = push(self._st, ptr, n - done, t if first else -1.0, ctypes.byref(used), ctypes.byref(res))
                first = False
                done += used.value
                self._pushed += used.value
                if res.ready:
                    rows.append((res.index, bool(res.restarted), res.start, res.end,
                                 np.ctypeslib.as_array(res.embedding, (self._dim,)).copy(),
                                 np.ctypeslib.as_array(res.head_outputs, (self._k,)).copy() if self._k
                                 else np.empty(0, np.float32)))
                if st != 0:
                    e = RelconError(fn, st, self._lib.relcon_status_string(st).decode())
                    e.consumed, e.results = done, self._results(rows)
                    raise e
                if not res.ready and used.value == 0:
                    break
        return self._results(rows)

    def _results(self, rows) -> StreamResults:
        if not rows:
            return StreamResults.concat([], self._dim, self._k, self.heads)
        t0 = self.time_origin or 0.0
        start = np.array([r[2] for r in rows], np.float64)
        end = np.array([r[3] for r in rows], np.float64)
        return StreamResults(np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], bool),
                             start, end, t0 + start / self.input_rate_hz, t0 + end / self.input_rate_hz,
                             np.stack([r[4] for r in rows]), np.stack([r[5] for r in rows]).reshape(len(rows),
                                                                                                   self._k),
                             self.heads)

    def push(self, samples, t_first: float | None = None) -> StreamResults:
        """Pushes (n, 3) samples in g (float32; other dtypes converted) at input_rate_hz; t_first: the timestamp of
        samples[0] in seconds (a jump of more than half a period from where the last chunk ended is a gap)."""
        a = np.ascontiguousarray(np.asarray(samples, dtype=np.float32))
        return self._push("relcon_stream_push_f32", a, ctypes.POINTER(ctypes.c_float), t_first)

    def push_counts(self, counts, t_first: float | None = None) -> StreamResults:
        """Pushes (n, 3) raw int16 counts (g = count*count_scale + count_offset per axis). Other integer dtypes
        must hold int16 values (ValueError otherwise); floats are refused."""
        c = np.asarray(counts)
        if c.dtype != np.int16:
            if not np.issubdtype(c.dtype, np.integer):
                raise ValueError(f"counts must be integers (int16), got {c.dtype}")
            if c.size and (c.min() < -32768 or c.max() > 32767):
                raise ValueError("counts outside the int16 range")
        a = np.ascontiguousarray(c, dtype=np.int16)
        return self._push("relcon_stream_push_i16", a, ctypes.POINTER(ctypes.c_int16), t_first)

    def gap(self) -> None:
        """Declares missing data: the window and the resampler restart; the sample clock goes on."""
        with self._lock:
            self._check("relcon_stream_gap", self._lib.relcon_stream_gap(self._st))

    def selftest(self) -> float:
        """The blob's self-test vector on the stream's own session (relcon_stream_session + relcon_selftest)."""
        s, err = ctypes.c_void_p(), ctypes.c_float()
        with self._lock:
            self._check("relcon_stream_session", self._lib.relcon_stream_session(self._st, ctypes.byref(s)))
            self._check("relcon_selftest", self._lib.relcon_selftest(s, ctypes.byref(err)))
        return float(err.value)

    def run(self, samples, chunk: int = 0, t_first: float | None = None) -> StreamResults:
        """A whole recording pushed in chunks of `chunk` samples (0: one push), as a sensor FIFO would; integer arrays
        go through push_counts. t_first: the timestamp of samples[0] (the later chunks continue it)."""
        a = np.asarray(samples)
        if chunk <= 0:
            return self.push_counts(a, t_first) if np.issubdtype(a.dtype, np.integer) else self.push(a, t_first)
        parts = []
        for i in range(0, len(a), chunk):
            t = None if t_first is None or i else t_first
            parts.append(self.push_counts(a[i:i + chunk], t) if np.issubdtype(a.dtype, np.integer)
                         else self.push(a[i:i + chunk], t))
        return StreamResults.concat(parts, self._dim, self._k, self.heads)


def resample_info(in_rate_hz: float, out_rate_hz: float, lib: str | os.PathLike | None = None) -> dict:
    """relcon_resample_info: {up, down, taps, effective_rate_hz, work_bytes}."""
    L = load_library(lib)
    d = _ResampleDesc()
    st = L.relcon_resample_info(float(in_rate_hz), float(out_rate_hz), ctypes.byref(d))
    if st != 0:
        raise RelconError("relcon_resample_info", st, L.relcon_status_string(st).decode())
    return {"up": d.up, "down": d.down, "taps": d.taps, "effective_rate_hz": d.effective_rate_hz,
            "work_bytes": int(d.work_bytes)}


def resample(samples, in_rate_hz: float, out_rate_hz: float, lib: str | os.PathLike | None = None) -> np.ndarray:
    """The runtime's resampler over a whole segment (relcon_resample): (n, 3) float g -> (m, 3) float32 with
    m = floor((n - 1)*up/down) + 1 (n for identity). What the stream and relcon-cli compute, bit for bit."""
    L = load_library(lib)
    x = np.ascontiguousarray(np.asarray(samples, dtype=np.float32))
    if x.ndim != 2 or x.shape[1] != 3 or not 0 < len(x) <= 0xFFFFFFFF:
        raise ValueError(f"samples must be (n, 3) with 0 < n < 2^32, got shape {x.shape}")
    d = resample_info(in_rate_hz, out_rate_hz, lib)
    m = len(x) if d["up"] == d["down"] else (len(x) - 1) * d["up"] // d["down"] + 1
    if m > 0xFFFFFFFF:
        raise ValueError(f"{len(x)} samples resampled {in_rate_hz} -> {out_rate_hz} Hz exceed 2^32 samples")
    work_buf, work = _aligned(max(d["work_bytes"], 16), ARENA_ALIGN)
    y = np.empty((m, 3), np.float32)
    got = ctypes.c_uint32()
    st = L.relcon_resample(float(in_rate_hz), float(out_rate_hz), _floats(x), len(x), work, d["work_bytes"],
                           _floats(y), m, ctypes.byref(got))
    if st != 0:
        raise RelconError("relcon_resample", st, L.relcon_status_string(st).decode())
    return y[:got.value]


def version(lib: str | os.PathLike | None = None) -> str:
    """The library's version string ("MAJOR.MINOR.PATCH")."""
    return load_library(lib).relcon_version_string().decode()
