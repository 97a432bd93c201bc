"""Per-feature drift between a reference (training) sample and a current batch.

The test depends on the column's type and the sample size, as in Evidently:
up to `large_sample_rows` reference rows, statistical tests (Kolmogorov-Smirnov
for numbers, chi-squared for categories) at a p-value threshold; above it,
distances (Wasserstein normalised by the reference's standard deviation,
Jensen-Shannon), because on large samples every trivial shift is "significant".
Numbers with at most 5 distinct values are treated as categories. PSI is
reported for every column as a familiar second opinion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from ..config import MonitorConfig
from ..contracts import DriftRecord

EPSILON = 1e-4


def feature_drift(
    column: str, reference: pd.Series, current: pd.Series, cfg: MonitorConfig, numeric: bool
) -> DriftRecord:
    ref, cur = reference.dropna(), current.dropna()
    is_numeric = numeric and ref.nunique() > 5
    large = len(ref) > cfg.large_sample_rows
    if is_numeric:
        ref_values, cur_values = ref.to_numpy(float), cur.to_numpy(float)
        if large:
            test, threshold = "wasserstein_normed", cfg.wasserstein_threshold
            statistic = stats.wasserstein_distance(ref_values, cur_values) / max(
                float(np.std(ref_values)), EPSILON
            )
        else:
            test, threshold = "ks_p_value", cfg.p_value_threshold
            statistic = float(stats.ks_2samp(ref_values, cur_values).pvalue)
        psi = _psi(*_numeric_histograms(ref_values, cur_values))
        new, missing = [], []
    else:
        ref_share, cur_share, categories = _category_shares(ref.astype(str), cur.astype(str))
        if large:
            test, threshold = "jensenshannon", cfg.jensenshannon_threshold
            statistic = float(jensenshannon(ref_share + EPSILON, cur_share + EPSILON))
        else:
            test, threshold = "chi2_p_value", cfg.p_value_threshold
            expected = (ref_share + EPSILON) / (ref_share + EPSILON).sum() * len(cur)
            observed = cur_share * len(cur)
            statistic = float(stats.chisquare(observed, expected).pvalue)
        psi = _psi(ref_share, cur_share)
        new = [c for c, r in zip(categories, ref_share, strict=True) if r == 0]
        missing = [c for c, s in zip(categories, cur_share, strict=True) if s == 0]
    drifted = statistic < threshold if test.endswith("p_value") else statistic > threshold
    return DriftRecord(
        column=column,
        kind="numeric" if is_numeric else "categorical",
        test=test,
        statistic=round(float(statistic), 6),
        threshold=threshold,
        drifted=bool(drifted),
        psi=round(psi, 6),
        null_rate_reference=round(float(reference.isna().mean()), 6),
        null_rate_current=round(float(current.isna().mean()), 6),
        new_categories=new,
        missing_categories=missing,
    )


def dataset_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    cfg: MonitorConfig,
) -> list[DriftRecord]:
    return [
        feature_drift(column, reference[column], current[column], cfg, column in numeric)
        for column in [*numeric, *categorical]
    ]


def _numeric_histograms(
    ref: np.ndarray, cur: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    ref_counts = np.histogram(ref, edges)[0] / max(len(ref), 1)
    cur_counts = np.histogram(cur, edges)[0] / max(len(cur), 1)
    return ref_counts, cur_counts


def _category_shares(ref: pd.Series, cur: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    categories = sorted(set(ref.unique()) | set(cur.unique()))
    ref_share = ref.value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy(float)
    cur_share = cur.value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy(float)
    return ref_share, cur_share, categories


def _psi(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    ref_share, cur_share = ref_share + EPSILON, cur_share + EPSILON
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))
