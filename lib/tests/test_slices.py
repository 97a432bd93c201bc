"""Slice judgements tell noise from harm; slice columns follow conf/data; the card's numbers.

Library tests on their own small synthetic data: they hold whatever conf/ selects.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from mllifecycle.config import (
    EvaluateConfig,
    Params,
    VerdictOverride,
    parse_problem,
)
from mllifecycle.contracts import SliceRecord
from mllifecycle.errors import (
    ConfigError,
)
from mllifecycle.evaluation import (
    card,
    slices,
)

# Acting (deciding "1") is worth 50 on a positive and costs 10 on a negative; the
# baseline never acts (value 0), so a slice's uplift is 60 * positive rate - 10 per row.
PROBLEM = parse_problem(
    {
        "name": "offer",
        "task": "binary_classification",
        "decision": "Whether to send an offer to a customer this week.",
        "target": "responded",
        "classes": ["0", "1"],
        "value_matrix": {"0": {"0": 0, "1": -10}, "1": {"0": 0, "1": 50}},
        "success_criteria": {"min_uplift_per_1000": 0},
        "constraints": {"p99_latency_ms": 100, "min_rows": 10},
    }
)


def settings(floor: float = 0.0, confidence: float = 0.95) -> EvaluateConfig:
    return EvaluateConfig(
        slice_columns=["segment"],
        slice_bins=4,
        min_slice_rows=50,
        slice_floor_uplift_per_1000=floor,
        slice_confidence=confidence,
        accept_failed_verdict=VerdictOverride(),
    )


def segment(name: str, rows: int, positives: int) -> pd.DataFrame:
    return pd.DataFrame({"segment": name, "actual": ["1"] * positives + ["0"] * (rows - positives)})


def judged(cfg: EvaluateConfig) -> dict[str, SliceRecord]:
    # noisy: 16% positives, a mean of -400 per 1,000 with a standard error of ~1,270.
    # harmful: 5% positives, -7,000 per 1,000, far beyond its noise.
    # tiny: too few rows to judge, however bad.
    data = pd.concat(
        [segment("noisy", 300, 48), segment("harmful", 300, 15), segment("tiny", 20, 0)],
        ignore_index=True,
    )
    found = slices.analyse(
        PROBLEM,
        cfg,
        data[["segment"]],
        [],
        data["actual"],
        np.full(len(data), "1", dtype=object),  # the model always acts
        np.full(len(data), "0", dtype=object),  # the baseline never does
    )
    return {s.value: s for s in found}


def test_a_slice_slightly_below_the_floor_by_noise_is_not_flagged() -> None:
    noisy = judged(settings())["noisy"]
    assert noisy.uplift_per_1000 == pytest.approx(-400.0)
    assert noisy.uplift_per_1000 < 0 <= noisy.uplift_upper_bound_per_1000
    assert not noisy.flagged


def test_a_clear_harm_is_flagged_and_a_tiny_slice_is_not_judged() -> None:
    by_value = judged(settings())
    harmful = by_value["harmful"]
    assert harmful.uplift_per_1000 == pytest.approx(-7000.0)
    assert harmful.uplift_upper_bound_per_1000 < 0 and harmful.flagged
    assert by_value["tiny"].too_small and not by_value["tiny"].flagged


def test_the_bound_is_the_one_sided_normal_bound_of_the_paired_mean() -> None:
    noisy = judged(settings(confidence=0.9))["noisy"]
    per_row = np.array([50_000.0] * 48 + [-10_000.0] * 252)
    se = per_row.std(ddof=1) / np.sqrt(len(per_row))
    assert noisy.uplift_se_per_1000 == pytest.approx(se, abs=0.01)
    expected = per_row.mean() + NormalDist().inv_cdf(0.9) * se
    assert noisy.uplift_upper_bound_per_1000 == pytest.approx(expected, abs=0.01)
    assert slices.method(0.95) == "one-sided normal bound on the mean paired difference, 95%"


def test_a_higher_floor_or_a_lower_confidence_flags_more() -> None:
    def flagged(cfg: EvaluateConfig) -> set[str]:
        return {value for value, s in judged(cfg).items() if s.flagged}

    assert flagged(settings()) == {"harmful"}
    assert flagged(settings(floor=3000.0)) == {"harmful", "noisy"}
    assert flagged(settings(confidence=0.6)) == {"harmful", "noisy"}


def test_numeric_bins_read_as_short_distinct_intervals_in_order() -> None:
    values = pd.Series(np.r_[1.0990000000000002, np.linspace(1.1, 60.0, 399), np.nan])
    labels = slices.slice_labels(values, numeric=True, bins=4)
    names = [str(c) for c in labels.cat.categories]
    assert names[0].startswith("[1.1, ") and names[-1] == slices.MISSING
    assert all(len(name) <= 16 for name in names), names
    assert len(set(names)) == len(names)
    close = slices.slice_labels(pd.Series([1.0001, 1.0002, 1.0003, 1.0004]), True, 2)
    assert len(set(close.astype(str))) == 2  # more digits where three would merge bins


def test_slice_columns_derive_from_the_data_config(make_params: Callable[..., Params]) -> None:
    data = make_params().data.model_copy(
        update={"numeric": ["age", "income"], "categorical": ["plan", "region"]}
    )
    derived = settings().model_copy(update={"slice_columns": None})
    assert derived.columns_to_slice(data) == ["plan", "region"]
    numeric_only = data.model_copy(update={"categorical": []})
    assert derived.columns_to_slice(numeric_only) == ["age"]
    assert settings().columns_to_slice(data) == ["segment"]  # an explicit list is kept


def test_a_slice_column_that_is_not_a_feature_is_named(make_params: Callable[..., Params]) -> None:
    params = make_params()
    assert params.slice_columns  # derived from conf/data when unset
    with pytest.raises(ConfigError, match=r"evaluate.slice_columns \['not_a_column'\]") as err:
        make_params("evaluate.slice_columns=[not_a_column]")
    assert "\n" not in str(err.value)


def test_card_numbers_have_one_format_per_kind() -> None:
    assert card.format_number("value_per_1000", 12345.678) == "12,345.7"
    assert card.format_number("uplift_per_1000_over_baseline", -0.04) == "0.0"
    assert card.format_number("not_worse_than_champion", -1234.56) == "-1,234.6"
    assert card.format_number("roc_auc", 0.876543) == "0.8765"
    assert card.format_number("rows", 1500.0) == "1,500"
    assert card.format_number("slices_below_floor", 2.0) == "2"
    assert card.format_number("brier", None) == ""
