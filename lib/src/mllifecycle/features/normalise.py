"""Optional normalisation of category spelling, as a step of the packaged pipeline.

Off by default: categories keep the source's spelling. When conf/features sets
`normalise_categories`, this transformer runs first on the categorical columns
inside the fitted pipeline, so the service, batch scoring and training apply the
very same mapping (a normalisation done anywhere else would be skew).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

Mode = Literal["none", "strip", "lower"]


class CategoryNormaliser(TransformerMixin, BaseEstimator):
    """Strip surrounding spaces ("strip"), and lowercase too ("lower"); NaN stays NaN."""

    def __init__(self, mode: Mode = "none") -> None:
        self.mode = mode

    def fit(self, inputs: pd.DataFrame, target: Any = None) -> CategoryNormaliser:
        self.feature_names_in_ = np.asarray(list(inputs.columns), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, inputs: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(inputs, columns=self.feature_names_in_).copy()
        if self.mode == "none":
            return frame
        for column in frame.columns:
            values = frame[column]
            text = values.astype(str).str.strip()
            if self.mode == "lower":
                text = text.str.lower()
            frame[column] = text.astype(object).where(values.notna(), np.nan)
        return frame

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.feature_names_in_, dtype=object)
