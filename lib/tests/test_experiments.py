"""`keep` writes an experiment's params into conf/; `compose` fails in one line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mllifecycle import (
    cli,
    experiments,
    paths,
)
from mllifecycle.compose import (
    HEADER,
    composed,
    render_params,
)
from mllifecycle.errors import (
    PipelineError,
)
from mllifecycle.experiments import (
    KeepRefused,
    keep,
    launch_command,
)

from .conftest import ROOT


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """A copy of this repo's conf/, free to change."""
    return Path(shutil.copytree(ROOT / "conf", tmp_path / "conf"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def write(path: Path, params: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


def an_experiment(conf: Path) -> tuple[dict[str, Any], str]:
    """What `dvc exp run -S model=OTHER -S model.max_iter=... -S selection.cv_folds=...` writes."""
    params = composed([], conf)
    other = "linear" if params["model"]["name"] == "hist_gb" else "hist_gb"
    params["model"] = composed([f"model={other}"], conf)["model"]
    params["model"]["max_iter"] += 100
    params["selection"]["cv_folds"] += 1
    return params, other


def test_keep_writes_a_preset_that_composes_to_the_params(conf: Path, tmp_path: Path) -> None:
    params, other = an_experiment(conf)
    params_path = write(tmp_path / "params.yaml", params)

    said = keep("winner", conf, params_path)

    preset = yaml.safe_load((conf / "experiment/winner.yaml").read_text())
    assert preset == {
        "defaults": [{"override /model": other}],
        "model": {"max_iter": params["model"]["max_iter"]},
        "selection": {"cv_folds": params["selection"]["cv_folds"]},
    }
    assert (conf / "experiment/winner.yaml").read_text().startswith("# @package _global_\n")
    assert "  - experiment: winner\n" in (conf / "config.yaml").read_text()
    assert composed([], conf) == params
    # byte for byte what `make params` writes, header included
    assert params_path.read_text() == render_params(params)
    assert params_path.read_text().startswith(HEADER)
    assert f"model={other}" in said and "conf/experiment/winner.yaml" in said


def test_keep_refuses_a_removed_key_and_leaves_conf_as_it_was(conf: Path, tmp_path: Path) -> None:
    params, _ = an_experiment(conf)
    del params["search"]  # a key no preset can take away
    params_path = write(tmp_path / "params.yaml", params)
    before, params_before = snapshot(conf), params_path.read_bytes()

    with pytest.raises(KeepRefused, match=r"it has no search, which conf/ still gives") as refused:
        keep("winner", conf, params_path)

    assert "\n" not in str(refused.value) and "conf/ is left as it was" in str(refused.value)
    assert snapshot(conf) == before
    assert params_path.read_bytes() == params_before


def test_nothing_to_keep_is_refused(conf: Path, tmp_path: Path) -> None:
    params_path = write(tmp_path / "params.yaml", composed([], conf))
    before = snapshot(conf)
    with pytest.raises(KeepRefused, match=r"^nothing to keep: .* already matches conf/$"):
        keep("winner", conf, params_path)
    assert snapshot(conf) == before


@pytest.mark.parametrize("name", ["../winner", "a/b", "win ner", "null", ""])
def test_a_name_that_is_not_a_simple_file_name_is_refused(
    name: str, conf: Path, tmp_path: Path
) -> None:
    params_path = write(tmp_path / "params.yaml", an_experiment(conf)[0])
    before = snapshot(conf)
    with pytest.raises(KeepRefused, match="NAME"):
        keep(name, conf, params_path)
    assert snapshot(conf) == before


def test_keep_does_not_overwrite_another_preset(conf: Path, tmp_path: Path) -> None:
    params_path = write(tmp_path / "params.yaml", an_experiment(conf)[0])
    existing = next((conf / "experiment").glob("*.yaml")).stem
    before = snapshot(conf)
    with pytest.raises(KeepRefused, match="exists: choose another NAME"):
        keep(existing, conf, params_path)
    assert snapshot(conf) == before


@pytest.fixture
def in_a_copy(conf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The commands' working directory: conf/ and params.yaml in a scratch folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "PARAMS", tmp_path / "params.yaml")
    return tmp_path


def test_keep_command_says_what_is_wrong_in_one_line(
    in_a_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(in_a_copy / "params.yaml", composed([], in_a_copy / "conf"))
    assert cli.main(["keep", "winner"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "nothing to keep: params.yaml already matches conf/"
    ]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model=nope", "model/nope"),
        ("model.num_leafs=3", "model.num_leafs"),
        (
            # The candidate chosen explicitly: conf/config.yaml may select another.
            "model=lightgbm +model.num_leafs=3",
            "model.num_leafs: unknown hyperparameter of candidate 'lightgbm'",
        ),
        ("model=lightgbmm", "model/lightgbmm"),
        ("model.C=[1", "model.C=[1"),
        ("selection.cv_folds=-3", "selection.cv_folds"),
    ],
)
def test_a_bad_override_is_one_line_naming_it(
    override: str, named: str, in_a_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["params", *override.split()]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and named in error
    assert not (in_a_copy / "params.yaml").exists()  # nothing written


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model=lightgbmm", "model/lightgbmm"),
        (
            # The candidate chosen explicitly: conf/config.yaml may select another.
            "model=lightgbm +model.num_leafs=3",
            "model.num_leafs: unknown hyperparameter of candidate 'lightgbm'",
        ),
    ],
)
def test_an_experiment_with_a_bad_override_is_one_line_and_never_launched(
    override: str,
    named: str,
    in_a_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    launched: list[Any] = []
    monkeypatch.setenv("OVERRIDES", override)
    monkeypatch.setattr(experiments, "has_remote", lambda: False)
    monkeypatch.setattr(experiments.subprocess, "run", lambda *a, **k: launched.append(a))
    assert cli.main(["experiment"]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and named in error
    assert launched == []  # DVC, which would print Hydra's many lines, never started


def test_stale_params_name_the_key_and_both_ways_out(
    in_a_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(in_a_copy / "params.yaml", an_experiment(in_a_copy / "conf")[0])
    assert cli.main(["params", "--check"]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "stale at model.name" in error
    assert "make keep NAME=" in error and "make params" in error
    assert cli.main(["params"]) == 0 and cli.main(["params", "--check"]) == 0


def test_overrides_reach_dvc_as_one_argument_each() -> None:
    hostile = "model=linear 'model.C=1; touch pwned' \"data.path=$(shell id)\""
    assert launch_command(hostile, "try-1", pull=True) == [
        "dvc", "exp", "run", "--pull", "--name", "try-1",
        "-S", "model=linear", "-S", "model.C=1; touch pwned", "-S", "data.path=$(shell id)",
    ]  # fmt: skip
    assert launch_command("", "", pull=False) == ["dvc", "exp", "run"]


@pytest.mark.parametrize(
    ("overrides", "name", "message"),
    [
        ("model=linear 'unclosed", "", "cannot be split"),
        ("model=linear; rm -rf /", "", "'rm' is not a Hydra override"),
        ("model=linear", "a b", "NAME 'a b'"),
    ],
)
def test_a_bad_override_or_name_is_one_line(overrides: str, name: str, message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        launch_command(overrides, name, pull=False)
