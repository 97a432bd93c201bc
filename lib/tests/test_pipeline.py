"""Smoke test: every stage, in order, on what conf/ selects, in a scratch folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from mllifecycle.config import (
    load_params,
)
from mllifecycle.errors import (
    ArtifactError,
)
from mllifecycle.models import (
    artifact,
)
from mllifecycle.validation import (
    data_docs,
    docs,
)
from mllifecycle.validation.production import (
    production_configured,
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
    for gate in ("raw", "features"):
        assert json.loads(Path(f"reports/validation/{gate}.json").read_text())[0]["passed"], gate
    # Passing gates render no Data Docs (`make docs` does, on request).
    assert not Path("reports/data_docs").exists()

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
    assert json.loads(Path("reports/validation/production.json").read_text())[0]["passed"]
    assert summary["production_checks"]["passed"]
    assert "data/raw/production.parquet</code>: <span class=ok>passed</span>" in report


@requires_demo  # the demo's production batch is generated with prices moved up
def test_the_demo_production_batch_drifts(pipeline_run: Path) -> None:
    summary = json.loads((pipeline_run / "reports/monitor.json").read_text())
    assert "monthly_charges" in summary["drifted"]


def test_docs_renders_every_gate_styled_offline(
    pipeline_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "run"  # a copy: the session's run keeps no Data Docs
    shutil.copytree(pipeline_run, folder)
    monkeypatch.chdir(folder)
    results = docs.render_all()
    pages = {str(r.docs_page) for r in results if r.docs_page}
    sites = ["raw/dataset", "features/train", "features/valid", "features/test"]
    if production_configured(load_params()):
        sites.append("production/production")
    assert pages == {f"reports/data_docs/{site}/index.html" for site in sites}
    assert all(r.passed for r in results)
    html = list(Path("reports/data_docs").rglob("*.html"))
    assert len(html) > len(sites)  # each site: an index, the suite, the validation run
    for page in html:
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r"<(?:link|script)\b[^>]*(?:href|src)=[\"']https?://", text)
        assert not remote, f"{page}: {remote}"
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+bootstrap.min.css)"', text)
        assert stylesheet, page
        assert (page.parent / stylesheet.group(1)).resolve().is_file(), page
    assert data_docs.REMOTE_TAG.search('<script src="https://cdn.example/x.js"></script>')
