"""Step 3a, feature engineering: fit the preprocessing on train, apply it to every split."""

from __future__ import annotations

from .. import paths
from ..config import load_params
from ..features.pipeline import as_model_input, build_preprocessor
from ..io import read_table, write_table
from ..models.storage import write_model
from . import run_stage


def main() -> None:
    params = load_params()
    target = params.problem.target
    splits = {name: read_table(paths.prepared(name)) for name in paths.SPLITS}
    preprocessor = build_preprocessor(params.features, params.data)
    preprocessor.fit(as_model_input(splits["train"], params.data, params.features))
    for name, frame in splits.items():
        features = preprocessor.transform(as_model_input(frame, params.data, params.features))
        features[target] = frame[target].to_numpy()
        write_table(features, paths.features(name))
    write_model(preprocessor, paths.PREPROCESSOR)


if __name__ == "__main__":
    run_stage("featurize", main)
