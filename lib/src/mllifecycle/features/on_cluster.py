"""Feature engineering on a Dask cluster (engine: dask).

The exploratory report and the feature selection read a seeded sample of train and
valid (`engine.sample_rows`; the whole splits when they are smaller). The preprocessing
is fitted from statistics of every train row (features/statistics.py) and applied to
each partition on the workers; the feature splits are written as part directories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from .. import paths
from ..config import Params
from ..engine.dask_engine import sampled
from .pipeline import as_model_input, build_preprocessor
from .statistics import fit_from_partitions

Explore = Callable[[Params, pd.DataFrame, pd.DataFrame], list[str]]


def featurize(params: Params, engine: Any, explored: Explore) -> Any:
    """`explored` writes the reports from train and valid and returns the dropped features."""
    splits = {name: engine.read(paths.prepared(name)) for name in paths.SPLITS}
    seed = params.features.explore.seed
    train = sampled(splits["train"], params.engine.sample_rows, seed)
    valid = sampled(splits["valid"], params.engine.sample_rows, seed)
    dropped = explored(params, train, valid)
    preprocessor = fit_from_partitions(
        build_preprocessor(params.features, params.data, dropped),
        splits["train"],
        train,
        params.features,
        params.data,
    )
    transform = Transform(preprocessor, params)
    meta = transform.empty = transform(train.head(2)).iloc[:0]
    for name, split in splits.items():
        engine.write(split.map_partitions(transform, meta=meta), paths.features(name))
    return preprocessor


class Transform:
    """The fitted preprocessing on one partition, the target kept (runs on the workers)."""

    def __init__(self, preprocessor: Any, params: Params) -> None:
        self.preprocessor = preprocessor
        self.params = params
        # The columns of no rows: scikit-learn refuses to transform an empty partition
        # (a time split leaves some empty).
        self.empty: pd.DataFrame | None = None

    def __call__(self, part: pd.DataFrame) -> pd.DataFrame:
        if part.empty and self.empty is not None:
            return self.empty
        inputs = as_model_input(part, self.params.data, self.params.features)
        features = self.preprocessor.transform(inputs)
        target = self.params.problem.target
        return features.assign(**{target: part[target].to_numpy()})

    def __dask_tokenize__(self) -> tuple[str, int]:
        return ("featurize", id(self))
