"""One version: the C header's RELCON_VERSION_* macros (include/relcon.h) are the source; the library's
relcon_version_string (Sources/RelConRuntime/CAPI/Exports.swift) and the Python package (relcon_export.__version__,
which export/pyproject.toml reads, and so the installed distribution's metadata) must say the same."""

import re
from importlib import metadata
from pathlib import Path

import pytest

import relcon_export

REPO = Path(__file__).resolve().parents[2]


def header_version() -> str:
    text = (REPO / "include" / "relcon.h").read_text()
    parts = [re.search(rf"^#define RELCON_VERSION_{p} (\d+)\s*$", text, re.M) for p in ("MAJOR", "MINOR", "PATCH")]
    assert all(parts), "include/relcon.h lacks a RELCON_VERSION_MAJOR/MINOR/PATCH macro"
    return ".".join(m.group(1) for m in parts)


def test_header_library_and_package_agree():
    version = header_version()
    swift = (REPO / "Sources" / "RelConRuntime" / "CAPI" / "Exports.swift").read_text()
    strings = re.findall(r'let versionString: StaticString = "([^"]*)"', swift)
    assert strings == [version], f"Exports.swift versionString {strings} != relcon.h {version}"
    assert relcon_export.__version__ == version
    tomllib = pytest.importorskip("tomllib")                 # Python >= 3.11
    pyproject = tomllib.loads((REPO / "export" / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "relcon_export.__version__"}
    assert metadata.version("relcon_export") == version, "reinstall the package (make venv) after a version change"


def test_number_macro_is_derived():
    major, minor, patch = (int(v) for v in header_version().split("."))
    text = (REPO / "include" / "relcon.h").read_text()
    assert "#define RELCON_VERSION_NUMBER (RELCON_VERSION_MAJOR * 10000 + RELCON_VERSION_MINOR * 100 + " \
           "RELCON_VERSION_PATCH)" in text
    assert 0 <= minor < 100 and 0 <= patch < 100 and major >= 0


def test_pinned_requirements_lie_in_the_declared_ranges():
    """requirements.txt (what `make venv` installs and the suite runs on) pins versions inside pyproject.toml's
    dependency ranges, so `pip install ./export` resolves the tested range; torch is bounded (no untested major)."""
    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement
    pyproject = tomllib.loads((REPO / "export" / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in pyproject["dependencies"]]
    for extra in pyproject["optional-dependencies"].values():
        declared += [Requirement(r) for r in extra if not r.startswith("relcon_export")]
    pins = {}
    for line in (REPO / "export" / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            r = Requirement(line)
            pins[r.name.lower()] = next(iter(r.specifier)).version
    torch = next(r for r in declared if r.name == "torch")
    assert any(s.operator == "<" for s in torch.specifier), "torch needs an upper bound"
    for r in declared:
        assert r.name.lower() in pins, f"{r.name} is declared but not pinned in requirements.txt"
        assert r.specifier.contains(pins[r.name.lower()]), f"{r.name}=={pins[r.name.lower()]} outside {r.specifier}"
