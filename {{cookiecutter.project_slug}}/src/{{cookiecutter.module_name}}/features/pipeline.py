"""The preprocessing pipeline: built from conf/features, fitted on train only."""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..config import DataConfig, FeaturesConfig
from .inputs import typed_inputs
from .normalise import CategoryNormaliser


def build_preprocessor(features: FeaturesConfig, data: DataConfig) -> ColumnTransformer:
    numeric_steps: list[tuple[str, object]] = [
        (
            "impute",
            SimpleImputer(
                strategy=features.numeric_imputer, add_indicator=features.add_missing_indicators
            ),
        ),
    ]
    if features.scale_numeric:
        numeric_steps.append(("scale", StandardScaler()))
    categorical = Pipeline(
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
            ("numeric", Pipeline(numeric_steps), data.numeric),
            ("categorical", categorical, data.categorical),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return transformer.set_output(transform="pandas")


def as_model_input(frame: pd.DataFrame, data: DataConfig) -> pd.DataFrame:
    """The feature columns with the dtypes the pipeline was fitted on."""
    return typed_inputs(frame, data.numeric, data.categorical)
