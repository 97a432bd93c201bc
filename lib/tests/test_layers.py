"""The library's modules import each other in one direction: no cycle (lazy imports
inside functions count too), and the lower layers never reach up. Configuration learns
the derived kinds and the candidates from two leaf modules (features/kinds.py,
models/candidates.py), which import nothing else of the library."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import mllifecycle

PACKAGE = Path(mllifecycle.__file__).parent
# A lower layer and the higher ones it must not import.
NEVER_UP = {
    "mllifecycle.config": ("evaluation", "serving", "stages", "tasks", "monitoring", "engine"),
    "mllifecycle.tasks": ("evaluation", "models", "serving", "stages", "monitoring"),
}
# The declarations configuration reads, and all they may import of the library.
LEAVES = {
    "mllifecycle.features.kinds": set(),
    "mllifecycle.models.candidates": {"mllifecycle.features.kinds"},
}


def module_name(path: Path) -> str:
    parts = ["mllifecycle", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.Module) -> list[ast.stmt]:
    """Every import statement, lazy ones too, except under `if __name__ == "__main__":`
    (it runs when the module is the program, never when it is imported)."""
    found: list[ast.stmt] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> dict[str, set[str]]:
    """Each module's imports of modules of this package, top-level and lazy alike."""
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in files.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                origin = ".".join([*base, *([node.module] if node.module else [])])
                found = [f"{origin}.{alias.name}" for alias in node.names]
                graph[name] |= {m for m in found if m in files} or ({origin} & set(files))
            elif isinstance(node, ast.Import):
                graph[name] |= {alias.name for alias in node.names if alias.name in files}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(import_graph()) == []


def test_the_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lower_layers_never_import_higher_ones() -> None:
    graph = import_graph()
    for lower, higher in NEVER_UP.items():
        members = [name for name in graph if name == lower or name.startswith(lower + ".")]
        reached = {
            target
            for member in members
            for target in graph[member]
            if any(
                target.removeprefix("mllifecycle.").startswith(h) or target.startswith(h)
                for h in higher
            )
            and not target.startswith(lower)
        }
        assert not reached, f"{lower} imports {sorted(reached)}"


def test_configuration_reads_leaf_declarations() -> None:
    graph = import_graph()
    from_config = {
        t
        for t in graph["mllifecycle.config"]
        if t.startswith(("mllifecycle.features", "mllifecycle.models"))
    }
    assert from_config <= set(LEAVES), from_config
    for leaf, allowed in LEAVES.items():
        assert graph[leaf] <= allowed, f"{leaf} imports {sorted(graph[leaf] - allowed)}"
