"""Step 6, packaging: one self-describing artifact for serving and batch scoring.

Reads the fitted preprocessor and model, the decision policy, the evaluation and
its verdict; writes models/package (models/packaging.py builds it, the
PackageMetadata contract types it) and fails unless the reloaded package makes
exactly the decisions that were evaluated.
"""

from __future__ import annotations

from .. import paths
from ..config import load_params
from ..contracts import Decisions, Verdict
from ..engine import session
from ..io import read_json, read_table
from ..models import artifact, packaging
from . import run_stage


def main() -> None:
    params = load_params()
    policy = Decisions.read(paths.DECISIONS).model
    model = artifact.read_model(paths.MODEL)
    with session(params.engine) as engine:  # on dask: the schema's facts per partition
        train = engine.read(paths.prepared("train"))
        facts = engine.summarise(train, packaging.facts_of(params), packaging.combine_facts)
    content = packaging.content(
        params,
        policy,
        facts,
        read_json(paths.METRICS_DIR / "evaluate.json"),
        Verdict.read(paths.VERDICT),
    )
    pipeline = artifact.pipeline_of(artifact.read_model(paths.PREPROCESSOR), model)
    # The compiled path must score the test split and the production batch exactly as
    # the scikit-learn pipeline does, before anything is written.
    batches = {
        "test": read_table(paths.prepared("test")),
        "production": read_table(paths.RAW_PRODUCTION),
    }
    scoring = packaging.scoring_path(pipeline, content, batches)
    content = content.model_copy(update={"scoring_path": scoring})
    saved = artifact.save(paths.PACKAGE_DIR, pipeline, content)
    features = read_table(paths.features("test")).drop(columns=[params.problem.target])
    packaging.check_round_trip(
        artifact.load(paths.PACKAGE_DIR),
        params,
        policy,
        model,
        features,
        read_table(paths.prepared("test")),
    )
    state = packaging.verdict_state(saved.verdict)
    print(f"packaged model {saved.version} (scores through {scoring}); evaluation verdict {state}")


if __name__ == "__main__":
    run_stage("package", main)
