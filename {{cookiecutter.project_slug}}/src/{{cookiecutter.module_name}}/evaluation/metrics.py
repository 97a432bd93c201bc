"""Task-appropriate ML metrics, always reported beside business value."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics

from ..config import ProblemSpec
from .business import value_per_1000


def compute(
    problem: ProblemSpec, actual: pd.Series, scores: np.ndarray, decisions: np.ndarray
) -> dict[str, float]:
    """Metrics of one model on one split; scores are probabilities or predictions."""
    result = {
        "value_per_1000": value_per_1000(problem, actual, decisions),
        "rows": float(len(actual)),
    }
    if problem.task == "regression":
        result.update(_regression(actual.to_numpy(dtype=float), scores))
    else:
        result.update(_classification(problem, actual.astype(str), scores, decisions))
    return {name: round(float(value), 6) for name, value in result.items()}


def _regression(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(np.sqrt(metrics.mean_squared_error(actual, predicted))),
        "mae": float(metrics.mean_absolute_error(actual, predicted)),
        "r2": float(metrics.r2_score(actual, predicted)),
    }


def _classification(
    problem: ProblemSpec, actual: pd.Series, proba: np.ndarray, decisions: np.ndarray
) -> dict[str, float]:
    labels = problem.labels
    decided = pd.Series(decisions).astype(str)
    result = {
        "accuracy": metrics.accuracy_score(actual, decided),
        "log_loss": metrics.log_loss(actual, np.clip(proba, 1e-15, 1), labels=labels),
    }
    present = actual.nunique() == len(labels)
    if problem.task == "binary_classification":
        positive = actual == labels[1]
        result["f1"] = metrics.f1_score(positive, decided == labels[1], zero_division=0)
        result["brier"] = metrics.brier_score_loss(positive, proba[:, 1])
        result["positive_rate"] = float(positive.mean())
        if present:
            result["roc_auc"] = metrics.roc_auc_score(positive, proba[:, 1])
            result["average_precision"] = metrics.average_precision_score(positive, proba[:, 1])
    else:
        result["f1_macro"] = metrics.f1_score(
            actual, decided, average="macro", labels=labels, zero_division=0
        )
        if present:
            result["roc_auc_ovr"] = metrics.roc_auc_score(
                actual, proba, multi_class="ovr", labels=labels
            )
    return {name: float(value) for name, value in result.items()}
