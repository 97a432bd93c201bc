"""The model registry: versions and the stages they are in, packages by digest.

A version is a commit whose dvc.lock pins `models/package`; `register` records it with
its package's digest, `promote` assigns it to a stage and `rollback` unassigns the
newest version in a stage so the one before it serves again. Both record the version
then in effect in prod in the git-tracked models/champion.json, the champion `evaluate`
and `monitor` read. The record lives in git tags (GTO, the default) or in an MLflow
registry (aliases and version tags), as params.yaml's `registry.backend` says
(registry/backends.py); the rules here hold for both. Nothing is copied or overwritten:
every version stays registered, so the way back is always there.
"""

from __future__ import annotations

from pathlib import Path

from ..contracts import PackageMetadata, VerdictCore
from ..errors import RegistryError
from ..models import artifact
from . import champion
from .backends import backend_of, registry_config
from .packages import REGISTRY_FILE, Stamp, check_folder, fetch, metadata, stamp_of
from .versions import PROTECTED_STAGES, Backend, Entry, Version, entry, git

__all__ = [
    "PROTECTED_STAGES",
    "REGISTRY_FILE",
    "Backend",
    "Entry",
    "Stamp",
    "Version",
    "backend_of",
    "check_folder",
    "current",
    "entry",
    "fetch",
    "in_stage",
    "metadata",
    "promote",
    "register",
    "registry_config",
    "require_promotable",
    "resolve",
    "rollback",
    "stages",
    "stamp_of",
]


def in_stage(stage: str, repo: Path = Path(".")) -> list[Version]:
    """Versions assigned to `stage`, the one in effect first."""
    return backend_of(repo).in_stage(stage)


def current(stage: str, repo: Path = Path(".")) -> Version | None:
    versions = in_stage(stage, repo)
    return versions[0] if versions else None


def resolve(version: str, repo: Path = Path(".")) -> Version:
    """A registered version by its name (v0.0.3 with GTO, v3 with MLflow)."""
    return backend_of(repo).resolve(version)


def stages(repo: Path = Path(".")) -> dict[str, str]:
    """What is where: the latest version, then the version in effect per stage."""
    return backend_of(repo).stages()


def register(repo: Path = Path("."), bump: str = "patch") -> Version:
    """Register HEAD as a new version; HEAD must hold the packaged model the workspace has.

    The registry records the package's digest: every later load by version checks the
    package against it (registry/digests.py). `bump` is GTO's (semantic versions);
    MLflow numbers its versions.
    """
    _require_committed_package(repo)
    digest = artifact.verified(repo / entry(repo).path).digest
    return backend_of(repo).register(git(repo, "rev-parse", "HEAD"), digest, bump)


def promote(version: str, stage: str, repo: Path = Path(".")) -> Version:
    """Assign a version to a stage; protected stages refuse a failed verdict."""
    backend = backend_of(repo)
    target = backend.resolve(version)
    if stage in PROTECTED_STAGES:
        require_promotable(target.tag, metadata(target, repo), stage)
    backend.assign(target, stage)
    _record_champion(stage, repo)
    return target


def rollback(stage: str = "prod", repo: Path = Path(".")) -> tuple[Version, Version]:
    """Unassign the version in effect; the previous one in that stage serves again."""
    backend = backend_of(repo)
    versions = backend.in_stage(stage)
    if not versions:
        raise RegistryError(f"nothing is in {stage!r}, so there is nothing to roll back")
    if len(versions) < 2:
        raise RegistryError(
            f"{versions[0].tag} is the only version ever assigned to {stage!r}; "
            "there is no earlier version to roll back to"
        )
    withdrawn, restored = versions[0], versions[1]
    backend.unassign(withdrawn, stage)
    _record_champion(stage, repo)
    return withdrawn, restored


def _record_champion(stage: str, repo: Path) -> None:
    """After a change to prod, models/champion.json names the version now in effect there."""
    if stage == champion.STAGE:
        champion.write(current(stage, repo), repo)


# What to do about a failed verdict, by whoever meets it.
RECORD_OVERRIDE = (
    "Set evaluate.accept_failed_verdict (approved_by and reason) and rerun the pipeline "
    "to record an override."
)
WITHDRAW = (
    "Withdraw it (`make rollback STAGE={stage}`), or register and promote a run that "
    "records an override (evaluate.accept_failed_verdict: approved_by and reason)."
)


def require_promotable(
    tag: str, meta: PackageMetadata, stage: str, fix: str = RECORD_OVERRIDE
) -> None:
    """A version in a protected stage needs a passed verdict or a recorded override.

    `promote` asks before assigning; the service and batch scoring ask again on loading,
    since a version can also reach the stage by `gto assign` or a hand-made tag.
    """
    verdict: VerdictCore = meta.verdict
    failed = [c for c in verdict.criteria if not c.passed]
    passed = bool(verdict.criteria) and not failed
    if verdict.promotable and (passed or verdict.override):
        return
    reasons = "; ".join(f"{c.name}: observed {c.observed}, required {c.required}" for c in failed)
    raise RegistryError(
        f"{tag} failed its evaluation verdict ({reasons or 'no verdict recorded'}) and has "
        f"no recorded override, so it may not be in {stage!r}. " + fix.format(stage=stage)
    )


def _require_committed_package(repo: Path) -> None:
    if git(repo, "status", "--porcelain", "--", "dvc.lock", "dvc.yaml", "params.yaml"):
        raise RegistryError(
            "dvc.lock, dvc.yaml or params.yaml has uncommitted changes; commit the run you "
            "want to register (a version is a commit)"
        )
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc:
        if dvc.status(targets=["package"], with_deps=True):
            raise RegistryError(
                "the pipeline is out of date (`dvc status`); run `dvc repro` and commit first"
            )
