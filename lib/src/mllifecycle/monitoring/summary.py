"""Monitoring: the production batch compared with the training reference.

The model judged is the one in prod, as models/champion.json names it (fetched
from the registry like evaluate's champion); before any promotion, or when the
prod model belongs to another problem, it is the workspace's models/package.

`summarise` measures per-feature drift, prediction drift, performance on the batch
when its labels have arrived, the same per time window, and a retrain verdict that
scheduled CI can act on (drift must persist across windows to trigger it). It
returns the MonitorSummary contract and the drift behind it (for the report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import paths, tasks
from ..config import Params
from ..contracts import (
    DriftRecord,
    JudgedModel,
    MonitorSummary,
    Performance,
    ProductionChecks,
    RetrainVerdict,
    WindowRecord,
)
from ..data.prepare import clean
from ..evaluation import champion as champion_comparison
from ..evaluation.business import value_per_1000
from ..models import artifact
from ..registry import champion as champion_file
from ..validation import gates
from . import drift, windows

NO_BATCH = "no production batch to compare"


def prediction_signal(packaged: artifact.Artifact, frame: pd.DataFrame) -> pd.Series:
    """What to watch in the outputs: P(positive), the decided class, or the prediction."""
    return signal_and_decisions(packaged, frame)[0]


def signal_and_decisions(
    packaged: artifact.Artifact, frame: pd.DataFrame
) -> tuple[pd.Series, np.ndarray]:
    """prediction_signal and the decisions, from one scoring of `frame`."""
    scores = packaged.scores(frame)
    decisions = packaged.decide_from_scores(scores)
    signal = tasks.for_problem(packaged.problem).prediction_signal
    return signal(scores, decisions), decisions


@dataclass(frozen=True)
class Reference:
    """The training reference as the monitor reads it: its columns profiled once, the
    packaged model's outputs on it profiled the same way, and rows for the report's
    histograms (the whole split with pandas; a bounded sample on the dask engine)."""

    profile: drift.ReferenceProfile
    prediction: drift.ColumnProfile
    rows: int
    shown: pd.DataFrame

    @classmethod
    def of(cls, params: Params, packaged: artifact.Artifact, frame: pd.DataFrame) -> Reference:
        data, cfg = params.data, params.monitor
        signal = prediction_signal(packaged, frame)
        numeric = pd.api.types.is_numeric_dtype(signal)
        return cls(
            profile=drift.ReferenceProfile.of(frame, data.numeric, data.categorical, cfg),
            prediction=drift.profile_column("prediction", signal, cfg, numeric),
            rows=len(frame),
            shown=frame,
        )


def judged_model(params: Params, reference: pd.DataFrame) -> tuple[artifact.Artifact, JudgedModel]:
    """The prod model models/champion.json names, else the workspace's package; and which."""
    version = champion_file.verified()
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
            return packaged, JudgedModel(version=version.version, tag=version.tag, source="prod")
        print(f"{refused}; monitoring the workspace's {paths.PACKAGE_DIR} instead")
    packaged = artifact.load(paths.PACKAGE_DIR)
    return packaged, JudgedModel(version=packaged.version, tag=None, source=str(paths.PACKAGE_DIR))


def production_checks() -> ProductionChecks | None:
    """What validate_production found on the batch. Under `dvc repro` a failed check
    stops the pipeline before monitor; run by hand after it, the monitor still
    measures the drift and names every failed check beside it."""
    failures = gates.report_failures(paths.PRODUCTION_CHECK)
    if failures is None:
        return None
    return ProductionChecks(batch=str(paths.RAW_PRODUCTION), passed=not failures, failures=failures)


def performance(
    params: Params, packaged: artifact.Artifact, current: pd.DataFrame
) -> Performance | None:
    target = params.problem.target
    if target not in current.columns or current[target].isna().all():
        return None
    labelled = current[current[target].notna()]
    observed = value_per_1000(packaged.problem, labelled[target], packaged.decide(labelled))
    return performance_of(packaged, len(labelled), observed)


def performance_of(packaged: artifact.Artifact, rows: int, observed: float) -> Performance:
    """`observed` value per 1,000 decisions on `rows` labelled rows, against evaluation's."""
    expected = packaged.metadata.metrics["value_per_1000"]
    assert expected is not None  # every task's metrics carry the business value
    return Performance(
        rows=rows,
        current_value_per_1000=round(observed, 4),
        evaluation_value_per_1000=float(expected),
        value_drop=round((expected - observed) / max(abs(expected), 1e-9), 6),
    )


