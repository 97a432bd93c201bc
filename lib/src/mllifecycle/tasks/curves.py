"""Curve helpers the task modules build on: quantile bins, binned means, ROC and PR points."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics


def quantile_bins(x: np.ndarray, bins: int = 10) -> np.ndarray:
    """Bin index per value of x, by quantile; tied quantiles merge (a constant x is one bin)."""
    if len(x) == 0:
        return np.zeros(0, dtype=int)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        return np.zeros(len(x), dtype=int)
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)


def binned_means(x: np.ndarray, y: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean x and mean y per quantile bin of x, with row counts."""
    frame = pd.DataFrame({"x": x, "y": y})
    frame["bin"] = quantile_bins(np.asarray(x, dtype=float), bins)
    grouped = frame.groupby("bin").agg(
        predicted=("x", "mean"), observed=("y", "mean"), rows=("x", "size")
    )
    return grouped.reset_index(drop=True)


def roc_and_pr_points(truth: np.ndarray, score: np.ndarray) -> dict[str, pd.DataFrame]:
    """Up to 200 ROC and precision-recall points of one score against yes/no truth."""
    if truth.all() or not truth.any():
        return {}
    fpr, tpr, _ = metrics.roc_curve(truth, score)
    precision, recall, _ = metrics.precision_recall_curve(truth, score)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), 200)).astype(int))
    keep_pr = np.unique(np.linspace(0, len(recall) - 1, min(len(recall), 200)).astype(int))
    return {
        "roc": pd.DataFrame({"fpr": fpr[keep], "tpr": tpr[keep]}),
        "precision_recall": pd.DataFrame(
            {"recall": recall[keep_pr], "precision": precision[keep_pr]}
        ),
    }
