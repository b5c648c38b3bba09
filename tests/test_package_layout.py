"""The package has no import circles, and every module imports on its own (in a fresh interpreter)."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neuronlab"


def module_name(path: Path) -> str:
    """The dotted name of a source file below neuronlab: "training", "plots" (its __init__), "plots.style"."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: every module of the package but neuronlab itself and its __main__
MODULES = sorted(name for name in map(module_name, PACKAGE.rglob("*.py")) if name and name != "__main__")


def module_path(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def package_imports(module: str) -> set[str]:
    """The neuronlab modules `module` imports anywhere in its source (also inside functions), as dotted
    names below neuronlab; `from . import name` counts the module `name` when there is one."""
    path = module_path(module)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[:len(package) - node.level + 1]
        elif (node.module or "").startswith("neuronlab."):
            base = []
        else:
            continue
        target = base + ((node.module or "").removeprefix("neuronlab.").split(".") if node.module else [])
        found.add(".".join(target))
        found.update(".".join(target + [alias.name]) for alias in node.names)
    return {name for name in found if name in MODULES} - {module}


def test_the_import_graph_has_no_cycle():
    graph = {module: package_imports(module) for module in MODULES}
    done, on_path = set(), []

    def visit(module):
        if module in on_path:
            cycle = on_path[on_path.index(module):] + [module]
            pytest.fail("import circle: " + " → ".join(cycle))
        if module in done:
            return
        on_path.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        on_path.pop()
        done.add(module)

    for module in MODULES:
        visit(module)


def test_the_graph_sees_lazy_imports():
    # reproduce imports the Figure-1 plot inside a function: the graph must count it
    assert "plots.overview" in package_imports("reproduce")
    assert {"plots.style", "clusters", "training"} <= package_imports("plots.overview")


@pytest.mark.parametrize("module", MODULES)
def test_every_module_imports_on_its_own(module):
    result = subprocess.run([sys.executable, "-c", f"import neuronlab.{module}"], capture_output=True, text=True,
                            env={"MPLBACKEND": "Agg", "PATH": ""}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
