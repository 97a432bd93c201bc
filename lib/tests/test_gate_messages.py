"""Gate messages that stay meaningful where a naive formula would not: a column that
is constant in training, infinite values, timestamps with and without a time zone."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from mllifecycle.config import (
    Params,
)
from mllifecycle.validation import (
    skew,
    time_rules,
)


def batch(params: Params, rows: int = 60) -> pd.DataFrame:
    """A training-like batch of the example's features: spread numbers, one category."""
    numbers = {column: np.linspace(1.0, 10.0, rows) for column in params.data.numeric}
    return pd.DataFrame(numbers).assign(**{c: "a" for c in params.data.categorical})


def test_a_column_constant_in_training_is_named_without_a_meaningless_distance(
    example_params: Callable[..., Params],
) -> None:
    params = example_params()
    column = params.data.numeric[0]
    training = batch(params).assign(**{column: 2.0})
    production = training.assign(**{column: 2000.0})
    (failure,) = skew.gate(training, production, params.data).failures
    assert failure.column == column
    assert failure.observed == "training holds only 2; production has other values (median 2000)"
    assert not skew.gate(training, training.copy(), params.data).failures


def test_infinite_values_are_counted_not_averaged(example_params: Callable[..., Params]) -> None:
    params = example_params()
    column = params.data.numeric[-1]
    training = batch(params)
    production = training.copy()
    production.loc[:2, column] = np.inf
    (failure,) = skew.gate(training, production, params.data).failures
    assert (failure.column, failure.observed) == (column, "3 infinite value(s) in production")
    assert "nan" not in failure.describe()


def test_an_empty_batch_is_not_skewed(example_params: Callable[..., Params]) -> None:
    params = example_params()
    training = batch(params)
    assert skew.gate(training, training.iloc[0:0], params.data).passed


def test_mixed_time_zones_are_a_named_failure_not_a_type_error(
    example_params: Callable[..., Params],
) -> None:
    params = example_params()
    time_column, (event,) = params.data.time_column, params.data.checks.event_time_columns
    assert time_column is not None
    frame = pd.DataFrame(
        {
            time_column: pd.to_datetime(["2024-03-01", "2024-03-02"]),
            event: pd.to_datetime(["2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z"]),
        }
    )
    (failure,) = time_rules.time_zone_mismatches(params, frame, "dataset").failures
    assert failure.column == event and "set data.time_zone" in failure.observed
    now = pd.Timestamp.now(tz="UTC")
    kinds = [rule["type"] for rule in time_rules.time_expectations(params, now, frame)]
    assert "expect_column_pair_values_a_to_be_greater_than_b" not in kinds
    placed = frame.assign(**{time_column: frame[time_column].dt.tz_localize("UTC")})
    assert time_rules.time_zone_mismatches(params, placed, "dataset").passed
