"""Bring your own data, as the generated README's "Bring your own data" walks it, with
a real public table that a package on the index ships: vega_datasets' `cars` (398 cars
with a fuel-economy figure, model years 1970-1982). It has what real tables have and the
demo lacks: capitalised categories (Origin 'USA', 'Japan', 'Europe'), a category made of
numbers (Cylinders), gaps, and a date column that arrives as ISO text in a CSV.

Then, as a team would continue: another candidate chosen in conf/config.yaml on a
branch, and every step of the repo's own ci workflow on that pull request, against a
local DVC remote that carries the data file.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import yaml

from .conftest import GeneratedEnv, bake, run
from .test_ci import run_ci_steps

CARS = Path(importlib.util.find_spec("vega_datasets").submodule_search_locations[0]) / "_data/cars.json"
# The user's own export: listings without a fuel-economy figure teach nothing.
EXPORT = """
import sys
import pandas as pd
cars = pd.read_json(sys.argv[1]).dropna(subset=["Miles_per_Gallon"])
cars.to_csv(sys.argv[2], index=False)
"""
NUMERIC = ["Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"]
CATEGORICAL = ["Origin", "Cylinders"]


def data_conf(demo: dict[str, Any]) -> dict[str, Any]:
    """Step 2: conf/data/cars.yaml, from a copy of conf/data/demo.yaml."""
    data = {key: value for key, value in demo.items() if key != "demo"}
    data.update(source="file", path="data/external/cars.csv", production_path=None,
                id_column=None, time_column="Year", time_format="iso8601", time_zone=None,
                numeric=NUMERIC, categorical=CATEGORICAL)
    data["checks"] = {**data["checks"], "event_time_columns": []}
    data["split"] = {"valid_fraction": 0.2, "test_fraction": 0.2, "seed": 7}
    return data


def problem_conf(spend: dict[str, Any]) -> dict[str, Any]:
    """Step 3: conf/problem/cars.yaml, from the regression spec `spend`."""
    return {**spend, "name": "cars", "target": "Miles_per_Gallon",
            "decision": "Quote the fuel economy on each used-car listing; an overstated "
                        "figure brings complaints and refunds, an understated one fewer buyers.",
            "under_cost_per_unit": 1.0, "over_cost_per_unit": 4.0,
            # The desk's rule of thumb, in the data's own spelling.
            "baseline_rule": {"when": None, "then": None, "otherwise": None,
                              "predict": "20 + 9 * (Origin == 'Japan') + 6 * (Origin == 'Europe')"},
            "success_criteria": {"min_uplift_per_1000": 100.0, "min_value_per_1000": None,
                                 "metric_floors": {}},
            "constraints": {"p99_latency_ms": 25, "min_rows": 300, "explainable": False},
            # The demo's `region` is not a column here: fairness is reported per origin.
            "sensitive_attributes": ["Origin"]}


def test_a_real_dataset_through_the_readme_then_a_pull_request(tmp_path: Path,
                                                               generated_env: GeneratedEnv) -> None:
    store = tmp_path / "dvc-store"
    project = bake(tmp_path / "origin", module_name="cars_byo", project_name="cars byo",
                   dvc_remote="local", dvc_remote_url=str(store))
    generated_env.install(project)
    venv, conf = f"VENV={generated_env.root}", project / "conf"
    export = tmp_path / "cars.csv"
    generated_env.run(["python", "-c", EXPORT, str(CARS), str(export)], cwd=project)

    # 1. The table in data/external/, tracked by DVC.
    run(["cp", str(export), "data/external/"], cwd=project)
    generated_env.run(["dvc", "add", "data/external/cars.csv"], cwd=project)
    assert "/cars.csv" in (project / "data/external/.gitignore").read_text()
    # 2-4. Describe the data, state the problem, select both.
    demo = yaml.safe_load((conf / "data/demo.yaml").read_text())
    (conf / "data/cars.yaml").write_text(yaml.safe_dump(data_conf(demo), sort_keys=False))
    spend = yaml.safe_load((conf / "problem/spend.yaml").read_text())
    (conf / "problem/cars.yaml").write_text(yaml.safe_dump(problem_conf(spend), sort_keys=False))
    # The demo's derived features (features: demo) read its columns: the shared
    # preprocessing (features: default) with one of the cars' own instead.
    features = yaml.safe_load((conf / "features/default.yaml").read_text())
    features["derived"] = [{"name": "power_to_weight", "kind": "ratio",
                            "numerator": "Horsepower", "denominator": "Weight_in_lbs"}]
    (conf / "features/default.yaml").write_text(yaml.safe_dump(features, sort_keys=False))
    root = (conf / "config.yaml").read_text()
    (conf / "config.yaml").write_text(root.replace("problem: churn", "problem: cars")
                                      .replace("data: demo", "data: cars")
                                      .replace("features: demo", "features: default"))
    generated_env.run(["make", "params", venv], cwd=project)
    # 5. Draft the gates: a diff while the demo's suites stand, then accepted.
    suite = project / "gx/expectations/raw.json"
    demo_suite = suite.read_bytes()
    shown = generated_env.run(["make", "suite", venv], cwd=project).stdout
    assert "expect_table_columns_to_match_set" in shown and suite.read_bytes() == demo_suite
    generated_env.run(["make", "suite", "ACCEPT=1", venv], cwd=project)
    drafted = json.loads(suite.read_text())["expectations"]
    origin = next(r for r in drafted if r["kwargs"].get("column") == "Origin"
                  and r["type"] == "expect_column_values_to_be_in_set")
    assert origin["kwargs"]["value_set"] == ["Europe", "Japan", "USA"]  # the source's spelling

    # 6. Run it, test it, keep it.
    output = generated_env.run(["dvc", "repro"], cwd=project).stdout
    assert "Running stage 'package'" in output and "Running stage 'monitor'" in output
    evaluation = json.loads((project / "metrics/evaluate.json").read_text())["test"]
    for baseline in ("dummy", "rule"):
        assert evaluation["model"]["value_per_1000"] > evaluation[baseline]["value_per_1000"]
    verdict = json.loads((project / "reports/verdict.json").read_text())
    assert verdict["passed"], verdict["criteria"]
    assert {s["column"] for s in verdict["slices"]} == set(CATEGORICAL)
    schema = json.loads((project / "models/package/metadata.json").read_text())["input_schema"]
    origin_field = next(field for field in schema if field["name"] == "Origin")
    assert origin_field["categories"] == ["Europe", "Japan", "USA"]
    tested = generated_env.run(["make", "test", venv], cwd=project).stdout
    assert " passed" in tested and " failed" not in tested and " error" not in tested
    generated_env.run(["git", "add", "-A"], cwd=project)
    generated_env.run(["git", "commit", "-qm", "Our data"], cwd=project)
    generated_env.run(["dvc", "push"], cwd=project)

    # A pull request that makes HistGradientBoosting the candidate, through every ci step.
    checkout = tmp_path / "checkout"
    run(["git", "clone", "-q", str(project), str(checkout)], cwd=tmp_path)
    run(["git", "switch", "-q", "-c", "hist-gb"], cwd=checkout)
    config = checkout / "conf/config.yaml"
    config.write_text(config.read_text().replace("model: lightgbm", "model: hist_gb"))
    generated_env.install(checkout)
    generated_env.run(["make", "params", venv], cwd=checkout)
    generated_env.run(["git", "commit", "-qam", "HistGradientBoosting"], cwd=checkout)
    ran, summary = run_ci_steps(checkout, generated_env, tmp_path)
    assert "Tests" in ran and ran[-1] == "Metrics and params against the base branch"
    assert "model.name" in summary.split("### Params against")[1] and "hist_gb" in summary
    assert json.loads((checkout / "reports/verdict.json").read_text())["model"] == "hist_gb"
