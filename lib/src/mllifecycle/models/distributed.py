"""Model training on a Dask cluster (engine: dask): LightGBM's own Dask estimator.

The features stay partitioned on the workers. LightGBM trains one model across them;
`to_local()` turns it into the same LGBMClassifier / LGBMRegressor a pandas run
packages, so the package, the registry, the service and the compiled scoring path take
it unchanged. Early stopping is chosen after the fit: LightGBM documents callbacks as
untested in a Dask fit, so every round's validation loss is summed over the valid
split's partitions and the round LightGBM's callback would keep is set as the model's
best iteration. The dummy baseline is fitted on the class counts (the prior) or the
target's mean, not on rows. Only labels and scores of the valid split are collected, to
tune the decision policy and measure it as on pandas.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import dask
import dask.dataframe as dd
import lightgbm as lgb
import numpy as np
import pandas as pd
from distributed import Client

from .. import paths, tasks
from ..config import ModelConfig, Params, ProblemSpec
from ..engine.dask_engine import read_parts
from ..errors import ConfigError, EngineError
from ..evaluation import metrics
from ..evaluation.business import decide, tune_policy
from ..tasks.policy import DecisionPolicy
from . import candidates, explain, factory
from .training import Fitted, Training, xy

# LightGBM's Dask set-up says "Finding random open ports for workers" and warns that
# n_jobs is ignored (the workers' threads decide): neither is news to a user.
logging.getLogger("lightgbm").setLevel(logging.ERROR)
lgb.register_logger(logging.getLogger("lightgbm"))


def run(params: Params, client: Client) -> tuple[Training, dict[str, Any] | None]:
    """The candidate and the baseline, fitted on the cluster; the class balance of train."""
    refuse_unsupported(params)
    problem, target = params.problem, params.problem.target
    # No empty parts: LightGBM's Dask fit fails on a worker whose parts are all empty
    # (with more workers than the time split leaves train parts, some would be).
    train, _ = read_parts(paths.features("train"), skip_empty=True)
    valid, _ = read_parts(paths.features("valid"))
    model = fit_lightgbm(params.model, problem, client, train, valid)
    y_valid, valid_scores = collect_scores(model, valid, problem)
    classify = tasks.for_problem(problem).classification
    labels = train[target]
    counts = labels.value_counts().compute() if classify else None
    zero = pd.DataFrame(0.0, index=[0], columns=train.drop(columns=[target]).columns)
    baseline = fit_baseline(problem, counts, float(labels.mean().compute()), zero)
    constant = np.repeat(factory.scores(baseline, zero, problem), len(y_valid), axis=0)
    if params.selection.cv_folds:
        print("cross-validation runs on the pandas engine; train.json records none")
    result = Training(
        chosen=params.model,
        model=Fitted(model, *_judged(problem, y_valid, valid_scores)),
        baseline=Fitted(baseline, *_judged(problem, y_valid, constant)),
        cross_validation=None,
        trials=None,
        importance=explain.importance(model, zero, y_valid[:1]),
    )
    return result, None if counts is None else class_balance_of(problem, counts)


def refuse_unsupported(params: Params) -> None:
    """What the dask engine trains: LightGBM, no search, no cross-validation (one line)."""
    if params.model.name != "lightgbm":
        raise ConfigError(
            f"model={params.model.name} runs on the pandas engine; engine=dask trains "
            "model=lightgbm (LightGBM's Dask estimator)"
        )
    if params.search is not None:
        raise ConfigError("hparams_search runs on the pandas engine; drop it for engine=dask")


def fit_lightgbm(
    model: ModelConfig,
    problem: ProblemSpec,
    client: Client,
    train: dd.DataFrame,
    valid: dd.DataFrame,
) -> Any:
    """The Dask fit, made local, its best iteration chosen on valid as early stopping would."""
    settings = {k: v for k, v in model.hyperparameters.items() if k not in candidates.FIT_CONTROLS}
    classify = tasks.for_problem(problem).classification
    if not classify:
        settings.pop("class_weight", None)
    estimator = lgb.DaskLGBMClassifier if classify else lgb.DaskLGBMRegressor
    # float32: each worker holds its share of train twice during the fit (its parts, then
    # them joined into LightGBM's matrix); float64 made 7M x 28 outgrow 2 GiB workers.
    x, y = train.drop(columns=[problem.target]).astype("float32"), train[problem.target]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        fitted = watched(client, lambda: estimator(**settings, verbose=-1, client=client).fit(x, y))
    local = fitted.to_local()
    losses, metric = validation_losses(local, valid, problem)
    rounds = model.hyperparameters.get("early_stopping_rounds")
    best = best_round(losses, int(rounds)) if rounds else len(losses)
    # What early stopping keeps: the curve up to where it stopped, the trees up to the best.
    local._evals_result = {
        "valid_0": {metric: [float(v) for v in losses[: best + int(rounds or 0)]]}
    }
    kept = lgb.Booster(model_str=local.booster_.model_to_string(num_iteration=best))
    kept.best_iteration = best
    local._Booster, local._best_iteration = kept, best
    return local


def watched(client: Client, fit: Callable[[], Any], every: float = 2.0) -> Any:
    """`fit()`, stopped with one line if a worker leaves meanwhile: LightGBM pins its
    tasks to the workers it started on, and would wait for a lost one for ever (a worker
    its nanny restarts for exceeding engine.memory_limit comes back at another address)."""
    done: Future[Any] = Future()

    def run() -> None:
        try:
            done.set_result(fit())
        except BaseException as err:
            done.set_exception(err)

    started = set(client.scheduler_info()["workers"])
    threading.Thread(target=run, daemon=True).start()
    while True:
        try:
            return done.result(timeout=every)
        except TimeoutError:
            lost = started - set(client.scheduler_info()["workers"])
            if lost:
                raise EngineError(
                    f"worker {sorted(lost)[0]} left during the LightGBM fit, which cannot go "
                    "on without it (most often it outgrew engine.memory_limit: raise it, or "
                    "add workers)"
                ) from None


def validation_losses(
    local: Any, valid: dd.DataFrame, problem: ProblemSpec
) -> tuple[np.ndarray, str]:
    """The task's LightGBM loss on valid after each round, summed over partitions."""
    classes = list(getattr(local, "classes_", []))
    parts = [
        dask.delayed(_partition_losses)(part, local.booster_, problem.target, classes)
        for part in valid.to_delayed()
    ]
    sums = np.sum([np.asarray(s) for s in dask.compute(*parts)], axis=0)
    metric = {0: "l2", 2: "binary_logloss"}.get(len(classes), "multi_logloss")
    return sums[:-1] / max(sums[-1], 1), metric


