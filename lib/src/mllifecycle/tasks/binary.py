"""Binary classification: a probability threshold chosen for value on validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics

from ..config import BinaryProblem
from .classes import ClassificationTask
from .curves import binned_means, roc_and_pr_points
from .policy import THRESHOLD_GRID, DecisionPolicy


class BinaryTask(ClassificationTask):
    name = "binary_classification"
    leakage_scoring = "roc_auc"

    def __init__(self, problem: BinaryProblem) -> None:
        super().__init__(problem)

    def positive(self, actual: pd.Series) -> pd.Series:
        return actual.astype(str) == self.labels[1]  # classes are [negative, positive]

    def decided_positions(self, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray:
        return (scores[:, 1] >= policy.value).astype(np.int8)  # 1: positive

    def tune_policy(self, actual: pd.Series, scores: np.ndarray) -> DecisionPolicy:
        """The threshold on P(positive) with the most value on validation."""
        # value_per_decision for each threshold's decisions, with the classes looked up
        # once: a decision is column 1 (positive) where P(positive) >= t, else column 0.
        matrix, rows = self.value_matrix(), self.class_positions(actual)
        positive = scores[:, 1]
        values = [
            matrix[rows, (positive >= t).astype(np.int64)].mean() * 1000 for t in THRESHOLD_GRID
        ]
        return DecisionPolicy("threshold", float(THRESHOLD_GRID[int(np.argmax(values))]))

    def metrics(
        self, actual: pd.Series, scores: np.ndarray, decisions: np.ndarray
    ) -> dict[str, float]:
        actual = actual.astype(str)
        decided = pd.Series(decisions).astype(str)
        result = self.shared_metrics(actual, scores, decided)
        positive = self.positive(actual)
        result["f1"] = metrics.f1_score(positive, decided == self.labels[1], zero_division=0)
        result["brier"] = metrics.brier_score_loss(positive, scores[:, 1])
        result["positive_rate"] = float(positive.mean())
        if actual.nunique() == len(self.labels):
            result["roc_auc"] = metrics.roc_auc_score(positive, scores[:, 1])
            result["average_precision"] = metrics.average_precision_score(positive, scores[:, 1])
        return {name: float(value) for name, value in result.items()}

    def reliability(self, actual: pd.Series, scores: np.ndarray) -> pd.DataFrame:
        """P(positive) vs the positive rate, per bin."""
        return binned_means(scores[:, 1], self.positive(actual).to_numpy(float))

    def roc_and_pr(self, actual: pd.Series, scores: np.ndarray) -> dict[str, pd.DataFrame]:
        return roc_and_pr_points(self.positive(actual).to_numpy(), scores[:, 1])

    def prediction_signal(self, scores: np.ndarray, decisions: np.ndarray) -> pd.Series:
        """P(positive): it moves before the decisions do."""
        return pd.Series(scores[:, 1])
