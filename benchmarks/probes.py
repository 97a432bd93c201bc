"""Measurements taken inside a generated repo's environment (run by benchmarks/run.py).

    python probes.py MODULE serving|gates|monitor [--rows N] [--repeats R] ...

Each prints one JSON object: the repo's way and its raw-library floor, side by side
in the same process, each a list of per-repeat seconds.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return seconds


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    values = np.asarray(samples_ms)
    return {"p50_ms": float(np.percentile(values, 50)), "p99_ms": float(np.percentile(values, 99))}


# --- serving: HTTP against in-process predict on the same artifact -------------------------


def serving(module: str, args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    artifact = importlib.import_module(f"{module}.models.artifact")
    packaged = artifact.load(Path("models/package"))
    columns = [f["name"] for f in packaged.metadata["input_schema"]]
    test = pd.read_parquet("data/prepared/test.parquet")[columns]
    payload = json.loads(test.head(100).to_json(orient="records"))
    result: dict[str, Any] = {}
    for size in (1, 100):
        frame = test.head(size)
        samples = [s * 1000 for s in timed(lambda f=frame: packaged.scores(f), args.requests)]
        result[f"in_process_{size}"] = percentiles(samples)

    port = _free_port()
    env = {**os.environ, "SERVE_MODEL_DIR": "models/package"}
    command = [sys.executable, "-m", "uvicorn", f"{module}.serving.app:create_app", "--factory",
               "--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url)
        with httpx.Client(base_url=url, timeout=30) as client:
            for size in (1, 100):
                body = {"records": payload[:size]}
                post = lambda b=body: client.post("/predict", json=b).raise_for_status()  # noqa: E731
                timed(post, 10)  # warm-up
                samples = [s * 1000 for s in timed(post, args.requests)]
                result[f"http_{size}"] = percentiles(samples)
        result["throughput"] = _throughput(url, payload[:1], args.concurrency, args.requests * 4)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


def _throughput(url: str, records: list[dict[str, Any]], concurrency: int, total: int) -> dict[str, Any]:
    import httpx

    def worker(count: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(count):
                client.post("/predict", json={"records": records}).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, [total // concurrency] * concurrency))
    elapsed = time.perf_counter() - started
    return {"concurrency": concurrency, "requests": total, "requests_per_s": total / elapsed}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the service did not become ready")


# --- gates and monitor against plain pandas / SciPy ----------------------------------------


def gates(module: str, args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    from plain_rules import check_all

    config = importlib.import_module(f"{module}.config")
    demo = importlib.import_module(f"{module}.data.demo")
    validate_raw = importlib.import_module(f"{module}.stages.validate_raw")
    gx_gates = importlib.import_module(f"{module}.validation.gates")
    params = config.load_params()
    history, _ = demo.generate(params.problem, args.rows, 0, params.data.demo.seed)
    now = pd.Timestamp.now(tz="UTC")
    derived = validate_raw.dataset_expectations(params, now, history)
    rules = [*gx_gates.load_suite("raw"), *derived]
    gx_result = gx_gates.run(history, "raw", "dataset", derived)
    plain_failures = check_all(history, rules)
    assert gx_result.passed and not plain_failures, (gx_result.failures, plain_failures)
    return {
        "rows": args.rows,
        "rules": len(rules),
        "gx_checkpoint": timed(lambda: gx_gates.run(history, "raw", "dataset", derived), args.repeats),
        "plain_pandas": timed(lambda: check_all(history, rules), args.repeats),
    }


def monitor(module: str, args: argparse.Namespace) -> dict[str, Any]:
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    config = importlib.import_module(f"{module}.config")
    demo = importlib.import_module(f"{module}.data.demo")
    drift = importlib.import_module(f"{module}.monitoring.drift")
    params = config.load_params()
    data = params.data
    reference, current = demo.generate(params.problem, args.rows, args.rows, data.demo.seed)

    def plain() -> None:
        for column in data.numeric:
            ref, cur = reference[column].dropna().to_numpy(float), current[column].dropna().to_numpy(float)
            stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), 1e-4)
        for column in data.categorical:
            shares = pd.concat(
                [reference[column].value_counts(normalize=True), current[column].value_counts(normalize=True)],
                axis=1,
            ).fillna(0.0)
            jensenshannon(shares.iloc[:, 0] + 1e-4, shares.iloc[:, 1] + 1e-4)

    return {
        "rows": args.rows,
        "monitor_drift": timed(
            lambda: drift.dataset_drift(reference, current, data.numeric, data.categorical, params.monitor),
            args.repeats,
        ),
        "plain_scipy": timed(plain, args.repeats),
    }


PROBES = {"serving": serving, "gates": gates, "monitor": monitor}  # batch: probe_batch.py


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("module")
    parser.add_argument("probe", choices=list(PROBES))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(PROBES[args.probe](args.module, args)))


if __name__ == "__main__":
    main()
