"""The rule baseline: what the business would decide without any model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ProblemSpec
from ..tasks import for_problem


def rule_decisions(problem: ProblemSpec, raw: pd.DataFrame) -> np.ndarray | None:
    """Decisions of `problem.baseline_rule` on raw rows, or None when no rule is set."""
    if problem.baseline_rule is None:
        return None
    return for_problem(problem).rule_decisions(problem.baseline_rule, raw)
