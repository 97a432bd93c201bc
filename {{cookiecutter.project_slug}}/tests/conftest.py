"""The pipeline on what conf/ selects, once per test session, in a scratch folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from mllifecycle import testing

ROOT = Path(__file__).resolve().parents[1]
# Fewer boosting rounds than conf/model asks for, when the model has them: a smoke run.
QUICK_MODEL = {"lightgbm": "model.n_estimators=60", "hist_gb": "model.max_iter=60"}


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stage, in order, on conf/ as it stands (a smaller demo when it is the demo)."""
    selected = testing.params_of(ROOT)
    overrides = list(testing.SMALL_DEMO) if selected.data.source == "demo" else []
    if selected.model.name in QUICK_MODEL:
        overrides.append(QUICK_MODEL[selected.model.name])
    folder = tmp_path_factory.mktemp("pipeline")
    return testing.run_pipeline(ROOT, folder, testing.params_of(ROOT, overrides))
