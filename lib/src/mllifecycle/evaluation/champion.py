"""The champion (the model in prod) judged beside the candidate, on the same test rows.

Its recorded metrics came from the test split of its own run, which may hold
other rows; so its packaged pipeline (preprocessing and decision policy
included) scores the current split instead. A champion of another problem is
not a comparison at all, and is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config import ProblemSpec
from . import metrics
from .business import value_per_decision
from .slices import upper_bound
from .verdict import Paired

if TYPE_CHECKING:
    from ..models.artifact import Artifact


def refusal(
    version: str,
    theirs: ProblemSpec,
    their_inputs: Iterable[str],
    ours: ProblemSpec,
    our_columns: Iterable[str],
) -> str | None:
    """Why the champion cannot be compared with this problem's candidate (None: it can)."""
    differences = []
    if theirs.task != ours.task:
        differences.append(f"its task is {theirs.task!r}, this problem's is {ours.task!r}")
    if theirs.target != ours.target:
        differences.append(f"its target is {theirs.target!r}, this problem's is {ours.target!r}")
    if theirs.task == ours.task and theirs.labels != ours.labels:
        differences.append(f"its classes are {theirs.labels}, this problem's are {ours.labels}")
    available = set(our_columns)
    missing = [column for column in their_inputs if column not in available]
    if missing:
        differences.append(f"its input columns {missing} are not in the test split")
    if not differences:
        return None
    return f"champion {version} is not comparable: " + "; ".join(differences)


def input_columns(packaged: Artifact) -> list[str]:
    return packaged.metadata.input_names


def scored(
    packaged: Artifact, problem: ProblemSpec, raw: pd.DataFrame, actual: pd.Series
) -> tuple[dict[str, float], np.ndarray]:
    """The champion's value per 1,000 and ML metrics on these raw rows, by this problem's
    values, and its decision on each row."""
    return judged(packaged, problem, packaged.scores(raw), actual)


def judged(
    packaged: Artifact, problem: ProblemSpec, scores: np.ndarray, actual: pd.Series
) -> tuple[dict[str, float], np.ndarray]:
    """`scored`, from the champion's scores of these rows (scored where the rows lie)."""
    decisions = packaged.decide_from_scores(scores)
    return metrics.compute(problem, actual, scores, decisions), decisions


def paired(
    problem: ProblemSpec,
    actual: pd.Series,
    ours: np.ndarray,
    theirs: np.ndarray,
    confidence: float,
) -> Paired:
    """Our decisions' value minus the champion's, per row and per 1,000 decisions."""
    differences = 1000 * (
        value_per_decision(problem, actual, ours) - value_per_decision(problem, actual, theirs)
    )
    mean, _, bound = upper_bound(differences, confidence)
    return Paired(round(mean, 6), round(bound, 6), confidence)
