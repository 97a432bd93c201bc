"""Fairness: the model's decisions per group of each sensitive attribute.

Classification, per group: the selection rate (share of rows decided the class),
the true-positive rate (share of the class's rows decided it) and the false-positive
rate (share of the other rows decided it). Binary judges the positive class (the
second of `classes`); multiclass reports each class one-vs-rest and a figure's gap is
its largest over the classes. Regression: the mean absolute error and the bias
(mean of predicted minus actual). A figure's gap is its largest minus its smallest
value over the groups with at least `min_rows` test rows; smaller groups are
reported, not judged. Numeric attributes are grouped in quantile bins, as slices are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import ProblemSpec
from ..errors import ConfigError
from .card import Section, format_number
from .slices import slice_labels
from .verdict import Criterion


@dataclass(frozen=True)
class AttributeReport:
    attribute: str
    overall: dict[str, float | None]
    # Group label to its rows and figures; `judged` False below the minimum rows.
    groups: dict[str, dict[str, Any]]
    # Base figure (e.g. true_positive_rate) to its largest gap and the group farthest
    # from the overall figure.
    gaps: dict[str, float]
    worst: dict[str, str]
    # Base figure to the figure with the widest gap (multiclass: the class's own).
    widest: dict[str, str]


def _rate(hits: np.ndarray, among: np.ndarray) -> float | None:
    return float(hits[among].mean()) if among.any() else None


def figures(
    problem: ProblemSpec, actual: pd.Series, decided: np.ndarray
) -> dict[str, float | None]:
    """Each fairness figure on these rows; multiclass names carry the class, e.g.
    `true_positive_rate[upgrade]`."""
    if not problem.is_classification:
        residual = np.asarray(decided, dtype=float) - actual.to_numpy(dtype=float)
        return {
            "mean_absolute_error": float(np.abs(residual).mean()),
            "bias": float(residual.mean()),
        }
    truth = actual.astype(str).to_numpy()
    decision = np.asarray(decided).astype(str)
    classes = problem.labels[1:] if len(problem.labels) == 2 else problem.labels
    found: dict[str, float | None] = {}
    for label in classes:
        suffix = "" if len(problem.labels) == 2 else f"[{label}]"
        chosen, is_label = decision == label, truth == label
        found[f"selection_rate{suffix}"] = float(chosen.mean())
        found[f"true_positive_rate{suffix}"] = _rate(chosen, is_label)
        found[f"false_positive_rate{suffix}"] = _rate(chosen, ~is_label)
    return found


def base_name(figure: str) -> str:
    return figure.split("[")[0]


def report(
    problem: ProblemSpec,
    attribute: str,
    raw: pd.DataFrame,
    actual: pd.Series,
    decided: np.ndarray,
    numeric: bool,
    bins: int,
    min_rows: int,
) -> AttributeReport:
    check_attributes([attribute], list(raw.columns))
    labels = slice_labels(raw[attribute], numeric, bins).reset_index(drop=True)
    actual = actual.reset_index(drop=True)
    overall = figures(problem, actual, decided)
    groups: dict[str, dict[str, Any]] = {}
    for value, index in labels.groupby(labels, sort=True, observed=True).groups.items():
        rows = np.asarray(index)
        found = figures(problem, actual.iloc[rows], np.asarray(decided)[rows])
        groups[str(value)] = {
            "rows": len(rows),
            "judged": len(rows) >= min_rows,
            **{name: None if v is None else round(v, 6) for name, v in found.items()},
        }
    gaps: dict[str, float] = {}
    worst: dict[str, str] = {}
    widest: dict[str, str] = {}
    judged = {name: g for name, g in groups.items() if g["judged"]}
    for figure, whole in overall.items():
        seen = {name: g[figure] for name, g in judged.items() if g[figure] is not None}
        base = base_name(figure)
        if len(seen) < 2 or whole is None:
            gaps.setdefault(base, 0.0)
            continue
        gap = max(seen.values()) - min(seen.values())
        if gap >= gaps.get(base, 0.0):
            gaps[base] = round(gap, 6)
            worst[base] = max(seen, key=lambda name: abs(seen[name] - whole))
            widest[base] = figure
    return AttributeReport(attribute, overall, groups, gaps, worst, widest)


def check_attributes(attributes: list[str], columns: list[str]) -> None:
    """Every sensitive attribute must be a column of the prepared test split."""
    for attribute in attributes:
        if attribute not in columns:
            raise ConfigError(
                f"problem.sensitive_attributes: {attribute!r} is not a column of the "
                f"prepared test split (columns: {columns})"
            )


def analyse(
    problem: ProblemSpec,
    raw: pd.DataFrame,
    actual: pd.Series,
    decided: np.ndarray,
    numeric_columns: list[str],
    bins: int,
    min_rows: int,
) -> list[AttributeReport]:
    return [
        report(problem, name, raw, actual, decided, name in numeric_columns, bins, min_rows)
        for name in problem.sensitive_attributes
    ]


def criterion(problem: ProblemSpec, reports: list[AttributeReport]) -> Criterion | None:
    """The spec's max_fairness_gap, judged on the attribute with the largest gap.

    An attribute with fewer than two groups of evaluate.fairness_min_group_rows rows is
    not judged (its gap would be a 0.0 that says nothing): the criterion says so, and
    the spec's `when_not_judged` says whether that fails it.
    """
    limit = problem.success_criteria.max_fairness_gap
    if limit is None:
        return None
    metric = limit.metric
    judged = [r for r in reports if metric in r.worst]
    unjudged = [r.attribute for r in reports if metric not in r.worst]
    gap: float | None = None
    notes = []
    if judged:
        widest = max(judged, key=lambda r: r.gaps[metric])
        gap, group = widest.gaps[metric], widest.worst[metric]
        notes.append(
            f"{widest.attribute}: worst group {group!r} ({_figure_of(widest, group, metric)})"
        )
    if unjudged:
        counted = "a failure" if limit.when_not_judged == "fail" else "no failure"
        notes.append(
            f"not judged for {', '.join(unjudged)}: fewer than two groups with enough rows "
            f"(evaluate.fairness_min_group_rows), {counted} by when_not_judged: "
            f"{limit.when_not_judged}"
        )
    passed = (gap is None or gap <= limit.max) and (not unjudged or limit.when_not_judged == "pass")
    name = f"fairness_gap_{metric}"
    return Criterion(name, gap, limit.max, passed, "; ".join(notes), judged=not unjudged)


def _figure_of(found: AttributeReport, group: str, metric: str) -> str:
    """E.g. "true_positive_rate 0.0312 against 0.6414 on all rows"."""
    name = found.widest[metric]
    return f"{name} {found.groups[group][name]:.4f} against {found.overall[name]:.4f} on all rows"


def metrics(reports: list[AttributeReport]) -> dict[str, Any]:
    """For metrics/evaluate.json: numbers only, so `dvc metrics diff` compares them."""
    return {
        r.attribute: {
            "gap": r.gaps,
            "groups": {
                name: {k: v for k, v in g.items() if k != "judged" and v is not None}
                for name, g in r.groups.items()
            },
        }
        for r in reports
    }


def section(problem: ProblemSpec, reports: list[AttributeReport], min_rows: int) -> Section:
    if not reports:
        return Section(
            "Fairness",
            [
                "No sensitive attributes are named in the problem spec "
                "(`sensitive_attributes` in conf/problem/): nothing was compared."
            ],
        )
    names = [name for name in reports[0].overall]
    rows: list[list[str]] = []
    for r in reports:
        rows.append(
            [r.attribute, "(all rows)", "", *(format_number(n, r.overall[n]) for n in names)]
        )
        for group, g in r.groups.items():
            note = "" if g["judged"] else " (too few rows)"
            rows.append(
                [r.attribute, group + note, format_number("rows", g["rows"])]
                + [format_number(n, g[n]) for n in names]
            )
        rows.append(
            [r.attribute, "largest gap", ""]
            + [
                format_number(n, r.gaps.get(base_name(n))) if n == _first(names, n) else ""
                for n in names
            ]
        )
    limit = problem.success_criteria.max_fairness_gap
    rule = (
        f"The verdict requires the largest {limit.metric} gap to be at most {limit.max:g}."
        if limit
        else "The spec sets no fairness criterion (success_criteria.max_fairness_gap)."
    )
    return Section(
        "Fairness",
        [
            "Decisions per group of each sensitive attribute. " + _definition(problem),
            f"Gaps compare groups with at least {min_rows:,} test rows. {rule}",
        ],
        table=(["attribute", "group", "rows", *names], rows),
    )


def _first(names: list[str], name: str) -> str:
    """The first figure with the same base name (multiclass gaps span the classes)."""
    return next(n for n in names if base_name(n) == base_name(name))


def _definition(problem: ProblemSpec) -> str:
    if not problem.is_classification:
        return "Error is the mean absolute error; bias is the mean of predicted minus actual."
    if len(problem.labels) == 2:
        return (
            f"Selection rate: share decided `{problem.labels[1]}`; true- and false-positive "
            "rates: share of the actual positives, and of the others, decided it."
        )
    return (
        "Per class, one-vs-rest: the selection rate is the share decided the class; a "
        "figure's gap is its largest over the classes."
    )
