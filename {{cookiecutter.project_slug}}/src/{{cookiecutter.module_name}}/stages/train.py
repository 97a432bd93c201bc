"""Step 4, model selection and training: the candidate and the dummy baseline.

Reads the train and valid splits only: dvc.yaml gives this stage no path to
the test split, so nothing here can be tuned on it. Early stopping, the
optional Optuna search and the decision policy are all chosen on validation
data, and the candidate is cross-validated on the train split. The problem
spec's constraints steer selection: an `explainable` spec
admits only interpretable candidates. DVCLive records every run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from dvclive import Live

from .. import paths
from ..config import ModelConfig, Params, ProblemSpec, load_params
from ..errors import ConfigError
from ..evaluation import metrics
from ..evaluation.business import DecisionPolicy, decide, tune_policy
from ..io import read_table, write_json, write_text
from ..models import artifact, crossval, explain, factory, search
from . import run_stage

LIVE_DIR = "dvclive"


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


def admissible(params: Params) -> None:
    """An explainable problem admits only candidates a person can read."""
    if params.problem.constraints.explainable and not params.model.interpretable:
        raise ConfigError(
            f"problem.constraints.explainable is true, so model {params.model.name!r} is not "
            "allowed; choose an interpretable candidate (model=linear)"
        )


def class_balance(problem: ProblemSpec, labels: pd.Series) -> dict[str, Any] | None:
    """Each class's share of the training rows and the majority/minority ratio."""
    if not problem.is_classification:
        return None
    shares = labels.astype(str).value_counts(normalize=True)
    return {
        "shares": {label: round(float(shares.get(label, 0.0)), 6) for label in problem.labels},
        "imbalance_ratio": round(float(shares.max() / max(shares.min(), 1e-12)), 3),
    }


def select(params: Params, train: pd.DataFrame, valid: pd.DataFrame) -> tuple[ModelConfig, Any]:
    """The configured candidate, or the best one an Optuna search finds on validation."""
    if params.search is None:
        return params.model, None

    def value(candidate: ModelConfig) -> float:
        return train_one(params, candidate, train, valid)[2]["value_per_1000"]

    return search.run(params.search, params.model, value)


def cross_validation(
    params: Params, model: ModelConfig, policy: dict[str, Any], train: pd.DataFrame
) -> dict[str, Any] | None:
    """The candidate's value across folds of the train split (None when cv_folds is 0)."""
    folds = params.selection.cv_folds
    if folds == 0:
        return None
    return crossval.cross_validate(
        params.problem,
        model,
        DecisionPolicy.from_dict(policy),
        xy(train, params.problem.target),
        folds,
        by_time=params.data.time_column is not None,
        seed=params.data.split.seed,
    )


def track(live: Live, estimator: Any, model: dict[str, float], baseline: dict[str, float]) -> None:
    """Learning curves per boosting round, then the validation figures of both models."""
    curves = factory.learning_curve(estimator)
    for step in range(max((len(v) for v in curves.values()), default=0)):
        for name, values in curves.items():
            if step < len(values):
                live.log_metric(f"curve/{name}", values[step])
        live.next_step()
    for name, value in model.items():
        live.log_metric(f"model/{name}", value, plot=False)
    live.log_metric("baseline/value_per_1000", baseline["value_per_1000"], plot=False)
    live.log_metric("value_per_1000", model["value_per_1000"])  # the final point of every run


def main() -> None:
    params = load_params()
    admissible(params)
    train, valid = read_table(paths.features("train")), read_table(paths.features("valid"))
    chosen, trials = select(params, train, valid)
    model, model_policy, model_metrics = train_one(params, chosen, train, valid)
    baseline, baseline_policy, baseline_metrics = train_one(params, factory.BASELINE, train, valid)
    x_valid, y_valid = xy(valid, params.problem.target)
    cv = cross_validation(params, chosen, model_policy, train)
    with Live(dir=LIVE_DIR, dvcyaml=None, save_dvc_exp=False, report=None) as live:
        track(live, model, model_metrics, baseline_metrics)
    artifact.write_model(model, paths.MODEL)
    artifact.write_model(baseline, paths.BASELINE)
    write_json({"model": model_policy, "baseline": baseline_policy}, paths.DECISIONS)
    importance = explain.importance(model, x_valid, y_valid)
    write_text(importance.to_csv(index=False), paths.FEATURE_IMPORTANCE)
    write_json(
        {
            "candidate": chosen.name,
            "hyperparameters": chosen.hyperparameters,
            "best_iteration": getattr(model, "best_iteration_", None),
            "class_balance": class_balance(params.problem, train[params.problem.target]),
            "cross_validation": cv,
            "valid": {"model": model_metrics, "baseline": baseline_metrics},
            "search": {"trials": trials} if trials is not None else None,
        },
        paths.METRICS_DIR / "train.json",
    )
    uplift = model_metrics["value_per_1000"] - baseline_metrics["value_per_1000"]
    print(
        f"{chosen.name}: validation value per 1,000 decisions "
        f"{model_metrics['value_per_1000']:.1f} (baseline {baseline_metrics['value_per_1000']:.1f}, "
        f"uplift {uplift:+.1f})"
    )
    if cv is not None:
        print(
            f"cross-validated on {cv['folds']} folds of train: {cv['value_per_1000_mean']:.1f} "
            f"± {cv['value_per_1000_std']:.1f} (worst fold {cv['value_per_1000_min']:.1f})"
        )


if __name__ == "__main__":
    run_stage("train", main)
