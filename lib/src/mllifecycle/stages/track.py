"""Tracking (conf/registry `backend: mlflow`): this pipeline run, logged to MLflow.

After package: params.yaml as params; metrics/train.json and metrics/evaluate.json as
metrics; the model card and the verdict as artifacts; the package as a LoggedModel of
the run, tagged with the commit and the DVC experiment (tracking.py). Writes
reports/tracking.json (the run's and the model's ids). A server that does not answer
stops this stage in one line naming its URI and MLFLOW_TRACKING_URI; every earlier
stage's outputs stay as they are, and `dvc repro` logs the run once it answers.
"""

from __future__ import annotations

from pathlib import Path

from .. import paths, tracking
from ..config import load_params
from ..io import read_json, write_json
from ..models import artifact
from ..registry import entry, git
from . import run_stage


def main() -> None:
    params = load_params()
    model_name = entry(Path(".")).name
    metrics = {
        **tracking.as_metrics(read_json(paths.METRICS_DIR / "train.json"), "train"),
        **tracking.as_metrics(read_json(paths.METRICS_DIR / "evaluate.json"), "evaluate"),
    }
    logged = tracking.log_run(
        params.registry.experiment or model_name,
        model_name,
        params.model_dump(mode="json", by_alias=True),
        metrics,
        [paths.MODEL_CARD, paths.VERDICT],
        paths.PACKAGE_DIR,
        git(Path("."), "rev-parse", "HEAD", check=False),
        artifact.verified(paths.PACKAGE_DIR).digest,
    )
    write_json(logged, paths.TRACKING)
    print(f"tracked in MLflow: run {logged['run_id']}, model {logged['model_id']}")


if __name__ == "__main__":
    run_stage("track", main)
