"""`make bench ENGINE=dask`: the cold pipeline on the dask engine beside the pandas engine.

At each size both engines run the same demo, stage by stage (`dvc repro --single-item`):
wall time, the peak RSS of the stage's largest process (the driver; under dask a worker
where one was larger: RUSAGE_CHILDREN covers every descendant), and under dask each worker's peak
memory against its limit, which each stage reports from the workers' own monitors
through WORKER_PEAKS_FILE (see engine/dask_engine.record_worker_peaks in the generated
repo). Log-log slopes over the sizes. Sizes where pandas would not fit
(`pandas_max_rows`) run on dask alone.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from run import STAGES, measure, slope  # benchmarks/ is on sys.path

from tests.conftest import GeneratedEnv, bake


def dask_engine(cfg: dict[str, Any]) -> dict[str, Any]:
    """conf/engine for the dask runs: the LocalCluster `dask_engine` in config.yaml sizes."""
    return {"name": "dask", "connect_timeout": "10s", **cfg["dask_engine"]}


def cluster_caption(cfg: dict[str, Any]) -> str:
    engine = cfg.get("dask_engine", {})
    return (f"{engine.get('workers', '?')} workers x {engine.get('threads_per_worker', '?')} "
            f"thread x {engine.get('memory_limit', '?')}")


def engine_project(work: Path, env: GeneratedEnv, rows: int, engine: dict[str, Any] | None,
                   name: str) -> Path:
    project = bake(work / name)
    env.install(project)
    local = {"data": {"demo": {"n_rows": rows, "n_production_rows": rows // 5}}}
    if engine:
        local["engine"] = engine
    path = project / "conf/local/default.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# @package _global_\n" + yaml.safe_dump(local))
    env.run(["make", "params", f"VENV={env.root}"], cwd=project)
    return project


class PeaksEnv(GeneratedEnv):
    """The generated environment, with the file the stages append worker peaks to."""

    def __init__(self, root: Path, peaks: str) -> None:
        super().__init__(root)
        self.peaks = peaks

    def env(self) -> dict[str, str]:
        return {**super().env(), "WORKER_PEAKS_FILE": self.peaks}


def stages_with_peaks(project: Path, env: GeneratedEnv) -> dict[str, dict[str, Any]]:
    """Each stage cold: seconds, driver peak MB, and (dask) the workers' peaks."""
    figures: dict[str, dict[str, Any]] = {}
    for stage in STAGES:
        with tempfile.NamedTemporaryFile(suffix=".jsonl") as peaks:
            staged = PeaksEnv(env.root, peaks.name)
            seconds, driver_mb = measure(["dvc", "repro", "--single-item", stage], project, staged)
            lines = [json.loads(x) for x in Path(peaks.name).read_text().splitlines() if x]
        figures[stage] = {"seconds": seconds, "driver_mb": driver_mb}
        workers = [x for x in lines if "worker_peak_bytes" in x]
        if workers:
            worker = max(max(x["worker_peak_bytes"], default=0) for x in workers)
            limit = max(x["memory_limit_bytes"] for x in workers)
            figures[stage].update(worker_peak_mb=worker / 2**20, worker_limit_mb=limit / 2**20)
        driver = [x["driver_peak_bytes"] for x in lines if "driver_peak_bytes" in x]
        if driver:  # the stage's own process, at its exit
            figures[stage]["driver_only_mb"] = max(driver) / 2**20
    return figures


def outcome(project: Path) -> dict[str, Any]:
    """What the run decided: every gate passed (a failed one stops the run), so the verdict,
    the model's value and main metric against the best baseline's, and the monitor's call."""
    verdict = json.loads((project / "reports/verdict.json").read_text())
    evaluation = json.loads((project / "metrics/evaluate.json").read_text())
    test = evaluation["test"]
    best = verdict["best_baseline"]
    monitor = json.loads((project / "reports/monitor.json").read_text())
    return {
        "verdict_passed": verdict["passed"],
        "promotable": verdict["promotable"],
        "value_per_1000": test["model"]["value_per_1000"],
        "baseline": best,
        "baseline_value_per_1000": test[best]["value_per_1000"],
        "roc_auc": test["model"].get("roc_auc"),
        "test_rows": test["model"].get("rows"),
        "monitor_retrain": monitor["verdict"]["retrain"],
    }


