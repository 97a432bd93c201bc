"""Resource efficiency: what the model costs to keep, to train and to run.

The size is the serialised pipeline (preprocessing + model) that `package` ships,
written as package writes it; the training time is what `train` recorded; the
scoring time is the best of a few timed runs over the test rows (TIMED_ROWS at most)
through the same pipeline (scikit-learn; the compiled path package proves is usually
faster).
Times depend on the machine and its load: compare them on one machine only.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..models.storage import write_model
from .card import Section

REPEATS = 3
# A rate needs no more rows than this; a test split of millions would be scored 3 times.
TIMED_ROWS = 100_000


def serialised_bytes(pipeline: Any) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.skops"
        write_model(pipeline, path)
        return path.stat().st_size


def timed_rows(test: pd.DataFrame) -> pd.DataFrame:
    """The test rows the scoring time is taken on: the first TIMED_ROWS."""
    return test.head(TIMED_ROWS)


def scoring_ms_per_1000(score: Callable[[pd.DataFrame], Any], frame: pd.DataFrame) -> float:
    """The fastest of REPEATS runs (the least disturbed by other work), per 1,000 rows."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        score(frame)
        best = min(best, time.perf_counter() - start)
    return best * 1000 * 1000 / max(len(frame), 1)


def figures(
    pipeline: Any,
    score: Callable[[pd.DataFrame], Any],
    frame: pd.DataFrame,
    train_summary: dict[str, Any],
) -> dict[str, float | None]:
    return {
        "package_model_bytes": float(serialised_bytes(pipeline)),
        "training_seconds": train_summary.get("fit_seconds"),
        "scoring_ms_per_1000_rows": round(scoring_ms_per_1000(score, frame), 3),
    }


def section(cost: dict[str, float | None], rows: int) -> Section:
    size = cost["package_model_bytes"] or 0.0
    trained = cost["training_seconds"]
    return Section(
        "Resource efficiency",
        [
            "Machine-dependent: compare these figures between runs on the same machine only. "
            f"Scoring time is the fastest of {REPEATS} runs over {rows:,} test rows through "
            "the fitted preprocessing and model."
        ],
        table=(
            ["figure", "value"],
            [
                ["packaged model size", f"{size / 1024:,.1f} KiB"],
                [
                    "training time (fit, cross-validation, search)",
                    "not recorded" if trained is None else f"{trained:,.2f} s",
                ],
                ["scoring time per 1,000 rows", f"{cost['scoring_ms_per_1000_rows']:,.2f} ms"],
            ],
        ),
    )
