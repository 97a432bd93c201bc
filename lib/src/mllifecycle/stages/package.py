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
from ..io import read_json
from ..models import artifact, packaging
from . import run_stage


def main() -> None:
    params = load_params()
    policy = Decisions.read(paths.DECISIONS).model
    model = artifact.read_model(paths.MODEL)
    with session(params.engine) as engine:  # on dask: every part on the workers
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
        # The compiled path must score the test split and the production batch exactly
        # as the scikit-learn pipeline does, before anything is written.
        batches = {"test": paths.prepared("test"), "production": paths.RAW_PRODUCTION}
        scoring = packaging.scoring_path(pipeline, content, batches, engine.each_part)
        content = content.model_copy(update={"scoring_path": scoring})
        saved = artifact.save(paths.PACKAGE_DIR, pipeline, content)
        engine.each_part(
            [paths.features("test"), paths.prepared("test")],
            packaging.round_trip_of(artifact.load(paths.PACKAGE_DIR), params, policy, model),
        )
    state = packaging.verdict_state(saved.verdict)
    print(f"packaged model {saved.version} (scores through {scoring}); evaluation verdict {state}")


if __name__ == "__main__":
    run_stage("package", main)
