"""The packaged model: preprocessing + estimator + decision policy + metadata.

The model file is written and read through models/storage.py (skops, an
allow-list, byte-reproducible). The metadata records the model file's SHA-256
and a digest over itself (a canonical JSON form, digest fields left out), and
`load` refuses a package whose model file or metadata changed after packaging.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import ProblemSpec, parse_problem
from ..errors import ArtifactError
from ..evaluation.business import DecisionPolicy, decide
from ..features.inputs import typed_inputs
from ..io import as_json_data, write_json
from . import factory
from .storage import read_model, sha256_of, write_model

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
# Fields that record the digest itself, so the digest cannot cover them.
DIGEST_FIELDS = frozenset({"version", "digest"})


@dataclass(frozen=True)
class Artifact:
    pipeline: Pipeline
    metadata: dict[str, Any]

    @property
    def problem(self) -> ProblemSpec:
        return parse_problem(self.metadata["problem"])

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


def digest_of(metadata: dict[str, Any]) -> str:
    """SHA-256 of the metadata's canonical JSON; it names the model file's SHA-256, so
    the digest covers the model file too."""
    covered = {key: value for key, value in metadata.items() if key not in DIGEST_FIELDS}
    canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def save(directory: Path, pipeline: Pipeline, metadata: dict[str, Any]) -> dict[str, Any]:
    model_path = directory / MODEL_FILE
    write_model(pipeline, model_path)
    complete = {
        **as_json_data(metadata),  # as the file will hold it, so the digest reads back equal
        "model_file": MODEL_FILE,
        "sha256": sha256_of(model_path),
    }
    digest = digest_of(complete)
    complete.update(version=digest[:12], digest=digest)
    write_json(complete, directory / METADATA_FILE)
    return complete


def load(directory: Path) -> Artifact:
    metadata_path, model_path = directory / METADATA_FILE, directory / MODEL_FILE
    if not metadata_path.exists() or not model_path.exists():
        raise ArtifactError(
            f"{directory}: not a packaged model (needs {METADATA_FILE} and {MODEL_FILE})"
        )
    metadata = _read_metadata(metadata_path)
    actual = sha256_of(model_path)
    if actual != metadata.get("sha256"):
        raise ArtifactError(
            f"{model_path}: SHA-256 {actual[:12]}... does not match the packaged "
            f"{str(metadata.get('sha256'))[:12]}...; refusing to load a modified model file"
        )
    recorded = metadata.get("digest")
    if not isinstance(recorded, str):
        raise ArtifactError(
            f"{metadata_path}: records no digest (packaged by an older version of this "
            "code); package it again with `dvc repro`"
        )
    if digest_of(metadata) != recorded or metadata.get("version") != recorded[:12]:
        raise ArtifactError(
            f"{metadata_path}: does not match its packaged digest {recorded[:12]}...; refusing "
            "to load metadata (decision policy, serving suite, verdict) changed after "
            "packaging: restore it, or package again with `dvc repro`"
        )
    return Artifact(pipeline=read_model(model_path), metadata=metadata)


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ArtifactError(f"{path}: not valid JSON ({err}); refusing to load it") from err
    if not isinstance(metadata, dict):
        raise ArtifactError(f"{path}: expected a JSON object; refusing to load it")
    return metadata
