"""The gates over partitioned tables (validation/partitioned.py): the pipeline run's
raw dataset and splits written as four parts each, faults injected into them.

The per-row rules run as GX checkpoints on each part and name it; the whole-table rules
come from aggregates and name where they broke. No cluster: dask's synchronous scheduler
runs the per-part work here. Skipped where dask is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import Params, load_params
from mllifecycle.errors import GateError
from mllifecycle.paths import SPLITS
from mllifecycle.validation import features, gates, raw

pytest.importorskip("dask", reason="the dask engine needs the `dask` extra")

import dask

from mllifecycle.validation import partitioned

NOW = pd.Timestamp.now(tz="UTC").floor("s")
PARTS = 4
Fault = Callable[[pd.DataFrame, Params], pd.DataFrame]
Splits = dict[str, pd.DataFrame]


def _write_parts(frame: pd.DataFrame, folder: Path, fault: Fault | None, params: Params) -> Path:
    folder.mkdir(parents=True)
    for number, rows in enumerate(np.array_split(np.arange(len(frame)), PARTS)):
        part = frame.iloc[rows].reset_index(drop=True)
        if fault is not None and number == 2:
            part = fault(part, params)
        part.to_parquet(folder / f"part-{number:05d}.parquet", index=False)
    return folder


def _gate(folder: Path, params: Params) -> list[gates.GateResult]:
    with dask.config.set(scheduler="sync"):
        return raw.check_partitions(params, NOW, folder, None)


@pytest.fixture(scope="module")
def dataset(pipeline_run: Path) -> tuple[pd.DataFrame, Params]:
    params = load_params(pipeline_run / "params.yaml")
    return pd.read_parquet(pipeline_run / "data/raw/dataset.parquet"), params


def test_good_parts_pass_as_the_whole_table_does(
    dataset: tuple[pd.DataFrame, Params], tmp_path: Path
) -> None:
    frame, params = dataset
    results = _gate(_write_parts(frame, tmp_path / "parts", None, params), params)
    whole = raw.check_dataset(params, NOW, frame)
    assert [r.summary() for r in results] == [r.summary() for r in whole]


def _out_of_range(part: pd.DataFrame, params: Params) -> pd.DataFrame:
    part.loc[:2, params.data.numeric[0]] = -1e9
    return part


def _repeated_id(part: pd.DataFrame, params: Params) -> pd.DataFrame:
    column = params.data.id_column
    assert column is not None
    ids = part[column]
    return part.assign(**{column: ids.where(part.index != 0, ids.iloc[1])})


@pytest.mark.parametrize(
    ("fault", "expectation"),
    [
        (_out_of_range, "expect_column_values_to_be_between"),
        (_repeated_id, "expect_column_values_to_be_unique"),
    ],
)
def test_a_fault_in_one_part_fails_the_gate_naming_the_part(
    fault: Fault, expectation: str, dataset: tuple[pd.DataFrame, Params], tmp_path: Path
) -> None:
    frame, params = dataset
    if fault is _repeated_id and params.data.id_column is None:
        pytest.skip("the data has no id column")
    results = _gate(_write_parts(frame, tmp_path / "parts", fault, params), params)
    with pytest.raises(GateError) as failed:
        gates.enforce("validate_raw", results)
    lines = [line for line in str(failed.value).splitlines() if expectation in line]
    assert len(lines) == 1, str(failed.value)
    assert "part-00002.parquet" in lines[0], lines[0]


def test_a_rule_that_is_neither_per_row_nor_aggregated_is_refused(
    dataset: tuple[pd.DataFrame, Params], tmp_path: Path
) -> None:
    frame, params = dataset
    folder = _write_parts(frame, tmp_path / "parts", None, params)
    table, parts = partitioned.partitions(folder)
    median = gates.expectation(
        "expect_column_median_to_be_between", column=params.data.numeric[0], min_value=0
    )
    with pytest.raises(GateError, match="expect_column_median_to_be_between"):
        partitioned.run(table, "raw", "dataset", [median], parts)


@pytest.fixture(scope="module")
def pipeline_splits(pipeline_run: Path) -> tuple[Params, Splits, Splits]:
    """The pipeline run's (params, feature splits, prepared splits)."""
    params = load_params(pipeline_run / "params.yaml")
    found = [
        {name: pd.read_parquet(pipeline_run / f"data/{kind}/{name}.parquet") for name in SPLITS}
        for kind in ("features", "prepared")
    ]
    return params, found[0], found[1]


