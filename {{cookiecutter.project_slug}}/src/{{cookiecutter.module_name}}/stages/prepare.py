"""Step 2c, preparation: clean, then fix the split before any model sees the data."""

from __future__ import annotations

from typing import Any

from .. import paths
from ..config import load_params
from ..data.prepare import clean, split
from ..io import read_table, write_json, write_table
from . import run_stage


def main() -> None:
    params = load_params()
    target = params.problem.target
    dataset = clean(
        read_table(paths.RAW_DATASET), params.data, target, keep=params.features.derived_inputs
    )
    parts = split(dataset, params.data)
    summary: dict[str, dict[str, Any]] = {}
    for name, part in parts.items():
        write_table(part, paths.prepared(name))
        summary[name] = {"rows": len(part)}
        if params.problem.is_classification:
            shares = part[target].astype(str).value_counts(normalize=True)
            summary[name]["label_share"] = {k: round(float(v), 4) for k, v in shares.items()}
        if params.data.time_column:
            times = part[params.data.time_column]
            summary[name]["from"], summary[name]["to"] = str(times.min()), str(times.max())
    write_json(summary, paths.SPLIT_REPORT)


if __name__ == "__main__":
    run_stage("prepare", main)
