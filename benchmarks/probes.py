"""Measurements taken inside a generated repo's environment (run by benchmarks/run.py).

    python probes.py MODULE gates|monitor [--rows N] [--repeats R] ...

Each prints one JSON object: the repo's way and its raw-library floor, side by side
in the same process, each a list of per-repeat seconds. The service has its own
probe, probe_serving.py.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable
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


# --- gates and monitor against plain pandas / SciPy ----------------------------------------


def gates(module: str, args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    from plain_rules import check_all

    config = importlib.import_module(f"{module}.config")
    demo = importlib.import_module(f"{module}.data.demo")
    validate_raw = importlib.import_module(f"{module}.validation.raw")
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


PROBES = {"gates": gates, "monitor": monitor}  # batch: probe_batch.py


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
