"""A machine-readable verdict against the problem's success criteria."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..config import ProblemSpec, VerdictOverride


@dataclass(frozen=True)
class Paired:
    """The model's value per 1,000 decisions minus another model's, row by row on the same
    rows: the mean, and its one-sided upper confidence bound (evaluation/slices.py)."""

    mean: float
    upper_bound: float
    confidence: float


@dataclass(frozen=True)
class Criterion:
    name: str
    observed: float | None
    required: float
    passed: bool
    detail: str = ""
    judged: bool = True  # False: the data could not answer it (`passed` follows the spec)


def judge(
    problem: ProblemSpec,
    model: dict[str, float],
    baselines: dict[str, dict[str, float]],
    flagged_slices: int,
    champion: Paired | None = None,
) -> list[Criterion]:
    """Every criterion of the spec, plus slices and (when one exists) the champion."""
    criteria = problem.success_criteria
    best = max(baselines, key=lambda name: baselines[name]["value_per_1000"])
    uplift = model["value_per_1000"] - baselines[best]["value_per_1000"]
    verdict = [
        Criterion(
            "uplift_per_1000_over_baseline",
            round(uplift, 6),
            criteria.min_uplift_per_1000,
            uplift >= criteria.min_uplift_per_1000,
            f"best baseline: {best}",
        ),
    ]
    if criteria.min_value_per_1000 is not None:
        verdict.append(
            Criterion(
                "value_per_1000",
                model["value_per_1000"],
                criteria.min_value_per_1000,
                model["value_per_1000"] >= criteria.min_value_per_1000,
            )
        )
    for metric, floor in criteria.metric_floors.items():
        observed = model.get(metric)
        verdict.append(
            Criterion(metric, observed, floor, observed is not None and observed >= floor)
        )
    verdict.append(
        Criterion(
            "slices_below_floor",
            float(flagged_slices),
            0.0,
            flagged_slices == 0,
            "slices whose uplift over the baseline is below the floor beyond sampling noise",
        )
    )
    if champion is not None:
        # Worse only beyond sampling noise: a few rows' worth below on a small test split
        # is no evidence, as for slices.
        worse = champion.upper_bound < 0
        verdict.append(
            Criterion(
                "not_worse_than_champion",
                round(champion.mean, 6),
                0.0,
                not worse,
                "value per 1,000 decisions minus the production model's, row by row on this "
                f"test split; one-sided {champion.confidence * 100:g}% upper bound "
                f"{champion.upper_bound:+.1f}: "
                + ("worse beyond sampling noise" if worse else "not worse beyond sampling noise"),
            )
        )
    return verdict


def as_record(verdict: list[Criterion], override: VerdictOverride) -> dict[str, Any]:
    """passed: every criterion holds. promotable: passed, or a named person accepted it."""
    passed = all(c.passed for c in verdict)
    accepted = not passed and override.given
    return {
        "passed": passed,
        "promotable": passed or accepted,
        "override": override.model_dump() if accepted else None,
        "criteria": [asdict(c) for c in verdict],
    }
