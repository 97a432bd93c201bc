"""One module per DVC stage; each reads params, calls the library, writes its outputs.

dvc.yaml runs each as `<project command> stage NAME` (cli.py), which enters the project
root and puts its own code first on the import path before the stage starts.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable

from .. import paths
from ..errors import PipelineError

# The stages in lifecycle order, as dvc.yaml lists them.
NAMES = (
    "define",
    "ingest",
    "validate_raw",
    "prepare",
    "featurize",
    "validate_features",
    "train",
    "evaluate",
    "package",
    "validate_production",
    "monitor",
)
# Stages a render has only by its answers: `track` where the registry is MLflow.
OPTIONAL_NAMES = ("track",)


def run_stage(name: str, body: Callable[[], None]) -> None:
    """Run a stage; a PipelineError stops `dvc repro` with one clear message."""
    try:
        body()
    except PipelineError as err:
        print(f"stage {name!r} failed: {err}", file=sys.stderr)
        sys.exit(1)


def run(name: str) -> None:
    """Run the stage `name` (`mllifecycle stage NAME`), as `python -m mllifecycle.stages.NAME`."""
    os.environ[paths.STAGE_ENV] = name  # the dask engine labels its workers' peaks with it
    stage = importlib.import_module(f"{__name__}.{name}")
    run_stage(name, stage.main)
