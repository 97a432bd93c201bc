"""A version's tag records its package's digest; every load by version checks against it.

The package's own digest (metadata.json's `digest`, which names the model file's SHA-256)
proves only that the files agree with each other: whoever edits the metadata (a
threshold, the serving suite, the verdict) can recompute it. The registry's tag is
written once, when the version is registered, so the digest it records is the package
that was evaluated; a package read by version, fetched, or served from a fetched folder
must still be that one.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import RegistryError
from .versions import Version, git

KEY = "package-digest"
RECORDED = re.compile(rf"^{KEY}: sha256:([0-9a-f]{{64}})$", re.MULTILINE)


def tag_message(name: str, digest: str) -> str:
    """The annotated tag's message `register` writes."""
    return f"Registering {name}\n\n{KEY}: sha256:{digest}\n"


def tagged(version: Version, repo: Path) -> str:
    """The digest `version`'s tag recorded when it was registered."""
    ref = f"refs/tags/{version.tag}"
    kind, _, message = git(
        repo, "for-each-ref", "--format=%(objecttype)%00%(contents)", ref, check=False
    ).partition("\0")
    found = RECORDED.search(message) if kind == "tag" else None
    if found is None:
        raise RegistryError(
            f"{version.tag}: its tag records no package digest (registered by hand or "
            "before mllifecycle 0.2), so its package cannot be checked; register a new "
            f"commit, or re-tag it with the digest its package has: {retag_hint(version)}"
        )
    return found.group(1)


def retag_hint(version: Version) -> str:
    return (
        f"git tag -f -a {version.tag} {version.commit[:12]} "
        f"-m '{KEY}: sha256:<metadata.json digest>'"
    )


def check(version: Version, digest: str, repo: Path, where: str) -> None:
    """Refuse a package whose digest is not the one `version` was registered with."""
    recorded = tagged(version, repo)
    if digest != recorded:
        raise RegistryError(
            f"{where}: package digest {digest[:12]}... is not the {recorded[:12]}... that "
            f"{version.tag} recorded when it was registered; refusing a package changed "
            "after registration (fetch the version again from the registry)"
        )
