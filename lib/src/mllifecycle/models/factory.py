"""Build and fit the candidates registered in models/candidates.py, for any task."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .. import tasks
from ..config import ModelConfig, ProblemSpec
from . import candidates

BASELINE = ModelConfig(name="dummy")


def build(model: ModelConfig, problem: ProblemSpec) -> BaseEstimator:
    """The candidate's estimator in the task's family (a classifier or a regressor)."""
    params = {k: v for k, v in model.hyperparameters.items() if k not in candidates.FIT_CONTROLS}
    classify = tasks.for_problem(problem).classification
    if not classify:
        params.pop("class_weight", None)  # weighting is a classification choice
    estimator: BaseEstimator = candidates.get(model.name).build(params, classify)
    return estimator


def fit(
    estimator: BaseEstimator,
    model: ModelConfig,
    train: tuple[pd.DataFrame, pd.Series],
    valid: tuple[pd.DataFrame, pd.Series],
) -> BaseEstimator:
    """Fit on train; boosting stops early on the validation split (never on test)."""
    rounds = model.hyperparameters.get("early_stopping_rounds")
    stopping = candidates.get(model.name).early_stopping
    if rounds and stopping is not None:
        fitted: BaseEstimator = stopping(estimator, int(rounds), train, valid)
        return fitted
    return estimator.fit(*train)


def learning_curve(estimator: BaseEstimator) -> dict[str, list[float]]:
    """Validation loss (LightGBM) or score (histogram boosting) per round; empty otherwise."""
    evals = getattr(estimator, "evals_result_", None)
    if evals:
        ((_, curves),) = evals.items()
        return {f"valid_{name}": [float(v) for v in values] for name, values in curves.items()}
    if getattr(estimator, "do_early_stopping_", False):
        return {"valid_score": [float(v) for v in estimator.validation_score_]}
    return {}


def scores(estimator: Any, inputs: Any, problem: ProblemSpec) -> np.ndarray:
    """Class probabilities in the spec's class order, or predictions for regression.

    `inputs` is a frame, or compiled Columns for a CompiledPipeline (models/compiled.py)."""
    return tasks.for_problem(problem).scores(estimator, inputs)
