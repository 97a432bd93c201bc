"""Derived features (features/derived.py, named in conf/features): what each kind
computes, that bad entries fail in one line, and that the packaged pipeline makes
them from the raw inputs wherever it runs."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import (
    DerivedFeature,
    Params,
    parse_params,
)
from mllifecycle.data.demo import (
    generate,
)
from mllifecycle.data.prepare import (
    clean,
)
from mllifecycle.errors import (
    ArtifactError,
    ConfigError,
    DataError,
)
from mllifecycle.features import kinds
from mllifecycle.features.derived import (
    KINDS,
    DayOfWeek,
    DaysBetween,
    Ratio,
)
from mllifecycle.features.inputs import (
    typed_inputs,
)
from mllifecycle.features.pipeline import (
    as_model_input,
    build_preprocessor,
    timestamp_inputs,
)
from mllifecycle.models import (
    artifact,
)
from mllifecycle.models.storage import (
    read_model,
    write_model,
)
from mllifecycle.serving.app import (
    create_app,
)
from mllifecycle.serving.settings import (
    ServeSettings,
)
from mllifecycle.testing import serving

from .conftest import ROOT

RATIO = {"name": "per_product", "kind": "ratio", "numerator": "monthly_charges",
         "denominator": "num_products"}  # fmt: skip
WEEKDAY = {"name": "weekday", "kind": "day_of_week", "column": "snapshot_date"}


def made(step: Any, frame: pd.DataFrame) -> list[Any]:
    values = step.fit(frame).transform(frame)[step.name]
    return [None if pd.isna(v) else v for v in values]


def test_a_ratio_is_missing_never_infinite_for_a_zero_or_missing_denominator() -> None:
    frame = pd.DataFrame({"a": [6.0, 1.0, 0.0, 2.0, np.nan], "b": [3.0, 0.0, 0.0, np.nan, 2.0]})
    step = Ratio(name="a_per_b", numerator="a", denominator="b")
    assert made(step, frame) == [2.0, None, None, None, None]
    assert list(step.get_feature_names_out()) == ["a_per_b"]


def test_day_of_week_reads_aware_times_in_the_datas_zone() -> None:
    times = pd.Series(["2024-03-03T23:30:00+00:00", "2024-03-04T10:00:00+00:00", None])
    frame = typed_inputs(pd.DataFrame({"t": times}), [], [], ["t"])
    # 23:30 UTC on Sunday is already Monday in Berlin; missing stays missing.
    assert made(DayOfWeek(name="d", column="t", time_zone="Europe/Berlin"), frame) == [
        "Mon",
        "Mon",
        None,
    ]
    assert made(DayOfWeek(name="d", column="t"), frame) == ["Sun", "Mon", None]
    naive = pd.DataFrame({"t": pd.to_datetime(["2024-03-03 23:30", "2024-03-09 00:00"])})
    assert made(DayOfWeek(name="d", column="t", time_zone="Europe/Berlin"), naive) == ["Sun", "Sat"]


def test_text_and_typed_timestamps_make_the_same_features() -> None:
    """The service sends ISO text, training holds typed timestamps: one weekday either way."""
    typed = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-01-06"]), "e": pd.NaT})
    text = typed_inputs(pd.DataFrame({"t": ["2024-01-01", "2024-01-06T00:00:00"], "e": None}),
                        [], [], ["t", "e"])  # fmt: skip
    step = DayOfWeek(name="d", column="t")
    assert made(step, typed) == made(step, text) == ["Mon", "Sat"]
    gap = DaysBetween(name="g", start="e", end="t")
    assert made(gap, text) == [None, None]


def test_days_between_counts_days() -> None:
    frame = pd.DataFrame(
        {
            "start": pd.to_datetime(["2024-01-01", "2024-02-27"]),
            "end": pd.to_datetime(["2024-01-11 12:00", "2024-03-01 00:00"]),
        }
    )
    assert made(DaysBetween(name="g", start="start", end="end"), frame) == [10.5, 3.0]


def test_a_timestamp_that_is_not_iso_is_named() -> None:
    with pytest.raises(DataError, match=r"column 'when'.*not ISO 8601.*'yesterday'"):
        typed_inputs(pd.DataFrame({"when": ["2024-01-01", "yesterday"]}), [], [], ["when"])


def test_every_declared_kind_has_a_transformer_that_takes_what_it_declares() -> None:
    """config.py checks entries against features/kinds.py; the transformers must agree."""
    assert sorted(KINDS) == sorted(kinds.KINDS)
    for name, transformer in KINDS.items():
        declared = kinds.KINDS[name]
        zone = {"time_zone"} if declared.reads == "timestamp" else set()
        accepted = set(inspect.signature(transformer).parameters)
        assert accepted == {"name", *declared.columns, *declared.options, *zone}, name
        made = (transformer.COLUMNS, transformer.READS, transformer.OUTPUT)
        assert declared == kinds.Kind(*made, options=declared.options), name


def test_configuration_reads_no_transformer_code() -> None:
    """Stages that only read params (define, ingest, prepare, the raw gates) must not pay
    for scikit-learn, nor rerun in dvc.yaml when a transformer changes."""
    check = (
        "import sys, mllifecycle.config as c; c.load_params(); "
        "print(sorted(m for m in sys.modules if m.startswith(('sklearn', "
        "'mllifecycle.features.derived'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert loaded.strip() == "[]"


def with_derived(example_params: Callable[..., Params], *entries: dict[str, Any]) -> Params:
    raw = example_params().model_dump(mode="json")
    raw["features"]["derived"] = list(entries)
    return parse_params(raw)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({**WEEKDAY, "kind": "weekday"}, r"derived feature 'weekday': unknown kind 'weekday'"),
        ({**RATIO, "denominator": "num_product"},
         r"features.derived 'per_product': input column 'num_product' is not a numeric column"),
        ({**WEEKDAY, "column": "tenure_months"},
         r"'weekday': input column 'tenure_months' is not a timestamp column"),
        ({k: v for k, v in RATIO.items() if k != "denominator"},
         r"'per_product': kind ratio needs the input column\(s\) \['denominator'\]"),
        ({**RATIO, "scale": 2}, r"'per_product': kind ratio takes .*not \['scale'\]"),
        ({**RATIO, "name": "plan"}, r"features.derived 'plan': the name is already a column"),
    ],
)  # fmt: skip
def test_a_bad_derived_entry_fails_in_one_line_naming_it(
    example_params: Callable[..., Params], entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as failure:
        with_derived(example_params, entry)
    assert "\n" not in str(failure.value)


def test_the_fitted_step_makes_the_derived_columns_and_survives_storage(
    example_params: Callable[..., Params], tmp_path: Path
) -> None:
    params = with_derived(example_params, RATIO, WEEKDAY)
    history, _ = generate(params.problem, 800, 0, seed=3)
    prepared = clean(history, params.data, params.problem.target, keep=["snapshot_date"])
    inputs = as_model_input(prepared, params.data, params.features)
    assert timestamp_inputs(params.features, params.data) == ["snapshot_date"]
    # Trained without Sundays: a Sunday at scoring time is an unseen value, not an error.
    weekdays = inputs["snapshot_date"].dt.day_of_week
    preprocessor = build_preprocessor(params.features, params.data).fit(inputs[weekdays != 6])
    write_model(preprocessor, tmp_path / "preprocessor.skops")
    reloaded = read_model(tmp_path / "preprocessor.skops")
    encoded = reloaded.transform(inputs)
    assert "per_product" in encoded.columns and "weekday_Mon" in encoded.columns
    assert "weekday_Sun" not in encoded.columns
    sundays = encoded[(weekdays == 6).to_numpy()]
    assert len(sundays) and (sundays.filter(like="weekday_").sum(axis=1) == 0).all()
    expected = inputs["monthly_charges"] / inputs["num_products"]
    assert np.allclose(reloaded.named_steps["derive"].transform(inputs)["per_product"], expected)


@pytest.fixture(scope="module")
def packaged(pipeline_run: Path) -> artifact.Artifact:
    loaded = artifact.load(pipeline_run / "models/package")
    if not loaded.metadata.params.features.get("derived"):
        pytest.skip("conf/features names no derived features")
    return loaded


def test_the_package_makes_derived_features_from_raw_inputs(
    packaged: artifact.Artifact, pipeline_run: Path
) -> None:
    derived = packaged.metadata.params.features["derived"]
    raw = pd.read_parquet(pipeline_run / "data/prepared/test.parquet").head(50)
    made_columns = (
        packaged.pipeline.named_steps["preprocess"]
        .named_steps["derive"]
        .transform(packaged.inputs(raw))
    )
    assert {entry["name"] for entry in derived} <= set(made_columns.columns)
    needed = sorted({c for entry in derived for c in DerivedFeature.model_validate(entry).inputs})
    schema = set(packaged.metadata.input_names)
    assert set(needed) <= schema, "every raw column a derived feature reads is a packaged input"
    for column in needed:
        with pytest.raises(ArtifactError, match=rf"input is missing columns \['{column}'\]"):
            packaged.decide(raw.drop(columns=[column]))


def test_the_service_refuses_a_record_without_a_derived_features_input(
    packaged: artifact.Artifact, pipeline_run: Path, tmp_path: Path
) -> None:
    timestamps = [f.name for f in packaged.metadata.input_schema if f.kind == "timestamp"]
    if not timestamps:
        pytest.skip("no derived feature reads a timestamp")
    names = packaged.metadata.input_names
    rows = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")[names].dropna().head(3)
    records = json.loads(rows.to_json(orient="records", date_format="iso"))
    settings = ServeSettings(
        allow_unregistered=True,
        model_dir=pipeline_run / "models/package",
        prediction_log=tmp_path / "log.jsonl",
    )
    with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        served = client.post("/predict", json={"records": records})
        assert served.status_code == 200, served.text
        answered = [p["decision"] for p in served.json()["predictions"]]
        expected = packaged.decide(rows)
        if packaged.problem.is_classification:
            assert [str(v) for v in answered] == [str(v) for v in expected]
        else:
            assert np.allclose(np.asarray(answered, dtype=float), expected.astype(float))
        lacking = [{k: v for k, v in records[0].items() if k != timestamps[0]}]
        refused = client.post("/predict", json={"records": lacking})
        assert refused.status_code == 422
        assert timestamps[0] in refused.text
        unreadable = [{**records[0], timestamps[0]: "next tuesday"}]
        refused = client.post("/predict", json={"records": unreadable})
        assert refused.status_code == 422 and "ISO 8601" in refused.text
