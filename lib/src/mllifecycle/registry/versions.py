"""The registry as read: which versions exist and which is in each stage.

Versions and stages are git tags (GTO); a version's package is read from DVC at its
commit (registry/packages.py). Writing (register, promote, rollback) is the package's
own (registry/__init__.py).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def gto_call(action: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    from gto.exceptions import GTOException  # gto comes with dvc; imported only when used

    try:
        return call(*args, **kwargs)
    except GTOException as err:
        raise RegistryError(f"{action}: {err}") from err


def in_stage(stage: str, repo: Path = Path(".")) -> list[Version]:
    """Versions assigned to `stage`, the one in effect first."""
    import gto.api
    from gto.exceptions import ArtifactNotFound

    artifact = entry(repo)
    try:
        found = gto.api.find_versions_in_stage(
            str(repo), artifact.name, stage, versions_per_stage=-1
        )
    except ArtifactNotFound:  # nothing registered yet
        return []
    return [Version(artifact.name, v.version, v.commit_hexsha) for v in found or []]


def current(stage: str, repo: Path = Path(".")) -> Version | None:
    versions = in_stage(stage, repo)
    return versions[0] if versions else None


def resolve(version: str, repo: Path = Path(".")) -> Version:
    """A registered version by its name (v0.0.3)."""
    artifact = entry(repo)
    tag = f"{artifact.name}@{version}"
    commit = git(repo, "rev-list", "-n", "1", tag, check=False)
    if not commit:
        raise RegistryError(f"{tag}: no such version; `make registry` lists them")
    return Version(artifact.name, version, commit)


def stages(repo: Path = Path(".")) -> dict[str, str]:
    """What is where: the latest version, then the version in effect per stage."""
    import gto.api

    artifact = entry(repo)
    shown = {"latest": latest_version(artifact, repo)}
    for stage in gto_call("list stages", gto.api.get_stages, str(repo)) or []:
        version = current(stage, repo)
        shown[stage] = version.version if version else "-"
    return shown


def latest_version(artifact: Entry, repo: Path) -> str:
    import gto.api
    from gto.exceptions import ArtifactNotFound

    try:
        latest = gto.api.find_latest_version(str(repo), artifact.name)
    except ArtifactNotFound:
        return "-"
    return latest.version if latest is not None else "-"


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RegistryError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip() if result.returncode == 0 else ""
