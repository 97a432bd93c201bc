from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mllifecycle.config import (
    MonitorConfig,
    Params,
)
from mllifecycle.contracts import DriftRecord
from mllifecycle.monitoring import drift
from mllifecycle.monitoring.drift import (
    ReferenceProfile,
    _bin_shares,
    _wasserstein_sorted,
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


# --- the fast drift against a plain SciPy/pandas computation of the same statistics ---


def _plain_drift(
    column: str, reference: pd.Series, current: pd.Series, cfg: MonitorConfig, numeric: bool
) -> DriftRecord:
    """The statistics computed the obvious way: dropna copies, astype(str), SciPy calls."""
    ref, cur = reference.dropna(), current.dropna()
    is_numeric = numeric and ref.nunique() > 5
    large = len(ref) > cfg.large_sample_rows
    new: list[str] = []
    missing: list[str] = []
    if is_numeric:
        ref_values, cur_values = ref.to_numpy(float), cur.to_numpy(float)
        if large:
            test, threshold = "wasserstein_normed", cfg.wasserstein_threshold
            statistic = stats.wasserstein_distance(ref_values, cur_values) / max(
                float(np.std(ref_values)), 1e-4
            )
        else:
            test, threshold = "ks_p_value", cfg.p_value_threshold
            statistic = float(stats.ks_2samp(ref_values, cur_values).pvalue)
        edges = np.unique(np.quantile(ref_values, np.linspace(0, 1, 11)))
        edges[0], edges[-1] = -np.inf, np.inf
        ref_share: np.ndarray = np.histogram(ref_values, edges)[0] / max(len(ref_values), 1)
        cur_share: np.ndarray = np.histogram(cur_values, edges)[0] / max(len(cur_values), 1)
    else:
        ref_text, cur_text = ref.astype(str), cur.astype(str)
        categories = sorted(set(ref_text.unique()) | set(cur_text.unique()))
        ref_share = (
            ref_text.value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy()
        )
        cur_share = (
            cur_text.value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy()
        )
        if large:
            test, threshold = "jensenshannon", cfg.jensenshannon_threshold
            statistic = float(jensenshannon(ref_share + 1e-4, cur_share + 1e-4))
        else:
            test, threshold = "chi2_p_value", cfg.p_value_threshold
            expected = (ref_share + 1e-4) / (ref_share + 1e-4).sum() * len(cur)
            statistic = float(stats.chisquare(cur_share * len(cur), expected).pvalue)
        new = [c for c, r in zip(categories, ref_share, strict=True) if r == 0]
        missing = [c for c, s in zip(categories, cur_share, strict=True) if s == 0]
    ref_psi, cur_psi = ref_share + 1e-4, cur_share + 1e-4
    drifted = statistic < threshold if test.endswith("p_value") else statistic > threshold
    return DriftRecord(
        column=column,
        kind="numeric" if is_numeric else "categorical",
        test=test,
        statistic=round(float(statistic), 6),
        threshold=threshold,
        drifted=bool(drifted),
        psi=round(float(np.sum((cur_psi - ref_psi) * np.log(cur_psi / ref_psi))), 6),
        null_rate_reference=round(float(reference.isna().mean()), 6),
        null_rate_current=round(float(current.isna().mean()), 6),
        new_categories=new,
        missing_categories=missing,
    )


def _with_nans(rng: np.random.Generator, values: np.ndarray, rate: float) -> pd.Series:
    series = pd.Series(values)
    return series.mask(rng.random(len(series)) < rate)


def _mixed_frame(
    rng: np.random.Generator, rows: int, shift: float, labels: list[str]
) -> pd.DataFrame:
    """Continuous, heavy-tied and few-distinct numerics, text and pandas categoricals, with NaNs."""
    return pd.DataFrame(
        {
            "normal": _with_nans(rng, rng.normal(shift, 1, rows), 0.05),
            "rounded": _with_nans(rng, np.round(rng.normal(shift, 3, rows)), 0.1),
            "few": _with_nans(rng, rng.integers(0, 4, rows).astype(float) + shift, 0.02),
            "integers": pd.Series(rng.integers(0, 50, rows) + int(shift * 10)),
            "segment": _with_nans(rng, rng.choice(labels, rows), 0.03),
            "tier": pd.Categorical(rng.choice(labels[:2], rows), categories=[*labels, "unused"]),
        }
    )


MIXED_NUMERIC = ["normal", "rounded", "few", "integers"]
MIXED_CATEGORICAL = ["segment", "tier"]


@pytest.mark.parametrize(
    ("reference_rows", "current_rows", "shift"),
    [(300, 120, 0.0), (800, 2500, 0.7), (5000, 2000, 0.0), (20000, 7000, 0.4), (4000, 1, 0.0)],
)
def test_the_fast_drift_equals_a_plain_scipy_computation(
    make_params: Callable[..., Params], reference_rows: int, current_rows: int, shift: float
) -> None:
    """Every field, on small (tests) and large (distances) samples, with NaNs, ties,
    few-distinct numbers, an integer column, a category only the batch has ("e") and
    ones only the reference has ("a")."""
    cfg = make_params().monitor
    reference = _mixed_frame(np.random.default_rng(11), reference_rows, 0.0, ["a", "b", "c", "d"])
    current = _mixed_frame(np.random.default_rng(12), current_rows, shift, ["e", "b", "c", "d"])
    fast = dataset_drift(reference, current, MIXED_NUMERIC, MIXED_CATEGORICAL, cfg)
    plain = [
        _plain_drift(column, reference[column], current[column], cfg, column in MIXED_NUMERIC)
        for column in [*MIXED_NUMERIC, *MIXED_CATEGORICAL]
    ]
    for got, want in zip(fast, plain, strict=True):
        fields = ("column", "kind", "test", "threshold", "drifted", "null_rate_reference")
        assert got.model_dump(include=set(fields)) == want.model_dump(include=set(fields))
        assert (got.new_categories, got.missing_categories) == (
            want.new_categories,
            want.missing_categories,
        ), got.column
        assert got.null_rate_current == want.null_rate_current
        # both are rounded to 6 places: a last-digit flip is the only difference allowed
        assert got.statistic == pytest.approx(want.statistic, abs=1.1e-6), got.column
        assert got.psi == pytest.approx(want.psi, abs=1.1e-6), got.column
    kinds = {d.column: d.kind for d in fast}
    assert kinds["few"] == "categorical" and kinds["normal"] == "numeric"


def test_new_and_missing_categories_include_few_distinct_numbers(
    make_params: Callable[..., Params],
) -> None:
    """Few-distinct numbers are categories named as text, as `astype(str)` names them."""
    cfg = make_params().monitor
    reference = pd.Series([1.0, 2.0, 3.0] * 1000)
    current = pd.Series([1.0, 2.0, 7.5] * 400)
    result = feature_drift("few", reference, current, cfg, True)
    assert result.kind == "categorical" and result.test == "jensenshannon"
    assert result.new_categories == ["7.5"] and result.missing_categories == ["3.0"]


@pytest.mark.parametrize(("n", "m"), [(1, 1), (7, 3), (1000, 1000), (2001, 333), (50000, 17000)])
def test_wasserstein_on_sorted_samples_equals_scipy(n: int, m: int) -> None:
    rng = np.random.default_rng(n + m)
    u = np.sort(np.round(rng.normal(0, 1, n), 1))  # rounding makes ties within and across
    v = np.sort(np.round(rng.standard_t(3, m) + 0.3, 1))
    assert _wasserstein_sorted(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-9)


def test_psi_bins_count_as_numpy_histogram_does() -> None:
    rng = np.random.default_rng(5)
    values = np.sort(np.round(rng.normal(0, 2, 10000)))
    edges = np.unique(np.quantile(values, np.linspace(0, 1, 11)))
    outer = np.concatenate([[-np.inf], edges[1:-1], [np.inf]])
    expected = np.histogram(values, outer)[0] / len(values)
    np.testing.assert_array_equal(_bin_shares(values, edges[1:-1]), expected)


def test_one_profile_serves_every_batch(make_params: Callable[..., Params]) -> None:
    """The reference is profiled once; comparing batches with it equals drift from scratch."""
    cfg = make_params().monitor
    reference = _mixed_frame(np.random.default_rng(21), 6000, 0.0, ["a", "b", "c", "d"])
    profile = ReferenceProfile.of(reference, MIXED_NUMERIC, MIXED_CATEGORICAL, cfg)
    for seed, shift in [(22, 0.0), (23, 0.8)]:
        current = _mixed_frame(np.random.default_rng(seed), 3000, shift, ["a", "b", "c", "e"])
        assert profile.compare(current) == dataset_drift(
            reference, current, MIXED_NUMERIC, MIXED_CATEGORICAL, cfg
        )


def test_a_column_summed_up_in_parts_compares_as_the_whole_column(
    make_params: Callable[..., Params],
) -> None:
    """ColumnSketch: sketches of parts add up to the whole's; from them, PSI, null rates
    and category statistics are exact and the distance within the spans' share."""
    cfg = make_params().monitor.model_copy(update={"large_sample_rows": 100})
    rng = np.random.default_rng(3)
    reference = pd.Series(np.round(rng.normal(0, 1, 5000), 2))
    current = pd.Series(np.where(rng.random(4000) < 0.1, np.nan, rng.normal(0.4, 1.3, 4000)))
    numeric = drift.profile_column("x", reference, cfg, numeric=True)
    parts = [numeric.sketch(current.iloc[start : start + 1500]) for start in (0, 1500, 3000)]
    summed = parts[0] + parts[1] + parts[2]
    whole = numeric.sketch(current)
    assert summed.bins is not None and whole.bins is not None
    assert (summed.bins == whole.bins).all() and summed.nulls == whole.nulls == current.isna().sum()
    got, want = numeric.compare_sketch(summed, cfg, current), numeric.compare(current, cfg)
    assert got.test == want.test == "wasserstein_normed"
    assert got.statistic == pytest.approx(want.statistic, abs=1e-4)
    assert (got.psi, got.null_rate_current, got.drifted) == (
        want.psi,
        want.null_rate_current,
        want.drifted,
    )

    labels = pd.Series(
        rng.choice(np.array(["a", "b", "c", None], dtype=object), 3000, p=[0.5, 0.3, 0.15, 0.05])
    )
    category = drift.profile_column("c", labels.iloc[:1000], cfg, numeric=False)
    pieces = [category.sketch(labels.iloc[start : start + 500]) for start in range(1000, 3000, 500)]
    summed = sum(pieces, start=drift.ColumnSketch(0, 0))
    assert category.compare_sketch(summed, cfg, labels.iloc[:0]) == category.compare(
        labels.iloc[1000:], cfg
    )
