"""What CI reads: the pull-request report's verdict table and the monitor's exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mllifecycle.contracts import (
    JudgedModel,
    MonitorSummary,
    RetrainVerdict,
    SliceJudgement,
    Verdict,
)
from mllifecycle.monitoring import verdict
from mllifecycle.reporting.pr_report import verdict_section


def write_verdict(path: Path, passed: bool) -> Path:
    criteria = [
        {
            "name": "uplift_per_1000_over_baseline",
            "observed": 12.5,
            "required": 100.0,
            "passed": passed,
            "detail": "",
        },
        {"name": "roc_auc", "observed": None, "required": 0.7, "passed": True, "detail": ""},
    ]
    record = Verdict.model_validate(
        {
            "model": "lightgbm",
            "best_baseline": "dummy",
            "passed": passed,
            "promotable": passed,
            "override": None,
            "criteria": criteria,
            "champion": None,
            "slice_judgement": SliceJudgement(
                method="one-sided normal bound",
                confidence=0.95,
                floor_uplift_per_1000=0.0,
                min_slice_rows=30,
            ),
            "slices": [],
        }
    )
    path.write_text(json.dumps(record.model_dump(mode="json")))
    return path


def test_a_failed_criterion_stands_out_in_the_pr_report(tmp_path: Path) -> None:
    lines = verdict_section(write_verdict(tmp_path / "verdict.json", passed=False))
    assert "FAILS" in lines[0]
    assert "| uplift_per_1000_over_baseline | 12.5 | 100 | **fail** |" in lines
    assert "| roc_auc | n/a | 0.7 | pass |" in lines


def test_the_pr_report_says_when_there_is_no_evaluation(tmp_path: Path) -> None:
    assert "dvc repro" in verdict_section(tmp_path / "missing.json")[0]


@pytest.mark.parametrize(
    ("retrain", "status"), [(True, verdict.RETRAIN), (False, verdict.NO_RETRAIN)]
)
def test_the_retrain_verdict_is_an_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], retrain: bool, status: int
) -> None:
    summary = tmp_path / "monitor.json"
    reasons = ["dataset drift: 60% of features drifted (threshold 50%)"] if retrain else []
    written = MonitorSummary(
        judged=JudgedModel(version="v0.0.1", tag="churn@v0.0.1", source="prod"),
        model_version="v0.0.1",
        current_rows=100,
        verdict=RetrainVerdict(retrain=retrain, reasons=reasons),
    )
    summary.write_text(json.dumps(written.model_dump(mode="json")))
    assert verdict.retrain_status(summary) == status
    assert ("dataset drift" in capsys.readouterr().out) == retrain


def test_no_monitor_run_is_neither_verdict(tmp_path: Path) -> None:
    assert verdict.retrain_status(tmp_path / "monitor.json") == verdict.NO_VERDICT
