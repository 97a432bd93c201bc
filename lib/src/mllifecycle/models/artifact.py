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
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import ProblemSpec
from ..contracts import PackageContent, PackageMetadata, check_version, read_json_object
from ..errors import ArtifactError
from ..evaluation.business import decide
from ..features.inputs import typed_inputs
from ..io import write_json
from ..tasks.policy import DecisionPolicy
from . import candidates, factory, storage
from . import compiled as compiled_path
from .storage import read_model, sha256_of, write_model

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
# Fields that record the digest itself, so the digest cannot cover them.
DIGEST_FIELDS = frozenset({"version", "digest"})


@dataclass(frozen=True)
class Artifact:
    pipeline: Pipeline
    metadata: PackageMetadata

    @property
    def problem(self) -> ProblemSpec:
        return self.metadata.problem

    @property
    def version(self) -> str:
        return self.metadata.version

    @cached_property
    def policy(self) -> DecisionPolicy:
        return self.metadata.decision_policy

    def inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The columns of the input schema, typed as at training time."""
        schema = self.metadata.input_schema
        self.check_columns(frame.columns)
        numeric = [field.name for field in schema if field.kind == "numeric"]
        categorical = [field.name for field in schema if field.kind == "categorical"]
        timestamps = [field.name for field in schema if field.kind == "timestamp"]
        typed = typed_inputs(frame, numeric, categorical, timestamps)
        return typed[self.metadata.input_names]

    @cached_property
    def kinds(self) -> compiled_path.Kinds:
        return compiled_path.kinds_of(
            self.metadata.input_schema, compiled_path.time_zone_of(self.pipeline)
        )

    @cached_property
    def compiled(self) -> compiled_path.CompiledPipeline | None:
        """The NumPy form of the pipeline, when packaging proved it (scoring_path)."""
        if self.metadata.scoring_path != "compiled":
            return None
        return compiled_path.compile_pipeline(self.pipeline, self.kinds)

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores through the compiled path when the package records it, else scikit-learn."""
        if self.compiled is None:
            return factory.scores(self.pipeline, self.inputs(frame), self.problem)
        self.check_columns(frame.columns)
        return self.compiled_scores(compiled_path.columns_of_frame(frame, self.kinds))

    def check_columns(self, columns: Any) -> None:
        missing = [name for name in self.metadata.input_names if name not in columns]
        if missing:
            raise ArtifactError(f"input is missing columns {missing}")

    def reference_scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores through the fitted scikit-learn pipeline: the reference."""
        return factory.scores(self.pipeline, self.inputs(frame), self.problem)

    def compiled_scores(self, columns: compiled_path.Columns) -> np.ndarray:
        return factory.scores(self.compiled, columns, self.problem)

    def scores_of_records(self, records: list[dict[str, Any]]) -> np.ndarray:
        """`scores(pd.DataFrame(records))` from JSON-like values (numbers, text, ISO
        timestamps, None), without pandas on the compiled path."""
        if self.compiled is None:
            return self.scores(pd.DataFrame(records))
        self.check_columns({name for record in records for name in record})
        return self.compiled_scores(compiled_path.columns_of_records(records, self.kinds))

    def decide(self, frame: pd.DataFrame) -> np.ndarray:
        return self.decide_from_scores(self.scores(frame))

    def decide_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """The packaged decision policy: a tuned threshold, expected value, or an offset."""
        return decide(self.problem, self.policy, scores)


def digest_of(metadata: dict[str, Any]) -> str:
    """SHA-256 of the metadata's canonical JSON; it names the model file's SHA-256, so
    the digest covers the model file too."""
    covered = {key: value for key, value in metadata.items() if key not in DIGEST_FIELDS}
    canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def pipeline_of(preprocessor: Any, model: Any) -> Pipeline:
    """The pipeline a package ships (and evaluate judges): preprocessing, then the model."""
    return Pipeline([("preprocess", preprocessor), ("model", model)])


def save(directory: Path, pipeline: Pipeline, content: PackageContent) -> PackageMetadata:
    model_path = directory / MODEL_FILE
    write_model(pipeline, model_path)
    covered = {
        **content.model_dump(mode="json"),
        "model_file": MODEL_FILE,
        "sha256": sha256_of(model_path),
    }
    digest = digest_of(covered)
    metadata = PackageMetadata.model_validate({**covered, "version": digest[:12], "digest": digest})
    written = metadata.model_dump(mode="json")
    if digest_of(written) != digest:  # the file must read back to the digest it records
        raise ArtifactError(f"{directory / METADATA_FILE}: metadata does not round-trip as JSON")
    write_json(written, directory / METADATA_FILE)
    return metadata


def load(directory: Path) -> Artifact:
    metadata = verified(directory)
    register_own_candidate(metadata)
    return Artifact(pipeline=read_model(directory / MODEL_FILE), metadata=metadata)


def verified(directory: Path) -> PackageMetadata:
    """The package's metadata, once its digest and the model file's SHA-256 check out:
    `metadata.digest` then stands for every byte of the package (no model is unpickled)."""
    metadata_path, model_path = directory / METADATA_FILE, directory / MODEL_FILE
    if not metadata_path.exists() or not model_path.exists():
        raise ArtifactError(
            f"{directory}: not a packaged model (needs {METADATA_FILE} and {MODEL_FILE})"
        )
    metadata = read_metadata(metadata_path)
    actual = sha256_of(model_path)
    if actual != metadata.sha256:
        raise ArtifactError(
            f"{model_path}: SHA-256 {actual[:12]}... does not match the packaged "
            f"{metadata.sha256[:12]}...; refusing to load a modified model file"
        )
    return metadata


def register_own_candidate(metadata: PackageMetadata) -> None:
    """A package of a project's own candidate (`_target_` in conf/model) needs that
    candidate's trusted types to load: register it, when it is the project's own code."""
    target, name = metadata.params.model.get("_target_"), metadata.params.model.get("name")
    if isinstance(target, str) and isinstance(name, str):
        if not storage.is_project_code(target.rpartition(".")[0]):
            raise ArtifactError(f"model _target_ {target!r} is not this project's code (src/)")
        try:
            candidates.imported(target, name)
        except ValueError as err:
            raise ArtifactError(f"packaged model: {err}") from None


def read_metadata(path: Path) -> PackageMetadata:
    """The packaged metadata, digest-checked over the file's own JSON, then parsed once."""
    return parse_metadata(read_json_object(path), path)


def parse_metadata(raw: Any, path: Path | str) -> PackageMetadata:
    """Check the digest over `raw` as stored (so files from before schema versions, which
    lack the field, still verify), then validate it against the contract. A schema
    version this code does not read is refused first: its digest may be computed another way.
    """
    if not isinstance(raw, dict):
        raise ArtifactError(f"{path}: expected a JSON object; refusing to load it")
    check_version(raw, path)
    recorded = raw.get("digest")
    if not isinstance(recorded, str):
        raise ArtifactError(
            f"{path}: records no digest (packaged by an older version of this "
            "code); package it again with `dvc repro`"
        )
    if digest_of(raw) != recorded or raw.get("version") != recorded[:12]:
        raise ArtifactError(
            f"{path}: does not match its packaged digest {recorded[:12]}...; refusing "
            "to load metadata (decision policy, serving suite, verdict) changed after "
            "packaging: restore it, or package again with `dvc repro`"
        )
    return PackageMetadata.parse(raw, path)
