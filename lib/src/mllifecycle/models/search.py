"""Optional hyperparameter search with Optuna, inside the train stage.

DVC ignores Hydra sweepers, so the search runs here: seeded TPE over the
space in conf/hparams_search/, each trial fitted on train and scored on the
validation split by business value. The whole search is one DVC experiment,
with its trial history in metrics/train.json.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..config import ModelConfig, SearchConfig, SearchDimension


def suggest(trial: Any, name: str, dimension: SearchDimension) -> float | int:
    if dimension.type == "int":
        return int(
            trial.suggest_int(name, int(dimension.low), int(dimension.high), log=dimension.log)
        )
    return float(trial.suggest_float(name, dimension.low, dimension.high, log=dimension.log))


def run(
    search: SearchConfig, model: ModelConfig, score: Callable[[ModelConfig], float]
) -> tuple[ModelConfig, list[dict[str, Any]]]:
    """The best configuration found, and every trial's parameters and score."""
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=search.seed)
    )

    def objective(trial: optuna.Trial) -> float:
        changes = {name: suggest(trial, name, dim) for name, dim in search.space.items()}
        return score(model.with_hyperparameters(**changes))

    study.optimize(objective, n_trials=search.n_trials, timeout=search.timeout_s)
    history = [
        {"trial": t.number, "value_per_1000": t.value, "params": t.params}
        for t in study.trials
        if t.value is not None
    ]
    return model.with_hyperparameters(**study.best_params), history