def _feature_gate(
    params: Params, featurized: Splits, prepared: Splits, folder: Path
) -> list[gates.GateResult]:
    def parts(kind: str, frames: Splits) -> dict[str, Path]:
        return {
            name: _write_parts(frame, folder / kind / name, None, params)
            for name, frame in frames.items()
        }

    with dask.config.set(scheduler="sync"):
        return features.check_partitions(
            params, parts("features", featurized), parts("prepared", prepared)
        )


def test_the_feature_gate_on_parts_gives_the_pandas_verdicts(
    pipeline_splits: tuple[Params, Splits, Splits], tmp_path: Path
) -> None:
    params, featurized, prepared = pipeline_splits
    results = _feature_gate(params, featurized, prepared, tmp_path)
    whole = features.check_features(params, featurized, prepared)
    assert [r.summary() for r in results] == [r.summary() for r in whole]
    assert all(r.passed for r in results)


def test_split_faults_on_parts_fail_as_on_pandas_and_a_null_feature_names_its_part(
    pipeline_splits: tuple[Params, Splits, Splits], tmp_path: Path
) -> None:
    """Ids shared by train and test, a shifted test label, a null feature in valid."""
    params, featurized, prepared = pipeline_splits
    target, column = params.problem.target, params.data.numeric[0]
    test = prepared["test"]
    if params.data.id_column is not None:
        shared = prepared["train"][params.data.id_column].head(3).to_numpy()
        test = test.assign(**{params.data.id_column: [*shared, *test[params.data.id_column][3:]]})
    if params.problem.is_classification:
        test = test.assign(**{target: test[target].iloc[0]})  # one class only
    else:
        test = test.assign(**{target: test[target] * 100})
    test = test.assign(**{column: np.nan})
    prepared = {**prepared, "test": test}
    valid = featurized["valid"].copy()
    valid.loc[valid.index[-1], valid.columns[0]] = np.nan  # the last row: the last part
    featurized = {**featurized, "valid": valid}

    results = _feature_gate(params, featurized, prepared, tmp_path)
    pandas_leakage = features.split_checks(params, prepared)
    assert pandas_leakage.failures
    assert results[-1].failures == pandas_leakage.failures
    (null,) = [f for r in results if r.dataset == "valid" for f in r.failures]
    assert null.expectation == "expect_column_values_to_not_be_null"
    assert f"in part-{PARTS - 1:05d}.parquet" in null.observed


@pytest.mark.parametrize("unknown", [40, 100])
def test_a_mostly_rule_is_judged_on_the_whole_table_as_pandas_judges_it(
    unknown: int, pipeline_run: Path, tmp_path: Path
) -> None:
    """`unknown` rows of one part (of 1,500, in four parts) with a region the serving
    suite does not list: 40 are 11% of their part but 2.7% of the table, within the
    rule's `mostly` 0.95; 100 are 6.7%, beyond it. The verdict is the whole table's."""
    from mllifecycle.validation.production import as_served

    params = load_params(pipeline_run / "params.yaml")
    batch = pd.read_parquet(pipeline_run / "data/raw/production.parquet")
    column = params.data.categorical[1]

    def unlisted(part: pd.DataFrame, params: Params) -> pd.DataFrame:
        part.loc[: unknown - 1, column] = "atlantis"
        return part

    folder = _write_parts(batch, tmp_path / "parts", unlisted, params)
    table, files = partitioned.partitions(folder)
    whole = as_served(pd.concat([pd.read_parquet(f) for f in files], ignore_index=True), params)
    rules = [r for r in gates.load_suite("serving") if r["kwargs"].get("column") == column]
    assert any("mostly" in r["kwargs"] for r in rules), "the suite's value set has `mostly`"
    with dask.config.set(scheduler="sync"):
        served = table.map_partitions(as_served, params, meta=as_served(table._meta, params))
        got = partitioned.run(served, "serving", "production", [], files)
    want = gates.run(whole, "serving", "production", [])
    assert got.passed == want.passed == (unknown == 40)
    if not got.passed:
        (failure,) = got.failures
        assert failure.column == column and "part-00002.parquet" in failure.observed