def retrain_verdict(
    params: Params, persistent_drift: str | None, perf: Performance | None
) -> RetrainVerdict:
    cfg, reasons = params.monitor, []
    if persistent_drift:
        reasons.append(persistent_drift)
    if perf and perf.value_drop > cfg.max_value_drop:
        reasons.append(
            f"value per 1,000 decisions fell {perf.value_drop:.0%} "
            f"(tolerance {cfg.max_value_drop:.0%})"
        )
    return RetrainVerdict(retrain=bool(reasons), reasons=reasons)


def clean_batch(params: Params, current: pd.DataFrame) -> pd.DataFrame:
    """The batch typed as training was (its labels kept when they have arrived)."""
    target = params.problem.target
    return clean(
        current,
        params.data,
        target if target in current.columns else None,
        keep=params.derived_inputs,
    )


def summarise(
    params: Params,
    packaged: artifact.Artifact,
    judged: JudgedModel,
    reference: Reference,
    current: pd.DataFrame,
) -> tuple[MonitorSummary, list[DriftRecord], pd.DataFrame]:
    """The summary, the per-feature drift and the cleaned batch it was measured on."""
    data = params.data
    if current.empty:
        return empty_summary(packaged, judged), [], current
    current = clean_batch(params, current)
    profile = reference.profile
    drifts = profile.compare(current)
    prediction = reference.prediction.compare(prediction_signal(packaged, current), params.monitor)
    perf = performance(params, packaged, current)

    def window_value(frame: pd.DataFrame) -> float | None:
        measured = performance(params, packaged, frame)
        return measured.current_value_per_1000 if measured else None

    by_window = windows.window_drifts(
        profile, current, data, params.monitor, window_value, whole_batch=drifts
    )
    measured = Measured(len(current), drifts, prediction, perf, by_window)
    return assemble(params, packaged, judged, reference, measured), drifts, current


def empty_summary(packaged: artifact.Artifact, judged: JudgedModel) -> MonitorSummary:
    return MonitorSummary(
        judged=judged,
        model_version=packaged.version,
        current_rows=0,
        production_checks=production_checks(),
        verdict=RetrainVerdict(retrain=False, reasons=[NO_BATCH]),
    )


@dataclass(frozen=True)
class Measured:
    """What was measured on the batch, however it was held."""

    rows: int
    drifts: list[DriftRecord]
    prediction: DriftRecord
    performance: Performance | None
    windows: list[WindowRecord]


def assemble(
    params: Params,
    packaged: artifact.Artifact,
    judged: JudgedModel,
    reference: Reference,
    measured: Measured,
) -> MonitorSummary:
    """The MonitorSummary contract from the measurements, with the retrain verdict."""
    drifts = measured.drifts
    drifted = [d.column for d in drifts if d.drifted]
    persistent = windows.persistent_drift(measured.windows, params.monitor)
    return MonitorSummary.model_validate(
        {
            "judged": judged,
            "model_version": packaged.version,
            "reference_rows": reference.rows,
            "current_rows": measured.rows,
            "n_features": len(drifts),
            "drifted_features": len(drifted),
            "drifted": drifted,
            "drift_share": round(len(drifted) / len(drifts), 4),
            "drift_share_threshold": params.monitor.drift_share,
            "features": drifts,
            "prediction_drift": measured.prediction,
            "performance": measured.performance,
            "windows": measured.windows,
            "production_checks": production_checks(),
            "verdict": retrain_verdict(params, persistent, measured.performance),
        }
    )


def metrics_of(summary: MonitorSummary) -> dict[str, Any]:
    """metrics/monitor.json: the figures `dvc metrics` tracks."""
    if summary.current_rows == 0:
        return {"current_rows": 0, "retrain": 0}
    assert summary.prediction_drift is not None
    return {
        "current_rows": summary.current_rows,
        "drift_share": summary.drift_share,
        "prediction_drift": summary.prediction_drift.statistic,
        "value_drop": summary.performance.value_drop if summary.performance else None,
        "retrain": int(summary.verdict.retrain),
    }
