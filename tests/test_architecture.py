"""The folders are the architecture: imports run one way, and the heavy libraries stay in their layer.

The rule (README, "Architecture"): each layer imports only from the layers before it,

    constants, errors, cache, files  ->  sim  ->  viewing  ->  env  ->  training  ->  tools  ->  cli

and no two modules import each other, even through others. Lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "racer_env"
LAYERS = ["ground", "sim", "viewing", "env", "training", "tools", "cli"]
GROUND = ("constants", "errors", "cache", "files")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int | None:
    """The layer of a racer_env module; None for the package face (racer_env/__init__.py)."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    first = parts[1]
    if first in GROUND:
        return LAYERS.index("ground")
    return LAYERS.index(first) if first in LAYERS else -1


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The modules an ``from ... import ...`` names, relative ones (``from .x import y``) made absolute: the
    module itself and, for ``from . import x``, each name, which may be a module."""
    if node.level == 0:
        return [node.module] if node.module else []
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (node.level - 1)]
    target = ".".join(base + ([node.module] if node.module else []))
    return [target] + [f"{target}.{a.name}" for a in node.names]


def _imports() -> dict[str, set[str]]:
    """Every racer_env module and the modules it imports (anywhere in the file, relative imports included)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "reward_functions" in path.parts:
            continue
        name = _module_name(path)
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                found.update(_absolute(name, path.name == "__init__.py", node))
        graph[name] = found
    return graph


GRAPH = _imports()


def test_relative_imports_are_resolved():
    """``from .x import y`` in racer_env/env/a.py names racer_env.env.x; ``from .. import y`` racer_env."""
    tree = ast.parse("from .params import compute_params\nfrom ..sim import track\n")
    first, second = tree.body
    assert _absolute("racer_env.env.environment", False, first)[0] == "racer_env.env.params"  # type: ignore[arg-type]
    assert "racer_env.sim.track" in _absolute("racer_env.env.environment", False, second)  # type: ignore[arg-type]
    assert _absolute("racer_env.env", True, first)[0] == "racer_env.env.params"  # type: ignore[arg-type]


def test_every_module_belongs_to_a_layer():
    unplaced = [m for m in GRAPH if _layer(m) == -1]
    assert unplaced == [], f"modules outside the layers {LAYERS}: {unplaced}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_run_one_way(module):
    own = _layer(module)
    if own is None:
        return  # the package face re-exports the public API
    for imported in GRAPH[module]:
        if imported.startswith("racer_env."):
            other = _layer(imported)
            assert other is not None and other <= own, (
                f"{module} ({LAYERS[own]}) imports {imported} ({LAYERS[other] if other is not None else 'face'}), "
                f"a later layer")


def test_no_import_cycles():
    internal = {m: {i for i in deps if i in GRAPH and i != m} for m, deps in GRAPH.items()}
    # a sub-package's __init__ re-exports its modules: an edge from a module to its own package's face is
    # the reverse of that re-export, not a cycle of code
    seen: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        path.append(m)
        for n in internal[m]:
            if seen.get(n) == 1:
                cycle = path[path.index(n):] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in seen:
                visit(n)
        path.pop()
        seen[m] = 2

    for m in sorted(internal):
        if m not in seen:
            visit(m)


@pytest.mark.parametrize("library, layers", [
    ("pygame", {"viewing"}),
    ("torch", {"training"}),
    ("stable_baselines3", {"training"}),
    ("ray", {"training"}),
    ("openvino", {"training"}),
    ("tensorflow", {"training"}),
    ("matplotlib", {"viewing", "training", "tools"}),
    ("pandas", {"tools"}),
    ("plotly", {"tools"}),
    ("jinja2", {"tools"}),
])
def test_heavy_libraries_stay_in_their_layers(library, layers):
    for module, deps in GRAPH.items():
        if any(d == library or d.startswith(library + ".") for d in deps):
            layer = _layer(module)
            assert layer is not None and LAYERS[layer] in layers, f"{module} imports {library}"


def test_importing_and_stepping_the_env_loads_neither_torch_nor_pygame():
    """In a fresh interpreter, so that no earlier test's imports can hide one."""
    code = ("import sys, racer_env\n"
            "env = racer_env.RacerEnv(reward_function=lambda p: 1.0)\n"
            "env.reset(seed=0)\n"
            "env.step(env.action_space.sample())\n"
            "print(sorted(m for m in ('torch', 'pygame', 'stable_baselines3', 'matplotlib', 'pandas', 'plotly')\n"
            "             if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
