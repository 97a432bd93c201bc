"""dvc.yaml tells the truth about code: each stage declares every module it imports.

DVC reruns a stage when a declared dependency changes, and only then; a module a
stage imports but does not declare can change its results while `dvc status`
says all is up to date. This test follows each stage module's imports through
the package (the shared core included, lazy imports inside functions too) and
fails naming the stage and the module that dvc.yaml leaves out. A package
`__init__.py` that holds only a docstring carries no code and is not required.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from .conftest import PACKAGE, ROOT

SRC = ROOT / "src"
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.exists():
            return candidate
    return None


def imported(name: str) -> set[str]:
    """Modules of this package that `name` imports, anywhere in it, with their parents."""
    source = module_file(name)
    assert source is not None, name
    package = name.split(".") if source.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parent = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join([*parent, *([node.module] if node.module else [])])
            found |= {origin, *(f"{origin}.{alias.name}" for alias in node.names)}
    ours = {name for name in found if name.split(".")[0] == PACKAGE}
    parts = {".".join(name.split(".")[:i]) for name in ours for i in range(1, name.count(".") + 2)}
    return {name for name in parts if module_file(name) is not None}


def closure(name: str) -> set[str]:
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending += imported(current)
    return seen


def carries_code(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    docstring = (
        bool(body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    )
    return len(body) > int(docstring)


def declared(path: Path, deps: list[str]) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return any(relative == dep or relative.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_stage_declares_the_code_it_imports(stage: str) -> None:
    command = STAGES[stage]["cmd"].split()
    module = command[command.index("-m") + 1]
    deps = [str(dep) for dep in STAGES[stage].get("deps", [])]
    undeclared = sorted(
        path.relative_to(ROOT).as_posix()
        for path in filter(None, map(module_file, closure(module)))
        if carries_code(path) and not declared(path, deps)
    )
    assert not undeclared, f"stage {stage!r} imports {undeclared}, which dvc.yaml does not declare"


def test_the_closure_follows_imports_through_the_package() -> None:
    """The check itself can fail: evaluate reaches the registry through its own imports."""
    evaluate = closure(f"{PACKAGE}.stages.evaluate")
    assert {f"{PACKAGE}.config", f"{PACKAGE}.io", f"{PACKAGE}.stages"} <= evaluate
    assert not declared(ROOT / "src" / PACKAGE / "config.py", ["src/other"])
