"""What binary and multiclass classification share: classes valued by a matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier

from ..config import BaselineRule, ClassificationProblem
from ..errors import ConfigError
from .policy import DecisionPolicy


def evaluated_rule(expression: str | None, raw: pd.DataFrame) -> pd.Series:
    """A baseline rule's pandas expression on raw rows; a bad one is a ConfigError."""
    try:
        return pd.Series(raw.eval(str(expression)), index=raw.index)
    except Exception as err:  # pandas raises many types for a bad expression
        raise ConfigError(
            f"problem.baseline_rule {expression!r} cannot be evaluated: {err}"
        ) from err


class ClassificationTask:
    name = "classification"
    classification = True
    # How the leakage check scores one feature's tree.
    leakage_scoring = "accuracy"

    def __init__(self, problem: ClassificationProblem) -> None:
        self.problem = problem
        self.labels = problem.labels

    def value_matrix(self) -> np.ndarray:
        """Rows: actual class, columns: decided class, in the spec's class order."""
        values = self.problem.values
        return np.array([[values[a][d] for d in self.labels] for a in self.labels])

    def decide(self, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray:
        labels = np.asarray(self.labels, dtype=object)
        return np.asarray(labels[self.decided_positions(policy, scores)])

    def decided_positions(self, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray:
        """Each row's decided class as its position in the spec's class order."""
        raise NotImplementedError

    def scores(self, estimator: Any, inputs: pd.DataFrame) -> np.ndarray:
        proba = np.asarray(estimator.predict_proba(inputs), dtype=float)
        fitted = [str(c) for c in estimator.classes_]
        aligned = np.zeros((len(inputs), len(self.labels)))
        for column, label in enumerate(self.labels):
            if label in fitted:  # a class absent from training keeps probability 0
                aligned[:, column] = proba[:, fitted.index(label)]
        return aligned

    def class_positions(self, classes: pd.Series) -> np.ndarray:
        """Each class's position in the spec's class order (a value-matrix row or column)."""
        index = {label: i for i, label in enumerate(self.labels)}
        return np.asarray(classes.astype(str).map(index).to_numpy())

    def value_per_decision(self, actual: pd.Series, decisions: np.ndarray) -> np.ndarray:
        rows = self.class_positions(actual)
        cols = pd.Series(decisions).map({label: i for i, label in enumerate(self.labels)})
        return np.asarray(self.value_matrix()[rows, cols.to_numpy()])

    def shared_metrics(
        self, actual: pd.Series, proba: np.ndarray, decided: pd.Series
    ) -> dict[str, float]:
        from sklearn import metrics

        return {
            "accuracy": float(metrics.accuracy_score(actual, decided)),
            "log_loss": float(
                metrics.log_loss(actual, np.clip(proba, 1e-15, 1), labels=self.labels)
            ),
        }

    def leakage_score(self, feature: pd.DataFrame, target: pd.Series) -> float:
        tree = DecisionTreeClassifier(max_depth=4, random_state=0)
        labels = target.astype(str)
        return float(
            cross_val_score(tree, feature, labels, cv=3, scoring=self.leakage_scoring).mean()
        )

    def encode_category(self, text: pd.Series, target: pd.Series) -> pd.Series:
        return text

    def folds(self, folds: int, seed: int) -> Any:
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)

    def label_shares(self, target: pd.Series) -> dict[str, float]:
        shares = target.astype(str).value_counts(normalize=True)
        return {label: float(shares.get(label, 0.0)) for label in self.labels}

    def rule_decisions(self, rule: BaselineRule, raw: pd.DataFrame) -> np.ndarray:
        applies = evaluated_rule(rule.when, raw).fillna(False).astype(bool).to_numpy()
        return np.where(applies, str(rule.then), str(rule.otherwise)).astype(object)
