"""The packaged model: preprocessing + estimator + decision policy + metadata.

joblib files can run code when loaded, so an artifact records the SHA-256 of
its model file and `load` refuses a file whose hash does not match: a model
swapped or corrupted after packaging is never unpickled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import ProblemSpec
from ..errors import ArtifactError
from ..evaluation.business import DecisionPolicy, decide
from ..io import read_json, write_json
from . import factory

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


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
        typed = pd.DataFrame(index=frame.index)
        for field in schema:
            column = frame[field["name"]]
            if field["kind"] == "numeric":
                typed[field["name"]] = pd.to_numeric(column, errors="raise").astype("float64")
            else:
                typed[field["name"]] = column.astype(object).where(column.notna(), np.nan)
        return typed

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        return factory.scores(self.pipeline, self.inputs(frame), self.problem)

    def decide(self, frame: pd.DataFrame) -> np.ndarray:
        policy = DecisionPolicy.from_dict(self.metadata["decision_policy"])
        return decide(self.problem, policy, self.scores(frame))


def save(directory: Path, pipeline: Pipeline, metadata: dict[str, Any]) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_FILE
    joblib.dump(pipeline, model_path)
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
    return Artifact(pipeline=joblib.load(model_path), metadata=metadata)
