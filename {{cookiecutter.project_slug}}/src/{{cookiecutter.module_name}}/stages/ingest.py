"""Step 2a, data collection: bring the dataset and the latest production batch in."""

from __future__ import annotations

from .. import paths
from ..config import load_params
from ..data.sources import collect
from ..io import write_table
from . import run_stage


def main() -> None:
    params = load_params()
    dataset, production = collect(params.data, params.problem)
    write_table(dataset, paths.RAW_DATASET)
    write_table(production, paths.RAW_PRODUCTION)
    print(f"ingested {len(dataset)} rows and a production batch of {len(production)} rows")


if __name__ == "__main__":
    run_stage("ingest", main)
