"""This project's own candidates (src/{{ cookiecutter.module_name }}/candidates.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mllifecycle import testing
from mllifecycle.errors import ConfigError

from {{ cookiecutter.module_name }}.candidates import EXTRA_TREES

ROOT = Path(__file__).resolve().parents[1]


def test_conf_selects_it_with_its_own_strict_hyperparameters() -> None:
    params = testing.params_of(ROOT, ["model=extra_trees"])
    assert params.model.name == "extra_trees"
    assert params.model.hyperparameters["n_estimators"] > 0
    with pytest.raises(ConfigError, match=r"min_sample_leaf.*unknown hyperparameter"):
        testing.params_of(ROOT, ["model=extra_trees", "+model.min_sample_leaf=3"])


@pytest.mark.parametrize("classify", [True, False])
def test_it_builds_an_estimator_that_fits_each_task(classify: bool) -> None:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(200, 3))
    target = inputs[:, 0] > 0 if classify else inputs[:, 0] * 2.0
    estimator = EXTRA_TREES.build({"n_estimators": 20, "random_state": 0}, classify)
    fitted = estimator.fit(inputs, target)
    assert fitted.score(inputs, target) > 0.8
