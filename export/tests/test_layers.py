"""The package's structure (docs/architecture.md): layered subpackages, no import cycles, no function-local imports
of the package's own modules. The checker parses the source (ast), so it sees every import, also those a test
run never executes; it is tested itself on small synthetic packages."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

from relcon_export.cli import main as cli_main

PACKAGE = Path(__file__).resolve().parents[1] / "relcon_export"

# Lower layers never import higher ones (same rank: allowed, the cycle check covers it). The top-level modules of
# the package (its __init__, __main__, io) are named by their module name.
LAYERS = {"relcon_export": 0, "relcon_export.io": 0, "relcon_export.runtime": 0, "format": 1, "data": 2, "train": 3,
          "evaluate": 4, "deploy": 5, "cli": 6, "relcon_export.__main__": 7}


def modules(root: Path, name: str) -> dict[str, Path]:
    """Module name -> file for every .py file below the package folder `root` named `name`."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([name] + parts)] = path
    return out


def imports(path: Path, name: str, known: set[str]) -> list[tuple[str, int, bool, str]]:
    """(imported module of the package, line, inside a function or class body, how it was written) for every import
    statement of the file; relative imports come back as their own entry ("." + ...), resolved or not."""
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name == name or alias.name.startswith(name + "."):
                        out.append((alias.name, child.lineno, nested, f"import {alias.name}"))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    out.append(("." * child.level + (child.module or ""), child.lineno, nested, "relative import"))
                    continue
                mod = child.module or ""
                if mod == name or mod.startswith(name + "."):
                    for alias in child.names:
                        sub = f"{mod}.{alias.name}"
                        out.append((sub if sub in known else mod, child.lineno, nested,
                                    f"from {mod} import {alias.name}"))
            visit(child, inner)

    visit(tree, False)
    return out


def layer_of(module: str, name: str, layers: dict[str, int] = LAYERS) -> int | None:
    if module in layers:
        return layers[module]
    parts = module.split(".")
    return layers.get(parts[1]) if len(parts) > 1 and parts[0] == name else None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph as [a, b, ..., a], or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                found = dfs(v)
                if found:
                    return found
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state:
            found = dfs(u)
            if found:
                return found
    return None


def check_package(root: Path, name: str, layers: dict[str, int] | None = LAYERS) -> list[str]:
    """Every structural violation of the package in folder `root`, as readable lines (empty = clean). layers: the
    rank of each subpackage / top-level module (None: no layer rule)."""
    mods = modules(root, name)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    problems = []
    for mod, path in mods.items():
        where = f"{path.relative_to(root.parent)}"
        for target, line, nested, text in imports(path, name, set(mods)):
            if target.startswith("."):
                problems.append(f"{where}:{line}: {text} (use absolute imports of {name})")
                continue
            if nested:
                problems.append(f"{where}:{line}: function-local import of a package module: {text}")
            if target not in mods:
                problems.append(f"{where}:{line}: {text}: no module {target}")
                continue
            if target != mod:
                graph[mod].add(target)
            if layers is not None:
                lm, lt = layer_of(mod, name, layers), layer_of(target, name, layers)
                if lm is None or lt is None:
                    problems.append(f"{where}:{line}: {mod} or {target} is in no layer (LAYERS)")
                elif lt > lm:
                    problems.append(f"{where}:{line}: {mod} (layer {lm}) imports {target} (layer {lt}), a higher "
                                    "layer")
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
    return problems


def test_package_is_layered_without_cycles_or_local_imports():
    problems = check_package(PACKAGE, "relcon_export")
    assert not problems, "\n".join(problems)


def test_every_module_has_a_layer_and_a_docstring():
    for mod, path in modules(PACKAGE, "relcon_export").items():
        assert layer_of(mod, "relcon_export") is not None, mod
        if mod != "relcon_export.__main__":
            assert ast.get_docstring(ast.parse(path.read_text())), f"{mod} has no module docstring"


# ---- the checker itself, on synthetic packages ----------------------------------------------------------------

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_checker_accepts_a_clean_package(tmp_path):
    root = _package(tmp_path, {"a.py": "import os\n", "b.py": "from pkg import a\nfrom pkg.a import os\n",
                               "sub/__init__.py": "", "sub/c.py": "import pkg.b\nfrom pkg.sub import d\n",
                               "sub/d.py": "def f():\n    import json\n    return json\n"})
    assert check_package(root, "pkg", layers=None) == []


def test_checker_finds_a_planted_cycle(tmp_path):
    root = _package(tmp_path, {"a.py": "from pkg import b\n", "b.py": "from pkg.sub import c\n",
                               "sub/__init__.py": "", "sub/c.py": "import pkg.a\n"})
    problems = check_package(root, "pkg", layers=None)
    assert problems == ["import cycle: pkg.a -> pkg.b -> pkg.sub.c -> pkg.a"]


def test_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    root = _package(tmp_path, {"a.py": "from pkg.b import g\n\ndef f():\n    return g()\n",
                               "b.py": "def g():\n    from pkg.a import f   # a imports this module\n    return f\n"})
    problems = check_package(root, "pkg", layers=None)
    assert any("pkg/b.py:2: function-local import of a package module: from pkg.a import f" in p for p in problems)
    assert "import cycle: pkg.a -> pkg.b -> pkg.a" in problems


def test_checker_finds_relative_and_method_level_imports(tmp_path):
    root = _package(tmp_path, {"a.py": "from . import b\n",
                               "b.py": "class K:\n    def m(self):\n        import pkg.a\n"})
    problems = check_package(root, "pkg", layers=None)
    assert any("pkg/a.py:1: relative import" in p for p in problems)
    assert any("pkg/b.py:3: function-local import" in p for p in problems)


def test_checker_finds_a_layer_violation(tmp_path):
    root = _package(tmp_path, {"format/__init__.py": "", "format/x.py": "from pkg.deploy import y\n",
                               "deploy/__init__.py": "", "deploy/y.py": "from pkg.format import x\n"})
    problems = check_package(root, "pkg", {"pkg": 0, "format": 1, "deploy": 5})
    assert problems == ["pkg/format/x.py:1: pkg.format.x (layer 1) imports pkg.deploy.y (layer 5), a higher layer",
                        "import cycle: pkg.deploy.y -> pkg.format.x -> pkg.deploy.y"]


@pytest.mark.parametrize("text", ["from pkg import nothing_here\n", "import pkg.missing\n"])
def test_checker_resolves_names_to_modules(tmp_path, text):
    root = _package(tmp_path, {"a.py": text})
    problems = check_package(root, "pkg", layers=None)
    if "missing" in text:
        assert problems == ["pkg/a.py:1: import pkg.missing: no module pkg.missing"]
    else:   # a name of the package's __init__: an edge to the package itself, no problem
        assert problems == []


# ---- the command line's static table ---------------------------------------------------------------------------

def test_cli_table_lists_every_subcommand_in_help_order(monkeypatch):
    parser = cli_main.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == [n for names, _ in cli_main.COMMANDS for n in names]
    assert len(sub.choices) == 17
    extra = cli_main.COMMANDS[3][1]                        # a module that registers a name the table lacks
    real = extra.register
    monkeypatch.setattr(extra, "register", lambda s: (real(s), s.add_parser("surprise")))
    with pytest.raises(RuntimeError, match="surprise"):
        cli_main.build_parser()
