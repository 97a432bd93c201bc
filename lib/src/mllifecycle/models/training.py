"""Step 4's orchestration: fit a candidate and the dummy baseline, tune each one's
decision policy, search and cross-validate, all on the train and valid splits.

Nothing here can read the test split: the train stage passes in only the two
splits dvc.yaml gives it. Early stopping, the optional Optuna search and the
decision policy are chosen on validation data; cross-validation folds the train
split. The problem's constraints steer selection: an `explainable` spec admits
only interpretable candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import tasks
from ..config import ModelConfig, Params, ProblemSpec
from ..errors import ConfigError
from ..evaluation import metrics
from ..evaluation.business import decide, tune_policy
from ..tasks.policy import DecisionPolicy
from . import crossval, explain, factory, search


@dataclass(frozen=True)
class Fitted:
    """One fitted model with its decision policy and validation metrics."""

    estimator: Any
    policy: DecisionPolicy
    metrics: dict[str, float]


@dataclass(frozen=True)
class Training:
    """Everything the train stage writes."""

    chosen: ModelConfig
    model: Fitted
    baseline: Fitted
    cross_validation: dict[str, Any] | None
    trials: list[dict[str, Any]] | None
    importance: pd.DataFrame

    def summary(self, balance: dict[str, Any] | None) -> dict[str, Any]:
        """metrics/train.json; `balance`: the train split's class_balance."""
        return {
            "candidate": self.chosen.name,
            "hyperparameters": self.chosen.hyperparameters,
            "best_iteration": getattr(self.model.estimator, "best_iteration_", None),
            "class_balance": balance,
            "cross_validation": self.cross_validation,
            "valid": {"model": self.model.metrics, "baseline": self.baseline.metrics},
            "search": {"trials": self.trials} if self.trials is not None else None,
        }


def xy(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    return frame.drop(columns=[target]), frame[target]


def train_one(
    params: Params, model: ModelConfig, train: pd.DataFrame, valid: pd.DataFrame
) -> Fitted:
    """Fit one candidate; return it with its decision policy and validation metrics."""
    problem, target = params.problem, params.problem.target
    estimator = factory.fit(
        factory.build(model, problem), model, xy(train, target), xy(valid, target)
    )
    x_valid, y_valid = xy(valid, target)
    scores = factory.scores(estimator, x_valid, problem)
    policy = tune_policy(problem, y_valid, scores)
    return Fitted(
        estimator,
        policy,
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
    shares = tasks.for_problem(problem).label_shares(labels)
    if not shares:
        return None
    observed = labels.astype(str).value_counts(normalize=True)
    return {
        "shares": {label: round(share, 6) for label, share in shares.items()},
        "imbalance_ratio": round(float(observed.max() / max(observed.min(), 1e-12)), 3),
    }


def select(
    params: Params, train: pd.DataFrame, valid: pd.DataFrame
) -> tuple[ModelConfig, list[dict[str, Any]] | None]:
    """The configured candidate, or the best one an Optuna search finds on validation."""
    if params.search is None:
        return params.model, None

    def value(candidate: ModelConfig) -> float:
        return train_one(params, candidate, train, valid).metrics["value_per_1000"]

    return search.run(params.search, params.model, value)


def cross_validation(
    params: Params, model: ModelConfig, policy: DecisionPolicy, train: pd.DataFrame
) -> dict[str, Any] | None:
    """The candidate's value across folds of the train split (None when cv_folds is 0)."""
    folds = params.selection.cv_folds
    if folds == 0:
        return None
    return crossval.cross_validate(
        params.problem,
        model,
        policy,
        xy(train, params.problem.target),
        folds,
        by_time=params.data.time_column is not None,
        seed=params.data.split.seed,
    )


def run(params: Params, train: pd.DataFrame, valid: pd.DataFrame) -> Training:
    """Select and fit the candidate, fit the baseline, cross-validate, explain."""
    admissible(params)
    chosen, trials = select(params, train, valid)
    model = train_one(params, chosen, train, valid)
    baseline = train_one(params, factory.BASELINE, train, valid)
    x_valid, y_valid = xy(valid, params.problem.target)
    return Training(
        chosen=chosen,
        model=model,
        baseline=baseline,
        cross_validation=cross_validation(params, chosen, model.policy, train),
        trials=trials,
        importance=explain.importance(model.estimator, x_valid, y_valid),
    )
