"""Summaries gathered per partition and folded (engine/dask_engine.summarise): the
package's input-schema facts, the feature gate's label and null counts and evaluate's
scores of the test split, over a table of 21 parts (one of them empty, as a time split
leaves), equal what one pandas pass over the whole table gives. No cluster: dask's
synchronous scheduler. Skipped where dask is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mllifecycle import paths
from mllifecycle.config import Params, load_params
from mllifecycle.errors import DataError
from mllifecycle.evaluation import assessment
from mllifecycle.models import artifact, packaging
from mllifecycle.validation import leakage

pytest.importorskip("dask", reason="the dask engine needs the `dask` extra")

import dask
import dask.dataframe as dd

from mllifecycle.engine.dask_engine import summarise

PARTS = 20  # more than 15: where dask's own grouped counts would shuffle


@pytest.fixture(scope="module")
def prepared(pipeline_run: Path) -> tuple[Params, dict[str, pd.DataFrame]]:
    params = load_params(pipeline_run / "params.yaml")
    splits = {
        name: pd.read_parquet(pipeline_run / f"data/prepared/{name}.parquet")
        for name in ("train", "valid")
    }
    return params, splits


def _in_parts(frame: pd.DataFrame) -> dd.DataFrame:
    parts = [frame.iloc[rows] for rows in np.array_split(np.arange(len(frame)), PARTS)]
    parts.insert(PARTS // 2, frame.iloc[:0])
    return dd.from_map(_as_is, parts, meta=frame.iloc[:0], enforce_metadata=False)


def _as_is(part: pd.DataFrame) -> pd.DataFrame:
    return part


def test_the_input_schema_from_parts_is_the_schema_of_the_whole(
    prepared: tuple[Params, dict[str, pd.DataFrame]],
) -> None:
    params, splits = prepared
    facts = packaging.facts_of(params)
    with dask.config.set(scheduler="sync"):
        folded = summarise(_in_parts(splits["train"]), facts, packaging.combine_facts)
    whole = facts(splits["train"])
    assert folded["rows"] == whole["rows"] == len(splits["train"])
    timestamps = [c for c in whole if c not in ("rows", *params.data.features)]
    assert packaging.schema_of(folded, params.data, timestamps) == packaging.schema_of(
        whole, params.data, timestamps
    )


def test_rates_from_parts_judge_a_shift_as_the_whole_split_does(
    prepared: tuple[Params, dict[str, pd.DataFrame]],
) -> None:
    params, splits = prepared
    problem, data = params.problem, params.data
    valid = splits["valid"].assign(**{data.numeric[0]: np.nan})  # every value gone
    frames = {"train": splits["train"], "valid": valid}

    def count(frame: pd.DataFrame) -> dict[str, object]:
        return leakage.split_rates(frame, problem, data)

    with dask.config.set(scheduler="sync"):
        folded = {
            name: summarise(_in_parts(frame), count, leakage.add_rates)
            for name, frame in frames.items()
        }
    whole = {name: count(frame) for name, frame in frames.items()}
    failures = leakage.shifts_between(folded, problem, data)
    assert failures, "a column with no values left must fail the null-rate check"
    assert failures == leakage.shifts_between(whole, problem, data)
    for name in frames:
        ours, theirs = leakage.Counts.whole(folded[name]), leakage.Counts.whole(whole[name])
        assert ours.rows == theirs.rows
        assert [ours.null_rate(c) for c in data.features] == [
            theirs.null_rate(c) for c in data.features
        ]


def test_the_test_split_scored_per_part_is_the_split_scored_whole(
    pipeline_run: Path, prepared: tuple[Params, dict[str, pd.DataFrame]]
) -> None:
    """Evaluate's pass over the test split, part by part (prepared and featurized rows
    side by side, as Engine.each_part gives them; one part empty), folds to what one pass
    over the whole split gives: labels, scores (the workspace's package as champion),
    rule decisions and the columns slices and fairness group by."""
    params, _ = prepared
    raw = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")
    features = pd.read_parquet(pipeline_run / "data/features/test.parquet")
    estimators = {
        "model": artifact.read_model(pipeline_run / paths.MODEL),
        "baseline": artifact.read_model(pipeline_run / paths.BASELINE),
    }
    champion = artifact.load(pipeline_run / paths.PACKAGE_DIR)
    scorers = assessment.Scorers(
        params.problem, estimators, champion, assessment.grouped_by(params)
    )
    parts = np.array_split(np.arange(len(raw)), PARTS)
    parts.insert(PARTS // 2, np.arange(0))
    folded = assessment.joined(
        [
            assessment.scored_part(scorers, f"part-{i:05d}", raw.iloc[rows], features.iloc[rows])
            for i, rows in enumerate(parts)
        ]
    )
    whole = assessment.joined([assessment.scored_part(scorers, None, raw, features)])
    assert len(folded.actual) == len(features)
    pd.testing.assert_series_equal(folded.actual, whole.actual)
    assert set(folded.scores) == {"model", "baseline", "champion"}
    for name in folded.scores:
        np.testing.assert_allclose(folded.scores[name], whole.scores[name], rtol=1e-12)
    assert folded.rule is not None and whole.rule is not None
    assert folded.rule.tolist() == whole.rule.tolist()
    assert list(folded.groups.columns) == assessment.grouped_by(params)
    pd.testing.assert_frame_equal(folded.groups, whole.groups)
    with pytest.raises(DataError, match=r"has 9 rows in part-00003, the prepared one 10"):
        assessment.scored_part(scorers, "part-00003", raw.iloc[:10], features.iloc[:9])
