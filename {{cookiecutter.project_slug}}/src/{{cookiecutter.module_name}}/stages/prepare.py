"""Step 2c, preparation: clean, then fix the split before any model sees the data."""

from __future__ import annotations

from .. import paths
from ..config import Params, load_params
from ..data.prepare import clean, split, split_summary
from ..io import read_table, write_json, write_table
from . import run_stage


def main() -> None:
    params = load_params()
    dataset = clean(
        read_table(paths.RAW_DATASET),
        params.data,
        params.problem.target,
        keep=kept_columns(params),
    )
    parts = split(dataset, params.data)
    for name, part in parts.items():
        write_table(part, paths.prepared(name))
    write_json(split_summary(parts, params.problem, params.data), paths.SPLIT_REPORT)


def kept_columns(params: Params) -> list[str]:
    """Columns carried beside the model's inputs: the timestamps derived features read,
    and the sensitive attributes fairness groups by, whether or not the model reads them."""
    return [*params.features.derived_inputs, *params.problem.sensitive_attributes]


if __name__ == "__main__":
    run_stage("prepare", main)