def compare(cfg: dict[str, Any], work: Path, env: GeneratedEnv, save: Any,
            report: dict[str, Any]) -> None:
    """report["engines"][rows][engine][stage] and the slopes per engine."""
    report["engines"] = {}
    for rows in cfg["rows"]:
        found: dict[str, Any] = {}
        engines = {"dask": dask_engine(cfg)}
        if rows <= cfg.get("pandas_max_rows", 10_000_000):
            engines = {"pandas": {}, **engines}
        for name, engine in engines.items():
            project = engine_project(work, env, rows, engine, f"{name}-{rows}")
            found[name] = stages_with_peaks(project, env)
            report.setdefault("outcomes", {}).setdefault(str(rows), {})[name] = outcome(project)
            shutil.rmtree(project, ignore_errors=True)
            report["engines"][str(rows)] = found
            save(report)
    sizes = [int(r) for r in report["engines"]]
    report["engine_slopes"] = {
        engine: {kind: slope(sizes, [sum(report["engines"][str(r)][engine][s][kind] for s in STAGES)
                                     if kind == "seconds" else
                                     max(report["engines"][str(r)][engine][s].get(kind, 0)
                                         for s in STAGES) for r in sizes])
                 for kind in ("seconds", "driver_mb", "driver_only_mb", "worker_peak_mb")}
        for engine in ("pandas", "dask")
        if all(engine in report["engines"][str(r)] for r in sizes)}
    save(report)


def markdown(report: dict[str, Any]) -> list[str]:
    engines = report.get("engines")
    if not engines:
        return []
    caption = cluster_caption(report.get("config", {}))
    lines = [f"## Engines: the cold pipeline on pandas and on dask ({caption})", "",
             "Seconds; the peak RSS of the stage's largest process (RUSAGE_CHILDREN: the "
             "driver, or under dask a worker where one was larger); dask driver: the stage's "
             "own process (its ru_maxrss at exit); dask worker peak: the "
             "largest, from the workers' own monitors, / its memory limit.", "",
             "| rows | stage | pandas | dask | dask driver | dask worker peak |",
             "|---:|---|---:|---:|---:|---:|"]
    for size, found in engines.items():
        for stage in [*STAGES, "total"]:
            cells = []
            for engine in ("pandas", "dask"):
                figures = found.get(engine)
                if figures is None:
                    cells.append("n/a")
                elif stage == "total":
                    cells.append(f"{sum(f['seconds'] for f in figures.values()):.1f} s")
                else:
                    f = figures[stage]
                    cells.append(f"{f['seconds']:.1f} s; {f['driver_mb']:.0f} MB")
            dask_stage = found.get("dask", {}).get(stage, {})
            peak = (f"{dask_stage['worker_peak_mb']:.0f} / {dask_stage['worker_limit_mb']:.0f} MB"
                    if "worker_peak_mb" in dask_stage else "")
            driver = (f"{dask_stage['driver_only_mb']:.0f} MB"
                      if "driver_only_mb" in dask_stage else "")
            lines.append(f"| {int(size):,} | {stage} | {cells[0]} | {cells[1]} | {driver} "
                         f"| {peak} |")
    outcomes = report.get("outcomes", {})
    if outcomes:
        lines += ["", "What each run decided (every gate passed: a failed one stops the run):", "",
                  "| rows | engine | verdict | value per 1,000 | best baseline | AUC | test rows |"
                  " monitor asks a retrain |",
                  "|---:|---|---|---:|---:|---:|---:|---|"]
        for size, engines_run in outcomes.items():
            for engine, o in engines_run.items():
                verdict = ("passed" if o["verdict_passed"] else "failed") + (
                    ", promotable" if o["promotable"] else "")
                auc = f"{o['roc_auc']:.4f}" if o.get("roc_auc") is not None else "-"
                lines.append(
                    f"| {int(size):,} | {engine} | {verdict} | {o['value_per_1000']:,.1f} "
                    f"| {o['baseline']} {o['baseline_value_per_1000']:,.1f} | {auc} "
                    f"| {int(o.get('test_rows') or 0):,} | {o.get('monitor_retrain')} |")
    for engine, slopes in report.get("engine_slopes", {}).items():
        text = ", ".join(f"{k} {v:.2f}" for k, v in slopes.items() if v is not None)
        if text:
            lines.append(f"\nLog-log slope over the sizes, {engine}: {text} (1.0 = linear).")
    return [*lines, ""]

