"""The prediction log rotates by size and is read back whole, oldest first."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import pytest

from mllifecycle.serving import (
    prediction_log,
)


def entry(number: int) -> dict[str, object]:
    """One valid record (the log checks its contract), padded to about 330 bytes."""
    return {
        "request_id": f"r{number}",
        "record": 0,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "id": None,
        "inputs": {"x": number, "padding": "." * 120},
        "champion": {"version": "v0.0.1", "decision": "1", "latency_ms": 1.0},
        "challenger": None,
    }


def test_the_log_rotates_by_size_and_keeps_a_bounded_history(tmp_path: Path) -> None:
    path = tmp_path / "logs/predictions.jsonl"
    log = prediction_log.PredictionLog(path, max_bytes=1024, backups=2)
    for number in range(40):
        log.append([entry(number)])
    kept = prediction_log.kept_files(path)
    assert [p.name for p in kept] == [
        "predictions.jsonl.2",
        "predictions.jsonl.1",
        "predictions.jsonl",
    ]
    assert all(p.stat().st_size <= 1024 for p in kept)
    ids = prediction_log.read(path)["request_id"].tolist()
    # The newest records are all there, in order; the oldest went with the third file.
    assert ids == [f"r{n}" for n in range(40 - len(ids), 40)] and 3 <= len(ids) < 40


def test_without_backups_the_log_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "predictions.jsonl"
    log = prediction_log.PredictionLog(path, max_bytes=1024, backups=0)
    for number in range(10):
        log.append([entry(number)])
    assert prediction_log.kept_files(path) == [path] and path.stat().st_size <= 1024
    assert prediction_log.read(path)["request_id"].iloc[-1] == "r9"


def append_many(path: Path, worker: int) -> None:
    log = prediction_log.PredictionLog(path, max_bytes=2048, backups=10_000)
    for number in range(150):
        log.append([entry(worker * 1000 + number)])


@pytest.mark.skipif(sys.platform == "win32", reason="file locks are POSIX-only")
def test_worker_processes_sharing_the_log_lose_no_line(tmp_path: Path) -> None:
    """`serve` runs one worker per core on one log: rotations must not collide."""
    path = tmp_path / "predictions.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=append_many, args=(path, w)) for w in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    written = prediction_log.read(path)["request_id"].tolist()
    assert sorted(written) == sorted(f"r{w * 1000 + n}" for w in (1, 2) for n in range(150))
