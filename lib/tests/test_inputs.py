"""What the model sees: the source's spelling, one typing for every path, time
columns parsed as conf/data says, labels that YAML cannot turn into booleans."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import (
    DataConfig,
    FeaturesConfig,
    parse_problem,
)
from mllifecycle.data.prepare import (
    clean,
)
from mllifecycle.data.times import (
    parse_times,
)
from mllifecycle.errors import (
    DataError,
)
from mllifecycle.features.inputs import (
    typed_inputs,
)
from mllifecycle.features.pipeline import (
    as_model_input,
    build_preprocessor,
)


def data_config(**changes: Any) -> DataConfig:
    """A small file-source config of its own: two numbers, one category, a time column."""
    raw: dict[str, Any] = {
        "source": "file",
        "path": "data/external/cars.csv",
        "id_column": None,
        "time_column": "built",
        "numeric": ["weight", "power"],
        "categorical": ["origin"],
        "split": {"valid_fraction": 0.2, "test_fraction": 0.2, "seed": 0},
        "checks": {
            "max_single_feature_score": 0.98,
            "max_label_share_shift": 0.15,
            "max_null_rate_shift": 0.2,
        },
    }
    return DataConfig.model_validate({**raw, **changes})


def features_config(normalise: str = "none") -> FeaturesConfig:
    return FeaturesConfig(
        numeric_imputer="median",
        add_missing_indicators=False,
        scale_numeric=False,
        categorical_imputer_value="__missing__",
        min_category_frequency=1,
        normalise_categories=normalise,
    )


CARS = pd.DataFrame(
    {
        "built": ["1970-01-01", "1971-01-01", "1972-01-01", "1973-01-01"],
        "weight": [3504, 2130, "2372", None],
        "power": [130.0, 95.0, 88.0, 150.0],
        "origin": ["USA", "Japan", "Europe", None],
        "mpg": [18.0, 27.0, 24.0, 15.0],
    }
)


def test_cleaning_keeps_the_sources_spelling_and_types_as_the_package_does() -> None:
    cleaned = clean(CARS, data_config(), "mpg")
    assert cleaned["origin"].tolist()[:3] == ["USA", "Japan", "Europe"]
    assert pd.isna(cleaned["origin"].iloc[3])
    assert cleaned["weight"].dtype == "float64" and cleaned["weight"].iloc[2] == 2372.0
    assert pd.api.types.is_datetime64_any_dtype(cleaned["built"])
    # What the pipeline is fitted on equals what scoring typing gives the same rows.
    pd.testing.assert_frame_equal(
        as_model_input(cleaned, data_config()),
        typed_inputs(CARS, ["weight", "power"], ["origin"]),
    )


def test_a_number_column_with_text_names_the_column_and_the_values() -> None:
    broken = CARS.assign(power=pd.Series(["130", "ninety", 88.0, None], dtype=object))
    with pytest.raises(DataError, match=r"column 'power': 1 value\(s\) are not numbers.*ninety"):
        typed_inputs(broken, ["power"], [])


def test_categories_from_numbers_are_their_text_everywhere() -> None:
    typed = typed_inputs(pd.DataFrame({"cylinders": [4, 6, None]}), [], ["cylinders"])
    assert typed["cylinders"].tolist()[:2] == ["4", "6"] and pd.isna(typed["cylinders"].iloc[2])


@pytest.mark.parametrize(
    ("normalise", "same"), [("none", False), ("strip", False), ("lower", True)]
)
def test_a_configured_normalisation_is_a_step_of_the_fitted_pipeline(
    normalise: str, same: bool
) -> None:
    data = data_config()
    preprocessor = build_preprocessor(features_config(normalise), data)
    preprocessor.fit(as_model_input(clean(CARS, data, "mpg"), data))
    encoded = preprocessor.transform(
        typed_inputs(
            pd.DataFrame({"weight": [1.0, 1.0], "power": [1.0, 1.0], "origin": ["USA", " usa "]}),
            data.numeric,
            data.categorical,
        )
    )
    one_hot = encoded.filter(like="origin").to_numpy()
    assert np.array_equal(one_hot[0], one_hot[1]) == same


@pytest.mark.parametrize(
    ("time_format", "values", "expected"),
    [
        ("iso8601", ["2024-03-01", "2024-03-02T10:30:00"], "2024-03-02 10:30:00"),
        ("iso8601", [date(2024, 3, 1), date(2024, 3, 2)], "2024-03-02 00:00:00"),  # Parquet dates
        ("%d/%m/%Y", ["01/03/2024", "02/03/2024"], "2024-03-02 00:00:00"),
        ("epoch_s", [1709251200, 1709371800], "2024-03-02 09:30:00"),
        ("epoch_ms", [1709251200000, 1709371800000], "2024-03-02 09:30:00"),
    ],
)
def test_time_columns_are_parsed_as_conf_data_says(
    time_format: str, values: list[Any], expected: str
) -> None:
    frame = pd.DataFrame({"built": values})
    parsed = parse_times(frame, data_config(time_format=time_format), "cars.csv")["built"]
    assert str(parsed.iloc[1]) == expected


def test_naive_times_are_placed_in_the_configured_zone() -> None:
    frame = pd.DataFrame({"built": ["2024-07-01 12:00", "2024-12-01 12:00"]})
    parsed = parse_times(frame, data_config(time_zone="Europe/Berlin"), "cars.csv")["built"]
    assert [t.utcoffset().total_seconds() / 3600 for t in parsed] == [2.0, 1.0]
    aware = pd.DataFrame({"built": ["2024-07-01T12:00:00+02:00", "2024-12-01T12:00:00+01:00"]})
    utc = parse_times(aware, data_config(time_zone="UTC"), "cars.csv")["built"]
    assert [t.hour for t in utc] == [10, 11]


def test_unparseable_times_stop_with_the_column_the_format_and_examples() -> None:
    frame = pd.DataFrame(
        {"built": pd.Series(["2024-03-01", "last tuesday", "", None], dtype=object)}
    )
    with pytest.raises(DataError) as raised:
        parse_times(frame, data_config(), "data/external/cars.csv")
    message = str(raised.value)
    assert "data/external/cars.csv: column 'built': 1 of 4 value(s)" in message
    assert "time_format='iso8601'" in message and "last tuesday" in message
    assert "\n" not in message


def test_an_unknown_time_format_or_zone_is_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match="time_format 'dd-mm-yyyy'"):
        data_config(time_format="dd-mm-yyyy")
    with pytest.raises(ValueError, match="time_zone 'Mars/Olympus'"):
        data_config(time_zone="Mars/Olympus")


def test_a_file_source_needs_no_demo_block() -> None:
    assert data_config().demo is None
    with pytest.raises(ValueError, match="demo: the generator's settings are required"):
        data_config(source="demo", path=None)


def spec(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "default_risk",
        "task": "binary_classification",
        "decision": "Which accounts get a call from the collections team before the due date.",
        "target": "default",
        "classes": ["No", "Yes"],
        "value_matrix": {"No": {"No": 0.0, "Yes": -5.0}, "Yes": {"No": 0.0, "Yes": 40.0}},
        "baseline_rule": {"when": "student == 'Yes'", "then": "Yes", "otherwise": "No"},
        "success_criteria": {"min_uplift_per_1000": 10.0},
        "constraints": {"p99_latency_ms": 25, "min_rows": 100},
    }
    return {**raw, **changes}


def test_quoted_labels_are_the_datas_own_spelling() -> None:
    assert parse_problem(spec()).labels == ["No", "Yes"]


@pytest.mark.parametrize(
    "changes",
    [
        {"classes": [False, True]},
        {"value_matrix": {False: {False: 0.0, True: -5.0}, True: {False: 0.0, True: 40.0}}},
        {"baseline_rule": {"when": "student == 'Yes'", "then": True, "otherwise": False}},
    ],
)
def test_unquoted_yes_no_labels_are_refused_in_one_line(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as raised:
        parse_problem(spec(**changes))
    errors = raised.value.errors()  # type: ignore[attr-defined]
    assert len(errors) == 1
    message = errors[0]["msg"]
    assert "conf/problem/default_risk.yaml" in message and "'No', 'Yes'" in message
