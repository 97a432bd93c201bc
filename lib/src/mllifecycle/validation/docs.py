"""`mllifecycle docs` (`make docs`): GX Data Docs for every gate, on request.

The pipeline's gates render Data Docs only when they fail; this reruns each gate's
checks over the pipeline's current files (raw dataset, feature splits, production
batch) and renders the pages whether they pass or not, into reports/data_docs/.
It changes no pipeline output, and exits 1 when a gate fails, as the stage would.
"""

from __future__ import annotations

import pandas as pd

from .. import paths
from ..config import load_params
from ..io import read_table
from . import gates
from .features import check_features
from .production import check_batch
from .raw import check_dataset


def render_all() -> list[gates.GateResult]:
    params = load_params()
    now = pd.Timestamp.now(tz="UTC").floor("s")
    dataset = read_table(paths.RAW_DATASET)
    featurized = {name: read_table(paths.features(name)) for name in paths.SPLITS}
    prepared = {name: read_table(paths.prepared(name)) for name in paths.SPLITS}
    production = read_table(paths.RAW_PRODUCTION)
    return [
        *check_dataset(params, now, dataset, gates.Docs(paths.DATA_DOCS_DIR / "raw", True)),
        *check_features(
            params, featurized, prepared, gates.Docs(paths.DATA_DOCS_DIR / "features", True)
        ),
        *check_batch(
            params, now, dataset, production, gates.Docs(paths.DATA_DOCS_DIR / "production", True)
        ),
    ]


def main() -> None:
    results = render_all()
    for result in results:
        state = "passed" if result.passed else f"{len(result.failures)} failure(s)"
        where = f": {result.docs_page}" if result.docs_page else " (no GX suite, no page)"
        print(f"{result.dataset} (suite {result.suite!r}) {state}{where}")
    if not all(result.passed for result in results):
        raise SystemExit(1)
