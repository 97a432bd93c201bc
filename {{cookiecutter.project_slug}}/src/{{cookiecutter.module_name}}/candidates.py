"""Candidate models of this project's own, each named by a conf/model file's `_target_`.

A candidate is its hyperparameters' schema (an unknown key fails at once, naming it),
a builder for each estimator family (classifier or regressor), and the types skops
must trust to load it from a package (reviewed: they hold data, not code). The
library's candidates (dummy, linear, hist_gb, lightgbm) need no code here.
"""

from __future__ import annotations

from typing import Any

from mllifecycle.models.candidates import Candidate, ClassWeight, Hyperparameters


class ExtraTreesHyperparameters(Hyperparameters):
    n_estimators: int = 100
    min_samples_leaf: int = 1
    max_features: float | str | None = "sqrt"
    class_weight: ClassWeight = None
    random_state: int | None = None


def extra_trees(params: dict[str, Any], classify: bool) -> Any:
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    if not classify:
        params = {key: value for key, value in params.items() if key != "class_weight"}
    return (ExtraTreesClassifier if classify else ExtraTreesRegressor)(**params)


# scikit-learn's extremely randomised trees: `dvc exp run -S model=extra_trees`.
EXTRA_TREES = Candidate(
    "extra_trees",
    ExtraTreesHyperparameters,
    extra_trees,
    trusted_types=("sklearn.tree._tree.Tree",),
)
