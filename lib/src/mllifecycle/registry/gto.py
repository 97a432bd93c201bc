"""The registry as git tags (GTO): `name@v0.0.3` registers a commit (the package's digest
in the annotated tag's message), `name#prod#4` assigns it to a stage. The package is
read from DVC at the version's commit. Serverless: the record travels with the repository
(`git push --tags`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RegistryError
from .versions import Entry, Version, entry, git

KEY = "package-digest"
RECORDED = re.compile(rf"^{KEY}: sha256:([0-9a-f]{{64}})$", re.MULTILINE)


def tag_message(name: str, digest: str) -> str:
    """The annotated tag's message `register` writes."""
    return f"Registering {name}\n\n{KEY}: sha256:{digest}\n"


def retag_hint(version: Version) -> str:
    return (
        f"git tag -f -a {version.tag} {version.commit[:12]} "
        f"-m '{KEY}: sha256:<metadata.json digest>'"
    )


def gto_call(action: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    from gto.exceptions import GTOException  # gto comes with dvc; imported only when used

    try:
        return call(*args, **kwargs)
    except GTOException as err:
        raise RegistryError(f"{action}: {err}") from err


@dataclass(frozen=True)
class GitTags:
    """The Backend of registry/versions.py on this repository's git tags."""

    repo: Path

    @property
    def model(self) -> Entry:
        return entry(self.repo)

    def register(self, commit: str, digest: str, bump: str) -> Version:
        import gto.api

        model = self.model
        first = self.latest() == "-"
        tag = gto_call(
            "register",
            gto.api.register,
            str(self.repo),
            model.name,
            ref=commit,
            message=tag_message(model.name, digest),
            **({} if first else {f"bump_{bump}": True}),
        )
        return Version(model.name, tag.version, commit)

    def assign(self, version: Version, stage: str) -> None:
        import gto.api

        gto_call(
            f"promote {version.tag} to {stage}",
            gto.api.assign,
            str(self.repo),
            version.name,
            stage,
            version=version.version,
        )

    def unassign(self, version: Version, stage: str) -> None:
        import gto.api

        gto_call(
            f"roll back {stage}",
            gto.api.unassign,
            str(self.repo),
            version.name,
            version=version.version,
            stage=stage,
        )

    def in_stage(self, stage: str) -> list[Version]:
        import gto.api
        from gto.exceptions import ArtifactNotFound

        model = self.model
        try:
            found = gto.api.find_versions_in_stage(
                str(self.repo), model.name, stage, versions_per_stage=-1
            )
        except ArtifactNotFound:  # nothing registered yet
            return []
        return [Version(model.name, v.version, v.commit_hexsha) for v in found or []]

    def resolve(self, version: str) -> Version:
        model = self.model
        tag = f"{model.name}@{version}"
        commit = git(self.repo, "rev-list", "-n", "1", tag, check=False)
        if not commit:
            raise RegistryError(f"{tag}: no such version; `make registry` lists them")
        return Version(model.name, version, commit)

    def stages(self) -> dict[str, str]:
        import gto.api

        shown = {"latest": self.latest()}
        for stage in gto_call("list stages", gto.api.get_stages, str(self.repo)) or []:
            versions = self.in_stage(stage)
            shown[stage] = versions[0].version if versions else "-"
        return shown

    def latest(self) -> str:
        import gto.api
        from gto.exceptions import ArtifactNotFound

        try:
            latest = gto.api.find_latest_version(str(self.repo), self.model.name)
        except ArtifactNotFound:
            return "-"
        return latest.version if latest is not None else "-"

    def package_files(self, version: Version, destination: Path) -> None:
        from dvc.api import DVCFileSystem

        fs = DVCFileSystem(str(self.repo), rev=version.commit)
        fs.get(self.model.path, str(destination), recursive=True)

    def package_file(self, version: Version, name: str) -> bytes:
        from dvc.api import DVCFileSystem

        fs = DVCFileSystem(str(self.repo), rev=version.commit)
        with fs.open(f"{self.model.path}/{name}", "rb") as handle:
            return bytes(handle.read())

    def recorded_digest(self, version: Version) -> str:
        ref = f"refs/tags/{version.tag}"
        kind, _, message = git(
            self.repo, "for-each-ref", "--format=%(objecttype)%00%(contents)", ref, check=False
        ).partition("\0")
        found = RECORDED.search(message) if kind == "tag" else None
        if found is None:
            raise RegistryError(
                f"{version.tag}: its tag records no package digest (registered by hand or "
                "before mllifecycle 0.2), so its package cannot be checked; register a new "
                f"commit, or re-tag it with the digest its package has: {retag_hint(version)}"
            )
        return found.group(1)

    def holds_versions(self) -> bool:
        try:
            name = self.model.name
        except RegistryError:
            return False
        return bool(git(self.repo, "tag", "--list", f"{name}@*", check=False))

    def holds(self, version: Version) -> bool:
        """Whether `version`'s tag is here (an image has none)."""
        return bool(git(self.repo, "tag", "--list", version.tag, check=False))