def _partition_losses(
    part: pd.DataFrame, booster: Any, target: str, classes: list[Any]
) -> np.ndarray:
    """Per round, the summed loss of this partition's rows; the row count last."""
    x, y = part.drop(columns=[target]), part[target].to_numpy()
    rounds = booster.current_iteration()
    raw = None
    sums = np.zeros(rounds + 1)
    if part.empty:  # a time split leaves some partitions empty; LightGBM refuses them
        return sums
    for i in range(rounds):
        step = booster.predict(x, start_iteration=i, num_iteration=1, raw_score=True)
        raw = step if raw is None else raw + step
        sums[i] = _loss_sum(raw, y, classes)
    sums[rounds] = len(part)
    return sums


def _loss_sum(raw: np.ndarray, y: np.ndarray, classes: list[Any]) -> float:
    if not classes:  # regression: squared error
        return float(np.sum((raw - y.astype(float)) ** 2))
    if len(classes) == 2:
        positive = y == classes[1]
        # log(1 + e^-z) for the positive class, log(1 + e^z) for the negative, stably
        return float(np.sum(np.logaddexp(0, np.where(positive, -raw, raw))))
    index = (
        np.searchsorted(np.asarray(classes), y)
        if classes == sorted(classes)
        else np.array([classes.index(v) for v in y])
    )
    shifted = raw - raw.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return float(np.sum(log_norm - shifted[np.arange(len(y)), index]))


def best_round(losses: np.ndarray, patience: int) -> int:
    """The round (1-based) LightGBM's early_stopping(patience) callback keeps."""
    best, best_loss = 1, float(losses[0])
    for round_number, loss in enumerate(losses[1:], start=2):
        if loss < best_loss:
            best, best_loss = round_number, float(loss)
        elif round_number - best >= patience:
            break
    return best


def collect_scores(
    model: Any, valid: dd.DataFrame, problem: ProblemSpec
) -> tuple[pd.Series, np.ndarray]:
    """The valid split's labels and the model's scores: computed per partition, only
    those collected."""

    def score(part: pd.DataFrame) -> tuple[pd.Series, np.ndarray] | None:
        x, y = xy(part, problem.target)
        return None if part.empty else (y, factory.scores(model, x, problem))

    scored = dask.compute(*[dask.delayed(score)(part) for part in valid.to_delayed()])
    pairs = [pair for pair in scored if pair is not None]
    labels = pd.concat([y for y, _ in pairs], ignore_index=True)
    return labels, np.concatenate([s for _, s in pairs])


def fit_baseline(
    problem: ProblemSpec, counts: pd.Series | None, mean: float, zero: pd.DataFrame
) -> Any:
    """The dummy fitted on one row per class weighted by its count: the prior exactly
    (regression: on one row holding the target's mean)."""
    estimator = factory.build(factory.BASELINE, problem)
    if counts is None:
        return estimator.fit(zero, pd.Series([mean]))
    rows = pd.concat([zero] * len(counts), ignore_index=True)
    labels = pd.Series(counts.index.to_numpy(), dtype=counts.index.dtype)
    return estimator.fit(rows, labels, sample_weight=counts.to_numpy(float))


def class_balance_of(problem: ProblemSpec, counts: pd.Series) -> dict[str, Any] | None:
    """training.class_balance from the label counts."""
    if not tasks.for_problem(problem).classification:
        return None
    by_label = counts.groupby(counts.index.astype(str)).sum()
    total = float(by_label.sum())
    return {
        "shares": {
            label: round(float(by_label.get(label, 0)) / total, 6) for label in problem.labels
        },
        "imbalance_ratio": round(float(by_label.max() / max(by_label.min(), 1e-12)), 3),
    }


def _judged(
    problem: ProblemSpec, actual: pd.Series, scores: np.ndarray
) -> tuple[DecisionPolicy, dict[str, float]]:
    policy = tune_policy(problem, actual, scores)
    return policy, metrics.compute(problem, actual, scores, decide(problem, policy, scores))
