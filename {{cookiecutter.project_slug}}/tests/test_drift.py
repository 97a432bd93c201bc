from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from {{ cookiecutter.module_name }}.config import (
    Params,
)
from {{ cookiecutter.module_name }}.monitoring.drift import (
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
