"""The service's fast path: the compiled request contract, the log's writer thread,
one worker per core, and the load test's judgement. Behaviour only: the speed is
measured by the template's benchmarks/probe_serving.py, never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from mllifecycle.models import (
    artifact,
)
from mllifecycle.serving.app import (
    create_app,
)
from mllifecycle.serving.contract import (
    MAX_REPORTED,
    RequestContract,
)
from mllifecycle.serving.loadtest import (
    judged,
    summary,
)
from mllifecycle.serving.log_writer import (
    LogWriter,
)
from mllifecycle.serving.settings import (
    ServeSettings,
)
from mllifecycle.testing import free_port, serving

SUITE = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "plan"}},
    {"type": "expect_column_values_to_be_in_set",
     "kwargs": {"column": "plan", "value_set": ["basic", "pro"]}},
    {"type": "expect_column_values_to_be_between",
     "kwargs": {"column": "age", "min_value": 18, "max_value": 99, "strict_max": True}},
    # Tolerant (mostly < 1): it judges a batch, never one record.
    {"type": "expect_column_values_to_be_between",
     "kwargs": {"column": "spend", "min_value": 0, "mostly": 0.9}},
]  # fmt: skip


def test_the_compiled_contract_names_each_broken_record_and_rule() -> None:
    records: list[dict[str, Any]] = [
        {"plan": "basic", "age": 18, "spend": -5.0},  # the lower bound is inclusive
        {"plan": "gold", "age": 99, "spend": 1.0},  # not in the set; 99 is the strict max
        {"plan": None, "age": None, "spend": None},  # null plan; a null age is skipped
    ]
    found = [(v.record, v.column, v.expectation, v.observed) for v in RequestContract(SUITE).violations(records)]  # fmt: skip
    assert found == [
        (1, "age", "expect_column_values_to_be_between", 99),
        (1, "plan", "expect_column_values_to_be_in_set", "gold"),
        (2, "plan", "expect_column_values_to_not_be_null", None),
    ]
    error = RequestContract(SUITE).violations(records)[0].as_error()
    assert error == {
        "type": "expectation",
        "loc": ["body", "records", 1, "age"],
        "msg": "expect_column_values_to_be_between(min_value=18, max_value=99, strict_max=True) failed",
        "input": 99,
    }


def test_the_compiled_contract_reports_at_most_its_limit() -> None:
    many = [{"plan": "gold", "age": 30} for _ in range(MAX_REPORTED + 5)]
    found = RequestContract(SUITE).violations(many)
    assert len(found) == MAX_REPORTED and [v.record for v in found] == list(range(MAX_REPORTED))


def test_the_log_writer_writes_every_job_in_order() -> None:
    written: list[int] = []
    writer = LogWriter(written.extend, max_pending=1000)
    assert all(writer.submit(n) for n in range(500))
    writer.close()
    assert written == list(range(500)) and writer.dropped == 0


def test_one_bad_log_job_loses_only_its_own_lines() -> None:
    written: list[int] = []

    def write(jobs: list[int]) -> None:
        if 13 in jobs:  # e.g. an entry that is not a valid PredictionRecord
            raise ValueError("not a prediction record")
        written.extend(jobs)

    writer = LogWriter(write, max_pending=1000)
    assert all(writer.submit(n) for n in range(30))
    writer.close()
    assert written == [n for n in range(30) if n != 13]


def test_a_full_log_queue_drops_and_counts_without_waiting() -> None:
    release = threading.Event()
    written: list[int] = []

    def slow_write(jobs: list[int]) -> None:
        release.wait(10)  # a disk that has stalled
        written.extend(jobs)

    writer = LogWriter(slow_write, max_pending=2)
    writer.submit(0)
    deadline = time.monotonic() + 5
    while writer.pending():  # until the thread has taken job 0 and stalls on it
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    accepted = [writer.submit(n) for n in range(1, 6)]
    assert time.monotonic() - started < 1  # never waited for the stalled writer
    assert accepted == [True, True, False, False, False] and writer.dropped == 3
    release.set()
    writer.close()
    assert written == [0, 1, 2]


def test_the_fast_path_answers_with_the_pipelines_scores(
    pipeline_run: Path, tmp_path: Path
) -> None:
    """Over real uvicorn: the scores the service returns are the scikit-learn pipeline's."""
    packaged = artifact.load(pipeline_run / "models/package")
    columns = packaged.metadata.input_names
    frame = pd.read_parquet(pipeline_run / "data/prepared/test.parquet")[columns].head(300)
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    settings = ServeSettings(
        allow_unregistered=True,
        model_dir=pipeline_run / "models/package",
        prediction_log=tmp_path / "log.jsonl",
    )
    with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        one_by_one = [client.post("/predict", json={"records": [r]}).json() for r in records]
        meta = client.get("/metadata").json()
    answers = [answer["predictions"][0] for answer in one_by_one]
    reference = packaged.scores(pd.DataFrame(records))
    decisions = packaged.decide_from_scores(reference)
    if packaged.problem.is_classification:
        got = np.array([[a["scores"][label] for label in packaged.problem.labels] for a in answers])
        assert np.abs(got - reference).max() <= 1e-6
        assert [a["decision"] for a in answers] == [str(d) for d in decisions]
    else:
        assert np.allclose([a["decision"] for a in answers], decisions.astype(float), atol=1e-6)
    assert meta["prediction_log_dropped"] == 0


