"""Multiclass classification: the class with the highest expected value."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics

from ..config import MulticlassProblem
from .classes import ClassificationTask
from .curves import binned_means, roc_and_pr_points
from .policy import DecisionPolicy


class MulticlassTask(ClassificationTask):
    name = "multiclass_classification"
    leakage_scoring = "accuracy"

    def __init__(self, problem: MulticlassProblem) -> None:
        super().__init__(problem)

    def decided_positions(self, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray:
        return np.asarray((scores @ self.value_matrix()).argmax(axis=1))

    def tune_policy(self, actual: pd.Series, scores: np.ndarray) -> DecisionPolicy:
        """Nothing to tune: the value matrix prices every decision."""
        return DecisionPolicy("expected_value")

    def metrics(
        self, actual: pd.Series, scores: np.ndarray, decisions: np.ndarray
    ) -> dict[str, float]:
        actual = actual.astype(str)
        decided = pd.Series(decisions).astype(str)
        result = self.shared_metrics(actual, scores, decided)
        result["f1_macro"] = metrics.f1_score(
            actual, decided, average="macro", labels=self.labels, zero_division=0
        )
        if actual.nunique() == len(self.labels):
            result["roc_auc_ovr"] = metrics.roc_auc_score(
                actual, scores, multi_class="ovr", labels=self.labels
            )
        return {name: float(value) for name, value in result.items()}

    def reliability(self, actual: pd.Series, scores: np.ndarray) -> pd.DataFrame:
        """Confidence in the top class vs how often it is right, per bin."""
        top = np.asarray(self.labels, dtype=object)[scores.argmax(axis=1)]
        return binned_means(
            scores.max(axis=1), (actual.astype(str).to_numpy() == top).astype(float)
        )

    def roc_and_pr(self, actual: pd.Series, scores: np.ndarray) -> dict[str, pd.DataFrame]:
        """One-vs-rest, micro-averaged."""
        truth = actual.astype(str).to_numpy()[:, None] == np.asarray(self.labels)[None, :]
        return roc_and_pr_points(truth.ravel(), scores.ravel())

    def prediction_signal(self, scores: np.ndarray, decisions: np.ndarray) -> pd.Series:
        """The decided class."""
        return pd.Series(decisions)
