"""Step 2b, the raw-data gate: read the modelling dataset, run the checks in
validation/raw.py, stop on any failure, write the report.

Only the training dataset is checked here; the production batch has a stage of its
own (validate_production), so a broken or shifted batch never blocks a retrain.
"""

from __future__ import annotations

import pandas as pd

from .. import paths
from ..config import load_params
from ..engine import session
from ..io import read_table, write_json
from ..validation import gates
from ..validation.raw import check_dataset, check_partitions
from . import run_stage


def main() -> None:
    params = load_params()
    now = pd.Timestamp.now(tz="UTC").floor("s")
    docs = gates.Docs(paths.DATA_DOCS_DIR / "raw")
    with session(params.engine) as engine:
        if engine.name == "dask":  # every part on the workers, whole-table rules from aggregates
            results = check_partitions(params, now, paths.RAW_DATASET, docs)
        else:
            results = check_dataset(params, now, read_table(paths.RAW_DATASET), docs)
    gates.enforce("validate_raw", results)
    write_json([r.summary() for r in results], paths.VALIDATION_DIR / "raw.json")


if __name__ == "__main__":
    run_stage("validate_raw", main)
