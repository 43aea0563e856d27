"""Files and folders: the one atomic writer and the one data-folder resolver of the package.

    from relcon_export.io import atomic_write, atomic_writer, resolve_data_dir
    atomic_write("enc.blob", data)                         # bytes or str; readers see the old or the new file
    with atomic_writer("ckpt.pt", make_parents=True) as f:  # for writers that stream (torch.save, np.savez)
        torch.save(state, f)
    root = resolve_data_dir(None)                          # --data-dir, else $RELCON_DATA_DIR, else ../shared/data

Every file the package writes goes through `atomic_writer`: a temporary file in the target folder (its name
starts with "." and ends with ".tmp", so folder scans skip it), flushed and fsync'ed, then os.replace. A failed
write leaves no partial file behind and the old file, if any, intact.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
# True when the package runs from its own source checkout (the relcon repository), not from an installed copy: only
# then do defaults point into the repository (the data folder beside it, .build/cache, the git commit).
SOURCE_CHECKOUT = all((REPO_ROOT / p).is_file() for p in ("Package.swift", "include/relcon.h", "export/pyproject.toml"))
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" if SOURCE_CHECKOUT else None


def cache_dir() -> Path:
    """Where derived data (benchmark windows) is cached: $RELCON_CACHE_DIR, else <checkout>/.build/cache in a source
    checkout, else ~/.cache/relcon."""
    if os.environ.get("RELCON_CACHE_DIR"):
        return Path(os.environ["RELCON_CACHE_DIR"]).expanduser()
    return REPO_ROOT / ".build" / "cache" if SOURCE_CHECKOUT else Path.home() / ".cache" / "relcon"


@contextmanager
def atomic_writer(path: str | os.PathLike, *, text: bool = False, make_parents: bool = False) -> Iterator[IO]:
    """A file object (binary, or UTF-8 text with text=True) whose content replaces `path` only when the block ends
    without an exception. make_parents: create missing folders; otherwise a missing folder is a
    FileNotFoundError ("output folder ... does not exist")."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if make_parents:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(f"output folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with (os.fdopen(fd, "w", encoding="utf-8") if text else os.fdopen(fd, "wb")) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write(path: str | os.PathLike, data: bytes | bytearray | str, *, make_parents: bool = False) -> Path:
    """Writes bytes (or a str, encoded as UTF-8) to path atomically (atomic_writer); returns the path."""
    with atomic_writer(path, make_parents=make_parents) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def resolve_data_dir(flag: str | os.PathLike | None = None) -> Path:
    """The folder of the real recordings: the --data-dir flag, else $RELCON_DATA_DIR, else (in a source checkout
    only) <repo>/../shared/data, resolved to an absolute path. Raises FileNotFoundError when there is none."""
    if flag:
        path, origin = Path(flag), "--data-dir"
    elif os.environ.get("RELCON_DATA_DIR"):
        path, origin = Path(os.environ["RELCON_DATA_DIR"]), "$RELCON_DATA_DIR"
    elif DEFAULT_DATA_DIR is not None:
        path, origin = DEFAULT_DATA_DIR, "default"
    else:
        raise FileNotFoundError("no data folder: pass --data-dir or set RELCON_DATA_DIR to the folder of the public "
                                "recordings (shared/data/README.md of the relcon repository lists them)")
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"data directory {path} ({origin}) does not exist")
    return path
