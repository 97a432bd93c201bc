"""The preprocessing pipeline: built from conf/features, fitted on train only.

Its first step makes the derived features (features/derived.py) from the raw
inputs; the column transformer then imputes, scales and encodes them with the
other features.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..config import DataConfig, FeaturesConfig, check_own_kind
from . import kinds
from .derived import KINDS, Derived
from .inputs import typed_inputs
from .normalise import CategoryNormaliser
from .transforms import SkewTransformer


class DerivedColumns(TransformerMixin, BaseEstimator):
    """The raw inputs with each derived feature appended as a column of its own."""

    def __init__(self, derived: list[Derived] | None = None) -> None:
        self.derived = derived

    def fit(self, inputs: pd.DataFrame, target: Any = None) -> DerivedColumns:
        self.feature_names_in_ = np.asarray(list(inputs.columns), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        for step in self.derived or []:
            step.fit(inputs)
        return self

    def transform(self, inputs: pd.DataFrame) -> pd.DataFrame:
        frame = inputs[list(self.feature_names_in_)]
        made = [step.transform(frame) for step in self.derived or []]
        return pd.concat([frame, *made], axis=1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [*self.feature_names_in_, *(step.name for step in self.derived or [])]
        return np.asarray(names, dtype=object)


def derived_steps(features: FeaturesConfig, data: DataConfig) -> list[Derived]:
    """One unfitted transformer per `derived` entry of conf/features."""
    steps = []
    for entry in features.derived:
        if entry.target is not None:
            check_own_kind(entry, features, data)
        zone = {"time_zone": data.time_zone} if entry.declared.reads == "timestamp" else {}
        kind = KINDS[str(entry.kind)] if entry.target is None else kinds.imported(entry.target)
        steps.append(kind(name=entry.name, **entry.arguments, **zone))
    return steps


def timestamp_inputs(features: FeaturesConfig, data: DataConfig) -> list[str]:
    """Raw inputs that only derived features read: the time columns they use."""
    return [c for c in features.derived_inputs if c not in data.features]


def build_preprocessor(
    features: FeaturesConfig, data: DataConfig, dropped: Sequence[str] = ()
) -> Pipeline | ColumnTransformer:
    """The column transformer, after the derived features' step when conf/features has any.

    `dropped` features (features/selection.py) stay inputs of the pipeline, read and
    validated like the others, but the column transformer leaves them out: the service's
    input contract is conf/data, shared by the GX suites, the production batch and the
    monitor, so a selection rerun never changes what clients must send.
    """
    columns = encoder(features, data, dropped)
    if not features.derived:
        return columns
    derive = DerivedColumns(derived_steps(features, data))
    return Pipeline([("derive", derive), ("encode", columns)]).set_output(transform="pandas")


def encoder(
    features: FeaturesConfig, data: DataConfig, dropped: Sequence[str] = ()
) -> ColumnTransformer:
    made = derived_steps(features, data)
    numeric = [*data.numeric, *(s.name for s in made if s.OUTPUT == "numeric")]
    categorical = [*data.categorical, *(s.name for s in made if s.OUTPUT == "categorical")]
    numeric = [name for name in numeric if name not in dropped]
    categorical = [name for name in categorical if name not in dropped]
    transforms = {k: v for k, v in features.transforms.items() if k in numeric}
    numeric_steps: list[tuple[str, object]] = [
        *([("transform", SkewTransformer(transforms))] if transforms else []),
        (
            "impute",
            SimpleImputer(
                strategy=features.numeric_imputer, add_indicator=features.add_missing_indicators
            ),
        ),
    ]
    if features.scale_numeric:
        numeric_steps.append(("scale", StandardScaler()))
    categorical_steps = Pipeline(
        [
            ("normalise", CategoryNormaliser(features.normalise_categories)),
            (
                "impute",
                SimpleImputer(strategy="constant", fill_value=features.categorical_imputer_value),
            ),
            (
                "encode",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    sparse_output=False,
                    min_frequency=features.min_category_frequency,
                ),
            ),
        ]
    )
    transformer = ColumnTransformer(
        [
            ("numeric", Pipeline(numeric_steps), numeric),
            ("categorical", categorical_steps, categorical),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return transformer.set_output(transform="pandas")


def as_model_input(
    frame: pd.DataFrame, data: DataConfig, features: FeaturesConfig | None = None
) -> pd.DataFrame:
    """The feature columns (and the timestamps derived features read), typed as the
    pipeline was fitted on them."""
    extra = timestamp_inputs(features, data) if features else []
    return typed_inputs(frame, data.numeric, data.categorical, extra)
