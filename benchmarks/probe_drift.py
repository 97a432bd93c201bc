"""The monitor's drift beside Evidently's DataDriftPreset and a plain SciPy pass, one run.

    <generated-env>/bin/python benchmarks/probe_drift.py --repo <rendered repo> --module <module> \\
        --out build/bench/drift.json [--rows 100000 1000000] [--repeats 3] [--evidently-repeats 1]

Same Parquet files for every side (drift_vs_evidently.py's: 20 columns, 15 numeric and 5
categorical, 3 numeric and 1 categorical shifted), written under --data on first use.
Evidently does not import under pandas 3, so it runs from its own venv
(.cache/evidently-venv, built on first use from evidently-requirements.txt) on the same
files, between our runs at each size. Targets: drift on 1M x 20 under 5 s, at least 20x
faster than Evidently, and the same columns flagged at every size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import drift_vs_evidently as files  # noqa: E402  (the shared data and timing helpers)

EVIDENTLY_VENV = HERE.parent / ".cache" / "evidently-venv"
GOAL_SECONDS, GOAL_RATIO, GOAL_ROWS = 5.0, 20.0, 1_000_000


def evidently_python() -> Path:
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        print(f"building {EVIDENTLY_VENV} (first use, a few minutes)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        requirements = HERE / "evidently-requirements.txt"
        pip = [str(python), "-m", "pip", "install", "-q", "-r", str(requirements)]
        subprocess.run(pip, check=True)
    return python


def run_evidently(data: Path, rows: int, repeats: int) -> dict[str, Any]:
    command = [str(evidently_python()), str(HERE / "drift_vs_evidently.py"), "evidently"]
    command += ["--rows", str(rows), "--out", str(data), "--repeats", str(repeats)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return json.loads((data / "evidently.json").read_text())[str(rows)]


def plain_scipy(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    """The same distances the obvious way: dropna copies, SciPy, value_counts."""
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    for column in files.NUMERIC:
        ref = reference[column].dropna().to_numpy(float)
        cur = current[column].dropna().to_numpy(float)
        stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), 1e-4)
    for column in files.CATEGORICAL:
        shares = pd.concat(
            [
                reference[column].value_counts(normalize=True),
                current[column].value_counts(normalize=True),
            ],
            axis=1,
        ).fillna(0.0)
        jensenshannon(shares.iloc[:, 0] + 1e-4, shares.iloc[:, 1] + 1e-4)


def seconds(run: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    taken, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        taken.append(time.perf_counter() - start)
    return taken, result


def spread(taken: list[float]) -> dict[str, Any]:
    return {"median_s": statistics.median(taken), "min_s": min(taken), "max_s": max(taken), "n": len(taken)}


def sort_floor(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    """The work no exact Wasserstein avoids: sort every numeric column of both, count labels."""
    for column in files.NUMERIC:
        np.sort(reference[column].to_numpy(float)), np.sort(current[column].to_numpy(float))
    for column in files.CATEGORICAL:
        reference[column].value_counts(), current[column].value_counts()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(args.repo / "src"))
    drift = __import__(f"{args.module}.monitoring.drift", fromlist=["dataset_drift"])
    config = __import__(f"{args.module}.config", fromlist=["MonitorConfig"])
    import yaml

    monitor_yaml = (args.repo / "conf" / "monitor" / "default.yaml").read_text()
    cfg = config.MonitorConfig(**yaml.safe_load(monitor_yaml))
    missing = [n for n in args.rows if not (args.data / f"current_{n}.parquet").exists()]
    files.write_data(missing, args.data)
    by_rows = {}
    for rows in args.rows:
        by_rows[str(rows)] = measure_size(args, rows, lambda ref, cur: drift.dataset_drift(
            ref, cur, files.NUMERIC, files.CATEGORICAL, cfg
        ))  # fmt: skip
        print(rows, json.dumps(by_rows[str(rows)]), file=sys.stderr)
    return by_rows


def measure_size(args: argparse.Namespace, rows: int, dataset_drift: Any) -> dict[str, Any]:
    """Ours, then Evidently, then the floors, on the same two files."""
    reference = pd.read_parquet(args.data / f"reference_{rows}.parquet")
    current = pd.read_parquet(args.data / f"current_{rows}.parquet")
    # ours both sides of Evidently's run, so a shared machine's load shifts both alike
    before, drifts = seconds(lambda: dataset_drift(reference, current), args.repeats)
    evidently = run_evidently(args.data, rows, args.evidently_repeats)
    after, _ = seconds(lambda: dataset_drift(reference, current), args.repeats)
    ours = spread(before + after)
    plain, _ = files.timed(lambda: plain_scipy(reference, current), args.repeats)
    sort, _ = files.timed(lambda: sort_floor(reference, current), args.repeats)
    return {
        "ours": {**ours, "drifted": sorted(d.column for d in drifts if d.drifted)},
        "evidently": evidently,
        "plain_scipy": plain,
        "sort_floor_one_thread": sort,
        "ratio_evidently_over_ours": evidently["median_s"] / ours["median_s"],
    }


def targets(by_rows: dict[str, Any]) -> list[dict[str, Any]]:
    goal_rows = GOAL_ROWS if str(GOAL_ROWS) in by_rows else max(map(int, by_rows))
    goal, rows = by_rows[str(goal_rows)], f"{goal_rows:,}"
    ours, evidently, floor = goal["ours"], goal["evidently"], goal["plain_scipy"]
    ratio = goal["ratio_evidently_over_ours"]
    same = all(r["ours"]["drifted"] == r["evidently"]["drifted"] for r in by_rows.values())
    flagged = {n: {"ours": r["ours"]["drifted"], "evidently": r["evidently"]["drifted"]}
               for n, r in by_rows.items()}  # fmt: skip
    return [
        {
            "name": f"drift {rows} x 20",
            "value": ours["median_s"],
            "unit": "s",
            "goal": f"< {GOAL_SECONDS:g} s",
            "met": ours["median_s"] < GOAL_SECONDS,
            "floor": floor["median_s"],
            "floor_what": "plain SciPy pass (wasserstein_distance, value_counts + jensenshannon)",
            "ratio": ours["median_s"] / floor["median_s"],
            "note": f"median of {ours['n']} around Evidently: {ours['min_s']:.2f}-{ours['max_s']:.2f} s",
        },
        {
            "name": f"drift vs Evidently DataDriftPreset, {rows} x 20",
            "value": ratio,
            "unit": "x",
            "goal": f">= {GOAL_RATIO:g}x",
            "met": ratio >= GOAL_RATIO,
            "floor": evidently["median_s"],
            "floor_what": "Evidently 0.7.23 DataDriftPreset seconds on the same files",
            "ratio": ratio,
            "note": f"Evidently {evidently['min_s']:.1f}-{evidently['max_s']:.1f} s",
        },
        {
            "name": "drift: same columns flagged as Evidently",
            "value": float(same),
            "unit": "bool",
            "goal": "same at every size",
            "met": same,
            "floor": None,
            "floor_what": "",
            "ratio": None,
            "note": json.dumps(flagged),
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, GOAL_ROWS])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--evidently-repeats", type=int, default=1)
    parser.add_argument("--data", type=Path, default=HERE.parent / "build" / "drift-data")
    args = parser.parse_args()
    started = time.perf_counter()
    by_rows = measure(args)
    result = {
        "targets": targets(by_rows),
        "detail": {"rows": by_rows, "probe_s": round(time.perf_counter() - started, 1)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["targets"], indent=2))


if __name__ == "__main__":
    main()
