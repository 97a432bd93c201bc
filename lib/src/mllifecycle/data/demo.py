"""A synthetic customer base that behaves like a real subscription business.

Monthly snapshots over two years, numeric and categorical columns with gaps,
and targets for all three tasks driven by thresholds and interactions (a tree
model finds them, a linear model only partly). The production batch comes
three months later with a price rise, lower usage and a new regional mix, and
carries labels, as if they had arrived late. Same seed, same data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import MulticlassProblem, ProblemSpec
from ..errors import DataError

HISTORY_START = pd.Timestamp("2023-01-01")
HISTORY_DAYS = 730
PRODUCTION_START = HISTORY_START + pd.Timedelta(days=HISTORY_DAYS)
PRODUCTION_DAYS = 90
# The production batch's random stream beside the parts' (generate_production).
PRODUCTION_STREAM = 2**31

PLANS = ("basic", "standard", "premium")
REGIONS = ("north", "south", "east", "west")
# Spelled as a billing system would: the pipeline keeps the source's spelling.
PAYMENTS = ("Card", "Bank transfer", "Invoice")


@dataclass(frozen=True)
class Population:
    """How customers are drawn; the production batch uses a shifted one."""

    charge_shift: float = 0.0
    usage_scale: float = 1.0
    region_mix: tuple[float, ...] = (0.30, 0.25, 0.25, 0.20)


REFERENCE = Population()
SHIFTED = Population(charge_shift=18.0, usage_scale=0.7, region_mix=(0.15, 0.20, 0.25, 0.40))


# The demo history is drawn in parts of this many rows, each from its own random stream
# ([seed, part]), on either engine: the same seed gives the same rows on pandas and on
# dask (where the workers make the parts), so the engines can be compared row for row.
PART_ROWS = 250_000


def generate(
    problem: ProblemSpec, n_rows: int, n_production_rows: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (history, production) for the problem's task and target name."""
    made = [generate_part(problem, *part, seed) for part in parts(n_rows)]
    history = pd.concat(made, ignore_index=True) if len(made) > 1 else made[0]
    return history, generate_production(problem, n_rows, n_production_rows, seed)


def parts(n_rows: int) -> list[tuple[int, int, int]]:
    """(part number, rows, first id) of each part of a history of `n_rows`."""
    starts = range(0, n_rows, PART_ROWS)
    return [(i, min(PART_ROWS, n_rows - start), start + 1) for i, start in enumerate(starts)]


def generate_part(
    problem: ProblemSpec, part: int, rows: int, first_id: int, seed: int
) -> pd.DataFrame:
    """One part of a demo history: customers `first_id` onwards, from the part's own
    random stream. Same seed and part, same rows, whichever process draws them."""
    _check_classes(problem)
    rng = np.random.default_rng([seed, part])
    history = _customers(rng, rows, HISTORY_START, HISTORY_DAYS, REFERENCE, first_id)
    history[problem.target] = _target(rng, history, problem)
    return history


def generate_production(
    problem: ProblemSpec, n_rows: int, n_production_rows: int, seed: int
) -> pd.DataFrame:
    """The production batch that goes with a history of `n_rows` made by `generate_part`."""
    made = [
        generate_production_part(problem, *part, seed)
        for part in production_parts(n_rows, n_production_rows)
    ]
    return pd.concat(made, ignore_index=True) if len(made) > 1 else made[0]


def production_parts(n_rows: int, n_production_rows: int) -> list[tuple[int, int, int]]:
    """(part number, rows, first id) of each part of the production batch: its ids
    follow the history's."""
    return [
        (number, rows, n_rows + first_id)
        for number, rows, first_id in parts(max(n_production_rows, 0)) or [(0, 0, 1)]
    ]


def generate_production_part(
    problem: ProblemSpec, part: int, rows: int, first_id: int, seed: int
) -> pd.DataFrame:
    """One part of the production batch, from its own random stream (part 0's is the
    one a batch of at most PART_ROWS rows has always been drawn from)."""
    _check_classes(problem)
    stream = [seed, PRODUCTION_STREAM] if part == 0 else [seed, PRODUCTION_STREAM, part]
    rng = np.random.default_rng(stream)
    production = _customers(rng, rows, PRODUCTION_START, PRODUCTION_DAYS, SHIFTED, first_id)
    production[problem.target] = _target(rng, production, problem)
    return production


def _check_classes(problem: ProblemSpec) -> None:
    if isinstance(problem, MulticlassProblem) and len(problem.labels) != 3:
        raise DataError("the demo data has three plan-change classes: (down, stay, up)")


