"""Step 7, monitoring: compare the production batch with the training reference.

The batch is `monitor.current`: the demo's production data by default, or any
table, or the service's prediction log (logs/predictions.jsonl). Reads it and the
training reference; monitoring/summary.py judges the model in prod (or the
workspace's package); writes reports/monitor.json (the MonitorSummary contract),
metrics/monitor.json and the HTML report. On the dask engine both sides are summed
up part by part on the workers (monitoring/sketch.py, monitoring/partitioned.py).
"""

from __future__ import annotations

from typing import Any

from .. import paths
from ..config import Params, load_params
from ..engine import Engine, session
from ..io import write_json, write_text
from ..models import artifact
from ..monitoring import report, summary
from ..monitoring.current import load as load_current
from . import run_stage

NO_BATCH_HTML = "<!doctype html><p>No production batch configured.</p>\n"


def main() -> None:
    params = load_params()
    with session(params.engine) as engine:
        train = engine.read(paths.prepared("train"))
        packaged, judged = summary.judged_model(params, train)
        reference = reference_of(params, packaged, train, engine)
        if engine.name == "dask" and not params.monitor.current.endswith(".jsonl"):
            from ..engine.dask_engine import read_parts
            from ..monitoring import partitioned

            batch = read_parts(params.monitor.current, skip_empty=True)[0]
            measured = partitioned.summarise(params, packaged, judged, reference, batch)
        else:
            current = load_current(params.monitor.current, params.data)
            measured = summary.summarise(params, packaged, judged, reference, current)
    result, drifts, cleaned = measured
    write_json(result.model_dump(mode="json"), paths.MONITOR_SUMMARY)
    write_json(summary.metrics_of(result), paths.METRICS_DIR / "monitor.json")
    if result.current_rows == 0:
        write_text(NO_BATCH_HTML, paths.MONITOR_REPORT)
        return
    write_text(report.render(result, drifts, reference.shown, cleaned), paths.MONITOR_REPORT)
    print(
        f"judged {judged.version} ({judged.source}); drifted features: "
        f"{result.drifted or 'none'}; retrain: {result.verdict.retrain}"
    )
    checks = result.production_checks
    if checks is not None and not checks.passed:
        print("the batch failed its production checks:\n  " + "\n  ".join(checks.failures))


def reference_of(
    params: Params, packaged: artifact.Artifact, train: Any, engine: Engine
) -> summary.Reference:
    """The train split profiled in this process, or on the cluster from per-partition
    sketches (the dask engine: the split is never collected)."""
    if engine.name == "dask":
        from ..monitoring import sketch

        return sketch.reference(params, packaged, train)
    return summary.Reference.of(params, packaged, train)


if __name__ == "__main__":
    run_stage("monitor", main)
