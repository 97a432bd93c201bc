from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.module_name }}.compose import (
    composed,
)
from {{ cookiecutter.module_name }}.config import (
    Params,
    parse_params,
)
from {{ cookiecutter.module_name }}.errors import (
    ConfigError,
)

from .conftest import PROBLEMS


def test_params_yaml_is_the_composition_of_conf(in_root: Path) -> None:
    on_disk = yaml.safe_load((in_root / "params.yaml").read_text())
    assert on_disk == composed([], in_root / "conf"), "params.yaml is stale: run `make params`"


@pytest.mark.parametrize("problem", PROBLEMS)
def test_every_problem_spec_is_valid(problem: str, make_params: Callable[..., Params]) -> None:
    params = make_params(f"problem={problem}")
    assert params.problem.name == problem
    assert params.problem.target not in params.data.features


def _raw(make_params: Callable[..., Params], *overrides: str) -> dict[str, Any]:
    return make_params(*overrides).model_dump(mode="json")


def test_missing_outcome_value_is_named(make_params: Callable[..., Params]) -> None:
    raw = _raw(make_params, "problem=churn")
    del raw["problem"]["value_matrix"]["1"]["1"]
    with pytest.raises(ConfigError, match=r"value_matrix\['1'\]"):
        parse_params(raw)


def test_regression_needs_asymmetric_costs(make_params: Callable[..., Params]) -> None:
    raw = _raw(make_params, "problem=spend")
    raw["problem"]["under_cost_per_unit"] = None
    with pytest.raises(ConfigError, match="under_cost_per_unit"):
        parse_params(raw)


def test_unknown_metric_floor_is_refused(make_params: Callable[..., Params]) -> None:
    raw = _raw(make_params, "problem=spend")
    raw["problem"]["success_criteria"]["metric_floors"] = {"roc_auc": 0.8}
    with pytest.raises(ConfigError, match="not metrics of a regression task"):
        parse_params(raw)


def test_typo_in_a_key_is_refused(make_params: Callable[..., Params]) -> None:
    raw = _raw(make_params)
    raw["data"]["split"]["test_fration"] = 0.2
    with pytest.raises(ConfigError, match="test_fration"):
        parse_params(raw)


def test_target_cannot_be_a_feature(make_params: Callable[..., Params]) -> None:
    raw = _raw(make_params, "problem=churn")
    raw["data"]["numeric"].append("churned")
    with pytest.raises(ConfigError, match="also listed as a feature"):
        parse_params(raw)
