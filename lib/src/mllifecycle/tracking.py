"""Pipeline runs tracked in MLflow 3 (conf/registry `backend: mlflow`), beside DVC's record.

The `track` stage logs one MLflow run per pipeline run (`dvc repro`, `dvc exp run`, a
queued experiment): params.yaml's values as params, the numbers of metrics/train.json
and metrics/evaluate.json as metrics, the model card and the verdict as artifacts, and
the package as a LoggedModel of that run. The run is named after the DVC experiment
(DVC_EXP_NAME) and tagged with the git commit, so the MLflow UI and `dvc exp show` lead
to each other; `registry register` finds the LoggedModel by the package's digest. DVC
stays the pipeline and the data's versions: MLflow adds a UI and, as registry, aliases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .registry.mlflow import (
    COMMIT_TAG,
    DIGEST_TAG,
    EXPERIMENT_TAG,
    answering,
    client,
    experiment_id,
    log_package,
    server_uri,
)

# MLflow caps a param's value at 6,000 characters: longer values are cut to it (the
# whole params.yaml is in DVC, and its values are in the run's params up to that length).
MAX_PARAM_CHARS = 6000
EXPERIMENT_ENV = "DVC_EXP_NAME"  # set by `dvc exp run` for the stage's processes


def flattened(values: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested mappings as dotted keys (model.hyperparameters.learning_rate)."""
    if isinstance(values, dict):
        for key, value in values.items():
            yield from flattened(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), values


def as_params(values: dict[str, Any]) -> dict[str, str]:
    return {key: str(value)[:MAX_PARAM_CHARS] for key, value in flattened(values)}


def as_metrics(values: dict[str, Any], prefix: str) -> dict[str, float]:
    """Numbers only (MLflow's metrics are numbers; a verdict's words stay in its file)."""
    return {
        f"{prefix}.{key}": float(value)
        for key, value in flattened(values)
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def log_run(
    experiment_name: str,
    model_name: str,
    params: dict[str, Any],
    metrics: dict[str, float],
    files: list[Path],
    package: Path,
    commit: str,
    digest: str,
) -> dict[str, str]:
    """One pipeline run in MLflow; what it logged, to record beside DVC's outputs."""
    dvc_experiment = os.environ.get(EXPERIMENT_ENV, "")
    with answering("track the run in MLflow"):
        experiment = experiment_id(experiment_name)
        mlflow = client()
        tags = {COMMIT_TAG: commit, DIGEST_TAG: digest, EXPERIMENT_TAG: dvc_experiment}
        run = mlflow.create_run(experiment, run_name=dvc_experiment or None, tags=tags)
        run_id = run.info.run_id
        try:
            logged = as_params(params)
            items = list(logged.items())
            for start in range(0, len(items), 100):  # MLflow takes 100 params a batch
                batch = dict(items[start : start + 100])
                mlflow.log_batch(run_id, params=[_param(k, v) for k, v in batch.items()])
            metric_items = list(metrics.items())
            for start in range(0, len(metric_items), 1000):
                mlflow.log_batch(
                    run_id, metrics=[_metric(k, v) for k, v in metric_items[start : start + 1000]]
                )
            for path in files:
                mlflow.log_artifact(run_id, str(path))
            model_id = log_package(experiment, model_name, package, commit, digest, run_id)
        except BaseException:
            mlflow.set_terminated(run_id, "FAILED")
            raise
        mlflow.set_terminated(run_id, "FINISHED")
    return {
        "tracking_uri": server_uri(),
        "experiment_id": experiment,
        "run_id": run_id,
        "model_id": model_id,
        "dvc_experiment": dvc_experiment,
        "commit": commit,
    }


def _param(key: str, value: str) -> Any:
    from mlflow.entities import Param

    return Param(key, value)


def _metric(key: str, value: float) -> Any:
    import time

    from mlflow.entities import Metric

    return Metric(key, value, int(time.time() * 1000), 0)
