"""Feature selection from conf/features `selection:`, on the train and valid splits only.

1. Redundancy: of each numeric pair whose |correlation| on train reaches
   `max_correlation`, drop the one with less mutual information with the target
   (within 0.005 nats, the one listed later: inputs before derived features).
2. Optional `top_k`: a quick gradient-boosted model fitted on train ranks the raw
   inputs by permutation importance on valid; inputs outside the top k are dropped.

The test split never reaches this module (featurize passes train and valid only), so
the test score stays an unbiased estimate. The record says what was kept and dropped,
and why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import DataConfig, FeaturesConfig
from .information import mutual_information, sample
from .pipeline import (
    DerivedColumns,
    as_model_input,
    build_preprocessor,
    derived_steps,
    timestamp_inputs,
)

TIE = 0.005  # nats: mutual information estimates closer than this count as equal


@dataclass
class Selection:
    kept: list[str]
    dropped: dict[str, str] = field(default_factory=dict)  # feature -> reason
    mutual_information: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return asdict(self)


def redundant(
    numeric: pd.DataFrame, information: dict[str, float], max_correlation: float
) -> dict[str, str]:
    """Feature -> reason, for one of each pair at or above `max_correlation`."""
    correlation = numeric.corr().abs().fillna(0.0).to_numpy()
    names = list(numeric.columns)
    pairs = [
        (float(correlation[i, j]), names[i], names[j])
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if correlation[i, j] >= max_correlation
    ]
    dropped: dict[str, str] = {}
    for value, first, second in sorted(pairs, key=lambda p: -p[0]):
        if first in dropped or second in dropped:
            continue
        keep, drop = first, second
        if information[second] - information[first] > TIE:
            keep, drop = second, first
        dropped[drop] = (
            f"|correlation| {value:.3f} with {keep} (>= {max_correlation}); mutual information "
            f"{information[drop]:.3f} vs {information[keep]:.3f} nats"
        )
    return dropped


def least_important(
    pipeline: Any,
    train: tuple[pd.DataFrame, pd.Series],
    valid: tuple[pd.DataFrame, pd.Series],
    candidates: list[str],
    top_k: int,
    seed: int,
) -> dict[str, str]:
    """Of `candidates` (raw inputs), those outside the top k by permutation importance on
    valid -> reason. Timestamps that only derived features read are permuted, not ranked."""
    from sklearn.inspection import permutation_importance

    pipeline.fit(*train)
    result = permutation_importance(pipeline, *valid, n_repeats=3, random_state=seed)
    everything = dict(zip(valid[0].columns, result.importances_mean, strict=True))
    importance = {name: float(everything[name]) for name in candidates}
    ranked = sorted(importance, key=lambda name: -importance[name])
    return {
        name: f"importance on valid {importance[name]:.4f}, rank {ranked.index(name) + 1} "
        f"(top_k {top_k})"
        for name in ranked[top_k:]
    }


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]


def finite(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.replace([np.inf, -np.inf], np.nan)


def with_derived(frame: pd.DataFrame, features: FeaturesConfig, data: DataConfig) -> pd.DataFrame:
    """The raw inputs and every derived feature, as the packaged pipeline's first step makes them."""
    inputs = as_model_input(frame, data, features)
    made = DerivedColumns(derived_steps(features, data)).fit(inputs).transform(inputs)
    extra = set(timestamp_inputs(features, data))
    return finite(made[[c for c in made.columns if c not in extra]])


def select(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    target: str,
    features: FeaturesConfig,
    data: DataConfig,
    classification: bool,
) -> Selection:
    """The kept and dropped features (inputs and derived), from train and valid only."""
    config, seed = features.selection, features.explore.seed
    table = with_derived(train, features, data)
    bounded = sample(
        table.assign(__target__=train[target].to_numpy()), features.explore.sample_rows, seed
    )
    information = mutual_information(
        bounded.drop(columns="__target__"), bounded["__target__"], classification, seed
    )
    dropped: dict[str, str] = {}
    if config.max_correlation is not None:
        numeric = table[numeric_columns(table)].astype("float64")
        dropped.update(redundant(numeric, information, config.max_correlation))
    if config.top_k is not None:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
        from sklearn.pipeline import make_pipeline

        kind = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        model = make_pipeline(
            build_preprocessor(features, data, list(dropped)), kind(max_iter=50, random_state=seed)
        )
        inputs = [c for c in data.features if c not in dropped]
        raw = {
            name: (as_model_input(frame, data, features), frame[target])
            for name, frame in (("train", train), ("valid", valid))
        }
        dropped.update(
            least_important(model, raw["train"], raw["valid"], inputs, config.top_k, seed)
        )
    kept = [c for c in table.columns if c not in dropped]
    return Selection(kept, dropped, {k: round(v, 4) for k, v in information.items()})
