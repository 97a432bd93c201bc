"""The candidate models, one registry entry each.

An entry names a candidate (the `name:` of its conf/model/<name>.yaml), the strict
schema of its hyperparameters (an unknown key fails at once, naming it), how to
build its estimator for each estimator family (classifier or regressor), whether a
person can read its decisions off the model, and the types skops must trust to
load it from a package. The library's candidates are the entries below; a project adds
its own as a `Candidate` in its own code, named by a conf/model file's `_target_`
(`register` is called when that file's config is read).

Estimator libraries are imported inside the builders: config validation reads
this registry, and must stay light.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

# Hyperparameters that steer fitting (on the validation split) rather than the estimator.
FIT_CONTROLS = ("early_stopping_rounds",)
ClassWeight = Literal["balanced"] | dict[str | int, float] | None


class Hyperparameters(BaseModel):
    """A candidate's hyperparameters: every key must be one the candidate knows.

    Only the keys conf/model/ gives reach the estimator; the defaults here are the
    library's, for reading, and never override it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoHyperparameters(Hyperparameters):
    pass


class LinearHyperparameters(Hyperparameters):
    C: float = 1.0
    max_iter: int = 100
    class_weight: ClassWeight = None


class HistGBHyperparameters(Hyperparameters):
    max_iter: int = 100
    learning_rate: float = 0.1
    max_leaf_nodes: int | None = 31
    max_depth: int | None = None
    min_samples_leaf: int = 20
    l2_regularization: float = 0.0
    early_stopping_rounds: int | None = None
    class_weight: ClassWeight = None
    random_state: int | None = None


class LightGBMHyperparameters(Hyperparameters):
    n_estimators: int = 100
    learning_rate: float = 0.1
    num_leaves: int = 31
    max_depth: int = -1
    min_child_samples: int = 20
    subsample: float = 1.0
    subsample_freq: int = 0
    colsample_bytree: float = 1.0
    reg_alpha: float = 0.0
    reg_lambda: float = 0.0
    early_stopping_rounds: int | None = None
    class_weight: ClassWeight = None
    random_state: int | None = None


# (estimator keyword arguments, classification?) -> an unfitted estimator
Builder = Callable[[dict[str, Any], bool], Any]
Split = tuple[Any, Any]  # (inputs, target)
# (estimator, rounds, train, valid) -> the estimator fitted on train, stopped early on valid
EarlyStopping = Callable[[Any, int, Split, Split], Any]


@dataclass(frozen=True)
class Candidate:
    name: str
    hyperparameters: type[Hyperparameters]
    build: Builder
    # Its decisions can be read off the model (coefficients, priors).
    interpretable: bool = False
    # Types outside skops' default trust a fitted one holds, reviewed: data, not code.
    trusted_types: tuple[str, ...] = ()
    # How it stops early on the validation split (`early_stopping_rounds`); None: it does not.
    early_stopping: EarlyStopping | None = None

    @property
    def known(self) -> list[str]:
        return list(self.hyperparameters.model_fields)

    def check(self, given: dict[str, Any]) -> None:
        """Refuse hyperparameters the candidate does not know, or of the wrong type."""
        try:
            self.hyperparameters.model_validate(given)
        except ValidationError as err:
            problems = "; ".join(
                f"model.{'.'.join(str(p) for p in e['loc'])}: "
                + ("unknown hyperparameter" if e["type"] == "extra_forbidden" else e["msg"])
                for e in err.errors()
            )
            known = ", ".join(self.known) or "none"
            raise ValueError(
                f"{problems} of candidate {self.name!r} (its hyperparameters: {known})"
            ) from None


def _dummy(params: dict[str, Any], classify: bool) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyClassifier(strategy="prior") if classify else DummyRegressor(strategy="mean")


def _linear(params: dict[str, Any], classify: bool) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge

    if classify:
        return LogisticRegression(**params)
    return Ridge(alpha=1.0 / float(params.get("C", 1.0)))


def _hist_gb(params: dict[str, Any], classify: bool) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    boosting = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    return boosting(**params, early_stopping=False)  # turned on by fitting, on valid only


def _lightgbm(params: dict[str, Any], classify: bool) -> Any:
    import lightgbm as lgb

    estimator = lgb.LGBMClassifier if classify else lgb.LGBMRegressor
    return estimator(**params, verbose=-1)


def _hist_gb_stops(estimator: Any, rounds: int, train: Split, valid: Split) -> Any:
    estimator.set_params(early_stopping=True, n_iter_no_change=rounds)
    return estimator.fit(*train, X_val=valid[0], y_val=valid[1])


def _lightgbm_stops(estimator: Any, rounds: int, train: Split, valid: Split) -> Any:
    import lightgbm as lgb

    stop = lgb.early_stopping(rounds, verbose=False)
    # LightGBM 4.7 deprecates eval_set for eval_X/eval_y, but its classifier only
    # label-encodes eval_set, so eval_y breaks on text classes: keep eval_set.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*'eval_set' is deprecated")
        return estimator.fit(*train, eval_set=[valid], callbacks=[stop])


CANDIDATES: dict[str, Candidate] = {
    "dummy": Candidate("dummy", NoHyperparameters, _dummy, interpretable=True),
    "linear": Candidate("linear", LinearHyperparameters, _linear, interpretable=True),
    "hist_gb": Candidate(
        "hist_gb",
        HistGBHyperparameters,
        _hist_gb,
        trusted_types=("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",),
        early_stopping=_hist_gb_stops,
    ),
    "lightgbm": Candidate(
        "lightgbm",
        LightGBMHyperparameters,
        _lightgbm,
        trusted_types=(
            "collections.OrderedDict",
            "lightgbm.basic.Booster",
            "lightgbm.sklearn.LGBMClassifier",
            "lightgbm.sklearn.LGBMRegressor",
        ),
        early_stopping=_lightgbm_stops,
    ),
}


def register(candidate: Candidate) -> Candidate:
    """Add a project's own candidate (named by `_target_` in conf/model) to the registry."""
    known = CANDIDATES.get(candidate.name)
    if known is not None and known is not candidate:
        raise ValueError(f"candidate {candidate.name!r} is already registered: choose another name")
    CANDIDATES[candidate.name] = candidate
    return candidate


def imported(target: str, name: str) -> Candidate:
    """The `Candidate` a conf/model `_target_` names (`package.module.OBJECT`), registered."""
    from ..features.kinds import import_object

    found = import_object(target)
    if not isinstance(found, Candidate):
        raise ValueError(f"_target_ {target!r} is not a Candidate (mllifecycle.models.candidates)")
    if found.name != name:
        raise ValueError(f"_target_ {target!r} is the candidate {found.name!r}, not {name!r}")
    return register(found)


def get(name: str) -> Candidate:
    """The registered candidate of this name; the error lists the others."""
    if name not in CANDIDATES:
        raise ValueError(
            f"model {name!r} is not a registered candidate; choose from {sorted(CANDIDATES)} "
            "(models/candidates.py, conf/model/)"
        )
    return CANDIDATES[name]


def trusted_types() -> frozenset[str]:
    """Every type a registered candidate asks skops to trust."""
    return frozenset(t for candidate in CANDIDATES.values() for t in candidate.trusted_types)
