"""Model files that cannot be tampered with quietly, nor run code when loaded.

Each test works in a copy of the pipeline run, so planting and editing there
leaves the shared run alone.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin

from mllifecycle import (
    paths,
)
from mllifecycle.config import (
    load_params,
)
from mllifecycle.contracts import (
    Decisions,
    Verdict,
)
from mllifecycle.errors import (
    ArtifactError,
)
from mllifecycle.io import (
    read_json,
    read_table,
)
from mllifecycle.models import (
    artifact,
    packaging,
)


@pytest.fixture
def workspace(
    pipeline_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A copy of the pipeline run, as the working directory (stages use relative paths)."""
    folder = tmp_path / "run"
    shutil.copytree(pipeline_run, folder)
    monkeypatch.chdir(folder)
    yield folder


def package_workspace() -> None:
    """What the package stage does, through the library: build, save, check."""
    params = load_params()
    policy = Decisions.read(paths.DECISIONS).model
    model = artifact.read_model(paths.MODEL)
    content = packaging.content(
        params,
        policy,
        packaging.facts_of(params)(read_table(paths.prepared("train"))),
        read_json(paths.METRICS_DIR / "evaluate.json"),
        Verdict.read(paths.VERDICT),
    )
    preprocessor = artifact.read_model(paths.PREPROCESSOR)
    artifact.save(paths.PACKAGE_DIR, artifact.pipeline_of(preprocessor, model), content)
    packaging.check_round_trip(
        artifact.load(paths.PACKAGE_DIR),
        params,
        policy,
        model,
        read_table(paths.features("test")).drop(columns=[params.problem.target]),
        read_table(paths.prepared("test")),
    )


def package_files() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(paths.PACKAGE_DIR.iterdir())}


def test_packaging_the_same_inputs_twice_gives_the_same_bytes_and_version(
    workspace: Path,
) -> None:
    package_workspace()
    first = package_files()
    package_workspace()
    assert package_files() == first  # metadata.json and model.skops, byte for byte
    first_version = json.loads(first[artifact.METADATA_FILE])["version"]
    # The rewritten zip still loads (the stage also checked that it decides as evaluated).
    assert artifact.load(paths.PACKAGE_DIR).version == first_version


def edit(field: str) -> Callable[[dict[str, Any]], None]:
    def apply(meta: dict[str, Any]) -> None:
        if field == "decision_policy":
            meta[field]["value"] = float(meta[field]["value"]) + 0.25
        elif field == "serving_suite":
            meta[field] = meta[field][1:]
        else:
            meta[field]["promotable"] = not meta[field]["promotable"]

    return apply


@pytest.mark.parametrize("field", ["decision_policy", "serving_suite", "verdict"])
def test_editing_the_packaged_metadata_is_refused(
    pipeline_run: Path, tmp_path: Path, field: str
) -> None:
    folder = tmp_path / "package"
    shutil.copytree(pipeline_run / paths.PACKAGE_DIR, folder)
    assert getattr(artifact.load(folder).metadata, field)  # loads as packaged
    path = folder / artifact.METADATA_FILE
    meta = json.loads(path.read_text())
    edit(field)(meta)
    path.write_text(json.dumps(meta, indent=2))
    with pytest.raises(ArtifactError, match=re.escape(f"{path}: does not match")):
        artifact.load(folder)


class Shell(BaseEstimator, TransformerMixin):
    """A transformer from outside the allow-list: loading it would mean trusting this code."""

    def fit(self, X: Any, y: Any = None) -> Shell:
        return self

    def transform(self, X: Any) -> Any:
        return X


class Planted:
    """Unpickling this creates `marker`: what a planted pickle could do, harmlessly."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_a_pickle_planted_as_an_intermediate_model_runs_nothing(workspace: Path) -> None:
    marker = workspace / "code-ran"
    payload = pickle.dumps(Planted(marker))
    paths.MODEL.write_bytes(payload)  # as if pulled from a tampered DVC cache or remote
    with pytest.raises(ArtifactError, match=re.escape(f"{paths.MODEL}: not a skops model file")):
        artifact.read_model(paths.MODEL)  # how evaluate and package read it
    assert not marker.exists()
    pickle.loads(payload).close()  # the control: any pickle loader would have run it
    assert marker.exists()


def test_an_intermediate_model_of_an_untrusted_type_is_refused(workspace: Path) -> None:
    sio.dump(Shell(), paths.PREPROCESSOR)
    with pytest.raises(ArtifactError, match=r"refusing to load untrusted types .*Shell"):
        package_workspace()
    with pytest.raises(ArtifactError, match="cannot be loaded safely"):
        artifact.write_model(Shell(), workspace / "refused.skops")
    assert not (workspace / "refused.skops").exists()
