"""The packaged model: preprocessing + estimator + decision policy + metadata.

Unpickling a file runs whatever code it names, so a model that travels
(registry, image, colleague's laptop) is saved with skops instead: loading
rebuilds only allow-listed types (scikit-learn's, plus the LightGBM types
below, whose trees are LightGBM's own text format) and refuses anything else.
The metadata also records the file's SHA-256, and `load` refuses a file that
changed after packaging.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.pipeline import Pipeline

from ..config import ProblemSpec
from ..errors import ArtifactError
from ..evaluation.business import DecisionPolicy, decide
from ..features.inputs import typed_inputs
from ..io import read_json, write_json
from . import factory

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
# Reviewed types outside skops' default trust: they hold data, not code.
TRUSTED_TYPES = frozenset(
    {
        "collections.OrderedDict",
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
        "numpy.dtype",
        # Our own, reviewed: it maps text to text.
        "{{ cookiecutter.module_name }}.features.normalise.CategoryNormaliser",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Artifact:
    pipeline: Pipeline
    metadata: dict[str, Any]

    @property
    def problem(self) -> ProblemSpec:
        return ProblemSpec.model_validate(self.metadata["problem"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    def inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The columns of the input schema, typed as at training time."""
        schema = self.metadata["input_schema"]
        missing = [field["name"] for field in schema if field["name"] not in frame.columns]
        if missing:
            raise ArtifactError(f"input is missing columns {missing}")
        numeric = [field["name"] for field in schema if field["kind"] == "numeric"]
        categorical = [field["name"] for field in schema if field["kind"] != "numeric"]
        typed = typed_inputs(frame, numeric, categorical)
        return typed[[field["name"] for field in schema]]

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        return factory.scores(self.pipeline, self.inputs(frame), self.problem)

    def decide(self, frame: pd.DataFrame) -> np.ndarray:
        return self.decide_from_scores(self.scores(frame))

    def decide_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """The packaged decision policy: a tuned threshold, expected value, or an offset."""
        policy = DecisionPolicy.from_dict(self.metadata["decision_policy"])
        return decide(self.problem, policy, scores)


def _untrusted_types(model_path: Path) -> list[str]:
    found = sio.get_untrusted_types(file=model_path)
    return sorted(set(found) - TRUSTED_TYPES)


def save(directory: Path, pipeline: Pipeline, metadata: dict[str, Any]) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_FILE
    sio.dump(pipeline, model_path)
    unknown = _untrusted_types(model_path)
    if unknown:
        model_path.unlink()
        raise ArtifactError(
            f"the model holds types that cannot be loaded safely: {unknown}; review them "
            "and add them to TRUSTED_TYPES in models/artifact.py"
        )
    digest = sha256_of(model_path)
    complete = {**metadata, "version": digest[:12], "model_file": MODEL_FILE, "sha256": digest}
    write_json(complete, directory / METADATA_FILE)
    return complete


def load(directory: Path) -> Artifact:
    metadata_path, model_path = directory / METADATA_FILE, directory / MODEL_FILE
    if not metadata_path.exists() or not model_path.exists():
        raise ArtifactError(
            f"{directory}: not a packaged model (needs {METADATA_FILE} and {MODEL_FILE})"
        )
    metadata = read_json(metadata_path)
    actual = sha256_of(model_path)
    if actual != metadata.get("sha256"):
        raise ArtifactError(
            f"{model_path}: SHA-256 {actual[:12]}... does not match the packaged "
            f"{str(metadata.get('sha256'))[:12]}...; refusing to load a modified model file"
        )
    unknown = _untrusted_types(model_path)
    if unknown:
        raise ArtifactError(f"{model_path}: refusing to load untrusted types {unknown}")
    found = sio.get_untrusted_types(file=model_path)
    return Artifact(pipeline=sio.load(model_path, trusted=found), metadata=metadata)
