"""The folder tree is the architecture: imports run one way, down the layers, without circles; the libvirt
fakes live with the tests, not in the shipped packages.

Layers, top to bottom: virt_rebalance (the app) -> collectors, executor -> files, planner. executor uses
collectors' seam; files (safe writes and locks) is shared by executor and the app; nothing below the app
imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("planner", "collectors", "executor", "files", "virt_rebalance")
LAYERS = ("planner", "collectors", "executor", "files")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; relative imports resolved), TYPE_CHECKING ones too."""
    package = _module(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module(path)
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in SHIPPED for p in (ROOT / pkg).rglob("*.py")]
    modules = {_module(p): p for p in files}
    return {name: {i for i in _imports(path) if i in modules} for name, path in modules.items()}


GRAPH = _graph()


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.split(".")[0] in LAYERS))
def test_no_layer_imports_the_app(module: str) -> None:
    assert not {i for i in GRAPH[module] if i.split(".")[0] == "virt_rebalance"}


#: What each package may import besides itself: the arrows of the layers, all pointing down.
MAY_IMPORT = {
    "planner": set(),
    "files": {"planner"},
    "collectors": {"planner", "files"},
    "executor": {"planner", "files", "collectors"},
    "virt_rebalance": {"planner", "files", "collectors", "executor"},
}


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_imports_run_down_the_layers_only(package: str) -> None:
    up = {
        (m, i)
        for m in GRAPH
        if m.split(".")[0] == package
        for i in GRAPH[m]
        if i.split(".")[0] not in MAY_IMPORT[package] | {package}
    }
    assert not up, f"{package} imports against the layers: {sorted(up)}"


def test_every_shipped_package_has_its_place_in_the_layers() -> None:
    assert set(SHIPPED) == set(MAY_IMPORT)


def test_planner_imports_no_other_layer() -> None:
    up = {(m, i) for m in GRAPH if m.startswith("planner") for i in GRAPH[m] if not i.startswith("planner")}
    assert not up


def test_no_import_circle() -> None:
    # A package's __init__ re-exporting its modules is not a circle of its own; edges into __init__ are.
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            cycle = [*path[path.index(node) :], node]
            pytest.fail("import circle: " + " -> ".join(cycle))
        if node in done:
            return
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if not node.startswith(nxt + "."):  # a module importing its own package's __init__
                visit(nxt)
        path.pop()
        done.add(node)

    for module in sorted(GRAPH):
        visit(module)


def test_no_fake_ships() -> None:
    fakes = [
        f"{_module(path)}.{node.name}"
        for pkg in SHIPPED
        for path in (ROOT / pkg).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and node.name.startswith("Fake")
    ]
    assert fakes == []
