"""The package has no import circles, and every module imports on its own (in a fresh interpreter)."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neuronlab"
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem != "__main__")


def package_imports(module: str) -> set[str]:
    """The neuronlab modules `module` imports anywhere in its source (also inside functions)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found.update(name.split(".")[0] for name in names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("neuronlab."):
            found.add(node.module.split(".")[1])
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
    # reproduce imports plotting inside a function: the graph must count it
    assert "plotting" in package_imports("reproduce")


@pytest.mark.parametrize("module", MODULES)
def test_every_module_imports_on_its_own(module):
    result = subprocess.run([sys.executable, "-c", f"import neuronlab.{module}"], capture_output=True, text=True,
                            env={"MPLBACKEND": "Agg", "PATH": ""}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
