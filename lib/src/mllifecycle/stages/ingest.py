"""Step 2a, data collection: bring the dataset and the latest production batch in."""

from __future__ import annotations

from .. import paths
from ..config import load_params
from ..engine import session
from ..io import rows_in
from . import run_stage


def main() -> None:
    params = load_params()
    with session(params.engine) as engine:
        dataset, production = engine.collect(params.data, params.problem)
        engine.write(dataset, paths.RAW_DATASET)
        engine.write(production, paths.RAW_PRODUCTION)
        rows = engine.rows(dataset)
    batch = rows_in(paths.RAW_PRODUCTION)
    print(f"ingested {rows} rows and a production batch of {batch} rows")


if __name__ == "__main__":
    run_stage("ingest", main)
