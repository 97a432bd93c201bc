"""Shared fixtures, and the one place where tests follow what conf/ selects.

The library's tests run against a project: the template of this repository rendered
with its defaults into a temporary folder (or the project in $MLLIFECYCLE_TEST_PROJECT),
whose conf/, gx/ and own code (src/) they read, as a project's stages do.

Two kinds of params:
- `make_params`: conf/ as it stands (your data, problem and model), for tests of
  your configuration and of the pipeline run on it (`pipeline_run`);
- `example_params`: the shipped examples (the demo data and conf/problem/churn.yaml
  unless overridden), whatever conf/config.yaml selects, for tests of the library.

Tests that only make sense on the demo data are marked `requires_demo`; tests that
need a production batch, `requires_production_batch`. Each skips, saying why, when
conf/ selects otherwise.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mllifecycle.compose import (
    composed,
)
from mllifecycle.config import (
    Params,
    parse_params,
)
from mllifecycle.stages import NAMES
from mllifecycle.testing import SMALL_DEMO, run_pipeline, run_stages

__all__ = ["run_stages"]  # the tests' in-process stages: mllifecycle.testing's

TEMPLATE = Path(__file__).resolve().parents[2]


def rendered_project() -> Path:
    """The project the tests read: $MLLIFECYCLE_TEST_PROJECT, else a fresh default render."""
    if given := os.environ.get("MLLIFECYCLE_TEST_PROJECT"):
        return Path(given).resolve()
    from cookiecutter.main import cookiecutter

    scratch = Path(tempfile.mkdtemp(prefix="mllifecycle-project-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    quiet = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    os.environ.update({k: v for k, v in quiet.items() if k not in os.environ})
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(scratch))).resolve()


ROOT = rendered_project()
# The project's own code, as its command puts it first, here and in every subprocess
# (an installed project finds it through its editable install).
sys.path.insert(0, str(ROOT / "src"))
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
)
os.chdir(ROOT)  # where a project's stages and commands run (dvc.yaml's folder)
PACKAGE = "mllifecycle"
PROBLEMS = ("churn", "plan_change", "spend")  # the shipped example problems

# The shipped examples, keyed by what each override sets; a test's own override of the
# same key wins. No slice columns: the evaluate group may name columns of your data.
EXAMPLE = {
    "data": "data=demo",
    "problem": "problem=churn",
    "features": "features=demo",
    "evaluate.slice_columns": "evaluate.slice_columns=[]",
}


@functools.cache
def selected_params() -> Params:
    """What conf/ selects as it stands (what `make params` writes to params.yaml)."""
    return parse_params(composed([], ROOT / "conf"))


def is_demo(params: Params) -> bool:
    return params.data.source == "demo"


def has_production_batch(params: Params) -> bool:
    return is_demo(params) or params.data.production_path is not None


def _source(params: Params) -> str:
    return f"conf/data selects a {params.data.source} source ({params.data.path})"


# Marker -> why a test so marked cannot run on what conf/ selects (None: it can).
NEEDS: dict[str, Callable[[Params], str | None]] = {
    "requires_demo": lambda params: (
        None if is_demo(params) else f"demo-only: {_source(params)}, not the demo generator"
    ),
    "requires_production_batch": lambda params: (
        None
        if has_production_batch(params)
        else f"needs a production batch: {_source(params)} with production_path: null"
    ),
}
requires_demo = pytest.mark.requires_demo
requires_production_batch = pytest.mark.requires_production_batch


def pytest_configure(config: pytest.Config) -> None:
    for marker in NEEDS:
        config.addinivalue_line("markers", f"{marker}: skipped, saying why, when conf/ lacks it")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip, saying why, each marked test that what conf/ selects cannot run."""
    for item in items:
        for marker, why_not in NEEDS.items():
            if item.get_closest_marker(marker) and (reason := why_not(selected_params())):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def in_root() -> Iterator[Path]:
    """Run from the repo root, where conf/ and params.yaml live."""
    before = Path.cwd()
    os.chdir(ROOT)
    try:
        yield ROOT
    finally:
        os.chdir(before)


@pytest.fixture
def make_params() -> Callable[..., Params]:
    """conf/ as it stands, with Hydra overrides."""

    def make(*overrides: str) -> Params:
        return parse_params(composed(list(overrides), ROOT / "conf"))

    return make


def example_overrides(overrides: tuple[str, ...]) -> list[str]:
    """EXAMPLE with the test's own overrides on top; skips if a shipped example is gone."""
    chosen = {**EXAMPLE, **{item.split("=")[0]: item for item in overrides}}
    for item in chosen.values():
        group, _, name = item.partition("=")
        shipped = ROOT / "conf" / group / f"{name}.yaml"
        if shipped.parent.is_dir() and not shipped.exists():
            pytest.skip(f"the shipped example {shipped.relative_to(ROOT)} was removed")
    return list(chosen.values())


@pytest.fixture
def example_params() -> Callable[..., Params]:
    """The shipped examples (demo data, churn), with Hydra overrides on top."""

    def make(*overrides: str) -> Params:
        return parse_params(composed(example_overrides(overrides), ROOT / "conf"))

    return make


# The stage modules in lifecycle order (the same order as dvc.yaml).
STAGE_NAMES = NAMES
# Fewer boosting rounds for each candidate that has them (a linear model's max_iter is
# its solver's budget, not its size: left alone).
SMALL_MODEL = {"lightgbm": ("n_estimators", 60), "hist_gb": ("max_iter", 60)}


def small_run_overrides(params: Params) -> list[str]:
    """Overrides that make the smoke run quick, only for what `params` actually has."""
    overrides = list(SMALL_DEMO) if is_demo(params) else []
    if params.model.name in SMALL_MODEL:
        key, rounds = SMALL_MODEL[params.model.name]
        if params.model.hyperparameters.get(key, 0) > rounds:
            overrides.append(f"model.{key}={rounds}")
    return overrides


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stage, in order, on what conf/ selects (a smaller demo, fewer boosting
    rounds) in a scratch folder (run once)."""
    folder = tmp_path_factory.mktemp("pipeline")
    params = parse_params(composed(small_run_overrides(selected_params()), ROOT / "conf"))
    return run_pipeline(ROOT, folder, params, STAGE_NAMES)
