"""The preprocessing fitted from statistics of a partitioned train split
(features/statistics.py) against the pandas fit on the same rows.

The pipeline run's train split, cut into four partitions, with gaps added to two
measurements so the medians, the missing indicators and the scaler all have work to do.
No cluster: dask's synchronous scheduler runs the per-partition passes here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import Params, load_params
from mllifecycle.errors import DataError
from mllifecycle.features.pipeline import (
    as_model_input,
    build_preprocessor,
)

pytest.importorskip("dask", reason="the dask engine needs the `dask` extra")

import dask
import dask.dataframe as dd

from mllifecycle.features.statistics import fit_from_partitions


@pytest.fixture(scope="module")
def splits(pipeline_run: Path) -> tuple[Params, pd.DataFrame, pd.DataFrame]:
    params = load_params(pipeline_run / "params.yaml")
    train = pd.read_parquet(pipeline_run / "data/prepared/train.parquet")
    test = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")
    # Gaps in the measurement with the most distinct values (its median is found by
    # narrowing a histogram) and in the one with the fewest (from value counts).
    by_distinct = sorted(params.data.numeric, key=lambda c: train[c].nunique())
    for gappy in {by_distinct[0], by_distinct[-1]}:
        train[gappy] = train[gappy].where(np.arange(len(train)) % 7 != 3)  # 1 row in 7
    return params, train, test


def _fit_both(params: Params, train: pd.DataFrame) -> tuple[object, object]:
    exact = build_preprocessor(params.features, params.data)
    exact.fit(as_model_input(train, params.data, params.features))
    with dask.config.set(scheduler="sync"):
        from_parts = fit_from_partitions(
            build_preprocessor(params.features, params.data),
            dd.from_pandas(train, npartitions=4),
            train,
            params.features,
            params.data,
        )
    return exact, from_parts


def test_the_fit_from_statistics_transforms_as_the_pandas_fit(
    splits: tuple[Params, pd.DataFrame, pd.DataFrame],
) -> None:
    params, train, test = splits
    exact, from_parts = _fit_both(params, train)
    assert type(from_parts) is type(exact)
    for frame in (train, test):
        inputs = as_model_input(frame, params.data, params.features)
        want, got = exact.transform(inputs), from_parts.transform(inputs)  # type: ignore[attr-defined]
        assert list(got.columns) == list(want.columns)
        np.testing.assert_allclose(got.to_numpy(float), want.to_numpy(float), atol=1e-9)


def test_a_column_with_no_frequent_category_is_refused(
    splits: tuple[Params, pd.DataFrame, pd.DataFrame],
) -> None:
    params, train, _ = splits
    if not params.data.categorical:
        pytest.skip("the data has no categorical column")
    column = params.data.categorical[0]
    unique = train.assign(**{column: [f"v{i}" for i in range(len(train))]})
    with pytest.raises(DataError, match=column), dask.config.set(scheduler="sync"):
        fit_from_partitions(
            build_preprocessor(params.features, params.data),
            dd.from_pandas(unique, npartitions=4),
            unique,
            params.features,
            params.data,
        )
