"""Step 3b, the feature gate: read the feature and prepared splits, run the checks in
validation/features.py, stop on any failure, write the report."""

from __future__ import annotations

from .. import paths
from ..config import load_params
from ..engine import session
from ..io import read_table, write_json
from ..validation import gates
from ..validation.features import check_features, check_partitions
from . import run_stage


def main() -> None:
    params = load_params()
    docs = gates.Docs(paths.DATA_DOCS_DIR / "features")
    with session(params.engine) as engine:
        if engine.name == "dask":  # every part on the workers, split checks from aggregates
            results = check_partitions(
                params,
                {name: paths.features(name) for name in paths.SPLITS},
                {name: paths.prepared(name) for name in paths.SPLITS},
                docs,
            )
        else:
            featurized = {name: read_table(paths.features(name)) for name in paths.SPLITS}
            prepared = {name: read_table(paths.prepared(name)) for name in paths.SPLITS}
            results = check_features(params, featurized, prepared, docs)
    gates.enforce("validate_features", results)
    write_json([r.summary() for r in results], paths.VALIDATION_DIR / "features.json")


if __name__ == "__main__":
    run_stage("validate_features", main)
