"""Robustness: the model's value when its test inputs are slightly wrong.

A seeded sample of the prepared test rows (at most `sample_rows`) is scored
clean and under each perturbation, through the fitted preprocessing and model:
- noise: Gaussian noise on every numeric input, its standard deviation a fraction
  of the feature's interquartile range on the train split (its std when the IQR is 0);
- missing: a share of the input values (numeric and categorical) set missing;
- unseen: a share of the categorical values set to a category never seen in training.
Each row of the table is the value per 1,000 decisions (and the main metric) and
the drop in value against the clean sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..config import DataConfig, ProblemSpec, RobustnessConfig
from .card import Section, format_number
from .verdict import Criterion

UNSEEN = "__unseen_in_training__"
Scorer = Callable[[pd.DataFrame], dict[str, float]]


def spread(train: pd.DataFrame, numeric: list[str]) -> dict[str, float]:
    """Each numeric feature's train IQR, its std when the IQR is 0."""
    found = {}
    for column in numeric:
        values = train[column].astype(float)
        iqr = float(values.quantile(0.75) - values.quantile(0.25))
        found[column] = iqr if iqr > 0 else float(np.nan_to_num(values.std()))
    return found


def perturbations(
    clean: pd.DataFrame, data: DataConfig, spreads: dict[str, float], cfg: RobustnessConfig
) -> dict[str, pd.DataFrame]:
    """The clean sample and each perturbed copy, named as in the table."""
    rng = np.random.default_rng(cfg.seed)
    noisy, missing, unseen = clean.copy(), clean.copy(), clean.copy()
    for column in data.numeric:
        noise = rng.normal(0.0, cfg.noise_fraction * spreads[column], len(clean))
        noisy[column] = clean[column].astype(float) + noise
    for column in [*data.numeric, *data.categorical]:
        hit = rng.random(len(clean)) < cfg.missing_share
        missing[column] = _with(clean[column], hit, None)
    for column in data.categorical:
        hit = rng.random(len(clean)) < cfg.unseen_share
        unseen[column] = _with(clean[column], hit, UNSEEN)
    # Fixed names: metric keys must not change with the settings (nor hold dots, which
    # DVC reads as nesting); the card's text gives the sizes.
    return {"clean": clean, "noise": noisy, "missing": missing, "unseen_categories": unseen}


def _with(values: pd.Series, hit: np.ndarray, replacement: Any) -> pd.Series:
    if replacement is None and pd.api.types.is_integer_dtype(values):
        values = values.astype(float)  # integers hold no missing value
    elif isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(str).where(values.notna(), None)
    return values.mask(hit, replacement)


def sample(test: pd.DataFrame, cfg: RobustnessConfig) -> pd.DataFrame:
    if len(test) <= cfg.sample_rows:
        return test.reset_index(drop=True)
    return test.sample(n=cfg.sample_rows, random_state=cfg.seed).reset_index(drop=True)


def analyse(
    problem: ProblemSpec,
    scorer: Scorer,
    clean: pd.DataFrame,
    data: DataConfig,
    spreads: dict[str, float],
    cfg: RobustnessConfig,
) -> dict[str, dict[str, float]]:
    """Perturbation name to its figures: value_per_1000, the main metric, value_drop_per_1000."""
    table = {
        name: scorer(frame) for name, frame in perturbations(clean, data, spreads, cfg).items()
    }
    base = table["clean"]["value_per_1000"]
    metric = main_metric(problem)
    return {
        name: {
            "value_per_1000": round(figures["value_per_1000"], 6),
            **({metric: round(figures[metric], 6)} if metric in figures else {}),
            "value_drop_per_1000": round(base - figures["value_per_1000"], 6),
        }
        for name, figures in table.items()
    }


def main_metric(problem: ProblemSpec) -> str:
    """The first metric the spec puts a floor on, else the task's first."""
    floors = list(problem.success_criteria.metric_floors)
    return floors[0] if floors else problem.floor_metrics[0]


def worst_drop(table: dict[str, dict[str, float]]) -> tuple[str, float]:
    name = max(table, key=lambda n: table[n]["value_drop_per_1000"])
    return name, table[name]["value_drop_per_1000"]


def criterion(table: dict[str, dict[str, float]], cfg: RobustnessConfig) -> Criterion | None:
    if cfg.max_value_drop_per_1000 is None:
        return None
    name, drop = worst_drop(table)
    return Criterion(
        "robustness_worst_value_drop_per_1000",
        drop,
        cfg.max_value_drop_per_1000,
        drop <= cfg.max_value_drop_per_1000,
        f"worst perturbation: {name}",
    )


def section(table: dict[str, dict[str, float]], cfg: RobustnessConfig, rows: int) -> Section:
    names = list(next(iter(table.values())))
    limit = (
        f"The verdict fails when the worst drop exceeds {cfg.max_value_drop_per_1000:,.1f}."
        if cfg.max_value_drop_per_1000 is not None
        else "No criterion is set (evaluate.robustness.max_value_drop_per_1000)."
    )
    return Section(
        "Robustness",
        [
            f"{rows:,} test rows (seed {cfg.seed}) scored clean and perturbed: noise with a "
            f"standard deviation of {cfg.noise_fraction:g} x each numeric feature's train "
            f"interquartile range; missing: {cfg.missing_share:.0%} of input values set "
            f"missing; unseen_categories: {cfg.unseen_share:.0%} of categories replaced by "
            f"one never seen in training. {limit}"
        ],
        table=(
            ["inputs", *names],
            [[name, *(format_number(n, f.get(n)) for n in names)] for name, f in table.items()],
        ),
    )
