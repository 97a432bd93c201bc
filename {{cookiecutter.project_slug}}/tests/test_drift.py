from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.config import (
    Params,
)
from {{ cookiecutter.module_name }}.monitoring.drift import (
    dataset_drift,
    feature_drift,
)


def test_a_shift_is_flagged_and_a_fresh_sample_is_not(make_params: Callable[..., Params]) -> None:
    cfg = make_params().monitor
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(0, 1, 5000))
    assert not feature_drift("x", reference, pd.Series(rng.normal(0, 1, 2000)), cfg, True).drifted
    shifted = feature_drift("x", reference, pd.Series(rng.normal(0.5, 1, 2000)), cfg, True)
    assert shifted.drifted and shifted.test == "wasserstein_normed"


def test_small_samples_use_statistical_tests(make_params: Callable[..., Params]) -> None:
    cfg = make_params().monitor
    rng = np.random.default_rng(1)
    result = feature_drift(
        "x", pd.Series(rng.normal(0, 1, 500)), pd.Series(rng.normal(1, 1, 300)), cfg, True
    )
    assert result.test == "ks_p_value" and result.drifted


def test_new_and_missing_categories_are_reported(make_params: Callable[..., Params]) -> None:
    cfg = make_params().monitor
    reference = pd.Series(["a"] * 3000 + ["b"] * 3000)
    current = pd.Series(["a"] * 1000 + ["c"] * 1000)
    result = feature_drift("segment", reference, current, cfg, False)
    assert result.drifted and result.new_categories == ["c"] and result.missing_categories == ["b"]


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """A stand-in training distribution: skewed, bounded and categorical columns."""
    return pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.5, n),
            "age": rng.integers(18, 90, n).astype(float),
            "score": rng.beta(2, 5, n),
            "visits": rng.poisson(3, n).astype(float),
            "region": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
        }
    )


@pytest.mark.parametrize(("reference_rows", "current_rows"), [(5000, 2000), (800, 300)])
def test_fresh_samples_from_the_training_distribution_rarely_alarm(
    make_params: Callable[..., Params], reference_rows: int, current_rows: int
) -> None:
    """False alarms over 100 seeds, with distances (large) and tests (small samples).

    A test at p < 0.05 flags about 5% of fresh columns by design; the dataset rule
    (a share of columns at once) is what keeps alarms rare.
    """
    cfg = make_params().monitor
    numeric, categorical = ["income", "age", "score", "visits"], ["region", "plan"]
    reference = _customers(np.random.default_rng(0), reference_rows)
    feature_alarms, dataset_alarms, trials = 0, 0, 100
    for seed in range(1, trials + 1):
        current = _customers(np.random.default_rng(seed), current_rows)
        drifts = dataset_drift(reference, current, numeric, categorical, cfg)
        flagged = sum(d.drifted for d in drifts)
        feature_alarms += flagged
        dataset_alarms += flagged / len(drifts) >= cfg.drift_share
    per_feature_limit = (
        0.05 if reference_rows > cfg.large_sample_rows else 2 * cfg.p_value_threshold
    )
    assert feature_alarms / (trials * 6) < per_feature_limit
    assert dataset_alarms / trials < 0.05
