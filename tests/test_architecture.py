"""The structure the layers rely on: declare (pure plan modules), then build.

Read from the source itself (AST), so a new cycle, a function-level import, a Pulumi import
in a plan, or a constraint spelled outside the shared model fails here."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("components", "shards")
LAYERS = (
    "components/edge",
    "components/data",
    "components/core",
    "components/fleet",
    "components/day0",
    "shards",
)
PURE = [f"{layer}/plan.py" for layer in LAYERS] + ["components/plan.py", "components/model.py"]


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _project_imports(module: str, path: Path, tree: ast.AST, mods: dict[str, Path]) -> set[str]:
    """Project modules `module` imports at module level (a package import counts as its
    __init__, an imported name that is a submodule as that submodule)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    body = tree.body if isinstance(tree, ast.Module) else []
    for node in body:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_pkg, node)
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        for n in names:
            if n in mods and n != module:
                out.add(n)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _project_imports(m, p, ast.parse(p.read_text()), mods) for m, p in mods.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_the_layering() -> None:
    """Guard for the checks below: the walker finds the real edges."""
    g = _graph()
    assert "components.model" in g["components.plan"]
    assert "components.core.plan" in g["components.fleet.plan"]
    assert "components.day0.plan" in g["components.day0.inventory"]


def test_no_import_cycle_among_the_project_modules() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_project_import_inside_a_function() -> None:
    found = []
    for module, path in _modules().items():
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").startswith(PACKAGES)
                ):
                    found.append(f"{module}:{node.lineno}")
                if isinstance(node, ast.Import) and any(a.name.startswith(PACKAGES) for a in node.names):
                    found.append(f"{module}:{node.lineno}")
    assert found == []


def test_day0_imports_no_layer() -> None:
    g = _graph()
    layers = ("components.edge", "components.data", "components.core", "components.fleet", "shards")
    bad = {
        m: sorted(i for i in deps if i.startswith(layers))
        for m, deps in g.items()
        if m.startswith("components.day0")
    }
    assert {m: d for m, d in bad.items() if d} == {}


@pytest.mark.parametrize("plan", PURE)
def test_every_layer_has_a_plan_module_that_imports_no_pulumi(plan: str) -> None:
    path = ROOT / plan
    assert path.is_file(), f"{plan} is missing"
    tree = ast.parse(path.read_text())
    direct = [
        a.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for a in node.names
        if a.name.split(".")[0].startswith("pulumi")
    ] + [
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0].startswith("pulumi")
    ]
    assert direct == [], f"{plan} imports {direct}"


def test_the_stack_plan_loads_without_pulumi() -> None:
    """Transitively too: importing every plan module leaves Pulumi unloaded."""
    mods = [p.removesuffix(".py").replace("/", ".") for p in PURE]
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi'))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _code_strings(path: Path) -> list[str]:
    """String literals of a file (comments and docstrings aside)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    out = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]
    return out  # f-string pieces are Constants inside JoinedStr: covered by the walk


def test_placement_constraints_are_spelled_only_in_the_shared_model() -> None:
    """`node.labels.*` / `node.role` constraints come from components/model.py (on_label,
    MANAGER); every layer states *which* label in its plan, nobody restates the syntax."""
    spelled = {
        str(p.relative_to(ROOT))
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
        if any("node.labels." in s or "node.role==" in s for s in _code_strings(p))
    }
    assert spelled == {"components/model.py"}


def test_stack_exports_are_all_in_main() -> None:
    """Layers hand typed outputs up; only the bootstrap story names stack outputs."""
    found = [
        f"{module}:{node.lineno}"
        for module, path in _modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "export"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "pulumi"
    ]
    assert found == []
    main = ast.parse((ROOT / "__main__.py").read_text())
    assert any(isinstance(n, ast.Attribute) and n.attr == "export" for n in ast.walk(main))
