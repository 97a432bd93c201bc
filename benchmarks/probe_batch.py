"""Batch scoring and one-record scoring against the raw LightGBM booster.

    <ENV>/bin/python benchmarks/probe_batch.py --repo REPO --module MODULE --out batch.json \
        [--sizes 1000000,10000000] [--formats parquet,csv] [--calls 2000]

REPO is a rendered repo after `dvc repro` (models/package, data/raw/production.parquet).
Inputs of each size are written by resampling the repo's production batch (in 1M-row
pieces, so writing them never holds a whole file). Each batch run is a fresh subprocess,
so its peak RSS (resource.getrusage) belongs to that run alone. The floor is the raw
booster on the prepared matrix of the 1M-row input (every thread), in its own process.
Times on a shared machine are noisy: figures at the first size are medians of
`--repeats` runs; larger sizes run once (they show memory, and that the rate holds).
Each run also records its CPU seconds (every thread): the booster fills both cores, so
the CPU-time ratio is what the rate ratio is on an idle machine, and it holds steady
under other load, where wall-clock ratios do not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

PIECE = 1_000_000


def write_inputs(repo: Path, rows: int, folder: Path) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    production = pq.read_table(repo / "data/raw/production.parquet")
    generator = np.random.default_rng(7)
    paths = {"parquet": folder / f"in_{rows}.parquet", "csv": folder / f"in_{rows}.csv"}
    parquet = csv = None
    try:
        for start in range(0, rows, PIECE):
            take = generator.integers(0, production.num_rows, min(PIECE, rows - start))
            piece: pa.Table = production.take(pa.array(take))
            parquet = parquet or pq.ParquetWriter(paths["parquet"], piece.schema)
            csv = csv or pv.CSVWriter(paths["csv"], piece.schema)
            parquet.write_table(piece, row_group_size=200_000)
            csv.write_table(piece)
    finally:
        for writer in (parquet, csv):
            if writer is not None:
                writer.close()
    return paths


def child_score(module: str, source: str) -> dict[str, Any]:
    """One batch run, timed from the loaded model to the written output."""
    import importlib

    batch = importlib.import_module(f"{module}.serving.batch")
    loading = importlib.import_module(f"{module}.serving.loading")
    model = loading.from_dir(Path("models/package"), unregistered=True)
    out = Path(tempfile.mkdtemp()) / "scored.parquet"
    started, cpu = time.perf_counter(), time.process_time()
    rows = batch.score(model, source, out, 200_000)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    out.unlink()
    return {"rows": rows, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb()}


def child_booster(module: str, source: str) -> dict[str, Any]:
    """The floor: the raw booster on the prepared matrix of `source`, every thread."""
    import importlib

    import pandas as pd

    artifact = importlib.import_module(f"{module}.models.artifact")
    compiled = importlib.import_module(f"{module}.models.compiled")
    packaged = artifact.load(Path("models/package"))
    path = packaged.compiled
    if path is None or path.booster is None:
        return {"rows": 0, "seconds": None, "note": "the package has no compiled LightGBM path"}
    frame = pd.read_parquet(source)
    matrix = path.matrix(compiled.columns_of_frame(packaged.inputs(frame), packaged.kinds))
    started, cpu = time.perf_counter(), time.process_time()
    path.booster.predict(matrix, num_threads=0)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"rows": len(matrix), "seconds": seconds, "cpu_seconds": cpu}


def child_one_record(module: str, calls: int) -> dict[str, Any]:
    """scores_of_records on one record beside Booster.predict on its prepared row."""
    import importlib

    import pandas as pd

    artifact = importlib.import_module(f"{module}.models.artifact")
    compiled = importlib.import_module(f"{module}.models.compiled")
    packaged = artifact.load(Path("models/package"))
    frame = pd.read_parquet("data/raw/production.parquet").head(200)
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    path = packaged.compiled
    one: list[float] = []
    for i in range(calls):
        record = [records[i % len(records)]]
        started = time.perf_counter()
        packaged.scores_of_records(record)
        one.append(time.perf_counter() - started)
    floor: list[float] = []
    if path is not None and path.booster is not None:
        rows = path.matrix(compiled.columns_of_frame(packaged.inputs(frame), packaged.kinds))
        for i in range(calls):
            row = rows[i % len(rows)][None, :]
            started = time.perf_counter()
            path.booster.predict(row, num_threads=1)
            floor.append(time.perf_counter() - started)
    return {"one_record_ms": ms(one), "booster_one_row_ms": ms(floor) if floor else None}


def ms(seconds: list[float]) -> dict[str, float]:
    values = np.asarray(seconds) * 1e3
    return {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99))}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def in_child(args: argparse.Namespace, *extra: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--repo", str(args.repo), "--module", args.module, *extra]
    done = subprocess.run(command, cwd=args.repo, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(extra)} failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def median_run(args: argparse.Namespace, *extra: str, repeats: int | None = None) -> dict[str, Any]:
    runs = [in_child(args, *extra) for _ in range(repeats or args.repeats)]
    best = dict(runs[0])
    for key in ("seconds", "cpu_seconds"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            best[key] = float(np.median(values))
            best[f"{key}_all"] = values
    if "peak_rss_mb" in runs[0]:
        best["peak_rss_mb"] = float(max(r["peak_rss_mb"] for r in runs))
    return best


def target(name: str, value: float, unit: str, goal: str, met: bool, **more: Any) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "goal": goal, "met": bool(met),
            "floor": more.get("floor"), "floor_what": more.get("floor_what", ""),
            "ratio": more.get("ratio"), "note": more.get("note", "")}  # fmt: skip


def measure(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    detail: dict[str, Any] = {"sizes": sizes, "formats": formats, "cores": os.cpu_count()}
    targets = []
    with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
        inputs = {rows: write_inputs(args.repo, rows, Path(scratch)) for rows in sizes}
        floor = median_run(args, "--child", "booster", "--source", str(inputs[sizes[0]]["parquet"]))
        floor_rate = floor["rows"] / floor["seconds"] if floor.get("seconds") else None
        floor_cpu = floor.get("cpu_seconds")
        detail["booster"] = {**floor, "rows_per_s": floor_rate}
        runs: dict[str, dict[str, Any]] = {}
        for rows in sizes:
            for fmt in formats:
                # Larger sizes run once: they show memory and that the rate holds.
                repeats = args.repeats if rows == sizes[0] else 1
                source = str(inputs[rows][fmt])
                run = median_run(args, "--child", "score", "--source", source, repeats=repeats)
                run["rows_per_s"] = run["rows"] / run["seconds"]
                # CPU seconds (every thread) per row against the booster's: what the
                # rate ratio is on an idle machine whose cores the booster fills, and
                # steady under other load, where wall-clock ratios are not.
                if floor_cpu:
                    per_row = floor_cpu / floor["rows"]
                    run["cpu_ratio"] = per_row / (run["cpu_seconds"] / run["rows"])
                runs[f"{fmt}_{rows}"] = run
        detail["batch"] = runs
        for fmt in formats:
            first = runs[f"{fmt}_{sizes[0]}"]
            ratio = first["rows_per_s"] / floor_rate if floor_rate else None
            cpu_ratio = f"{first['cpu_ratio']:.2f}" if "cpu_ratio" in first else "n/a"
            targets.append(target(
                f"batch {sizes[0]:,} rows {fmt}: rows/s vs raw booster", first["rows_per_s"],
                "rows/s", ">= 0.9x the booster", ratio is not None and ratio >= 0.9,
                floor=floor_rate, floor_what="Booster.predict on the same prepared matrix, all threads",
                ratio=ratio, note="read, type, compile-path preprocess, predict, decide, write"
                f" Parquet; CPU-time ratio {cpu_ratio}",
            ))  # fmt: skip
            rss = [runs[f"{fmt}_{rows}"]["peak_rss_mb"] for rows in sizes]
            growth = rss[-1] / rss[0]
            per_size = ", ".join(f"{r:,} rows: {m:.0f} MB" for r, m in zip(sizes, rss, strict=True))
            targets.append(target(
                f"batch {fmt} peak RSS, {sizes[-1]:,} vs {sizes[0]:,} rows", growth, "x",
                "< 1.25x (memory independent of size)", growth < 1.25,
                floor=rss[0], floor_what=f"peak RSS MB at {sizes[0]:,} rows",
                ratio=growth, note=per_size,
            ))  # fmt: skip
    one = in_child(args, "--child", "one", "--calls", str(args.calls))
    detail["one_record"] = one
    floor_one = one["booster_one_row_ms"]
    targets.append(target(
        "scores_of_records, one record p50", one["one_record_ms"]["p50"], "ms", "< 0.2 ms",
        one["one_record_ms"]["p50"] < 0.2,
        floor=floor_one["p50"] if floor_one else None,
        floor_what="Booster.predict on one prepared row, one thread (p50)",
        ratio=one["one_record_ms"]["p50"] / floor_one["p50"] if floor_one else None,
        note=f"p99 {one['one_record_ms']['p99']:.3f} ms",
    ))  # fmt: skip
    return {"targets": targets, "detail": detail}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--scratch", help="folder for the generated inputs (default: temp)")
    parser.add_argument("--child", choices=["score", "booster", "one"], help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.repo = args.repo.resolve()
    if args.child:
        sys.path.insert(0, str(args.repo / "src"))
        children = {
            "score": lambda: child_score(args.module, args.source),
            "booster": lambda: child_booster(args.module, args.source),
            "one": lambda: child_one_record(args.module, args.calls),
        }
        print(json.dumps(children[args.child]()))
        return
    result = measure(args)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
