"""Compose conf/ into params.yaml with Hydra, exactly as `dvc exp run` does.

    mllifecycle params            # write params.yaml (make params)
    mllifecycle params --check    # fail if params.yaml is stale
    mllifecycle params model=linear   # with overrides

`dvc repro` never composes, so run this after editing conf/ (or use
`dvc exp run`, which composes for you). To keep what an experiment wrote into
params.yaml, use `mllifecycle keep NAME`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, OverrideParseException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from . import paths
from .config import parse_params
from .errors import ConfigError

HEADER = "# Composed from conf/ by `make params` or `dvc exp run`; edit conf/, not this file.\n"
# What Hydra and OmegaConf raise for a bad override or config (never a bug of ours).
COMPOSITION_ERRORS = (HydraException, OmegaConfBaseException)
ABSENT = object()  # a key one side of a comparison does not have


def composed(overrides: list[str], conf_dir: Path = paths.CONF_DIR) -> dict[str, Any]:
    with initialize_config_dir(config_dir=str(conf_dir.resolve()), version_base=None):
        cfg = compose(config_name="config", overrides=overrides)
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def render_params(params: dict[str, Any]) -> str:
    """params.yaml's text: the one format `make params` and `make keep` both write."""
    return HEADER + yaml.safe_dump(params, sort_keys=False)


def read_params(path: Path = paths.PARAMS) -> dict[str, Any] | None:
    if not path.exists():
        return None
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def first_difference(wanted: Any, got: Any, prefix: str = "") -> tuple[str, Any, Any] | None:
    """The first dotted key whose value differs: (key, wanted's value, got's value)."""
    if isinstance(wanted, dict) and isinstance(got, dict):
        for key in [*wanted, *(k for k in got if k not in wanted)]:
            found = first_difference(
                wanted.get(key, ABSENT), got.get(key, ABSENT), f"{prefix}{key}."
            )
            if found:
                return found
        return None
    return None if wanted == got else (prefix.rstrip(".") or "<root>", wanted, got)


def shown(value: Any) -> str:
    return "absent" if value is ABSENT else repr(value)


def composition_error(err: Exception, overrides: list[str]) -> str:
    """One line for a Hydra/OmegaConf error; Hydra's own messages span several."""
    if isinstance(err, OverrideParseException):
        for override in overrides:  # name the override that does not parse
            try:
                OverridesParser.create().parse_overrides([override])
            except OverrideParseException as single:
                return f"cannot parse override {override!r}: {str(single).splitlines()[0]}"
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    lines = lines[: lines.index("Config search path:")] if "Config search path:" in lines else lines
    if len(lines) > 1 and lines[1].startswith("Available options"):
        return f"{lines[0]} ({lines[1]} {', '.join(lines[2:])})"
    return " ".join(lines) or type(err).__name__


def composed_params(overrides: list[str], conf_dir: Path = paths.CONF_DIR) -> dict[str, Any]:
    """The composition, schema-checked; every failure is one ConfigError line."""
    try:
        params = composed(overrides, conf_dir)
    except COMPOSITION_ERRORS as err:
        raise ConfigError(f"conf/ does not compose: {composition_error(err, overrides)}") from err
    # A composition that breaks the schema is never written.
    parse_params(params, f"params with {' '.join(overrides)}" if overrides else "params")
    return params


def stale_message(params: dict[str, Any], on_disk: dict[str, Any] | None) -> str | None:
    if on_disk is None:
        return f"{paths.PARAMS} is missing: run `make params`"
    difference = first_difference(on_disk, params)
    if difference is None:
        return None
    key, in_file, in_conf = difference
    return (
        f"{paths.PARAMS} is stale at {key} ({paths.PARAMS}: {shown(in_file)}, conf/:"
        f" {shown(in_conf)}): keep an experiment's params with `make keep NAME=...`,"
        " or discard them with `make params`"
    )


def write_params(overrides: list[str], check: bool = False) -> int:
    """`params [--check] OVERRIDE...`: write params.yaml (or, checking, compare it); exit status."""
    try:
        params = composed_params(overrides)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    if check:
        stale = stale_message(params, read_params())
        if stale:
            print(stale, file=sys.stderr)
            return 1
        return 0
    paths.PARAMS.write_text(render_params(params), encoding="utf-8")
    return 0
