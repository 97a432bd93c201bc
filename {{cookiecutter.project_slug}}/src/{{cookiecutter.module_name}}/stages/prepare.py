"""Step 2c, preparation: clean, then fix the split before any model sees the data."""

from __future__ import annotations

from .. import paths
from ..config import load_params
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
            keep=params.features.derived_inputs,
        )
        parts = engine.split(dataset, params.data)
        for name, part in parts.items():
            engine.write(part, paths.prepared(name))
        summary = engine.split_summary(parts, params.problem, params.data)
    write_json(summary, paths.SPLIT_REPORT)


if __name__ == "__main__":
    run_stage("prepare", main)
