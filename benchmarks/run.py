"""`make bench`: what a user of a generated repo pays, and how it grows with the data.

Renders the template, runs each generated repo's pipeline cold at several sizes
(stage by stage, and as one `dvc repro`, with time and peak memory), then takes
each figure beside its floor in the same run: no-op `dvc repro` beside `dvc
status`, the GX gate beside plain pandas, and the speed targets, each from its own
probe in the generated repo's environment: the service over HTTP beside in-process
scoring (probe_serving.py), the service at 10x its capacity and under hostile clients
(probe_overload.py), batch scoring beside the raw LightGBM booster
(probe_batch.py), drift beside Evidently and a plain SciPy pass (probe_drift.py).
Writes report.json and report.md, the Targets table first.

    python benchmarks/run.py [--rows 10000,100000] [--repeats 3] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.conftest import GeneratedEnv, bake, ensure_generated_env  # noqa: E402

# The platform code the probes import: the library every render depends on.
MODULE = "mllifecycle"
STAGES = ("define", "ingest", "validate_raw", "prepare", "featurize", "validate_features",
          "train", "evaluate", "package", "validate_production", "monitor")
WHOLE = "dvc repro (one command)"  # the cold pipeline as a user runs it: one DVC start
# The speed targets, each measured beside its floor by its own probe (run in the
# generated repo's environment on the serving_rows repo; extra arguments from config.yaml).
TARGET_PROBES = {"serving": "probe_serving.py", "overload": "probe_overload.py",
                 "batch": "probe_batch.py", "drift": "probe_drift.py"}
# Runs a command and reports its wall time and the peak RSS of its process tree's
# largest member (RUSAGE_CHILDREN: the stage's python, or DVC itself if larger).
MEASURE = ("import json, resource, subprocess, sys, time\n"
           "t = time.perf_counter(); code = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL)\n"
           "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
           "open(sys.argv[1], 'w').write(json.dumps([code, time.perf_counter() - t, peak]))")


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def measure(command: list[str], cwd: Path, env: GeneratedEnv) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, "-c", MEASURE, out.name, *command], cwd=cwd,
                       env=env.env(), check=True)
        code, seconds, peak_mb = json.loads(Path(out.name).read_text())
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}")
    return seconds, peak_mb


def render_times(work: Path, repeats: int) -> list[float]:
    seconds = []
    for i in range(repeats):
        started = time.perf_counter()
        bake(work / f"render-{i}")
        seconds.append(time.perf_counter() - started)
    return seconds


def sized_project(work: Path, env: GeneratedEnv, rows: int, name: str) -> Path:
    project = bake(work / name)
    env.install(project)
    local = project / "conf/local/default.yaml"
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text("# @package _global_\n" + yaml.safe_dump(
        {"data": {"demo": {"n_rows": rows, "n_production_rows": rows // 5}}}))
    env.run(["make", "params", f"VENV={env.root}"], cwd=project)
    return project


def cold_pipeline(project: Path, env: GeneratedEnv) -> dict[str, tuple[float, float]]:
    """Each stage alone (`dvc repro --single-item`, a DVC start apiece), then the whole
    pipeline again cold in one `dvc repro` (outputs removed, DVC's cache emptied)."""
    figures = {stage: measure(["dvc", "repro", "--single-item", stage], project, env)
               for stage in STAGES}
    shutil.rmtree(project / ".dvc" / "cache", ignore_errors=True)
    figures[WHOLE] = measure(["dvc", "repro", "--force"], project, env)
    return figures


def noop(project: Path, env: GeneratedEnv, repeats: int) -> dict[str, Any]:
    """No-op `dvc repro` against `dvc status`, alternating so load drifts hit both."""
    repro, status = [], []
    for _ in range(repeats):
        repro.append(measure(["dvc", "repro"], project, env)[0])
        status.append(measure(["dvc", "status"], project, env)[0])
    ratio = statistics.median(repro) / statistics.median(status)
    return {"dvc_repro": summary(repro), "dvc_status": summary(status), "ratio": ratio}


def cold_targets(report: dict[str, Any], rows: int = 10_000) -> list[dict[str, Any]]:
    """Issue 16's pipeline targets, each beside its floor (`dvc status`: DVC's own start)."""
    pipeline, idle = report["pipeline"].get(str(rows)), report["noop"].get(str(rows))
    if not pipeline or not idle:
        return []
    cold, floor = pipeline[WHOLE]["seconds"]["median"], idle["dvc_status"]["median"]
    stages = pipeline["total"]["seconds"]["median"]
    return [
        {"name": f"cold dvc repro at {rows:,} rows", "value": cold, "unit": "s", "goal": "< 30 s",
         "met": cold < 30, "floor": floor, "floor_what": "dvc status (DVC's start, no stage)",
         "ratio": cold / floor, "note": f"one command, every gate in full; stage by stage "
                                       f"(a DVC start each) {stages:.1f} s"},
        {"name": "no-op dvc repro against dvc status", "value": idle["ratio"], "unit": "x",
         "goal": "<= 1.3x", "met": idle["ratio"] <= 1.3, "floor": 1.0,
         "floor_what": "dvc status on the same repo", "ratio": idle["ratio"],
         "note": f"dvc repro {idle['dvc_repro']['median']:.2f} s, dvc status {floor:.2f} s"},
    ]


def probe(project: Path, env: GeneratedEnv, name: str, *args: str) -> dict[str, Any]:
    done = env.run(["python", str(HERE / "probes.py"), MODULE, name, *args], cwd=project)
    return json.loads(done.stdout.strip().splitlines()[-1])


def target_probe(project: Path, env: GeneratedEnv, script: str, *args: str) -> dict[str, Any]:
    """One of the issue's targets: `probe_*.py` writes {"targets": [...], "detail": {...}}."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env.run(["python", str(HERE / script), "--repo", str(project), "--module", MODULE,
                 "--out", out.name, *args], cwd=project)
        return json.loads(Path(out.name).read_text())


def slope(rows: list[int], values: list[float]) -> float | None:
    """Least-squares slope of log(value) on log(rows): 1 is linear."""
    points = [(math.log(r), math.log(v)) for r, v in zip(rows, values, strict=True) if v > 0]
    if len(points) < 2:
        return None
    mx = statistics.mean(p[0] for p in points)
    my = statistics.mean(p[1] for p in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def machine() -> dict[str, Any]:
    memory_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")), 0)
    return {"cpus": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": time.strftime("%Y-%m-%d")}


def run(cfg: dict[str, Any], work: Path, save: Any) -> dict[str, Any]:
    env = ensure_generated_env(work / "deps")
    report: dict[str, Any] = {"machine": machine(), "config": cfg}
    report["render_s"] = summary(render_times(work, cfg["repeats"]))
    save(report)
    report["pipeline"], report["noop"], report["gates"], report["monitor"] = {}, {}, {}, {}
    report["targets"] = []
    for rows in cfg["rows"]:
        repeats = cfg["big_repeats"] if rows >= cfg["big_rows"] else cfg["repeats"]
        runs = []
        for i in range(repeats):
            project = sized_project(work, env, rows, f"p{rows}-{i}")
            runs.append(cold_pipeline(project, env))
        report["pipeline"][str(rows)] = {
            stage: {"seconds": summary([r[stage][0] for r in runs]),
                    "peak_mb": summary([r[stage][1] for r in runs])} for stage in STAGES}
        report["pipeline"][str(rows)]["total"] = {
            "seconds": summary([sum(r[s][0] for s in STAGES) for r in runs]),
            "peak_mb": summary([max(r[s][1] for s in STAGES) for r in runs])}
        report["pipeline"][str(rows)][WHOLE] = {
            "seconds": summary([r[WHOLE][0] for r in runs]),
            "peak_mb": summary([r[WHOLE][1] for r in runs])}
        report["noop"][str(rows)] = noop(project, env, cfg["noop_repeats"])
        mine = cold_targets(report, min(cfg["rows"]))  # other probes' targets stay
        report["targets"] = [t for t in report.get("targets", [])
                             if t["name"] not in {m["name"] for m in mine}] + mine
        save(report)
        if rows >= 100_000:
            count = ["--rows", str(rows), "--repeats", str(repeats)]
            report["gates"][str(rows)] = probe(project, env, "gates", *count)
            report["monitor"][str(rows)] = probe(project, env, "monitor", *count)
        if rows == cfg["serving_rows"]:
            for name, script in TARGET_PROBES.items():
                found = target_probe(project, env, script, *cfg.get(f"{name}_args", []))
                report[name] = found["detail"]
                report["targets"] += found["targets"]
                save(report)
        save(report)
    sizes = [int(r) for r in report["pipeline"]]
    report["slopes"] = {
        stage: {kind: slope(sizes, [report["pipeline"][str(r)][stage][kind]["median"]
                                    for r in sizes]) for kind in ("seconds", "peak_mb")}
        for stage in [*STAGES, "total"]}
    save(report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=HERE / "config.yaml")
    parser.add_argument("--rows", help="comma-separated row counts, e.g. 10000,100000")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--engine", choices=["pandas", "dask"], default="pandas",
                        help="dask: the cold pipeline on both engines, per-worker memory "
                             "(report-dask.md; sizes from dask_rows)")
    parser.add_argument("--dask-workers", type=int, help="LocalCluster workers (dask_engine)")
    parser.add_argument("--dask-memory", help="memory limit per worker, e.g. 1GiB (dask_engine)")
    parser.add_argument("--name", help="report file name (default report, report-dask)")
    args = parser.parse_args()
    cfg = yaml.safe_load(args.config.read_text())
    if args.engine == "dask":
        cfg["rows"] = cfg["dask_rows"]
    if args.dask_workers:
        cfg["dask_engine"]["workers"] = args.dask_workers
    if args.dask_memory:
        cfg["dask_engine"]["memory_limit"] = args.dask_memory
    if args.rows:
        cfg["rows"] = [int(r) for r in args.rows.split(",")]
    if args.repeats:
        cfg["repeats"] = args.repeats
    if cfg["serving_rows"] not in cfg["rows"]:
        cfg["serving_rows"] = cfg["rows"][min(1, len(cfg["rows"]) - 1)]
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(HERE))
    from report import markdown

    name = args.name or ("report" if args.engine == "pandas" else "report-dask")

    def save(report: dict[str, Any]) -> None:  # after every figure: a long run keeps its part
        (args.out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / f"{name}.md").write_text(markdown(report))

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        if args.engine == "dask":
            run_engines(cfg, work, save)
        else:
            run(cfg, work, save)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print((args.out / f"{name}.md").read_text())


def run_engines(cfg: dict[str, Any], work: Path, save: Any) -> None:
    import engines

    report: dict[str, Any] = {"machine": machine(), "config": cfg}
    engines.compare(cfg, work, ensure_generated_env(work / "deps"), save, report)


if __name__ == "__main__":
    main()
