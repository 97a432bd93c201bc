from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mllifecycle.compose import (
    composed,
)
from mllifecycle.config import (
    Params,
    parse_params,
    parse_problem,
)
from mllifecycle.errors import (
    ConfigError,
)
from mllifecycle.models import (
    factory,
)

from .conftest import PROBLEMS, ROOT


def test_params_yaml_is_the_composition_of_conf(in_root: Path) -> None:
    on_disk = yaml.safe_load((in_root / "params.yaml").read_text())
    assert on_disk == composed([], in_root / "conf"), "params.yaml is stale: run `make params`"


@pytest.mark.parametrize("problem", PROBLEMS)
def test_every_problem_spec_is_valid(problem: str, example_params: Callable[..., Params]) -> None:
    params = example_params(f"problem={problem}")
    assert params.problem.name == problem
    assert params.problem.target not in params.data.features


def _raw(make_params: Callable[..., Params], *overrides: str) -> dict[str, Any]:
    return make_params(*overrides).model_dump(mode="json")


def test_missing_outcome_value_is_named(example_params: Callable[..., Params]) -> None:
    raw = _raw(example_params, "problem=churn")
    del raw["problem"]["value_matrix"]["1"]["1"]
    with pytest.raises(ConfigError, match=r"value_matrix\['1'\]"):
        parse_params(raw)


def test_regression_needs_asymmetric_costs(example_params: Callable[..., Params]) -> None:
    raw = _raw(example_params, "problem=spend")
    raw["problem"]["under_cost_per_unit"] = None
    with pytest.raises(ConfigError, match="under_cost_per_unit"):
        parse_params(raw)


def test_unknown_metric_floor_is_refused(example_params: Callable[..., Params]) -> None:
    raw = _raw(example_params, "problem=spend")
    raw["problem"]["success_criteria"]["metric_floors"] = {"roc_auc": 0.8}
    with pytest.raises(ConfigError, match="not metrics of a regression task"):
        parse_params(raw)


def test_typo_in_a_key_is_refused(make_params: Callable[..., Params]) -> None:
    raw = _raw(make_params)
    raw["data"]["split"]["test_fration"] = 0.2
    with pytest.raises(ConfigError, match="test_fration"):
        parse_params(raw)


def test_an_unknown_hyperparameter_names_the_key_and_the_candidate(
    example_params: Callable[..., Params],
) -> None:
    with pytest.raises(ConfigError) as raised:
        example_params("model=lightgbm", "+model.num_leafs=3")
    message = str(raised.value)
    assert len(message.splitlines()) == 1
    assert "model.num_leafs: unknown hyperparameter" in message and "'lightgbm'" in message


def test_a_hyperparameter_of_the_wrong_type_is_named(example_params: Callable[..., Params]) -> None:
    with pytest.raises(ConfigError, match=r"model\.num_leaves: .*'lightgbm'"):
        example_params("model=lightgbm", "model.num_leaves=many")


def test_a_hyperparameter_of_another_candidate_is_refused(
    example_params: Callable[..., Params],
) -> None:
    raw = _raw(example_params, "model=linear")
    raw["model"]["num_leaves"] = 31  # LightGBM's, not logistic regression's
    with pytest.raises(ConfigError, match=r"model\.num_leaves: unknown hyperparameter.*'linear'"):
        parse_params(raw)


def test_an_unregistered_candidate_lists_the_registered_ones(
    example_params: Callable[..., Params],
) -> None:
    raw = _raw(example_params)
    raw["model"] = {"name": "lightgbmm"}
    with pytest.raises(ConfigError, match=r"'lightgbmm' is not a registered candidate.*'linear'"):
        parse_params(raw)


def test_a_search_over_an_unknown_hyperparameter_is_refused(
    make_params: Callable[..., Params],
) -> None:
    raw = _raw(make_params, "+hparams_search=lightgbm")
    raw["search"]["space"]["num_leafs"] = {"type": "int", "low": 2, "high": 8}
    with pytest.raises(ConfigError, match=r"search\.space: \['num_leafs'\].*'lightgbm'"):
        parse_params(raw)


@pytest.mark.parametrize(
    ("problem", "field", "value"),
    [
        ("spend", "classes", ["low", "high"]),
        ("spend", "value_matrix", {"low": {"low": 0.0}}),
        ("churn", "under_cost_per_unit", 1.0),
        ("plan_change", "over_cost_per_unit", 1.0),
    ],
)
def test_a_field_of_another_task_is_refused_by_name(
    problem: str, field: str, value: Any, example_params: Callable[..., Params]
) -> None:
    raw = _raw(example_params, f"problem={problem}")
    raw["problem"][field] = value
    with pytest.raises(ConfigError) as raised:
        parse_params(raw)
    message = str(raised.value)
    assert len(message.splitlines()) == 1
    assert f"problem: Value error, {field}: not a field of a {raw['problem']['task']}" in message


@pytest.mark.parametrize("problem", PROBLEMS)
def test_a_spec_recorded_with_every_field_still_loads(
    problem: str, example_params: Callable[..., Params]
) -> None:
    """Packages written before the split record other tasks' fields as null."""
    recorded = {
        "classes": None,
        "value_matrix": None,
        "under_cost_per_unit": None,
        "over_cost_per_unit": None,
        **example_params(f"problem={problem}").problem.model_dump(mode="json"),
    }
    assert parse_problem(recorded) == example_params(f"problem={problem}").problem


def test_each_task_has_its_own_spec_type(example_params: Callable[..., Params]) -> None:
    spend, churn = example_params("problem=spend"), example_params("problem=churn")
    assert not hasattr(spend.problem, "classes") and not hasattr(spend.problem, "value_matrix")
    assert not hasattr(churn.problem, "under_cost_per_unit")
    assert type(spend.problem).__name__ == "RegressionProblem"


def test_target_cannot_be_a_feature(example_params: Callable[..., Params]) -> None:
    raw = _raw(example_params, "problem=churn")
    raw["data"]["numeric"].append("churned")
    with pytest.raises(ConfigError, match="also listed as a feature"):
        parse_params(raw)


PRESETS = sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml"))
SEARCHES = sorted(p.stem for p in (ROOT / "conf" / "hparams_search").glob("*.yaml"))
MODELS = sorted(p.stem for p in (ROOT / "conf" / "model").glob("*.yaml"))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_experiment_preset_composes_and_overrides_several_groups(
    preset: str, make_params: Callable[..., Params]
) -> None:
    default, chosen = make_params(), make_params(f"experiment={preset}")
    changed = [
        group
        for group in ("model", "features", "data", "evaluate")
        if getattr(default, group) != getattr(chosen, group)
    ]
    assert len(changed) >= 2, f"{preset} overrides only {changed}"


@pytest.mark.parametrize("search", SEARCHES)
def test_every_search_space_composes(search: str, make_params: Callable[..., Params]) -> None:
    params = make_params(f"+hparams_search={search}")
    assert params.search is not None and params.search.space
    unknown = set(params.search.space) - set(params.model.hyperparameters)
    assert not unknown, (
        f"{search} searches {sorted(unknown)}, which model {params.model.name} lacks"
    )


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_config_builds_for_every_problem(
    model: str, problem: str, example_params: Callable[..., Params]
) -> None:
    params = example_params(f"model={model}", f"problem={problem}")
    estimator = factory.build(params.model, params.problem)
    assert hasattr(estimator, "fit") and hasattr(estimator, "predict")
    if params.problem.is_classification and "class_weight" in params.model.hyperparameters:
        assert "class_weight" in estimator.get_params()  # weighting is a choice for each one
