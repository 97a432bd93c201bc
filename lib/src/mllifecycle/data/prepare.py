"""Clean the raw dataset and fix the train/valid/test split before any model sees it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import DataConfig, ProblemSpec, SplitConfig
from ..errors import DataError
from ..features.inputs import typed_inputs
from .times import parse_times


def clean(
    frame: pd.DataFrame,
    data: DataConfig,
    target: str | None,
    source: str = "the data",
    keep: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """Typed columns and no exact duplicates; values keep the source's spelling.

    Features are typed exactly as the packaged model types its inputs, so what is
    trained on is what is served. `target` is None for a production batch whose
    labels have not arrived. `keep`: more columns to carry (the timestamps derived
    features read, the sensitive attributes fairness groups by).
    """
    frame = type_rows(
        frame[prepared_columns(frame, data, target, keep)].drop_duplicates(), data, source
    )
    return frame.reset_index(drop=True)


def prepared_columns(
    frame: pd.DataFrame, data: DataConfig, target: str | None, keep: list[str] | tuple[str, ...]
) -> list[str]:
    """The columns a prepared split holds; one the data lacks stops here, named."""
    keys = [c for c in (data.id_column, data.time_column) if c]
    columns = list(dict.fromkeys([*keys, *keep, *data.features]))
    if target is not None:
        columns.append(target)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"columns {missing} named in conf/data (or read by conf/features, conf/problem) "
            "are not in the data"
        )
    return columns


def type_rows(frame: pd.DataFrame, data: DataConfig, source: str) -> pd.DataFrame:
    """Row by row, so the dask engine applies it per partition: times parsed, features typed."""
    frame = parse_times(frame, data, source)
    frame[data.features] = typed_inputs(frame, data.numeric, data.categorical)
    return frame


def split(frame: pd.DataFrame, data: DataConfig) -> dict[str, pd.DataFrame]:
    """By time when there is a time column (the future is never in training), else at random."""
    if data.time_column:
        return split_by_time(frame, data.time_column, data.split)
    return split_at_random(frame, data.split)


def split_by_time(
    frame: pd.DataFrame, time_column: str, cfg: SplitConfig
) -> dict[str, pd.DataFrame]:
    """Cut at timestamps, so rows sharing a timestamp never straddle two splits."""
    times = frame[time_column]
    valid_start = times.quantile(1 - cfg.valid_fraction - cfg.test_fraction)
    test_start = times.quantile(1 - cfg.test_fraction)
    parts = {
        "train": frame[times < valid_start],
        "valid": frame[(times >= valid_start) & (times < test_start)],
        "test": frame[times >= test_start],
    }
    return {
        name: part.sort_values(time_column, kind="stable").reset_index(drop=True)
        for name, part in parts.items()
    }


def split_at_random(frame: pd.DataFrame, cfg: SplitConfig) -> dict[str, pd.DataFrame]:
    order = np.random.default_rng(cfg.seed).permutation(len(frame))
    n_test = round(len(frame) * cfg.test_fraction)
    n_valid = round(len(frame) * cfg.valid_fraction)
    test, valid, train = np.split(order, [n_test, n_test + n_valid])
    return {
        name: frame.iloc[np.sort(rows)].reset_index(drop=True)
        for name, rows in (("train", train), ("valid", valid), ("test", test))
    }


def split_summary(
    parts: dict[str, pd.DataFrame], problem: ProblemSpec, data: DataConfig
) -> dict[str, dict[str, Any]]:
    """reports/split.json: rows, label shares (classification) and time span per split."""
    summary: dict[str, dict[str, Any]] = {}
    for name, part in parts.items():
        summary[name] = {"rows": len(part)}
        if problem.is_classification:
            shares = part[problem.target].astype(str).value_counts(normalize=True)
            summary[name]["label_share"] = {k: round(float(v), 4) for k, v in shares.items()}
        if data.time_column:
            times = part[data.time_column]
            summary[name]["from"], summary[name]["to"] = str(times.min()), str(times.max())
    return summary
