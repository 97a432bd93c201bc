"""Task-appropriate ML metrics, always reported beside business value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ProblemSpec
from ..tasks import for_problem
from .business import value_per_1000


def compute(
    problem: ProblemSpec, actual: pd.Series, scores: np.ndarray, decisions: np.ndarray
) -> dict[str, float]:
    """Metrics of one model on one split; scores are probabilities or predictions."""
    result = {
        "value_per_1000": value_per_1000(problem, actual, decisions),
        "rows": float(len(actual)),
        **for_problem(problem).metrics(actual, scores, decisions),
    }
    return {name: round(float(value), 6) for name, value in result.items()}
