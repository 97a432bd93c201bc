"""A version records its package's digest when registered; every load by version checks
against it.

The package's own digest (metadata.json's `digest`, which names the model file's SHA-256)
proves only that the files agree with each other: whoever edits the metadata (a
threshold, the serving suite, the verdict) can recompute it. The registry records the
digest once, when the version is registered (GTO: in the annotated tag's message;
MLflow: a model version tag), so the digest it records is the package that was
evaluated; a package read by version, fetched, or served from a fetched folder must
still be that one.
"""

from __future__ import annotations

from ..errors import RegistryError
from .gto import tag_message
from .versions import Backend, Version

__all__ = ["check", "tag_message"]


def check(backend: Backend, version: Version, digest: str, where: str) -> None:
    """Refuse a package whose digest is not the one `version` was registered with."""
    recorded = backend.recorded_digest(version)
    if digest != recorded:
        raise RegistryError(
            f"{where}: package digest {digest[:12]}... is not the {recorded[:12]}... that "
            f"{version.tag} recorded when it was registered; refusing a package changed "
            "after registration (fetch the version again from the registry)"
        )
