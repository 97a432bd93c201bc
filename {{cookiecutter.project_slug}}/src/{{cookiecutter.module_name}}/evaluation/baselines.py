"""The rule baseline: what the business would decide without any model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ProblemSpec
from ..errors import ConfigError


def rule_decisions(problem: ProblemSpec, raw: pd.DataFrame) -> np.ndarray | None:
    """Decisions of `problem.baseline_rule` on raw rows, or None when no rule is set."""
    rule = problem.baseline_rule
    if rule is None:
        return None
    expression = rule.when if problem.is_classification else rule.predict
    try:
        evaluated = pd.Series(raw.eval(str(expression)), index=raw.index)
    except Exception as err:  # pandas raises many types for a bad expression
        raise ConfigError(
            f"problem.baseline_rule {expression!r} cannot be evaluated: {err}"
        ) from err
    if not problem.is_classification:
        return evaluated.to_numpy(dtype=float)
    applies = evaluated.fillna(False).astype(bool).to_numpy()
    return np.where(applies, str(rule.then), str(rule.otherwise)).astype(object)
