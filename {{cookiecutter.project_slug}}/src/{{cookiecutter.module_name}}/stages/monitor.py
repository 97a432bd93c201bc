"""Step 7, monitoring: compare the production batch with the training reference.

The batch is `monitor.current`: the demo's production data by default, or any
table, or the service's prediction log (logs/predictions.jsonl).

The model judged is the one in prod, as models/champion.json names it (fetched
from the registry like evaluate's champion); before any promotion, or when the
prod model belongs to another problem, it is the workspace's models/package.

Writes per-feature drift, prediction drift, performance on the batch when its
labels have arrived, the same per time window, and a retrain verdict that
scheduled CI can act on (drift must persist across windows to trigger it).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import paths
from ..config import Params, load_params
from ..data.prepare import clean
from ..evaluation import champion as champion_comparison
from ..evaluation.business import value_per_1000
from ..io import read_table, write_json, write_text
from ..models import artifact
from ..monitoring import drift, report, windows
from ..monitoring.current import load as load_current
from ..registry import champion as champion_file
from . import run_stage


def prediction_signal(packaged: artifact.Artifact, frame: pd.DataFrame) -> pd.Series:
    """What to watch in the outputs: P(positive), the decided class, or the prediction."""
    problem = packaged.problem
    if problem.task == "binary_classification":
        return pd.Series(packaged.scores(frame)[:, 1])
    return pd.Series(packaged.decide(frame))


def judged_model(
    params: Params, reference: pd.DataFrame
) -> tuple[artifact.Artifact, dict[str, Any]]:
    """The prod model models/champion.json names, else the workspace's package; and which."""
    version = champion_file.read()
    if version is not None:
        fix = "run `dvc pull` to fetch it (or promote or roll back to a version you have)"
        packaged = artifact.load(champion_file.package(version, fix))
        refused = champion_comparison.refusal(
            version.version,
            packaged.problem,
            champion_comparison.input_columns(packaged),
            params.problem,
            reference.columns,
        )
        if refused is None:
            return packaged, {"version": version.version, "tag": version.tag, "source": "prod"}
        print(f"{refused}; monitoring the workspace's {paths.PACKAGE_DIR} instead")
    packaged = artifact.load(paths.PACKAGE_DIR)
    judged = {"version": packaged.version, "tag": None, "source": str(paths.PACKAGE_DIR)}
    return packaged, judged


def performance(
    params: Params, packaged: artifact.Artifact, current: pd.DataFrame
) -> dict[str, float] | None:
    target = params.problem.target
    if target not in current.columns or current[target].isna().all():
        return None
    labelled = current[current[target].notna()]
    observed = value_per_1000(packaged.problem, labelled[target], packaged.decide(labelled))
    expected = float(packaged.metadata["metrics"]["value_per_1000"])
    return {
        "rows": len(labelled),
        "current_value_per_1000": round(observed, 4),
        "evaluation_value_per_1000": expected,
        "value_drop": round((expected - observed) / max(abs(expected), 1e-9), 6),
    }


def retrain_verdict(
    params: Params, persistent_drift: str | None, perf: dict[str, float] | None
) -> dict[str, Any]:
    cfg, reasons = params.monitor, []
    if persistent_drift:
        reasons.append(persistent_drift)
    if perf and perf["value_drop"] > cfg.max_value_drop:
        reasons.append(
            f"value per 1,000 decisions fell {perf['value_drop']:.0%} "
            f"(tolerance {cfg.max_value_drop:.0%})"
        )
    return {"retrain": bool(reasons), "reasons": reasons}


def main() -> None:
    params = load_params()
    data, target = params.data, params.problem.target
    reference = read_table(paths.prepared("train"))
    packaged, judged = judged_model(params, reference)
    current = load_current(params.monitor.current, data)
    if current.empty:
        summary: dict[str, Any] = {
            "judged": judged,
            "model_version": packaged.version,
            "current_rows": 0,
            "verdict": {"retrain": False, "reasons": ["no production batch to compare"]},
        }
        write_json(summary, paths.MONITOR_SUMMARY)
        write_json({"current_rows": 0, "retrain": 0}, paths.METRICS_DIR / "monitor.json")
        write_text("<!doctype html><p>No production batch configured.</p>\n", paths.MONITOR_REPORT)
        return
    current = clean(
        current,
        data,
        target if target in current.columns else None,
        keep=params.features.derived_inputs,
    )
    drifts = drift.dataset_drift(reference, current, data.numeric, data.categorical, params.monitor)
    drifted = [d.column for d in drifts if d.drifted]
    share = len(drifted) / len(drifts)
    ref_signal, cur_signal = (
        prediction_signal(packaged, reference),
        prediction_signal(packaged, current),
    )
    prediction = drift.feature_drift(
        "prediction",
        ref_signal,
        cur_signal,
        params.monitor,
        numeric=pd.api.types.is_numeric_dtype(ref_signal),
    )
    perf = performance(params, packaged, current)

    def window_value(frame: pd.DataFrame) -> float | None:
        measured = performance(params, packaged, frame)
        return measured["current_value_per_1000"] if measured else None

    by_window = windows.window_drifts(
        reference, current, data, params.monitor, window_value, whole_batch=drifts
    )
    summary = {
        "judged": judged,
        "model_version": packaged.version,
        "reference_rows": len(reference),
        "current_rows": len(current),
        "n_features": len(drifts),
        "drifted_features": len(drifted),
        "drifted": drifted,
        "drift_share": round(share, 4),
        "drift_share_threshold": params.monitor.drift_share,
        "features": [d.to_dict() for d in drifts],
        "prediction_drift": prediction.to_dict(),
        "performance": perf,
        "windows": [w.to_dict() for w in by_window],
        "verdict": retrain_verdict(
            params, windows.persistent_drift(by_window, params.monitor), perf
        ),
    }
    write_json(summary, paths.MONITOR_SUMMARY)
    write_json(
        {
            "current_rows": len(current),
            "drift_share": summary["drift_share"],
            "prediction_drift": prediction.statistic,
            "value_drop": perf["value_drop"] if perf else None,
            "retrain": int(summary["verdict"]["retrain"]),
        },
        paths.METRICS_DIR / "monitor.json",
    )
    write_text(report.render(summary, drifts, reference, current), paths.MONITOR_REPORT)
    print(
        f"judged {judged['version']} ({judged['source']}); drifted features: "
        f"{drifted or 'none'}; retrain: {summary['verdict']['retrain']}"
    )


if __name__ == "__main__":
    run_stage("monitor", main)
