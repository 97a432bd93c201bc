"""The project command finds its root, enters it and runs each command's own main."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mllifecycle import cli, paths
from mllifecycle.contracts import (
    JudgedModel,
    MonitorSummary,
    RetrainVerdict,
)


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


def test_a_missing_root_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--root", str(tmp_path / "nowhere"), "registry", "show"]) == 2
    assert capsys.readouterr().err == f"{cli.PROG}: --root {tmp_path / 'nowhere'}: no such folder\n"


def test_every_command_names_a_main_that_exists() -> None:
    import importlib

    for name, command in cli.COMMANDS.items():
        module = importlib.import_module(f"{cli.__package__}.{command.module}")
        assert callable(getattr(module, command.function)), name
