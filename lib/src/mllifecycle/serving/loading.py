"""Load the model that serves: a packaged folder, or the version in a registry stage.

Every door checks the same thing: a registered version (by stage, or a folder fetched
from the registry, as `make image` bakes into an image) must be the package its tag
recorded (digest) and have passed its evaluation or carry a recorded override. A
folder that was never registered (the workspace's models/package) is loaded only when
asked for explicitly (`unregistered=True`: SERVE_ALLOW_UNREGISTERED=1,
`score --allow-unregistered`), and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import registry
from ..errors import RegistryError
from ..models import artifact

ASK_FOR_UNREGISTERED = (
    "{folder} holds a package that was never registered (no {stamp} beside it): serve a "
    "registered version (SERVE_STAGE, or a folder from `registry fetch`), or ask for this "
    "one explicitly (SERVE_ALLOW_UNREGISTERED=1; batch scoring: --allow-unregistered)"
)
FOLDER_FIX = "Fetch a version that passed, or one whose run recorded an override."


@dataclass(frozen=True)
class ServedModel:
    artifact: artifact.Artifact
    # The registry version (v0.0.3) when registered, else the package's content hash.
    version: str
    source: str
    registered: bool = True


def from_dir(directory: Path, unregistered: bool = False, repo: Path | None = None) -> ServedModel:
    loaded = artifact.load(directory)  # hash-checked: the verdict below is the packaged one
    stamp = registry.stamp_of(directory)
    if stamp is not None:
        registry.check_folder(directory, stamp, loaded.metadata.digest, repo)
        tag = stamp.version.tag
        registry.require_promotable(tag, loaded.metadata, "service", FOLDER_FIX)
        return ServedModel(loaded, stamp.version.version, f"{directory} ({tag})")
    if not unregistered:
        raise RegistryError(
            ASK_FOR_UNREGISTERED.format(folder=directory, stamp=registry.REGISTRY_FILE)
        )
    return ServedModel(loaded, loaded.version, f"{directory} (unregistered)", registered=False)


def from_stage(stage: str, repo: Path, cache_dir: Path) -> ServedModel:
    version = registry.current(stage, repo)
    if version is None:
        raise RegistryError(
            f"no version is assigned to {stage!r}; `make registry` shows what is where"
        )
    # Checked against the digest the version's tag recorded, fetched before or not.
    folder = registry.fetch(version, cache_dir / version.name / version.version, repo)
    loaded = artifact.load(folder)  # hash-checked, so the verdict below is the packaged one
    if stage in registry.PROTECTED_STAGES:
        # Whatever put it there (promote, `gto assign`, a hand-made tag), it must qualify.
        registry.require_promotable(version.tag, loaded.metadata, stage, registry.WITHDRAW)
    return ServedModel(loaded, version.version, f"{stage} ({version.tag})")


def load(
    directory: Path | None,
    stage: str | None,
    repo: Path,
    cache_dir: Path,
    unregistered: bool = False,
) -> ServedModel | None:
    if directory is not None:
        return from_dir(directory, unregistered, repo)
    if stage is not None:
        return from_stage(stage, repo, cache_dir)
    return None
