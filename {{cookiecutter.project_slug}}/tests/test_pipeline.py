"""Smoke test: every stage, in order, on what conf/ selects, in a scratch folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }}.config import (
    load_params,
)
from {{ cookiecutter.module_name }}.errors import (
    ArtifactError,
)
from {{ cookiecutter.module_name }}.models import (
    artifact,
)

from .conftest import requires_demo, requires_production_batch


def test_every_stage_runs_and_the_artifact_is_guarded(
    pipeline_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pipeline_run)
    params = load_params()
    verdict = json.loads(Path("reports/verdict.json").read_text())
    assert {c["name"] for c in verdict["criteria"]} >= {"uplift_per_1000_over_baseline"}
    packaged = artifact.load(Path("models/package"))
    assert packaged.metadata.input_schema[0].name == params.data.features[0]
    assert Path("reports/problem.md").exists()
    for site in ("raw/dataset", "features/train", "features/test"):
        assert Path(f"reports/data_docs/{site}/index.html").exists(), site

    copy = tmp_path / "package"
    copy.mkdir()
    for name in (artifact.MODEL_FILE, artifact.METADATA_FILE):
        (copy / name).write_bytes((Path("models/package") / name).read_bytes())
    model_file = copy / artifact.MODEL_FILE
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    with pytest.raises(ArtifactError, match="does not match"):
        artifact.load(copy)


@requires_production_batch
def test_the_monitor_reports_on_the_production_batch(
    pipeline_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pipeline_run)
    params = load_params()
    summary = json.loads(Path("reports/monitor.json").read_text())
    report = Path("reports/monitor.html").read_text()
    over_time, features = report.split("<h2>Features</h2>")
    # Windows along the time column; one window (the whole batch) without one.
    windows = 2 if params.data.time_column else 1
    assert "Over time" in over_time and len(summary["windows"]) >= windows
    assert features.count("<svg") == len(params.data.features)
    assert ("Retrain recommended" in report) == summary["verdict"]["retrain"]
    # The batch's own check (validate_production), off the training path, passed.
    assert Path("reports/data_docs/production/production/index.html").exists()
    assert summary["production_checks"]["passed"]
    assert "data/raw/production.parquet</code>: <span class=ok>passed</span>" in report


@requires_demo  # the demo's production batch is generated with prices moved up
def test_the_demo_production_batch_drifts(pipeline_run: Path) -> None:
    summary = json.loads((pipeline_run / "reports/monitor.json").read_text())
    assert "monthly_charges" in summary["drifted"]
