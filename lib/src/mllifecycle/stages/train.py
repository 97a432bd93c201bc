"""Step 4, model selection and training: the candidate and the dummy baseline.

Reads the train and valid splits only: dvc.yaml gives this stage no path to
the test split, so nothing in models/training.py can be tuned on it. DVCLive
records every run.
"""

from __future__ import annotations

import time
from typing import Any

from dvclive import Live

from .. import paths
from ..config import Params, load_params
from ..contracts import Decisions
from ..engine import Engine, session
from ..io import read_table, write_json, write_text
from ..models import artifact, factory, training
from . import run_stage

LIVE_DIR = "dvclive"


def track(live: Live, result: training.Training) -> None:
    """Learning curves per boosting round, then the validation figures of both models."""
    curves = factory.learning_curve(result.model.estimator)
    for step in range(max((len(v) for v in curves.values()), default=0)):
        for name, values in curves.items():
            if step < len(values):
                live.log_metric(f"curve/{name}", values[step])
        live.next_step()
    for name, value in result.model.metrics.items():
        live.log_metric(f"model/{name}", value, plot=False)
    baseline_value = result.baseline.metrics["value_per_1000"]
    live.log_metric("baseline/value_per_1000", baseline_value, plot=False)
    live.log_metric("value_per_1000", result.model.metrics["value_per_1000"])  # the final point


def report(result: training.Training) -> str:
    model, baseline = result.model.metrics, result.baseline.metrics
    uplift = model["value_per_1000"] - baseline["value_per_1000"]
    lines = [
        f"{result.chosen.name}: validation value per 1,000 decisions "
        f"{model['value_per_1000']:.1f} (baseline {baseline['value_per_1000']:.1f}, "
        f"uplift {uplift:+.1f})"
    ]
    cv = result.cross_validation
    if cv is not None:
        lines.append(
            f"cross-validated on {cv['folds']} folds of train: {cv['value_per_1000_mean']:.1f} "
            f"± {cv['value_per_1000_std']:.1f} (worst fold {cv['value_per_1000_min']:.1f})"
        )
    return "\n".join(lines)


def main() -> None:
    params = load_params()
    started = time.perf_counter()
    with session(params.engine) as engine:
        result, balance = fitted(params, engine)
    # Fit, cross-validation and any search; machine-dependent. evaluate reports it beside
    # the model's value (resource efficiency).
    fit_seconds = round(time.perf_counter() - started, 3)
    with Live(dir=LIVE_DIR, dvcyaml=None, save_dvc_exp=False, report=None) as live:
        track(live, result)
    artifact.write_model(result.model.estimator, paths.MODEL)
    artifact.write_model(result.baseline.estimator, paths.BASELINE)
    decisions = Decisions(model=result.model.policy, baseline=result.baseline.policy)
    write_json(decisions.model_dump(mode="json"), paths.DECISIONS)
    write_text(result.importance.to_csv(index=False), paths.FEATURE_IMPORTANCE)
    summary = {**result.summary(balance), "fit_seconds": fit_seconds}
    write_json(summary, paths.METRICS_DIR / "train.json")
    print(report(result))


def fitted(params: Params, engine: Engine) -> tuple[training.Training, dict[str, Any] | None]:
    """The models and the train split's class balance: in this process, or on the
    cluster with LightGBM's Dask estimator (the dask engine)."""
    if engine.name == "dask":
        from ..engine.dask_engine import DaskEngine
        from ..models import distributed

        assert isinstance(engine, DaskEngine)
        return distributed.run(params, engine.client)
    train, valid = read_table(paths.features("train")), read_table(paths.features("valid"))
    result = training.run(params, train, valid)
    return result, training.class_balance(params.problem, train[params.problem.target])


if __name__ == "__main__":
    run_stage("train", main)
