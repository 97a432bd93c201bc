"""Load the model that serves: a packaged folder, or the version in a registry stage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .. import registry
from ..errors import RegistryError
from ..models import artifact


@dataclass(frozen=True)
class ServedModel:
    artifact: artifact.Artifact
    # The registry version (v0.0.3) when loaded by stage, else the package's content hash.
    version: str
    source: str


def from_dir(directory: Path) -> ServedModel:
    loaded = artifact.load(directory)
    stamp = directory / registry.REGISTRY_FILE
    version = json.loads(stamp.read_text())["version"] if stamp.exists() else loaded.version
    return ServedModel(loaded, version, str(directory))


def from_stage(stage: str, repo: Path, cache_dir: Path) -> ServedModel:
    version = registry.current(stage, repo)
    if version is None:
        raise RegistryError(
            f"no version is assigned to {stage!r}; `make registry` shows what is where"
        )
    folder = registry.fetch(version, cache_dir / version.name / version.version, repo)
    loaded = artifact.load(folder)  # hash-checked, so the verdict below is the packaged one
    if stage in registry.PROTECTED_STAGES:
        # Whatever put it there (promote, `gto assign`, a hand-made tag), it must qualify.
        registry.require_promotable(version.tag, loaded.metadata, stage, registry.WITHDRAW)
    return ServedModel(loaded, version.version, f"{stage} ({version.tag})")


def load(
    directory: Path | None, stage: str | None, repo: Path, cache_dir: Path
) -> ServedModel | None:
    if directory is not None:
        return from_dir(directory)
    if stage is not None:
        return from_stage(stage, repo, cache_dir)
    return None
