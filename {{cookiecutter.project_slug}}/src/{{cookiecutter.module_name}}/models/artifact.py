"""The packaged model: preprocessing + estimator + decision policy + metadata.

Unpickling a file runs whatever code it names, so every fitted model the
pipeline writes (the intermediate preprocessor, model and baseline, and the
package that travels to the registry, an image, a colleague's laptop) is saved
with skops instead, through `write_model` and `read_model`: loading rebuilds
only allow-listed types (scikit-learn's, plus the LightGBM types below, whose
trees are LightGBM's own text format) and refuses anything else.

Files are written byte-reproducibly (skops' random member names, object ids
and zip timestamps replaced by stable ones), so an unchanged model keeps its
version. The metadata records the model file's SHA-256 and a digest over
itself (a canonical JSON form, digest fields left out), and `load` refuses a
package whose model file or metadata changed after packaging.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
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
from ..io import as_json_data, write_bytes, write_json
from . import factory

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
# Fields that record the digest itself, so the digest cannot cover them.
DIGEST_FIELDS = frozenset({"version", "digest"})
# Any fixed time will do: zip cannot store one before 1980.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
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


def digest_of(metadata: dict[str, Any]) -> str:
    """SHA-256 of the metadata's canonical JSON; it names the model file's SHA-256, so
    the digest covers the model file too."""
    covered = {key: value for key, value in metadata.items() if key not in DIGEST_FIELDS}
    canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _renumbered(schema: Any, members: set[str]) -> tuple[Any, dict[str, str]]:
    """skops' schema with object ids (from `id()`) and member names (random) numbered in
    the order they appear, and the new name of each member."""
    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        renamed: dict[str, Any] = {}
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int):
                renamed[key] = ids.setdefault(value, len(ids))
            elif key == "file" and isinstance(value, str) and value in members:
                renamed[key] = files.setdefault(value, f"{len(files)}{Path(value).suffix}")
            else:
                renamed[key] = visit(value)
        return renamed

    return visit(schema), files


def _reproducible(dumped: bytes) -> bytes:
    """The same skops zip with stable member names, object ids, order and timestamps."""
    with zipfile.ZipFile(io.BytesIO(dumped)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    schema, files = _renumbered(json.loads(members.pop("schema.json")), set(members))
    entries = [("schema.json", json.dumps(schema, indent=2).encode())]
    entries += sorted((new, members[old]) for old, new in files.items())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system, info.external_attr = 3, 0o644 << 16  # the same on every OS
            target.writestr(info, content)
    return buffer.getvalue()


def write_model(estimator: Any, path: Path) -> None:
    """Save a fitted estimator as a reproducible skops file; refuse types outside the
    allow-list before anything is written, so `read_model` can always load it."""
    dumped = _reproducible(sio.dumps(estimator))
    found = sio.get_untrusted_types(data=dumped)
    unknown = sorted(set(found) - TRUSTED_TYPES)
    if unknown:
        raise ArtifactError(
            f"{path}: the model holds types that cannot be loaded safely: {unknown}; review "
            "them and add them to TRUSTED_TYPES in models/artifact.py"
        )
    write_bytes(dumped, path)


def read_model(path: Path) -> Any:
    """The estimator in a skops file, rebuilt only from allow-listed types; anything
    else (another type, a pickle under this name) is refused before it can run."""
    if not path.exists():
        raise ArtifactError(f"{path}: not found; run the stage that writes it (`dvc repro`)")
    try:
        found = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError) as err:
        raise ArtifactError(
            f"{path}: not a skops model file ({err}); refusing to load it, since a pickle "
            "or other format in its place could run code"
        ) from err
    unknown = sorted(set(found) - TRUSTED_TYPES)
    if unknown:
        raise ArtifactError(f"{path}: refusing to load untrusted types {unknown}")
    return sio.load(path, trusted=found)


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
