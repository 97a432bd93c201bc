"""Transforms for skewed numeric features, named in conf/features `transforms:`.

A heavily skewed feature (the exploratory report lists them) gives a scaler, a linear
model and the drift checks a long tail to chase. `log1p` suits counts and durations
(values above -1); `yeo-johnson` fits a power on train that makes the feature as
normal as it can, for any sign. Missing values stay missing: the imputer that follows
fills them. The same `apply` serves the scikit-learn step and the compiled NumPy path
(models/compiled.py), so both score identically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin

from ..errors import DataError

METHODS = ("log1p", "yeo-johnson")


def apply(method: str, values: np.ndarray, power: float) -> np.ndarray:
    """`values` (float64, NaN for missing) transformed by `method` with its fitted power."""
    values = np.asarray(values, dtype=np.float64)
    if method == "log1p":
        # Below the domain (a value of -1 or less at scoring time) reads as missing.
        safe = np.where(values > -1.0, values, np.nan)
        return np.log1p(safe)
    return yeo_johnson(values, power)


def yeo_johnson(values: np.ndarray, power: float) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    positive = values >= 0
    negative = values < 0
    if abs(power) < 1e-12:
        out[positive] = np.log1p(values[positive])
    else:
        out[positive] = (np.power(values[positive] + 1.0, power) - 1.0) / power
    if abs(power - 2.0) < 1e-12:
        out[negative] = -np.log1p(-values[negative])
    else:
        out[negative] = -(np.power(1.0 - values[negative], 2.0 - power) - 1.0) / (2.0 - power)
    return out


class SkewTransformer(TransformerMixin, BaseEstimator):
    """Transforms the named columns of a numeric frame; other columns pass unchanged."""

    def __init__(self, methods: Mapping[str, str] | None = None) -> None:
        self.methods = methods

    def fit(self, frame: pd.DataFrame, target: Any = None) -> SkewTransformer:
        self.feature_names_in_ = np.asarray(list(frame.columns), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.powers_: dict[str, float] = {}
        for column, method in (self.methods or {}).items():
            values = frame[column].to_numpy(dtype=np.float64)
            seen = values[~np.isnan(values)]
            if method not in METHODS:
                raise DataError(f"features.transforms {column!r}: unknown method {method!r}")
            if method == "log1p" and seen.size and seen.min() <= -1:
                raise DataError(
                    f"features.transforms {column!r}: log1p needs values above -1, the train "
                    f"split has {seen.min():g}; use yeo-johnson"
                )
            power = float(stats.yeojohnson_normmax(seen)) if method == "yeo-johnson" else 0.0
            self.powers_[column] = power
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[list(self.feature_names_in_)].astype("float64")
        for column, method in (self.methods or {}).items():
            out[column] = apply(method, out[column].to_numpy(), self.powers_[column])
        return out

    def transform_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The same values from float64 arrays by column name (the compiled path)."""
        changed = dict(arrays)
        for column, method in (self.methods or {}).items():
            changed[column] = apply(method, arrays[column], self.powers_[column])
        return changed

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.feature_names_in_, dtype=object)