def test_serve_workers_each_answer_ready_only_after_warm_up(
    pipeline_run: Path, tmp_path: Path
) -> None:
    """SERVE_WORKERS=2: two worker processes share the port; a worker listens only after
    its warm-up, so no connection ever meets one still loading (no 503 from /ready)."""
    port = free_port()
    env = {**os.environ, "SERVE_WORKERS": "2", "SERVE_MODEL_DIR": "models/package",
           "SERVE_ALLOW_UNREGISTERED": "1",
           "SERVE_PREDICTION_LOG": str(tmp_path / "log.jsonl")}  # fmt: skip
    command = [
        sys.executable,
        "-m",
        "mllifecycle.serving",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, cwd=pipeline_run, env=env)
    try:
        statuses = ready_statuses(port, server, answers=40)
        assert set(statuses) == {200}, statuses
        assert len(worker_pids(server.pid)) == 2
    finally:
        server.terminate()
        server.wait(timeout=30)


def ready_statuses(port: int, server: subprocess.Popen[bytes], answers: int) -> list[int]:
    """/ready on a fresh connection each time, from start-up until `answers` came back."""
    statuses: list[int] = []
    deadline = time.monotonic() + 120
    while len(statuses) < answers and time.monotonic() < deadline:
        assert server.poll() is None, "the service exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as answer:
                statuses.append(answer.status)
        except urllib.error.HTTPError as refused:
            statuses.append(refused.code)
        except OSError:  # nobody listens yet
            time.sleep(0.05)
    assert len(statuses) == answers, "the service never answered"
    return statuses


def worker_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent` (Linux /proc), the supervisor's workers
    (uvicorn's multiprocessing also keeps a resource tracker, not a worker)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"resource_tracker" not in cmdline:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.parametrize(
    ("p99_ms", "failures", "passed"),
    [(20.0, 0, True), (25.0, 0, True), (25.5, 0, False), (3.0, 1, False)],
)
def test_the_load_test_judges_p99_against_the_spec_target(
    p99_ms: float, failures: int, passed: bool
) -> None:
    stats = {"requests": 9000, "failures": failures, "requests_per_s": 900.0, "p50_ms": 2.0,
             "p99_ms": p99_ms}  # fmt: skip
    result = judged(stats, limit=25.0)
    assert result["passed"] is passed and result["p99_margin_ms"] == pytest.approx(25.0 - p99_ms)
    line = summary(result)
    assert "900.0 requests/s" in line and f"p99 {p99_ms:g} ms" in line
    assert "target of 25 ms" in line and ("met" if p99_ms <= 25 else "missed") in line
