"""Step 3's exploratory report and its choices: skewed features transformed, redundant
ones dropped with the reason, leaks flagged; selection never reads the test split; the
transforms score the same through the compiled path as through scikit-learn."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mllifecycle import paths
from mllifecycle.config import Params, parse_params
from mllifecycle.data import demo
from mllifecycle.data.prepare import clean, split
from mllifecycle.errors import ConfigError, DataError, GateError
from mllifecycle.features import explore
from mllifecycle.features.information import (
    mutual_information,
    target_information,
)
from mllifecycle.features.pipeline import (
    as_model_input,
    build_preprocessor,
    timestamp_inputs,
)
from mllifecycle.features.selection import select, with_derived
from mllifecycle.features.transforms import SkewTransformer, apply
from mllifecycle.models.compiled import TransformedBlock
from mllifecycle.validation import gates
from mllifecycle.validation.features import split_checks

from .conftest import is_demo, run_stages, selected_params
from .test_compiled import assert_same, fitted, params_for, records_of

INJECTED = ["spend_tail", "tenure_copy", "outcome_code"]


def injected(example_params: Callable[..., Params], **features: object) -> tuple[Params, dict]:
    """Churn demo splits with a skewed, a duplicated and a leaking feature added."""
    raw = example_params("problem=churn").model_dump(mode="json")
    raw["data"]["numeric"] = [*raw["data"]["numeric"], *INJECTED]
    raw["features"].update(features)
    params = parse_params(raw)
    history, _ = demo.generate(params.problem, 4000, 0, seed=11)
    rng = np.random.default_rng(3)
    label = history[params.problem.target].astype(float)
    history = history.assign(
        spend_tail=np.expm1(rng.normal(1.0, 1.2, len(history))),
        tenure_copy=history["tenure_months"] + rng.normal(0, 0.01, len(history)),
        outcome_code=label * 10 + rng.normal(0, 0.1, len(history)),
    )
    timestamps = timestamp_inputs(params.features, params.data)
    prepared = clean(history, params.data, params.problem.target, keep=timestamps)
    return params, split(prepared, params.data)


def test_a_skewed_a_duplicated_and_a_leaking_feature_are_reported_and_acted_on(
    example_params: Callable[..., Params],
) -> None:
    params, splits = injected(
        example_params,
        transforms={"spend_tail": "log1p"},
        selection={"max_correlation": 0.95, "top_k": None},
    )
    train, valid = splits["train"], splits["valid"]
    chosen = select(train, valid, params.problem.target, params.features, params.data, True)
    # Duplicated: one of the pair dropped, the reason naming the one kept.
    assert "tenure_copy" in chosen.dropped or "tenure_months" in chosen.dropped
    (gone,) = {"tenure_copy", "tenure_months"} & set(chosen.dropped)
    kept = ({"tenure_copy", "tenure_months"} - {gone}).pop()
    assert f"with {kept}" in chosen.dropped[gone] and "correlation" in chosen.dropped[gone]

    table = with_derived(train, params.features, params.data)
    target = train[params.problem.target]
    found = explore.figures(
        table, target, True, chosen.mutual_information, target_information(target, True),
        params.features.explore,
    )  # fmt: skip
    # Skewed: reported, and transformed in the fitted pipeline as configured.
    assert "spend_tail" in found["skewed"]
    preprocessor = build_preprocessor(params.features, params.data, list(chosen.dropped))
    featurized = preprocessor.fit_transform(as_model_input(train, params.data, params.features))
    assert (
        abs(featurized["spend_tail"].skew())
        < 0.3
        < abs(found["features"]["spend_tail"]["skewness"])
    )
    assert gone not in featurized.columns
    # Leaking: flagged by its mutual information, and the leakage gate stops on it by name.
    assert found["suspected_leaks"] == ["outcome_code"]
    with pytest.raises(GateError, match="column 'outcome_code': no_single_feature_predicts"):
        gates.enforce("validate_features", [split_checks(params, splits)])
    page = explore.html(found, chosen.record(), table, dict(params.features.transforms))
    assert (
        "transformed: log1p" in page
        and "suspected leak" in page
        and escape(f"dropped: {chosen.dropped[gone]}") in page
    )


def test_top_k_keeps_the_inputs_most_important_on_valid(
    example_params: Callable[..., Params],
) -> None:
    params, splits = injected(example_params, selection={"max_correlation": None, "top_k": 4})
    chosen = select(splits["train"], splits["valid"], params.problem.target, params.features,
                    params.data, True)  # fmt: skip
    ranked_out = [name for name, why in chosen.dropped.items() if "top_k 4" in why]
    assert len(ranked_out) == len(params.data.features) - 4
    assert "outcome_code" not in chosen.dropped  # the label itself ranks first


def test_identical_columns_get_identical_mutual_information() -> None:
    rng = np.random.default_rng(0)
    values = rng.exponential(10, 2000).round()
    frame = pd.DataFrame({"a": values, "b": values.copy()})
    target = pd.Series((values + rng.normal(0, 5, 2000) > 12).astype(int))
    scores = mutual_information(frame, target, classification=True, seed=0)
    assert scores["a"] == scores["b"] > 0


def test_transforms_compile_to_the_same_scores(example_params: Callable[..., Params]) -> None:
    transforms = {
        "monthly_charges": "yeo-johnson",
        "days_since_login": "log1p",
        "since_login": "log1p",
    }
    params = params_for(example_params, transforms=transforms)
    packaged, batch = fitted(params)
    assert packaged.compiled is not None
    assert any(isinstance(b, TransformedBlock) for b in packaged.compiled.blocks)
    batch.loc[::6, "days_since_login"] = -3  # below log1p's domain: missing, both ways
    batch.loc[::4, "monthly_charges"] = -40.0  # yeo-johnson's negative branch
    assert_same(packaged, batch)
    many = packaged.scores_of_records(records_of(batch))
    np.testing.assert_allclose(many, packaged.reference_scores(batch), rtol=0, atol=1e-6)


def test_transform_values_and_bad_choices_are_named() -> None:
    values = np.array([0.0, 1.0, np.nan, -0.5])
    np.testing.assert_allclose(apply("log1p", values, 0.0), np.log1p(values))
    from scipy.stats import yeojohnson

    np.testing.assert_allclose(apply("yeo-johnson", values[[0, 1, 3]], 0.4),
                               yeojohnson(values[[0, 1, 3]], 0.4))  # fmt: skip
    with pytest.raises(DataError, match=r"'x'.*log1p needs values above -1.*-2"):
        SkewTransformer({"x": "log1p"}).fit(pd.DataFrame({"x": [1.0, -2.0]}))


def test_a_transform_of_an_unknown_feature_is_refused_by_name(
    example_params: Callable[..., Params],
) -> None:
    raw = example_params().model_dump(mode="json")
    raw["features"]["transforms"] = {"plan": "log1p"}
    with pytest.raises(ConfigError, match=r"features.transforms \['plan'\] are not numeric"):
        parse_params(raw)


def test_the_pipeline_writes_the_report_metrics_and_selection(pipeline_run: Path) -> None:
    page = (pipeline_run / paths.EDA_REPORT).read_text(encoding="utf-8")
    assert (
        "<svg" in page
        and "<script" not in page
        and "http" not in page.lower().replace("<!doctype html>", "")
    )
    metrics = json.loads((pipeline_run / paths.EDA_METRICS).read_text())
    selection = json.loads((pipeline_run / paths.SELECTION).read_text())
    assert metrics["summary"]["kept_features"] == len(selection["kept"])
    assert set(metrics["mutual_information"]) == {*selection["kept"], *selection["dropped"]}
    if is_demo(selected_params()) and selected_params().features.selection.max_correlation:
        # The demo's redundant twin is dropped; the skewed input it duplicates is transformed.
        assert "days_since_last_login" in selection["dropped"]
        assert "days_since_login" in metrics["skewness"]


def test_selection_never_reads_the_test_split(pipeline_run: Path, tmp_path: Path) -> None:
    """Scrambling the test split changes nothing the selection writes."""
    shutil.copy(pipeline_run / "params.yaml", tmp_path / "params.yaml")
    shutil.copytree(pipeline_run / paths.PREPARED_DIR, tmp_path / paths.PREPARED_DIR)
    test_path = tmp_path / paths.prepared("test")
    test = pd.read_parquet(test_path)
    numeric = test.select_dtypes("number").columns
    test[numeric] = test[numeric].to_numpy()[::-1] * 7
    test.to_parquet(test_path)
    run_stages(tmp_path, ("featurize",))
    assert (tmp_path / paths.SELECTION).read_text() == (pipeline_run / paths.SELECTION).read_text()
