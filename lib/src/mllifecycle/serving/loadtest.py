"""`make loadtest`: start the service on loopback, drive it with locust, judge p99.

A bounded headless run (users x rate for a fixed time) against the packaged
model, served as `make serve` serves it (one worker per core unless SERVE_WORKERS
says otherwise); it reports the achieved requests/s, p50 and p99 against the
problem spec's target `constraints.p99_latency_ms`, and fails when any request
errors or p99 is over it. Results: reports/loadtest.json.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from .. import paths
from ..config import load_params
from ..io import read_table, write_json
from ..models import artifact

WORK_DIR = Path("build/loadtest")
REPORT = paths.REPORTS_DIR / "loadtest.json"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_payloads(columns: list[str], rows: int = 500) -> Path:
    """Real records from the test split, as a client would send them."""
    sample = read_table(paths.prepared("test")).head(rows)[columns]
    records = json.loads(sample.to_json(orient="records", date_format="iso"))
    target = WORK_DIR / "payloads.json"
    target.write_text(json.dumps(records))
    return target


def wait_until_ready(url: str, server: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"loadtest: the service exited with {server.returncode} before it was ready"
            )
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"loadtest: the service was not ready within {timeout_s:.0f} s")


def warm_up(url: str, payloads: Path, requests: int = 50) -> None:
    """A few requests on fresh connections before the run, so that every worker has
    answered real traffic once: the judged p99 is of a service in its steady state."""
    body = json.dumps({"records": json.loads(payloads.read_text())[:1]}).encode()
    for _ in range(requests):
        sent = urllib.request.Request(
            f"{url}/predict", body, {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(sent, timeout=10) as answer:
            answer.read()


def read_stats(prefix: Path) -> dict[str, Any]:
    with Path(f"{prefix}_stats.csv").open() as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return {
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "requests_per_s": float(total["Requests/s"]),
        "p50_ms": float(total["50%"]),
        "p99_ms": float(total["99%"]),
    }


def run(
    model_dir: Path, users: int, rate_per_user: float, seconds: int, limit: float
) -> dict[str, Any]:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    metadata = artifact.read_metadata(model_dir / artifact.METADATA_FILE)
    payloads = write_payloads(metadata.input_names)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SERVE_MODEL_DIR": str(model_dir),
        # The workspace's package, never registered: measured, not deployed.
        "SERVE_ALLOW_UNREGISTERED": "1",
        "SERVE_PREDICTION_LOG": str(WORK_DIR / "predictions.jsonl"),
        "LOADTEST_PAYLOADS": str(payloads),
        "LOADTEST_RATE_PER_USER": str(rate_per_user),
        # This run judges latency at a rate within capacity: two Poisson arrivals at once
        # may queue for up to the latency budget instead of being shed (503).
        "SERVE_MAX_QUEUE_WAIT_MS": os.environ.get("SERVE_MAX_QUEUE_WAIT_MS", str(limit)),
    }
    server = subprocess.Popen([sys.executable, "-m", __package__, "--port", str(port)], env=env)
    try:
        wait_until_ready(url, server)
        warm_up(url, payloads)
        locust = [
            "locust", "-f", "loadtest/locustfile.py", "--headless", "--only-summary",
            "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
            "--host", url, "--csv", str(WORK_DIR / "run"),
        ]  # fmt: skip
        subprocess.run(locust, env=env, check=False, capture_output=True)
        stats = read_stats(WORK_DIR / "run")
    finally:
        server.terminate()
        server.wait(timeout=10)
    load = {"users": users, "rate_per_user": rate_per_user, "seconds": seconds}
    return {**judged(stats, limit), **load}


def judged(stats: dict[str, Any], limit: float) -> dict[str, Any]:
    """The run's figures against the p99 target: passed, and the margin left (ms)."""
    passed = stats["failures"] == 0 and stats["requests"] > 0 and stats["p99_ms"] <= limit
    margin = round(limit - stats["p99_ms"], 3)
    return {**stats, "p99_limit_ms": limit, "p99_margin_ms": margin, "passed": passed}


def summary(result: dict[str, Any]) -> str:
    return (
        f"{result['requests']} requests, {result['failures']} failed, "
        f"{result['requests_per_s']:.1f} requests/s; p50 {result['p50_ms']:g} ms, "
        f"p99 {result['p99_ms']:g} ms against the spec's target of {result['p99_limit_ms']:g} ms "
        f"({'met' if result['p99_margin_ms'] >= 0 else 'missed'} by "
        f"{abs(result['p99_margin_ms']):g} ms)"
    )


def judge(
    model_dir: Path, users: int, rate_per_user: float, seconds: int, p99_limit_ms: float | None
) -> None:
    """`loadtest`: run, write reports/loadtest.json, exit non-zero when it failed."""
    limit = p99_limit_ms or load_params().problem.constraints.p99_latency_ms
    result = run(model_dir, users, rate_per_user, seconds, limit)
    write_json(result, REPORT)
    print(summary(result))
    if not result["passed"]:
        sys.exit("loadtest: FAILED (errors, no requests, or p99 over the problem spec's limit)")


if __name__ == "__main__":
    from ..cli import main

    sys.exit(main(["loadtest", *sys.argv[1:]]))
