"""Which backend keeps the registry's record: params.yaml's `registry.backend` (conf/registry),
git tags (GTO) unless it says mlflow. Only that section is read: the service and batch
scoring pick the backend without validating the pipeline's whole configuration."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from ..config import RegistryConfig, _where
from ..errors import ConfigError
from .versions import Backend

PARAMS_FILE = "params.yaml"


def registry_config(repo: Path) -> RegistryConfig:
    """The `registry` section of the repository's params.yaml (defaults without one)."""
    path = repo / PARAMS_FILE
    if not path.exists():
        return RegistryConfig()
    section = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("registry") or {}
    try:
        return RegistryConfig.model_validate(section)
    except ValidationError as err:
        problems = "; ".join(f"registry.{_where(e['loc'])}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"{path}: {problems}") from err


def backend_of(repo: Path = Path(".")) -> Backend:
    cfg = registry_config(repo)
    if cfg.backend == "mlflow":
        from .mlflow import MlflowRegistry

        return MlflowRegistry(repo, cfg)
    from .gto import GitTags

    return GitTags(repo)
