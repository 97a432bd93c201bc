"""A machine-readable verdict against the problem's success criteria."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..config import ProblemSpec


@dataclass(frozen=True)
class Criterion:
    name: str
    observed: float | None
    required: float
    passed: bool


def judge(
    problem: ProblemSpec, model: dict[str, float], baseline: dict[str, float]
) -> list[Criterion]:
    criteria = problem.success_criteria
    uplift = model["value_per_1000"] - baseline["value_per_1000"]
    verdict = [
        Criterion(
            "uplift_per_1000_over_baseline",
            round(uplift, 6),
            criteria.min_uplift_per_1000,
            uplift >= criteria.min_uplift_per_1000,
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
    return verdict


def as_record(verdict: list[Criterion]) -> dict[str, Any]:
    return {"passed": all(c.passed for c in verdict), "criteria": [asdict(c) for c in verdict]}
