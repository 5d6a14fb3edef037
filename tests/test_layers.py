"""The package's layers, read from its imports: engine <- job <- client <- cli, with no arrow running back.

Every `import` and `from ... import` in simulation/ is read (those inside functions too, where the lazy ones
live) and resolved to the module it loads. A module of a layer may import its own layer and the layers before
it, plus the leaf modules (errors, text, defaults) and the package's version; the leaf modules import no layer.
A second check imports each layer in a fresh interpreter and looks at what that actually loaded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "simulation"
LAYERS = ("engine", "job", "client", "cli")
LEAVES = {"simulation.errors", "simulation.text", "simulation.defaults", "simulation.options"}
# Facades at the package's top: the package itself (version, the lazy count_close_pairs), `python -m simulation`
# and the two names deployed code calls (simulation.processing, simulation.layout). No layer may import them.
FACADES = {"simulation.__main__", "simulation.processing", "simulation.layout"}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def known_modules() -> set[str]:
    return {module_name(path) for path in PACKAGE.rglob("*.py")}


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The simulation modules `path` imports; `from pkg import name` counts as pkg.name when that is a module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
    return {name for name in found if name == "simulation" or name.startswith("simulation.")}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return None


def test_every_module_belongs_to_a_layer_a_leaf_or_a_facade():
    loose = {m for m in known_modules() if layer_of(m) is None} - LEAVES - FACADES - {"simulation"}
    assert not loose, f"modules outside the layers: {sorted(loose)} (move them into engine/job/client/cli)"


def test_no_import_runs_back_up_the_layers():
    modules = known_modules()
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        mine = layer_of(importer)
        for imported in sorted(imported_modules(path, modules)):
            theirs = layer_of(imported)
            if importer in LEAVES and (theirs is not None or imported in FACADES):
                wrong.append(f"{importer} (a leaf) imports {imported}")
            elif mine is not None and imported in FACADES:
                wrong.append(f"{importer} imports the facade {imported}; import the module it re-exports")
            elif mine is not None and theirs is not None and theirs > mine:
                wrong.append(f"{importer} ({LAYERS[mine]}) imports {imported} ({LAYERS[theirs]})")
    assert not wrong, "\n".join(wrong)


def test_every_import_names_a_module_that_exists():
    # a stale name from the flat layout (`from simulation import _kernel`) would otherwise pass as "the package"
    import simulation

    modules = known_modules()
    stale = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "simulation":
                    names += [f"simulation.{a.name}" for a in node.names if a.name not in simulation.__all__]
            else:
                continue
            stale += [f"{module_name(path)}: {n}" for n in names if n.startswith("simulation") and n not in modules]
    assert not stale, "\n".join(stale)


def test_the_walk_sees_lazy_imports():
    # the walk is only as good as its parser: a function-level import must count
    source = PACKAGE / "engine" / "montecarlo.py"
    assert "simulation.engine._kernel" in imported_modules(source, known_modules())


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_importing_a_layer_loads_nothing_above_it(layer):
    # every module of the layer, imported in a fresh interpreter; what else got loaded is what Python saw
    names = sorted(m for m in known_modules() if layer_of(m) == LAYERS.index(layer) and "__main__" not in m)
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('simulation'))))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = json.loads(completed.stdout)
    above = [m for m in loaded if (layer_of(m) or -1) > LAYERS.index(layer)]
    assert not above, f"importing simulation.{layer} loaded {above}"


def test_no_module_is_over_400_lines():
    long = {
        path.relative_to(ROOT).as_posix(): lines
        for top in ("simulation", "stacks")
        for path in (ROOT / top).rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them by topic): {long}"
