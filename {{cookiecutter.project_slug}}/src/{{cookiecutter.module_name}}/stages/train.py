"""Step 4, model selection and training: the candidate and the dummy baseline.

Reads the train and valid splits only: dvc.yaml gives this stage no path to
the test split, so nothing here can be tuned on it. Early stopping and the
decision policy are chosen on validation data.
"""

from __future__ import annotations

from typing import Any

import joblib
import pandas as pd

from .. import paths
from ..config import ModelConfig, Params, load_params
from ..evaluation import metrics
from ..evaluation.business import decide, tune_policy
from ..io import read_table, write_json
from ..models import factory
from . import run_stage


def xy(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    return frame.drop(columns=[target]), frame[target]


def train_one(
    params: Params, model: ModelConfig, train: pd.DataFrame, valid: pd.DataFrame
) -> tuple[Any, dict[str, Any], dict[str, float]]:
    """Fit one candidate; return it with its decision policy and validation metrics."""
    problem, target = params.problem, params.problem.target
    estimator = factory.fit(
        factory.build(model, problem), model, xy(train, target), xy(valid, target)
    )
    x_valid, y_valid = xy(valid, target)
    scores = factory.scores(estimator, x_valid, problem)
    policy = tune_policy(problem, y_valid, scores)
    return (
        estimator,
        policy.to_dict(),
        metrics.compute(problem, y_valid, scores, decide(problem, policy, scores)),
    )


def main() -> None:
    params = load_params()
    train, valid = read_table(paths.features("train")), read_table(paths.features("valid"))
    model, model_policy, model_metrics = train_one(params, params.model, train, valid)
    baseline, baseline_policy, baseline_metrics = train_one(params, factory.BASELINE, train, valid)
    joblib.dump(model, paths.MODEL)
    joblib.dump(baseline, paths.BASELINE)
    write_json({"model": model_policy, "baseline": baseline_policy}, paths.DECISIONS)
    write_json(
        {
            "candidate": params.model.name,
            "best_iteration": getattr(model, "best_iteration_", None),
            "valid": {"model": model_metrics, "baseline": baseline_metrics},
        },
        paths.METRICS_DIR / "train.json",
    )
    uplift = model_metrics["value_per_1000"] - baseline_metrics["value_per_1000"]
    print(
        f"{params.model.name}: validation value per 1,000 decisions "
        f"{model_metrics['value_per_1000']:.1f} (baseline {baseline_metrics['value_per_1000']:.1f}, "
        f"uplift {uplift:+.1f})"
    )


if __name__ == "__main__":
    run_stage("train", main)
