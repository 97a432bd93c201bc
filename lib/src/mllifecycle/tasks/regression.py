"""Regression: the prediction shifted to the newsvendor quantile of the residuals,
because predicting too low and too high cost different amounts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.model_selection import KFold, cross_val_score
from sklearn.tree import DecisionTreeRegressor

from ..config import BaselineRule, RegressionProblem
from .classes import evaluated_rule
from .curves import binned_means, quantile_bins
from .policy import DecisionPolicy


class RegressionTask:
    name = "regression"
    classification = False

    def __init__(self, problem: RegressionProblem) -> None:
        self.problem = problem

    def scores(self, estimator: Any, inputs: pd.DataFrame) -> np.ndarray:
        return np.asarray(estimator.predict(inputs), dtype=float)

    def decide(self, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray:
        return scores + policy.value

    def tune_policy(self, actual: pd.Series, scores: np.ndarray) -> DecisionPolicy:
        under, over = self.problem.costs
        residuals = actual.to_numpy(dtype=float) - scores
        return DecisionPolicy("offset", float(np.quantile(residuals, under / (under + over))))

    def value_per_decision(self, actual: pd.Series, decisions: np.ndarray) -> np.ndarray:
        under, over = self.problem.costs
        error = actual.to_numpy(dtype=float) - decisions
        return np.asarray(-(under * np.clip(error, 0, None) + over * np.clip(-error, 0, None)))

    def metrics(
        self, actual: pd.Series, scores: np.ndarray, decisions: np.ndarray
    ) -> dict[str, float]:
        truth = actual.to_numpy(dtype=float)
        return {
            "rmse": float(np.sqrt(metrics.mean_squared_error(truth, scores))),
            "mae": float(metrics.mean_absolute_error(truth, scores)),
            "r2": float(metrics.r2_score(truth, scores)),
        }

    def reliability(self, actual: pd.Series, scores: np.ndarray) -> pd.DataFrame:
        """Mean prediction vs mean actual per range of predictions, with its mean error."""
        truth = actual.to_numpy(dtype=float)
        table = binned_means(scores, truth)
        errors = pd.DataFrame({"bin": quantile_bins(scores), "error": np.abs(truth - scores)})
        table["abs_error"] = errors.groupby("bin")["error"].mean().to_numpy()
        return table

    def roc_and_pr(self, actual: pd.Series, scores: np.ndarray) -> dict[str, pd.DataFrame]:
        return {}

    def leakage_score(self, feature: pd.DataFrame, target: pd.Series) -> float:
        tree = DecisionTreeRegressor(max_depth=4, random_state=0)
        return float(
            cross_val_score(tree, feature, target.astype(float), cv=3, scoring="r2").mean()
        )

    def encode_category(self, text: pd.Series, target: pd.Series) -> pd.Series:
        """Categories ranked by their mean target, so a tree can split them in order."""
        return text.map(target.astype(float).groupby(text).mean().rank(method="dense"))

    def prediction_signal(self, scores: np.ndarray, decisions: np.ndarray) -> pd.Series:
        """The decided quantity."""
        return pd.Series(decisions)

    def folds(self, folds: int, seed: int) -> Any:
        return KFold(n_splits=folds, shuffle=True, random_state=seed)

    def label_shares(self, target: pd.Series) -> dict[str, float]:
        return {}

    def rule_decisions(self, rule: BaselineRule, raw: pd.DataFrame) -> np.ndarray:
        return evaluated_rule(rule.predict, raw).to_numpy(dtype=float)
