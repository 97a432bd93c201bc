"""Shadow mode, judged: how often the challenger agrees with the champion, how fast it
is, and (once labels have arrived) which of the two decisions was worth more.

    mllifecycle shadow-report --labels data/labels.csv

Labels are a CSV or Parquet with the id column and the target, joined on the id
each request carried. Writes reports/shadow.json and prints a summary.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import ProblemSpec, load_params
from ..errors import DataError, PipelineError
from ..evaluation.business import value_per_1000
from ..io import read_table, write_json
from . import prediction_log

REPORT = Path("reports/shadow.json")


def compare(
    problem: ProblemSpec, id_column: str | None, log: pd.DataFrame, labels: pd.DataFrame | None
) -> dict[str, Any]:
    """Agreement, latency and (with labels) business value of champion vs challenger."""
    if log.empty or "challenger.decision" not in log.columns:
        raise DataError(
            "the prediction log has no challenger predictions; set SERVE_CHALLENGER_STAGE"
        )
    paired = log.dropna(subset=["challenger.decision"])
    champion, challenger = paired["champion.decision"], paired["challenger.decision"]
    report: dict[str, Any] = {
        "records": len(paired),
        "champion_version": _versions(paired, "champion"),
        "challenger_version": _versions(paired, "challenger"),
        "challenger_errors": int(log["challenger.error"].notna().sum())
        if "challenger.error" in log
        else 0,
        "latency_ms": {
            side: _latency(paired[f"{side}.latency_ms"]) for side in ("champion", "challenger")
        },
    }
    if problem.is_classification:
        report["agreement"] = float((champion.astype(str) == challenger.astype(str)).mean())
    else:
        report["mean_abs_difference"] = float(
            (champion.astype(float) - challenger.astype(float)).abs().mean()
        )
    if labels is not None:
        report["with_labels"] = _value(problem, id_column, paired, labels)
    return report


def _versions(log: pd.DataFrame, side: str) -> list[str]:
    return sorted(log[f"{side}.version"].dropna().astype(str).unique())


def _latency(values: pd.Series) -> dict[str, float]:
    return {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99))}


def _value(
    problem: ProblemSpec, id_column: str | None, log: pd.DataFrame, labels: pd.DataFrame
) -> dict[str, Any]:
    if id_column is None or not {id_column, problem.target} <= set(labels.columns):
        raise DataError(
            f"labels need the id column ({id_column}) and the target ({problem.target})"
        )
    keyed = log.assign(_id=log["id"].astype(str))
    joined = keyed.merge(labels.astype({id_column: str}), left_on="_id", right_on=id_column)
    if joined.empty:
        raise DataError(
            f"no logged request carried an id found in the labels' {id_column!r} column"
        )
    actual = joined[problem.target]

    def worth(side: str) -> float:
        decisions = joined[f"{side}.decision"]
        cast = decisions.astype(str) if problem.is_classification else decisions.astype(float)
        return value_per_1000(problem, actual, cast.to_numpy())

    return {
        "rows": len(joined),
        "value_per_1000": {side: worth(side) for side in ("champion", "challenger")},
    }


def report(log: Path, labels_path: str | None, output: Path) -> None:
    """`shadow-report`: compare the two sides of `log` (with labels: their value) into `output`."""
    try:
        if not log.exists():
            raise DataError(f"{log}: no prediction log yet; serve with a challenger first")
        params = load_params()
        labels = read_table(labels_path) if labels_path else None
        found = compare(params.problem, params.data.id_column, prediction_log.read(log), labels)
    except PipelineError as err:
        print(f"shadow report: {err}", file=sys.stderr)
        sys.exit(1)
    write_json(found, output)
    agreement = found.get("agreement", found.get("mean_abs_difference"))
    print(f"{found['records']} shadowed records; agreement {agreement:.3f}; report in {output}")
    if "with_labels" in found:
        worth = found["with_labels"]["value_per_1000"]
        print(
            f"value per 1,000: champion {worth['champion']:.1f}, challenger {worth['challenger']:.1f}"
        )
