"""Launch an experiment, and keep one: write what params.yaml changed into conf/.

    OVERRIDES="model=hist_gb model.max_iter=300" NAME=deeper \
        mllifecycle experiment        # or: make experiment ...; or words: experiment model=linear
    mllifecycle keep NAME            # or: make keep NAME=...

`experiment` takes the overrides from $OVERRIDES (shell-like words: quote a value with spaces)
and the name from $NAME, and starts `dvc exp run` with an argument list: whatever a
workflow input holds reaches DVC as data, never through a shell or make.

After `dvc exp run -S model=hist_gb -S model.max_iter=300` (or `dvc exp apply`), params.yaml
is ahead of conf/. `keep` writes the difference as the Hydra preset conf/experiment/NAME.yaml
(the config group options that changed, then only the keys that differ from them), selects
it in conf/config.yaml (`experiment: NAME`) and requires conf/ to compose to exactly
params.yaml; otherwise it puts conf/ back as it was and names the first key that differs.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir

from . import paths
from .compose import (
    ABSENT,
    COMPOSITION_ERRORS,
    composed,
    composed_params,
    composition_error,
    first_difference,
    read_params,
    render_params,
    shown,
)
from .config import parse_params
from .errors import PipelineError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# The defaults-list entry that selects a preset: `- experiment: null` or `- experiment: NAME`.
SELECTION = re.compile(r"^(\s*-\s*experiment\s*:[ \t]*)([^\s#]+)", re.MULTILINE)
WITHOUT_PRESET = ["~experiment"]  # the base a new preset is written against
NOT_GROUPS = {"experiment", "hparams_search", "local"}


class PresetDumper(yaml.SafeDumper):
    """Lists indented under their key, as in the presets written by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class KeepRefused(PipelineError):
    """`keep` cannot write the experiment into conf/; conf/ is unchanged."""


def changed(wanted: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The keys of `wanted` whose values differ from `base`, nested as in `wanted`."""
    difference: dict[str, Any] = {}
    for key, value in wanted.items():
        before = base.get(key, ABSENT)
        if isinstance(value, dict) and isinstance(before, dict):
            inner = changed(value, before)
            if inner:
                difference[key] = inner
        elif value != before:
            difference[key] = value
    return difference


def count(difference: dict[str, Any]) -> int:
    """How many values a difference holds (an empty dict value counts as one)."""
    return sum(count(v) if isinstance(v, dict) and v else 1 for v in difference.values())


def distance(wanted: Any, option: Any) -> int:
    """How many keys differ between a group's params and one option of the group."""
    if not (isinstance(wanted, dict) and isinstance(option, dict)):
        return 0 if wanted == option else 1
    return count(changed(wanted, option)) + count(changed(option, wanted))


def group_choices(conf_dir: Path, overrides: list[str]) -> dict[str, str]:
    """Which option each config group of conf/ selects (Hydra's own record of it)."""
    with initialize_config_dir(config_dir=str(conf_dir.resolve()), version_base=None):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    choices = cfg.hydra.runtime.choices
    return {
        str(group): str(option)
        for group, option in choices.items()
        if option is not None and (conf_dir / str(group)).is_dir() and group not in NOT_GROUPS
    }


def best_option(conf_dir: Path, group: str, current: str, wanted: Any, overrides: list[str]) -> str:
    """The group's option file closest to the params: the same `name` first, then fewest keys."""
    options = sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))
    scored = []
    for option in options:
        config = composed([*overrides, f"{group}={option}"], conf_dir)[group]
        same_name = (
            isinstance(wanted, dict)
            and isinstance(config, dict)
            and "name" in wanted
            and config.get("name") == wanted["name"]
        )
        scored.append((not same_name, distance(wanted, config), option != current, option))
    return min(scored)[-1] if scored else current


def group_overrides(conf_dir: Path, wanted: dict[str, Any]) -> dict[str, str]:
    """Each config group whose option the params changed, with the option that fits best."""
    choices = group_choices(conf_dir, WITHOUT_PRESET)
    chosen: dict[str, str] = {}
    for group in [key for key in wanted if key in choices]:  # in params' order: problem first
        overrides = [*WITHOUT_PRESET, *(f"{g}={o}" for g, o in chosen.items())]
        option = best_option(conf_dir, group, choices[group], wanted[group], overrides)
        if option != choices[group]:
            chosen[group] = option
    return chosen


def preset_text(name: str, groups: dict[str, str], values: dict[str, Any]) -> str:
    header = (
        "# @package _global_\n"
        f"# Kept from an experiment's params.yaml by `make keep NAME={name}` and selected in\n"
        f"# conf/config.yaml (`experiment: {name}`): only what differs from conf/'s defaults.\n"
    )
    body: dict[str, Any] = {}
    if groups:
        body["defaults"] = [{f"override /{group}": option} for group, option in groups.items()]
    body.update(values)
    return header + yaml.dump(body, Dumper=PresetDumper, sort_keys=False)


