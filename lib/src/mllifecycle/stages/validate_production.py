"""Step 7a, the production-batch check: read the batch and the training dataset, run
validation/production.py, write the report, then stop on any failure. On the dask
engine the batch is checked part by part on the workers.

Outside the training path: only monitor (and batch scoring of the batch) come after
it, so a shifted batch never blocks the retrain it calls for. The report is written
before the failure is raised, so `python -m ...stages.monitor`, run by hand after a
failed check, names the failed checks beside the drift it measures.
"""

from __future__ import annotations

import pandas as pd

from .. import paths
from ..config import load_params
from ..engine import session
from ..io import read_whole, write_json
from ..validation import gates
from ..validation.production import check_batch, check_parts
from . import run_stage


def main() -> None:
    params = load_params()
    now = pd.Timestamp.now(tz="UTC").floor("s")
    docs = gates.Docs(paths.DATA_DOCS_DIR / "production")
    with session(params.engine) as engine:
        # On dask the skew check compares distributions with a seeded sample of training.
        training = engine.sample(engine.read(paths.RAW_DATASET), seed=0)
        if engine.name == "dask":  # each part of the batch on the workers
            results = check_parts(params, now, training, paths.RAW_PRODUCTION, engine, docs)
        else:
            production = read_whole(paths.RAW_PRODUCTION)
            results = check_batch(params, now, training, production, docs)
    write_json([r.summary() for r in results], paths.PRODUCTION_CHECK)
    gates.enforce("validate_production", results)


if __name__ == "__main__":
    run_stage("validate_production", main)
