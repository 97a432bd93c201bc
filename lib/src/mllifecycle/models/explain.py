"""What drives a model: coefficients, split gain, or permutation importance.

Written for every candidate (reports/feature_importance.csv, a DVC plot), and
the evidence a reviewer asks for when the problem spec says `explainable`.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge


def importance(estimator: Any, inputs: pd.DataFrame, actual: pd.Series) -> pd.DataFrame:
    """One row per model input, largest effect first, with how it was measured."""
    if isinstance(estimator, LogisticRegression | Ridge):
        coefficients = np.atleast_2d(estimator.coef_)
        # One row of coefficients (binary, regression) keeps its sign; multiclass reports size.
        values = coefficients[0] if len(coefficients) == 1 else np.abs(coefficients).mean(axis=0)
        kind = "coefficient"
    elif isinstance(estimator, lgb.LGBMModel):
        values = estimator.booster_.feature_importance(importance_type="gain")
        kind = "split gain"
    else:
        found = permutation_importance(estimator, inputs, actual, n_repeats=3, random_state=0)
        values = found.importances_mean
        kind = "permutation"
    table = pd.DataFrame({"feature": list(inputs.columns), "importance": values, "kind": kind})
    order = table["importance"].abs().sort_values(ascending=False).index
    return table.loc[order].reset_index(drop=True)
