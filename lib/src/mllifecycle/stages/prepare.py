"""Step 2c, preparation: clean, then fix the split before any model sees the data."""

from __future__ import annotations

from .. import paths
from ..config import Params, load_params
from ..engine import session
from ..io import write_json
from . import run_stage


def main() -> None:
    params = load_params()
    with session(params.engine) as engine:
        dataset = engine.clean(
            engine.read(paths.RAW_DATASET),
            params.data,
            params.problem.target,
            keep=kept_columns(params),
        )
        parts = engine.split(dataset, params.data)
        for name, part in parts.items():
            engine.write(part, paths.prepared(name))
        summary = engine.split_summary(parts, params.problem, params.data)
    write_json(summary, paths.SPLIT_REPORT)


def kept_columns(params: Params) -> list[str]:
    """Columns carried beside the model's inputs: the timestamps derived features read,
    and the sensitive attributes fairness groups by, whether or not the model reads them."""
    return [*params.derived_inputs, *params.problem.sensitive_attributes]


if __name__ == "__main__":
    run_stage("prepare", main)
