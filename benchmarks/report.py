"""report.json as Markdown: one table per comparison, medians with min-max."""

from __future__ import annotations

import json
import statistics
from typing import Any


def _s(values: dict[str, float] | list[float] | None, unit: str = "s", scale: float = 1.0) -> str:
    if values is None:
        return "n/a"
    if isinstance(values, list):
        values = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    m, lo, hi = (values[k] * scale for k in ("median", "min", "max"))
    spread = f" ({lo:.3g}–{hi:.3g})" if hi > lo else ""
    return f"{m:.3g} {unit}{spread}"


def _ratio(slow: list[float], fast: list[float]) -> str:
    return f"{statistics.median(slow) / statistics.median(fast):.1f}x"


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"{m['date']}, {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']} "
        f"({m['platform']}). Medians with min–max over the runs shown as n.",
        "",
    ]
    lines += targets(report.get("targets", []), report.get("config", {}).get("serving_rows"))
    from engines import markdown as engines_markdown

    lines += engines_markdown(report)
    if "render_s" in report:
        lines += [f"Render with defaults (cookiecutter, post-gen hook, git init): "
                  f"{_s(report['render_s'])}, n={report['render_s']['n']}.", ""]
    pipeline = report.get("pipeline", {})
    if pipeline:
        sizes = list(pipeline)
        lines += ["## Cold `dvc repro`, stage by stage (seconds; peak RSS MB)", "",
                  "| stage | " + " | ".join(f"{int(s):,} rows" for s in sizes) + " | slope time | slope memory |",
                  "|---|" + "---:|" * len(sizes) + "---:|---:|"]
        for stage in pipeline[sizes[0]]:
            cells = [f"{_s(pipeline[s][stage]['seconds'])}; {pipeline[s][stage]['peak_mb']['median']:.0f} MB"
                     for s in sizes]
            slopes = report.get("slopes", {}).get(stage, {})
            fmt = lambda v: "" if v is None else f"{v:.2f}"  # noqa: E731
            lines.append(f"| {stage} | " + " | ".join(cells)
                         + f" | {fmt(slopes.get('seconds'))} | {fmt(slopes.get('peak_mb'))} |")
        runs = ", ".join(f"{int(s):,}: n={pipeline[s]['total']['seconds']['n']}" for s in sizes)
        lines += ["", f"Runs per size: {runs}. Slopes: log-log least squares over the sizes "
                  "(1.0 = linear).", ""]
    if report.get("noop"):
        lines += ["## Nothing changed: `dvc repro` against `dvc status`", "",
                  "| rows | dvc repro | dvc status |", "|---:|---:|---:|"]
        for size, figures in report["noop"].items():
            lines.append(f"| {int(size):,} | {_s(figures['dvc_repro'])} | {_s(figures['dvc_status'])} |")
        lines.append("")
    for key, title in (("serving", "Serving detail (probe_serving.py)"),
                       ("overload", "Overload detail (probe_overload.py)"),
                       ("batch", "Batch scoring detail (probe_batch.py)"),
                       ("drift", "Drift detail (probe_drift.py)")):
        if key in report:  # the curated tables are in benchmarks/README.md
            lines += [f"## {title}", "", "```json", json.dumps(report[key], indent=1), "```", ""]
    for key, title, ours, floor in (("gates", "Raw data gate: GX checkpoint against plain pandas",
                                     "gx_checkpoint", "plain_pandas"),
                                    ("monitor", "Drift: the monitor against a plain SciPy pass",
                                     "monitor_drift", "plain_scipy")):
        if report.get(key):
            lines += [f"## {title}", "", "| rows | ours | floor | ratio |", "|---:|---:|---:|---:|"]
            for size, f in report[key].items():
                lines.append(f"| {int(size):,} | {_s(f[ours])} | {_s(f[floor])} | {_ratio(f[ours], f[floor])} |")
            lines.append("")
    return "\n".join(lines) + "\n"


def targets(found: list[dict[str, Any]], model_rows: int | None = None) -> list[str]:
    """The issue's targets first: each figure beside its goal and its floor, and which
    repo's model the probes scored with (batch's ratio moves with the model's cost)."""
    if not found:
        return []
    lines = ["## Targets", "", "| target | figure | goal | met | floor | ratio to floor | note |",
             "|---|---:|---|:---:|---:|---:|---|"]
    for t in found:
        floor = "" if t.get("floor") is None else f"{t['floor']:.3g} {t['unit']} ({t.get('floor_what', '')})"
        ratio = "" if t.get("ratio") is None else f"{t['ratio']:.2f}x"
        lines.append(f"| {t['name']} | {t['value']:.3g} {t['unit']} | {t['goal']} | "
                     f"{'yes' if t['met'] else '**no**'} | {floor} | {ratio} | {t.get('note', '')} |")
    if model_rows:
        lines += ["", f"The serving, batch and drift probes scored with the model of the "
                      f"{model_rows:,}-row repo (`serving_rows`, or the second size of ROWS "
                      "when it is not among them, or the only one)."]
    return [*lines, ""]
