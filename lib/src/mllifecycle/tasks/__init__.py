"""One module per task behind one interface: what a task means for every stage.

`for_problem(problem)` gives the task of a problem spec: its estimator family
(classifier or regressor), how scores become decisions and decisions value, its
ML metrics and curves, the single-feature scorer the leakage check uses, the
signal the monitor watches, and how cross-validation folds are drawn. The rest of
the library calls through this interface instead of asking which task it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..config import BaselineRule, ProblemSpec
from .binary import BinaryTask
from .multiclass import MulticlassTask
from .policy import DecisionPolicy
from .regression import RegressionTask


class Task(Protocol):
    name: str
    # The estimator family every candidate is built in: a classifier or a regressor.
    classification: bool

    def scores(self, estimator: Any, inputs: pd.DataFrame) -> np.ndarray:
        """Class probabilities in the spec's class order, or predictions."""
        ...

    def tune_policy(self, actual: pd.Series, scores: np.ndarray) -> DecisionPolicy:
        """The decision policy, chosen on validation data only."""
        ...

    def decide(self, policy: DecisionPolicy, scores: np.ndarray) -> np.ndarray: ...

    def value_per_decision(self, actual: pd.Series, decisions: np.ndarray) -> np.ndarray: ...

    def metrics(
        self, actual: pd.Series, scores: np.ndarray, decisions: np.ndarray
    ) -> dict[str, float]:
        """The task's ML metrics (business value is added by evaluation/metrics.py)."""
        ...

    def reliability(self, actual: pd.Series, scores: np.ndarray) -> pd.DataFrame: ...

    def roc_and_pr(self, actual: pd.Series, scores: np.ndarray) -> dict[str, pd.DataFrame]: ...

    def leakage_score(self, feature: pd.DataFrame, target: pd.Series) -> float:
        """Cross-validated score of a shallow tree on one (encoded) feature."""
        ...

    def encode_category(self, text: pd.Series, target: pd.Series) -> pd.Series:
        """A categorical feature as values a tree can split for this task."""
        ...

    def prediction_signal(self, scores: np.ndarray, decisions: np.ndarray) -> pd.Series:
        """What the monitor watches in the outputs."""
        ...

    def folds(self, folds: int, seed: int) -> Any:
        """The splitter for cross-validation when rows have no time order."""
        ...

    def label_shares(self, target: pd.Series) -> dict[str, float]:
        """Each class's share of the rows (empty for regression)."""
        ...

    def rule_decisions(self, rule: BaselineRule, raw: pd.DataFrame) -> np.ndarray: ...


TASKS: dict[str, Callable[[Any], Task]] = {
    "binary_classification": BinaryTask,
    "multiclass_classification": MulticlassTask,
    "regression": RegressionTask,
}


def for_problem(problem: ProblemSpec) -> Task:
    """The task module behind this problem spec."""
    return TASKS[problem.task](problem)
