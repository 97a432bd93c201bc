"""Smoke test: every stage on what conf/ selects, then the packaged model over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
from mllifecycle.models import artifact
from mllifecycle.serving.app import create_app
from mllifecycle.serving.settings import ServeSettings
from mllifecycle.testing import serving


def test_every_stage_runs_to_a_verdict_and_a_package(pipeline_run: Path) -> None:
    verdict = json.loads((pipeline_run / "reports/verdict.json").read_text())
    assert {c["name"] for c in verdict["criteria"]} >= {"uplift_per_1000_over_baseline"}
    assert (pipeline_run / "reports/model_card.md").read_text().strip()
    for gate in ("raw", "features"):
        report = json.loads((pipeline_run / f"reports/validation/{gate}.json").read_text())
        assert report[0]["passed"], gate
    assert artifact.load(pipeline_run / "models/package").metadata.version


def test_the_service_answers_with_the_packaged_models_decisions(pipeline_run: Path) -> None:
    package = artifact.load(pipeline_run / "models/package")
    inputs = package.metadata.input_names
    test_rows = pd.read_parquet(pipeline_run / "data/prepared/test.parquet").head(20)
    records = json.loads(test_rows[inputs].to_json(orient="records", date_format="iso"))
    settings = ServeSettings(allow_unregistered=True, model_dir=pipeline_run / "models/package")
    with serving(create_app(settings)) as url:
        answer = httpx.post(f"{url}/predict", json={"records": records}, timeout=30)
        assert answer.status_code == 200, answer.text
        served = [row["decision"] for row in answer.json()["predictions"]]
        malformed = httpx.post(f"{url}/predict", json={"records": [{"nope": 1}]}, timeout=30)
        assert malformed.status_code == 422
    expected = package.decide(pd.DataFrame(records))
    assert [str(d) for d in served] == [str(d) for d in expected]
