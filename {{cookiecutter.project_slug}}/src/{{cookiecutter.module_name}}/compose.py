"""Compose conf/ into params.yaml with Hydra, exactly as `dvc exp run` does.

    python -m {{ cookiecutter.module_name }}.compose            # write params.yaml
    python -m {{ cookiecutter.module_name }}.compose --check    # fail if params.yaml is stale
    python -m {{ cookiecutter.module_name }}.compose model=linear   # with overrides

`dvc repro` never composes, so run this after editing conf/ (or use
`dvc exp run`, which composes for you).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from . import paths
from .config import parse_params


def composed(overrides: list[str], conf_dir: Path = paths.CONF_DIR) -> dict[str, Any]:
    with initialize_config_dir(config_dir=str(conf_dir.resolve()), version_base=None):
        cfg = compose(config_name="config", overrides=overrides)
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if params.yaml is stale")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=linear")
    args = parser.parse_args(argv)
    params = composed(args.overrides)
    parse_params(params, "conf/")  # a composition that breaks the schema is never written
    if args.check:
        current = yaml.safe_load(paths.PARAMS.read_text()) if paths.PARAMS.exists() else None
        if current != params:
            print("params.yaml is stale: run `make params` (or `dvc exp run`)", file=sys.stderr)
            return 1
        return 0
    header = "# Composed from conf/ by `make params` or `dvc exp run`; edit conf/, not this file.\n"
    paths.PARAMS.write_text(header + yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
