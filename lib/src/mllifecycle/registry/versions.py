"""What a registry holds, whichever backend keeps it: versions, and the stages they are in.

A version is a commit whose dvc.lock pins `models/package`, registered with its
package's digest. Two backends keep the record (registry/backends.py picks one from
params.yaml's `registry.backend`): git tags (GTO, registry/gto.py) or an MLflow
model registry (registry/mlflow.py). Writing (register, promote, rollback) and the
rules that hold whatever the backend are the package's own (registry/__init__.py).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from ..errors import RegistryError

# Stages that serve real decisions: a version gets there only with a passed
# (or explicitly overridden) evaluation verdict.
PROTECTED_STAGES = frozenset({"prod"})


@dataclass(frozen=True)
class Entry:
    """The artifact declared in dvc.yaml's `artifacts:` section."""

    name: str
    path: str


@dataclass(frozen=True)
class Version:
    name: str
    version: str
    commit: str

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"


class Backend(Protocol):
    """Where the registry's record lives. Each method speaks for one model (dvc.yaml's
    artifact of type model) and raises RegistryError in one line when it cannot."""

    def register(self, commit: str, digest: str, bump: str) -> Version:
        """Record `commit` (its package's `digest`) as the next version."""
        ...

    def assign(self, version: Version, stage: str) -> None: ...

    def unassign(self, version: Version, stage: str) -> None: ...

    def in_stage(self, stage: str) -> list[Version]:
        """Versions assigned to `stage`, the one in effect first."""
        ...

    def resolve(self, version: str) -> Version:
        """A registered version by its name (v0.0.3 with GTO, v3 with MLflow)."""
        ...

    def stages(self) -> dict[str, str]:
        """The latest version, then the version in effect per stage ("-": none)."""
        ...

    def package_files(self, version: Version, destination: Path) -> None:
        """Copy the version's package (as registered) into `destination`."""
        ...

    def package_file(self, version: Version, name: str) -> bytes:
        """One file of the version's package (metadata.json), as registered."""
        ...

    def recorded_digest(self, version: Version) -> str:
        """The package digest the version was registered with."""
        ...

    def holds_versions(self) -> bool:
        """Whether this registry can be read here and holds any version of the model (a
        queued experiment's copy of the repository may have no tags)."""
        ...

    def holds(self, version: Version) -> bool:
        """Whether `version`'s record can be read here (an image holds no tags)."""
        ...


def entry(repo: Path = Path(".")) -> Entry:
    """The model artifact named in dvc.yaml (the first one of type model)."""
    pipeline = repo / "dvc.yaml"
    if not pipeline.exists():
        raise RegistryError(f"{pipeline}: not found; the registry lives in a DVC repository")
    artifacts = yaml.safe_load(pipeline.read_text()).get("artifacts") or {}
    for name, spec in artifacts.items():
        if spec.get("type") == "model":
            return Entry(name=name, path=spec["path"])
    raise RegistryError(f"{repo / 'dvc.yaml'}: no artifact of type model under `artifacts:`")


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RegistryError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip() if result.returncode == 0 else ""
