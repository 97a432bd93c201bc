"""Smoke test: every stage, in order, on a small demo dataset in a scratch folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.module_name }}.config import (
    Params,
)
from {{ cookiecutter.module_name }}.errors import (
    ArtifactError,
)
from {{ cookiecutter.module_name }}.models import (
    artifact,
)
from {{ cookiecutter.module_name }}.stages import (
    define,
    evaluate,
    featurize,
    ingest,
    monitor,
    package,
    prepare,
    train,
    validate_features,
    validate_raw,
)

from .conftest import ROOT

STAGES = (
    define,
    ingest,
    validate_raw,
    prepare,
    featurize,
    validate_features,
    train,
    evaluate,
    package,
    monitor,
)


def test_every_stage_runs_and_the_artifact_is_guarded(
    tmp_path: Path, make_params: Callable[..., Params], monkeypatch: pytest.MonkeyPatch
) -> None:
    params = make_params(
        "data.demo.n_rows=6000", "data.demo.n_production_rows=1500", "model.n_estimators=60"
    )
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params.model_dump(mode="json")))
    shutil.copytree(ROOT / "gx", tmp_path / "gx")
    monkeypatch.chdir(tmp_path)
    for stage in STAGES:
        stage.main()

    verdict = json.loads(Path("reports/verdict.json").read_text())
    assert {c["name"] for c in verdict["criteria"]} >= {"uplift_per_1000_over_baseline"}
    packaged = artifact.load(Path("models/package"))
    assert packaged.metadata["input_schema"][0]["name"] == params.data.numeric[0]
    summary = json.loads(Path("reports/monitor.json").read_text())
    assert "monthly_charges" in summary["drifted"]
    assert Path("reports/monitor.html").read_text().count("<svg") == len(params.data.features)

    model_file = Path("models/package/model.joblib")
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    with pytest.raises(ArtifactError, match="does not match"):
        artifact.load(Path("models/package"))
    assert os.path.exists("reports/problem.md")