def unkeepable(difference: tuple[str, Any, Any]) -> str:
    key, in_params, in_conf = difference
    if in_params is ABSENT:
        return (
            f"it has no {key}, which conf/ still gives ({in_conf!r}): a preset changes or adds"
            " keys, it cannot remove one; conf/ is left as it was"
        )
    return (
        f"conf/ would compose {key} = {shown(in_conf)} where it has {in_params!r};"
        " conf/ is left as it was"
    )


def check_name(name: str) -> None:
    if not name:
        raise KeepRefused("no NAME given: make keep NAME=my-winner")
    if not NAME.fullmatch(name) or name == "null":
        raise KeepRefused(
            f"NAME {name!r} is not a simple file name: use letters, digits, '-' and '_'"
            " (it becomes conf/experiment/NAME.yaml)"
        )


def selected_preset(config_text: str, config_path: Path) -> re.Match[str]:
    selection = SELECTION.search(config_text)
    if selection is None:
        raise KeepRefused(
            f"{config_path} has no `- experiment: null` entry in its defaults list:"
            " add it after `- _self_`"
        )
    return selection


def keep(name: str, conf_dir: Path = paths.CONF_DIR, params_path: Path = paths.PARAMS) -> str:
    """Write params.yaml's difference from conf/ into conf/; return what was done."""
    check_name(name)
    wanted = read_params(params_path)
    if wanted is None:
        raise KeepRefused(f"{params_path} is missing: nothing to keep")
    parse_params(wanted, str(params_path))  # never keep params the stages would refuse
    config_path = conf_dir / "config.yaml"
    config_text = config_path.read_text(encoding="utf-8")
    selection = selected_preset(config_text, config_path)
    if composed([], conf_dir) == wanted:
        raise KeepRefused(f"nothing to keep: {params_path} already matches conf/")
    preset = conf_dir / "experiment" / f"{name}.yaml"
    if preset.exists() and selection.group(2) != name:
        raise KeepRefused(f"{preset} exists: choose another NAME, or delete it first")

    groups = group_overrides(conf_dir, wanted)
    base = composed([*WITHOUT_PRESET, *(f"{g}={o}" for g, o in groups.items())], conf_dir)
    values = changed(wanted, base)
    before = preset.read_text(encoding="utf-8") if preset.exists() else None
    start, end = selection.span(2)
    try:
        preset.parent.mkdir(parents=True, exist_ok=True)
        preset.write_text(preset_text(name, groups, values), encoding="utf-8")
        config_path.write_text(config_text[:start] + name + config_text[end:], encoding="utf-8")
        result = composed([], conf_dir)
        difference = first_difference(wanted, result)
        if difference:
            raise KeepRefused(f"cannot keep {params_path}: {unkeepable(difference)}")
    except (KeepRefused, *COMPOSITION_ERRORS):
        config_path.write_text(config_text, encoding="utf-8")
        if before is None:
            preset.unlink(missing_ok=True)
        else:
            preset.write_text(before, encoding="utf-8")
        raise
    params_path.write_text(render_params(result), encoding="utf-8")
    kept = [f"{g}={o}" for g, o in groups.items()]
    kept += [f"{count(values)} changed value(s)"] if values else []
    return (
        f"kept {', '.join(kept)} in {preset}, selected in {config_path};"
        f" {params_path} matches conf/ (commit both)"
    )


def launch_command(overrides: str, name: str, pull: bool) -> list[str]:
    """`dvc exp run` with each override as its own -S argument."""
    try:
        words = shlex.split(overrides)
    except ValueError as err:
        raise PipelineError(
            f"OVERRIDES {overrides!r} cannot be split into overrides: {err}"
        ) from None
    broken = [w for w in words if "=" not in w or any(c in w for c in "\r\n\0")]
    if broken:
        raise PipelineError(
            f"OVERRIDES: {broken[0]!r} is not a Hydra override such as model=linear"
        )
    if name and not NAME.fullmatch(name):
        raise PipelineError(f"NAME {name!r}: letters, digits, '-' and '_' only")
    command = [
        "dvc",
        "exp",
        "run",
        *(["--pull"] if pull else []),
        *(["--name", name] if name else []),
    ]
    return [*command, *(arg for word in words for arg in ("-S", word))]


def has_remote() -> bool:
    listed = subprocess.run(["dvc", "remote", "list"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def run_experiment(overrides: str, name: str) -> int:
    """`experiment`: `dvc exp run` with `overrides` (shell-like words) named `name`; its status."""

    def launch() -> int:
        command = launch_command(overrides, name, has_remote())
        # DVC prints Hydra's multi-line error for a bad override: check it here first.
        composed_params([arg for flag, arg in pairwise(command) if flag == "-S"])
        return subprocess.run(command, check=False).returncode

    return exit_status(launch)


def keep_experiment(name: str) -> int:
    """`keep NAME`: params.yaml's experiment into conf/experiment/NAME.yaml; exit status."""
    return exit_status(lambda: print(keep(name)) or 0)


def exit_status(body: Callable[[], int]) -> int:
    """`body`'s exit status; a composition or pipeline error is one line and status 1."""
    try:
        return body()
    except COMPOSITION_ERRORS as err:
        print(f"conf/ does not compose: {composition_error(err, [])}", file=sys.stderr)
    except PipelineError as err:
        print(err, file=sys.stderr)
    return 1
