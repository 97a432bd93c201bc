"""The demo on the dask engine is made part by part on the workers (no process holds
it whole): the same columns, types and ids as the pandas engine's demo, rows drawn by
the same law, and the same rows again from the same seed. No cluster: dask's
synchronous scheduler. Skipped where dask is not installed.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from mllifecycle.config import Params
from mllifecycle.data import sources

pytest.importorskip("dask", reason="the dask engine needs the `dask` extra")

import dask

from mllifecycle.engine.dask_engine import demo_parts

ROWS, PART_ROWS = 6000, 1300


def test_the_demo_made_in_parts_is_the_pandas_demo_in_law(
    example_params: Callable[..., Params],
) -> None:
    params = example_params(f"data.demo.n_rows={ROWS}", "data.demo.n_production_rows=1500")
    data, problem = params.data, params.problem
    # As a stage runs (dask_engine.connect): text stays pandas' own `str`.
    with dask.config.set({"scheduler": "sync", "dataframe.convert-string": False}):
        history, production = demo_parts(data, problem, PART_ROWS)
        parts = history.npartitions
        made, again = history.compute(), demo_parts(data, problem, PART_ROWS)[0].compute()
    whole, whole_production = sources.collect(data, problem)

    assert parts == -(-ROWS // PART_ROWS)
    pd.testing.assert_frame_equal(made.reset_index(drop=True), again.reset_index(drop=True))
    for ours, pandas in ((made, whole), (production, whole_production)):
        assert list(ours.columns) == list(pandas.columns)
        assert ours.dtypes.equals(pandas.dtypes)
        assert ours[data.id_column].tolist() == pandas[data.id_column].tolist()
    for column in data.numeric:
        gap = abs(made[column].mean() - whole[column].mean())
        assert gap < 0.1 * whole[column].std(), f"{column}: means {gap:.3g} apart"
    shares = [frame[problem.target].value_counts(normalize=True) for frame in (made, whole)]
    assert (shares[0] - shares[1]).abs().max() < 0.03, shares
