"""Which registry backend a repository uses: params.yaml's `registry` section, git tags
(GTO) when it names none; a wrong answer is one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mllifecycle.errors import ConfigError
from mllifecycle.registry import backend_of, registry_config
from mllifecycle.registry.gto import GitTags


def test_a_repository_without_a_registry_section_keeps_git_tags(tmp_path: Path) -> None:
    assert isinstance(backend_of(tmp_path), GitTags)  # no params.yaml at all
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"model": {"name": "lightgbm"}}))
    assert registry_config(tmp_path).backend == "gto"
    assert isinstance(backend_of(tmp_path), GitTags)


def test_mlflow_stages_move_their_aliases(tmp_path: Path) -> None:
    section = {"backend": "mlflow", "aliases": {"prod": "champion"}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"registry": section}))
    cfg = registry_config(tmp_path)
    assert (cfg.alias("prod"), cfg.alias("canary")) == ("champion", "canary")


def test_an_unknown_backend_is_named_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"registry": {"backend": "wandb"}}))
    with pytest.raises(
        ConfigError, match=r"params.yaml: registry.backend: Input should be .gto. or .mlflow.$"
    ):
        backend_of(tmp_path)
