"""Build and fit the candidates named in conf/model/, for any task."""

from __future__ import annotations

import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge

from ..config import ModelConfig, ProblemSpec

# Keys of a model config that steer fitting rather than the estimator itself.
FIT_CONTROLS = ("early_stopping_rounds",)
BASELINE = ModelConfig(name="dummy")
HIST_GB = (HistGradientBoostingClassifier, HistGradientBoostingRegressor)


def build(model: ModelConfig, problem: ProblemSpec) -> BaseEstimator:
    params = {k: v for k, v in model.hyperparameters.items() if k not in FIT_CONTROLS}
    classify = problem.is_classification
    if not classify:
        params.pop("class_weight", None)  # weighting is a classification choice
    if model.name == "dummy":
        return DummyClassifier(strategy="prior") if classify else DummyRegressor(strategy="mean")
    if model.name == "linear":
        if classify:
            return LogisticRegression(**params)
        return Ridge(alpha=1.0 / float(params.get("C", 1.0)))
    if model.name == "hist_gb":
        boosting = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        return boosting(**params, early_stopping=False)
    estimator = lgb.LGBMClassifier if classify else lgb.LGBMRegressor
    return estimator(**params, verbose=-1)


def fit(
    estimator: BaseEstimator,
    model: ModelConfig,
    train: tuple[pd.DataFrame, pd.Series],
    valid: tuple[pd.DataFrame, pd.Series],
) -> BaseEstimator:
    """Fit on train; boosting stops early on the validation split (never on test)."""
    x_train, y_train = train
    rounds = model.hyperparameters.get("early_stopping_rounds")
    if rounds and isinstance(estimator, HIST_GB):
        estimator.set_params(early_stopping=True, n_iter_no_change=int(rounds))
        return estimator.fit(x_train, y_train, X_val=valid[0], y_val=valid[1])
    if not (isinstance(estimator, lgb.LGBMModel) and rounds):
        return estimator.fit(x_train, y_train)
    stop = lgb.early_stopping(int(rounds), verbose=False)
    # LightGBM 4.7 deprecates eval_set for eval_X/eval_y, but its classifier only
    # label-encodes eval_set, so eval_y breaks on text classes: keep eval_set.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*'eval_set' is deprecated")
        return estimator.fit(x_train, y_train, eval_set=[valid], callbacks=[stop])


def learning_curve(estimator: BaseEstimator) -> dict[str, list[float]]:
    """Validation loss per boosting round, for DVCLive; empty for other models."""
    if isinstance(estimator, lgb.LGBMModel) and estimator.evals_result_:
        ((_, curves),) = estimator.evals_result_.items()
        return {f"valid_{name}": [float(v) for v in values] for name, values in curves.items()}
    if isinstance(estimator, HIST_GB) and estimator.do_early_stopping_:
        return {"valid_score": [float(v) for v in estimator.validation_score_]}
    return {}


def scores(estimator: Any, inputs: pd.DataFrame, problem: ProblemSpec) -> np.ndarray:
    """Class probabilities in the spec's class order, or predictions for regression."""
    if not problem.is_classification:
        return np.asarray(estimator.predict(inputs), dtype=float)
    proba = np.asarray(estimator.predict_proba(inputs), dtype=float)
    fitted = [str(c) for c in estimator.classes_]
    aligned = np.zeros((len(inputs), len(problem.labels)))
    for column, label in enumerate(problem.labels):
        if label in fitted:  # a class absent from training keeps probability 0
            aligned[:, column] = proba[:, fitted.index(label)]
    return aligned
