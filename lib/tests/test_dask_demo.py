"""The demo on the dask engine is made part by part on the workers (no process holds
it whole): the pandas engine's demo, row for row, and the same rows again from the
same seed. No cluster: dask's
synchronous scheduler. Skipped where dask is not installed.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from mllifecycle.config import Params
from mllifecycle.data import demo, sources

pytest.importorskip("dask", reason="the dask engine needs the `dask` extra")

import dask

from mllifecycle.engine.dask_engine import demo_parts

ROWS, PART_ROWS = 6000, 1300


# One part; then six, and the production batch in two.
@pytest.mark.parametrize("demo_part_rows", [demo.PART_ROWS, 1000])
def test_the_demo_made_in_parts_is_the_pandas_demo_row_for_row(
    example_params: Callable[..., Params], monkeypatch: pytest.MonkeyPatch, demo_part_rows: int
) -> None:
    monkeypatch.setattr(demo, "PART_ROWS", demo_part_rows)
    params = example_params(f"data.demo.n_rows={ROWS}", "data.demo.n_production_rows=1500")
    data, problem = params.data, params.problem
    # As a stage runs (dask_engine.connect): text stays pandas' own `str`.
    with dask.config.set({"scheduler": "sync", "dataframe.convert-string": False}):
        history, batch = demo_parts(data, problem, PART_ROWS)
        parts = history.npartitions
        production = pd.concat([make() for make in batch.makers], ignore_index=True)
        made, again = history.compute(), demo_parts(data, problem, PART_ROWS)[0].compute()
    whole, whole_production = sources.collect(data, problem)

    assert parts == -(-ROWS // min(PART_ROWS, demo_part_rows))
    assert len(batch.names) == -(-1500 // demo_part_rows)
    pd.testing.assert_frame_equal(made.reset_index(drop=True), again.reset_index(drop=True))
    for ours, pandas in ((made, whole), (production, whole_production)):
        assert list(ours.columns) == list(pandas.columns)
        assert ours.dtypes.equals(pandas.dtypes)
        assert ours[data.id_column].tolist() == pandas[data.id_column].tolist()
    # The same rows, labels included: a model's figures on the demo compare across engines
    # (drawn apart, 20% of the labels differed and test AUC moved by 0.017).
    pd.testing.assert_frame_equal(made.reset_index(drop=True), whole)
    pd.testing.assert_frame_equal(production, whole_production)