def _customers(
    rng: np.random.Generator,
    n: int,
    start: pd.Timestamp,
    days: int,
    population: Population,
    first_id: int,
) -> pd.DataFrame:
    usage = rng.gamma(3.0, 10.0, n) * population.usage_scale
    usage[rng.random(n) < 0.06] = np.nan
    payment = rng.choice(np.array(PAYMENTS, dtype=object), n, p=[0.5, 0.3, 0.2])
    payment[rng.random(n) < 0.04] = None
    offsets = pd.to_timedelta(np.sort(rng.integers(0, days, n)), unit="D")
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(first_id, first_id + n)],
            "snapshot_date": (start + offsets).astype("datetime64[us]"),
            "tenure_months": np.clip(rng.gamma(2.0, 12.0, n), 0, 120).round().astype("int64"),
            "monthly_charges": np.clip(rng.normal(65 + population.charge_shift, 25, n), 15, 250),
            "support_tickets": rng.poisson(1.2, n).astype("int64"),
            "usage_hours": usage,
            "days_since_login": rng.exponential(10.0, n).round().astype("int64"),
            "num_products": np.clip(1 + rng.poisson(0.8, n), 1, 6).astype("int64"),
            "plan": rng.choice(PLANS, n, p=[0.5, 0.35, 0.15]),
            "region": rng.choice(REGIONS, n, p=list(population.region_mix)),
            "payment_method": payment,
        }
    )
    # The event days_since_login was computed from: never after the snapshot.
    login_gap = pd.to_timedelta(frame["days_since_login"], unit="D")
    frame["last_login_date"] = frame["snapshot_date"] - login_gap
    return frame


def _churn_logit(frame: pd.DataFrame) -> np.ndarray:
    usage = frame["usage_hours"].fillna(30.0).to_numpy()
    logit = (
        -1.6
        + 2.2 * (frame["support_tickets"] >= 3)
        + 2.4 * ((frame["monthly_charges"] > 90) & (frame["tenure_months"] < 12))
        + 2.0 / (1 + np.exp(-(frame["days_since_login"] - 20) / 3))
        - 1.2 * (frame["plan"] == "premium")
        + 0.6 * (frame["payment_method"] == "Invoice")
        - 0.04 * np.minimum(frame["tenure_months"], 60)
        - 0.5 * (frame["num_products"] - 1)
        + 1.8 * (usage < 10)
    )
    return np.asarray(logit, dtype=float)


def _target(rng: np.random.Generator, frame: pd.DataFrame, problem: ProblemSpec) -> pd.Series:
    logit = _churn_logit(frame) + rng.normal(0, 0.3, len(frame))
    churn_probability = 1 / (1 + np.exp(-logit))
    return TARGETS[problem.task](rng, frame, problem, churn_probability)


def _churned(
    rng: np.random.Generator, frame: pd.DataFrame, problem: ProblemSpec, churn: np.ndarray
) -> pd.Series:
    # classes are [negative, positive], as in the problem spec.
    negative, positive = getattr(problem, "classes", None) or (0, 1)
    churned = rng.random(len(frame)) < churn
    return pd.Series(np.where(churned, positive, negative), index=frame.index)


def _plan_change(
    rng: np.random.Generator, frame: pd.DataFrame, problem: ProblemSpec, churn: np.ndarray
) -> pd.Series:
    """Classes in spec order read as (move down, stay, move up)."""
    labels = problem.labels
    usage = frame["usage_hours"].fillna(30.0)
    basic, premium = frame["plan"] == "basic", frame["plan"] == "premium"
    down = (
        -1.8
        + 1.4 * (frame["monthly_charges"] > 90)
        + 1.2 * (usage < 12)
        + 0.9 * (frame["support_tickets"] >= 3)
        - 0.8 * basic
    )
    up = (
        -2.0
        + 1.6 * (usage > 45)
        + 0.8 * (frame["num_products"] >= 3)
        + 1.2 * (basic & (frame["tenure_months"] > 24))
        - 0.9 * premium
    )
    scores = np.column_stack([down, np.zeros(len(frame)), up]).astype(float)
    scores += rng.gumbel(size=scores.shape)  # sampling from the softmax of the scores
    return pd.Series(np.asarray(labels, dtype=object)[scores.argmax(axis=1)], index=frame.index)


def _spend(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    problem: ProblemSpec,
    churn_probability: np.ndarray,
) -> pd.Series:
    usage = frame["usage_hours"].fillna(30.0)
    spend = (
        3.0
        * frame["monthly_charges"]
        * (1 + 0.15 * (frame["num_products"] - 1))
        * (1 - 0.7 * churn_probability)
        + 2.5 * usage * (frame["plan"] == "premium")
        + 40.0 * (frame["tenure_months"] > 36)
    )
    noise = rng.lognormal(0.0, 0.2, len(frame))
    return pd.Series(np.round(spend * noise, 2), index=frame.index)


# The demo's target for each task, drawn from the same customers.
TARGETS: dict[
    str, Callable[[np.random.Generator, pd.DataFrame, ProblemSpec, np.ndarray], pd.Series]
] = {
    "binary_classification": _churned,
    "multiclass_classification": _plan_change,
    "regression": _spend,
}
