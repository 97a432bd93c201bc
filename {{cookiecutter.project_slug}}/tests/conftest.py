"""Shared fixtures: params composed from this repo's conf/, and one small pipeline run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.module_name }}.compose import (
    composed,
)
from {{ cookiecutter.module_name }}.config import (
    Params,
    parse_params,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.module_name }}"
PROBLEMS = ("churn", "plan_change", "spend")


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
    def make(*overrides: str) -> Params:
        return parse_params(composed(list(overrides), ROOT / "conf"))

    return make


# The stage modules in lifecycle order (the same order as dvc.yaml).
STAGE_NAMES = (
    "define",
    "ingest",
    "validate_raw",
    "prepare",
    "featurize",
    "validate_features",
    "train",
    "evaluate",
    "package",
    "monitor",
)
SMALL_RUN = ("data.demo.n_rows=6000", "data.demo.n_production_rows=1500", "model.n_estimators=60")


def run_stages(folder: Path, names: tuple[str, ...]) -> None:
    """Run stage modules in order from `folder`, as `dvc repro` would (in-process)."""
    import importlib

    before = Path.cwd()
    os.chdir(folder)
    try:
        for name in names:
            importlib.import_module(f"{PACKAGE}.stages.{name}").main()
    finally:
        os.chdir(before)


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stage, in order, on a small demo dataset in a scratch folder (run once)."""
    folder = tmp_path_factory.mktemp("pipeline")
    params = parse_params(composed(list(SMALL_RUN), ROOT / "conf"))
    (folder / "params.yaml").write_text(yaml.safe_dump(params.model_dump(mode="json")))
    shutil.copytree(ROOT / "gx", folder / "gx")
    run_stages(folder, STAGE_NAMES)
    return folder
