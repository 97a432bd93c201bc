"""Render the template for real and run what it generates.

One environment holds the generated repos' dependencies for the whole test
session: the library from this checkout (lib/, editable, so it is always the code
under test) and the rendered pyproject.toml's tools, cached in .cache/ between runs
while the dependency lists are unchanged; each render is installed into it without
dependencies, under its own module name. Tests of the locked install itself
(`make setup`: uv sync --frozen) give a render its own .venv.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
LIBRARY = TEMPLATE / "lib"
LIBRARY_EXTRAS = "pipeline,serve,loadtest,sql,dask,mlflow"
CACHE = TEMPLATE / ".cache"
UV = str(Path(sys.executable).parent / "uv")
QUIET_ENV = {
    "DVC_NO_ANALYTICS": "1",
    "ITERATIVE_DO_NOT_TRACK": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}


def bake(output_dir: Path, **context: str) -> Path:
    """Render the template with defaults plus `context`; return the project folder."""
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=context,
                             output_dir=str(output_dir)))


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output when it fails."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
                    f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}")
    return result


class GeneratedEnv:
    """A virtual environment with the generated repos' dependencies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"

    def env(self) -> dict[str, str]:
        return {**os.environ, **QUIET_ENV, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
                "VIRTUAL_ENV": str(self.root)}

    def install(self, project: Path) -> None:
        run([UV, "pip", "install", "-q", "--python", str(self.bin / "python"), "--no-deps",
             "--no-build-isolation", "-e", str(project)], cwd=project, env=self.env())

    def run(self, command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(command, cwd=cwd, env=self.env(), check=check)


def _dependencies(project: Path) -> list[str]:
    """The render's tools and the library's dependencies (the library itself comes after)."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    extras = [dep for group in meta["optional-dependencies"].values() for dep in group
              if not dep.startswith("mllifecycle")]
    library = tomllib.loads((LIBRARY / "pyproject.toml").read_text())["project"]
    wanted = LIBRARY_EXTRAS.split(",")
    needs = [*library["dependencies"],
             *(dep for extra in wanted for dep in library["optional-dependencies"][extra])]
    return sorted({*extras, *needs, "setuptools>=77", "uv>=0.9"})


# Modules whose tests share one render (a module-scoped `project`, one per parameter) and
# run on it in order. Under pytest-xdist (`-n 2`), each render's tests go to one worker:
# the scheduler below is xdist's loadscope with one scope per render and one per other
# test. (Not `--dist loadgroup`: with pytest 9.2 xdist 3.8 no longer applies its groups.)
SHARED_RENDER = ("test_generated.py", "test_cli.py")
# The longest chains are collected first, so the two workers finish together.
LONGEST_FIRST = ("test_generated.py", "test_dask.py", "test_byo_data.py", "test_cli.py")


def render_scope(nodeid: str) -> str:
    """`tests/test_generated.py::test_x[regression]` -> `tests/test_generated.py[regression]`."""
    module, _, test = nodeid.partition("::")
    if Path(module).name not in SHARED_RENDER:
        return nodeid
    parameter = test.partition("[")[2]
    return f"{module}[{parameter}" if parameter else module


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerPerRender(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return render_scope(nodeid)

    return OneWorkerPerRender(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def heaviness(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=heaviness)  # stable: each module keeps its own order


@pytest.fixture(scope="session")
def generated_env(tmp_path_factory: pytest.TempPathFactory) -> GeneratedEnv:
    return ensure_generated_env(tmp_path_factory.mktemp("deps"))


def ensure_generated_env(scratch: Path) -> GeneratedEnv:
    """The cached environment for the current dependency lists (built when missing)."""
    requirements = _dependencies(bake(scratch))
    key = hashlib.sha256(json.dumps([sys.version, requirements]).encode()).hexdigest()[:12]
    root = CACHE / f"generated-env-{key}"
    marker = root / ".complete"
    env = GeneratedEnv(root)
    CACHE.mkdir(exist_ok=True)
    # pytest-xdist's workers each ask for it: the first builds it, the others wait.
    with (CACHE / f"generated-env-{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(root)
            python = ["--python", str(env.bin / "python")]
            run([UV, "pip", "install", "-q", *python, *requirements], cwd=CACHE, env=env.env())
            marker.write_text("\n".join(requirements) + "\n")
        # The library under test, editable: every session runs the checkout's code.
        run([UV, "pip", "install", "-q", "--python", str(env.bin / "python"), "--no-deps", "-e",
             f"{LIBRARY}[{LIBRARY_EXTRAS}]"], cwd=CACHE, env=env.env())
    # uv's cache now holds what every render locks and installs (the bake above locked
    # online): later locks and syncs read it offline, ~4 s less per render.
    os.environ["UV_OFFLINE"] = "1"
    return env


@pytest.fixture
def baker(tmp_path: Path) -> Callable[..., Path]:
    def make(**context: Any) -> Path:
        return bake(tmp_path, **context)

    return make


def template_repo(destination: Path) -> Path:
    """The working tree of this template as a git repository cruft can clone."""
    ignore = shutil.ignore_patterns(".git", ".venv", ".cache", "build", "__pycache__",
                                    ".pytest_cache", ".ruff_cache", ".mypy_cache")
    shutil.copytree(TEMPLATE, destination, ignore=ignore)
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "template"]):
        run(["git", *command], cwd=destination, env={**os.environ, **QUIET_ENV})
    return destination


def finished_queue(project: Path, env: GeneratedEnv, limit_s: float = 600) -> str:
    """`dvc queue status` once nothing is queued or running (at most `limit_s` seconds)."""
    deadline = time.monotonic() + limit_s
    status = env.run(["dvc", "queue", "status"], cwd=project).stdout
    while ("Queued" in status or "Running" in status) and time.monotonic() < deadline:
        time.sleep(2)
        status = env.run(["dvc", "queue", "status"], cwd=project).stdout
    return status
