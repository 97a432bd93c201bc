"""The monitor's drift tests against Evidently's DataDriftPreset, on the same data.

Evidently does not import under pandas 3, so it runs in its own pandas-2 venv;
the same script, with the other interpreter, times each side on the same files:

    python benchmarks/drift_vs_evidently.py data --rows 100000 1000000 --out build/bench
    <generated-env>/bin/python benchmarks/drift_vs_evidently.py ours --render <rendered repo> --out build/bench
    <pandas-2 venv with evidently>/bin/python benchmarks/drift_vs_evidently.py evidently --out build/bench

probe_drift.py runs both sides and a plain SciPy floor in one go (and builds
the Evidently venv from evidently-requirements.txt). Each figure is the median
of --repeats runs, with min and max. 20 columns: 15 numeric, 5 categorical; the
current batch has 3 numeric and 1 categorical shifted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

NUMERIC = [f"n{i}" for i in range(15)]
CATEGORICAL = [f"c{i}" for i in range(5)]
SHIFTED = {"n0", "n1", "n2", "c0"}


def make_frame(rows: int, seed: int, shifted: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = {}
    for column in NUMERIC:
        shift = 0.5 if shifted and column in SHIFTED else 0.0
        frame[column] = rng.normal(shift, 1.0, rows)
    for column in CATEGORICAL:
        p = [0.25, 0.25, 0.25, 0.25]
        if shifted and column in SHIFTED:
            p = [0.55, 0.15, 0.15, 0.15]
        frame[column] = rng.choice(["a", "b", "c", "d"], rows, p=p)
    return pd.DataFrame(frame)


def write_data(rows: list[int], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for n in rows:
        make_frame(n, 0, shifted=False).to_parquet(out / f"reference_{n}.parquet")
        make_frame(n, 1, shifted=True).to_parquet(out / f"current_{n}.parquet")


def timed(run, repeats: int) -> tuple[dict[str, float], object]:
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds)}, result


def sizes(out: Path, wanted: list[int]) -> list[int]:
    found = {int(p.stem.split("_")[1]) for p in out.glob("reference_*.parquet")}
    return sorted(found & set(wanted))


def ours(out: Path, rows: list[int], render: Path, repeats: int) -> dict:
    sys.path.insert(0, str(render / "src"))
    module = "mllifecycle"  # the library every render depends on
    drift = __import__(f"{module}.monitoring.drift", fromlist=["dataset_drift"])
    config = __import__(f"{module}.config", fromlist=["MonitorConfig"])
    import yaml

    cfg = config.MonitorConfig(**yaml.safe_load((render / "conf/monitor/default.yaml").read_text()))
    results = {}
    for n in sizes(out, rows):
        reference = pd.read_parquet(out / f"reference_{n}.parquet")
        current = pd.read_parquet(out / f"current_{n}.parquet")
        timing, drifts = timed(
            lambda: drift.dataset_drift(reference, current, NUMERIC, CATEGORICAL, cfg), repeats
        )
        results[n] = {**timing, "drifted": sorted(d.column for d in drifts if d.drifted)}
    return results


def evidently(out: Path, rows: list[int], repeats: int) -> dict:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    results = {}
    for n in sizes(out, rows):
        reference = Dataset.from_pandas(pd.read_parquet(out / f"reference_{n}.parquet"), definition)
        current = Dataset.from_pandas(pd.read_parquet(out / f"current_{n}.parquet"), definition)
        timing, snapshot = timed(lambda: Report([DataDriftPreset()]).run(current, reference), repeats)
        drifted = []
        for metric in snapshot.dict()["metrics"]:
            config = metric.get("config", {})
            if config.get("type", "").endswith("ValueDrift"):
                value, threshold = float(metric["value"]), float(config["threshold"])
                is_p_value = "p_value" in config["method"] or "test" in config["method"]
                if (value < threshold) if is_p_value else (value > threshold):
                    drifted.append(config["column"])
        results[n] = {**timing, "drifted": sorted(drifted)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", choices=["data", "ours", "evidently"])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    parser.add_argument("--render", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.side == "data":
        write_data(args.rows, args.out)
        return
    if args.side == "ours":
        results = ours(args.out, args.rows, args.render, args.repeats)
    else:
        results = evidently(args.out, args.rows, args.repeats)
    (args.out / f"{args.side}.json").write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
