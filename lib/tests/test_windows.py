"""The retrain rule: drift has to persist across time windows, not blip once."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import (
    DataConfig,
    MonitorConfig,
    Params,
)
from mllifecycle.monitoring.drift import (
    ReferenceProfile,
    dataset_drift,
)
from mllifecycle.monitoring.windows import (
    WHOLE_BATCH,
    cut,
    persistent_drift,
    window_drifts,
)

DAYS_PER_WINDOW = 30


def batch(rng: np.random.Generator, shifted_windows: set[int], n_windows: int = 4) -> pd.DataFrame:
    """n_windows windows of 500 rows; the listed ones have both features shifted."""
    frames = []
    for index in range(n_windows):
        shift = 1.0 if index in shifted_windows else 0.0
        start = pd.Timestamp("2025-01-01") + pd.Timedelta(days=DAYS_PER_WINDOW * index)
        frames.append(
            pd.DataFrame(
                {
                    "when": start + pd.to_timedelta(rng.integers(0, DAYS_PER_WINDOW, 500), "D"),
                    "a": rng.normal(shift, 1, 500),
                    "b": rng.normal(shift, 1, 500),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def setup(make_params: Callable[..., Params]) -> tuple[DataConfig, MonitorConfig, pd.DataFrame]:
    params = make_params()
    data = params.data.model_copy(
        update={"numeric": ["a", "b"], "categorical": [], "time_column": "when", "id_column": None}
    )
    monitor = params.monitor.model_copy(
        update={"window": f"{DAYS_PER_WINDOW}D", "windows": 3, "min_drifted_windows": 2}
    )
    reference = pd.DataFrame(
        {
            "a": np.random.default_rng(0).normal(0, 1, 3000),
            "b": np.random.default_rng(1).normal(0, 1, 3000),
        }
    )
    return data, monitor, reference


def verdict(setup: tuple[DataConfig, MonitorConfig, pd.DataFrame], shifted: set[int]) -> str | None:
    data, monitor, reference = setup
    current = batch(np.random.default_rng(7), shifted)
    windows = window_drifts(reference, current, data, monitor, lambda frame: None)
    assert len(windows) == 4 and all(w.rows == 500 for w in windows)
    assert [w.dataset_drift for w in windows] == [i in shifted for i in range(4)]
    return persistent_drift(windows, monitor)


def test_persistent_drift_triggers_a_retrain(
    setup: tuple[DataConfig, MonitorConfig, pd.DataFrame],
) -> None:
    reason = verdict(setup, shifted={2, 3})
    assert reason is not None and "2 of the last 3 windows" in reason


def test_one_drifted_window_is_a_blip(
    setup: tuple[DataConfig, MonitorConfig, pd.DataFrame],
) -> None:
    assert verdict(setup, shifted={3}) is None


def test_drift_that_has_passed_does_not_trigger(
    setup: tuple[DataConfig, MonitorConfig, pd.DataFrame],
) -> None:
    assert verdict(setup, shifted={1, 2}) is None


def test_without_a_time_column_the_batch_is_one_window() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    assert [start for start, _ in cut(frame, None, "30D")] == [WHOLE_BATCH]
    assert [start for start, _ in cut(frame, "when", "30D")] == [WHOLE_BATCH]


@pytest.mark.parametrize(
    ("override", "message"),
    [("monitor.window=monthly", "fixed length"), ("monitor.min_drifted_windows=9", "exceeds")],
)
def test_a_bad_window_rule_is_named(
    make_params: Callable[..., Params], override: str, message: str
) -> None:
    with pytest.raises(Exception, match=message):
        make_params(override)


def test_a_batch_without_time_reuses_the_whole_batch_drift(
    setup: tuple[DataConfig, MonitorConfig, pd.DataFrame],
) -> None:
    data, monitor, reference = setup
    untimed = data.model_copy(update={"time_column": None})
    current = batch(np.random.default_rng(3), {0, 1, 2, 3}).drop(columns="when")
    whole = dataset_drift(reference, current, untimed.numeric, [], monitor)
    (window,) = window_drifts(reference, current, untimed, monitor, lambda f: None, whole)
    assert window.start == WHOLE_BATCH and window.drifted == [d.column for d in whole if d.drifted]
    assert window.dataset_drift and window.rows == len(current)


def test_windows_share_one_reference_profile(
    setup: tuple[DataConfig, MonitorConfig, pd.DataFrame],
) -> None:
    """A profile passed in gives the windows the drift the reference table gives,
    which is each window's drift computed from scratch."""
    data, monitor, reference = setup
    current = batch(np.random.default_rng(5), {1, 3})
    profile = ReferenceProfile.of(reference, data.numeric, data.categorical, monitor)
    from_profile = window_drifts(profile, current, data, monitor, lambda frame: None)
    assert from_profile == window_drifts(reference, current, data, monitor, lambda frame: None)
    for window, (_, frame) in zip(from_profile, cut(current, "when", monitor.window), strict=True):
        drifts = dataset_drift(reference, frame, data.numeric, data.categorical, monitor)
        assert window.drifted == [d.column for d in drifts if d.drifted]
    assert [bool(w.drifted) for w in from_profile] == [False, True, False, True]
