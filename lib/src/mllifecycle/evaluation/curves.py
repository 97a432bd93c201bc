"""Curves for DVC plots and the model card: reliability, ROC and precision-recall."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ProblemSpec
from ..tasks import for_problem


def reliability(problem: ProblemSpec, actual: pd.Series, scores: np.ndarray) -> pd.DataFrame:
    """Predicted vs observed per bin: calibration for classifiers, error by range for regression.

    Binary: P(positive) vs the positive rate. Multiclass: confidence in the top
    class vs how often it is right. Regression: mean prediction vs mean actual,
    with the mean absolute error in each range of predictions.
    """
    return for_problem(problem).reliability(actual, scores)


def roc_and_pr(
    problem: ProblemSpec, actual: pd.Series, scores: np.ndarray
) -> dict[str, pd.DataFrame]:
    """ROC and precision-recall points (one-vs-rest, micro-averaged for multiclass)."""
    return for_problem(problem).roc_and_pr(actual, scores)
