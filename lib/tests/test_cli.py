"""The project command: one click tree that finds the root, enters it and runs the library."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mllifecycle import cli, paths
from mllifecycle.contracts import (
    JudgedModel,
    MonitorSummary,
    RetrainVerdict,
)

from .conftest import ROOT


def test_the_root_is_found_upward_then_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "conf" / "model").mkdir(parents=True)
    (project / paths.PROJECT_FILE).write_text("stages: {}\n")
    elsewhere.mkdir()
    monkeypatch.delenv(paths.ROOT_ENV, raising=False)
    assert paths.find_root(start=project / "conf" / "model") == project.resolve()
    assert paths.find_root(start=elsewhere) == elsewhere.resolve()
    monkeypatch.setenv(paths.ROOT_ENV, str(project))
    assert paths.find_root(start=elsewhere) == project.resolve()
    assert paths.find_root(elsewhere, start=project) == elsewhere.resolve()


def test_every_command_runs_in_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / paths.PROJECT_FILE).write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    summary = tmp_path / paths.MONITOR_SUMMARY
    summary.parent.mkdir(parents=True)
    written = MonitorSummary(
        judged=JudgedModel(version="v1", tag=None, source="models/package"),
        model_version="v1",
        current_rows=0,
        verdict=RetrainVerdict(retrain=True, reasons=["drift in x"]),
    )
    summary.write_text(written.model_dump_json())
    (tmp_path / "sub").mkdir()
    os.chdir(tmp_path / "sub")
    assert cli.main(["retrain-needed"]) == 0
    assert capsys.readouterr().out == "retrain\n  drift in x\n"
    assert Path.cwd() == tmp_path.resolve()


def test_suites_are_not_drafted_from_a_stale_params_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a failed `make params`, params.yaml still names the old data: `suite` (and its
    --accept) stops before drafting, naming the stale file."""
    for part in ("conf", "gx"):
        shutil.copytree(ROOT / part, tmp_path / part)
    (tmp_path / paths.PROJECT_FILE).write_text("stages: {}\n")
    stale = yaml.safe_load((ROOT / "params.yaml").read_text())
    stale["data"]["demo"]["n_rows"] += 1
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(stale))
    reviewed = {p.name: p.read_bytes() for p in (tmp_path / "gx/expectations").iterdir()}
    monkeypatch.chdir(tmp_path)  # the command enters the root: back where it was after

    assert cli.main(["--root", str(tmp_path), "suite", "--accept"]) == 1
    assert "params.yaml" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (tmp_path / "gx/expectations").iterdir()} == reviewed


def test_a_missing_root_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--root", str(tmp_path / "nowhere"), "registry", "show"]) == 2
    assert capsys.readouterr().err == f"{cli.PROG}: --root {tmp_path / 'nowhere'}: no such folder\n"


def test_one_help_tree_lists_every_command_and_each_has_its_own_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--help"]) == 0
    listed = capsys.readouterr().out
    commands = sorted(cli.cli.commands)
    assert {"stage", "params", "registry", "serve", "score"} <= set(commands)
    for name in commands:
        assert name in listed
        assert cli.main([name, "--help"]) == 0, name
    for name in cli.registry.commands:
        assert cli.main(["registry", name, "--help"]) == 0, name
    assert "Usage:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "runs"),
    [
        (["monitor"], ["dvc", "repro", "monitor"]),
        (["retrain"], ["dvc", "repro", "--keep-going", "--force", "--downstream", "ingest"]),
        (["test", "-k", "smoke", "-x"], ["pytest", "-k", "smoke", "-x"]),
    ],
)
def test_the_make_targets_that_run_dvc_or_pytest_are_commands_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], runs: list[str]
) -> None:
    """A project without make has `monitor`, `retrain` and `test` (README's make-less path),
    each running the tool of the project's own environment (first on PATH)."""
    (tmp_path / paths.PROJECT_FILE).write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)  # the command enters the root: back where it was after
    monkeypatch.setenv("PATH", "/nowhere")
    ran: list[tuple[list[str], str]] = []

    def fake_run(words: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        env = kwargs.get("env")
        ran.append((list(words), env["PATH"] if isinstance(env, dict) else ""))
        return subprocess.CompletedProcess(words, 3, stdout="", stderr="")

    monkeypatch.setattr(cli.subprocess, "run", fake_run)
    assert cli.main(["--root", str(tmp_path), *command]) == 3
    words, path = ran[-1]
    assert Path(words[0]).name == runs[0] and words[1:] == runs[1:]
    assert Path(words[0]).parent == Path(sys.executable).parent
    assert path.split(os.pathsep)[0] == str(Path(sys.executable).parent)


def test_a_misspelt_command_or_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serv"]) == 2
    assert cli.main(["score", "in.csv", "out.csv", "--engine", "spark"]) == 2
    assert "'spark' is not one of 'pandas', 'dask'" in capsys.readouterr().err


def test_a_command_that_exits_with_a_message_prints_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mllifecycle.serving import loadtest

    def failed(*args: object) -> None:
        raise SystemExit("loadtest: FAILED (p99 over the limit)")

    monkeypatch.setattr(loadtest, "judge", failed)
    assert cli.main(["loadtest"]) == 1
    assert capsys.readouterr().err == "loadtest: FAILED (p99 over the limit)\n"


def test_serve_takes_a_folder_through_the_registrys_checks(
    pipeline_run: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`serve --model-dir` (the make-less path had only the unchecked SERVE_MODEL_DIR): a
    folder never registered is refused in one line unless --allow-unregistered asks."""
    for name in ("SERVE_MODEL_DIR", "SERVE_ALLOW_UNREGISTERED", "SERVE_STAGE"):
        monkeypatch.delenv(name, raising=False)  # serve sets them; put back after
    monkeypatch.chdir(pipeline_run)
    package = pipeline_run / "models/package"
    assert cli.main(["serve", "--model-dir", str(package), "--port", "0"]) == 1
    refused = capsys.readouterr().err.strip().splitlines()
    assert len(refused) == 1 and "was never registered" in refused[0], refused
    assert "SERVE_ALLOW_UNREGISTERED=1" in refused[0]
