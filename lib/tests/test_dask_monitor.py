"""The monitor's reference profiled from per-partition sketches (monitoring/sketch.py)
against the exact profile the pandas engine keeps, on the pipeline run's train split
cut into four partitions, and its test split with one numeric column shifted.

No cluster: dask's synchronous scheduler runs the same graph in this process (the
whole-pipeline run on a LocalCluster is the template's test). Skipped where dask is not
installed (it is the `dask` extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import Params, load_params
from mllifecycle.models import artifact
from mllifecycle.monitoring import summary

pytest.importorskip("dask", reason="the dask engine needs the `dask` extra")

import dask
import dask.dataframe as dd

from mllifecycle.monitoring import sketch

# Normalised Wasserstein and PSI of a sketched numeric column, against the exact figures.
TOLERANCE = 0.005


@pytest.fixture(scope="module")
def profiles(pipeline_run: Path) -> tuple[summary.Reference, summary.Reference, pd.DataFrame]:
    params: Params = load_params(pipeline_run / "params.yaml")
    train = pd.read_parquet(pipeline_run / "data/prepared/train.parquet")
    packaged = artifact.load(pipeline_run / "models/package")
    # The test split with one numeric column shifted: a batch that drifts for any data.
    current = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")
    shifted = params.data.numeric[0]
    current[shifted] = current[shifted] + 2 * train[shifted].std()
    exact = summary.Reference.of(params, packaged, train)
    with dask.config.set(scheduler="sync"):
        sketched = sketch.reference(params, packaged, dd.from_pandas(train, npartitions=4))
    return exact, sketched, current


def test_sketched_drift_flags_the_columns_exact_drift_flags(
    profiles: tuple[summary.Reference, summary.Reference, pd.DataFrame], pipeline_run: Path
) -> None:
    exact, sketched, current = profiles
    found = {d.column: d for d in sketched.profile.compare(current)}
    expected = {d.column: d for d in exact.profile.compare(current)}
    assert {c for c, d in found.items() if d.drifted} == {
        c for c, d in expected.items() if d.drifted
    }
    assert expected[load_params(pipeline_run / "params.yaml").data.numeric[0]].drifted
    for column, want in expected.items():
        got = found[column]
        assert got.test == want.test, column
        assert got.null_rate_reference == want.null_rate_reference, column
        if want.kind == "categorical":
            assert (got.statistic, got.psi) == (want.statistic, want.psi), column
        else:
            assert abs(got.statistic - want.statistic) <= TOLERANCE, (column, got, want)
            assert abs(got.psi - want.psi) <= TOLERANCE, (column, got, want)


def test_sketched_prediction_drift_matches_the_exact_one(
    profiles: tuple[summary.Reference, summary.Reference, pd.DataFrame], pipeline_run: Path
) -> None:
    exact, sketched, current = profiles
    cfg = load_params(pipeline_run / "params.yaml").monitor
    signal = summary.prediction_signal(artifact.load(pipeline_run / "models/package"), current)
    got, want = sketched.prediction.compare(signal, cfg), exact.prediction.compare(signal, cfg)
    assert got.drifted == want.drifted
    assert abs(got.statistic - want.statistic) <= TOLERANCE, (got, want)
    assert sketched.rows == exact.rows


def test_quantiles_from_counts_are_numpys() -> None:
    values = pd.Series([3.0, 1.0, 1.0, 7.0, 2.0, 2.0, 2.0, 9.5])
    grid = sketch.grid_from_counts(values.value_counts())
    at = np.linspace(0, 1, sketch.GRID_POINTS)
    assert grid == pytest.approx(np.quantile(values.to_numpy(), at))


def test_the_batch_summed_up_part_by_part_is_measured_as_one_frame(
    profiles: tuple[summary.Reference, summary.Reference, pd.DataFrame],
    pipeline_run: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """partitioned.summarise on the batch in four parts, against summary.summarise on
    it whole, with the same (exact) reference: windows, rows, null rates, category
    statistics and value exactly; distances within a bin's share of the spread."""
    from mllifecycle.contracts import JudgedModel
    from mllifecycle.monitoring import partitioned

    monkeypatch.chdir(pipeline_run)
    exact, _, current = profiles
    params = load_params(pipeline_run / "params.yaml")
    packaged = artifact.load(pipeline_run / "models/package")
    judged = JudgedModel(version=packaged.version, tag=None, source="models/package")
    want, _, _ = summary.summarise(params, packaged, judged, exact, current)
    with dask.config.set(scheduler="sync"):
        batch = dd.from_pandas(current, npartitions=4, sort=False)
        got, drifts, shown = partitioned.summarise(params, packaged, judged, exact, batch)
    assert len(shown) == len(current), "a batch under SAMPLE_ROWS is shown whole"
    assert got.current_rows == want.current_rows and got.drifted == want.drifted
    assert [(w.start, w.rows, w.drifted, w.judged) for w in got.windows] == [
        (w.start, w.rows, w.drifted, w.judged) for w in want.windows
    ]
    assert len(want.windows) > 1, "the batch spans several windows"
    for mine, theirs in zip(got.windows, want.windows, strict=True):
        assert mine.value_per_1000 == pytest.approx(theirs.value_per_1000, abs=1e-3)
    assert got.performance is not None and want.performance is not None
    assert got.performance.rows == want.performance.rows
    assert got.performance.current_value_per_1000 == pytest.approx(
        want.performance.current_value_per_1000, abs=1e-3
    )
    assert got.verdict == want.verdict
    expected = {d.column: d for d in want.features}
    for found in drifts:
        wanted = expected[found.column]
        assert (found.test, found.drifted) == (wanted.test, wanted.drifted), found.column
        assert found.null_rate_current == wanted.null_rate_current, found.column
        if wanted.kind == "categorical":
            assert (found.statistic, found.psi) == (wanted.statistic, wanted.psi), found.column
        else:
            assert found.statistic == pytest.approx(wanted.statistic, abs=1e-3), found.column
            assert found.psi == pytest.approx(wanted.psi, abs=1e-6), found.column
    assert got.prediction_drift is not None and want.prediction_drift is not None
    assert got.prediction_drift.statistic == pytest.approx(
        want.prediction_drift.statistic, abs=1e-3
    )
