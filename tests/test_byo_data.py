"""Bring your own data, as the generated README walks it: a real dataset that is not
the demo (scikit-learn's breast-cancer table written to CSV), named in conf/data and
conf/problem, its suite drafted with `make suite`, then a green `dvc repro`."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .conftest import GeneratedEnv, bake

FEATURES = ["mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness",
            "mean_compactness", "mean_concavity", "mean_symmetry"]
WRITE_CSV = f"""
from sklearn.datasets import load_breast_cancer
frame = load_breast_cancer(as_frame=True).frame
frame.columns = [c.replace(" ", "_") for c in frame.columns]
frame = frame[{FEATURES!r} + ["target"]]
frame.insert(0, "sample_id", [f"S{{i:04d}}" for i in range(len(frame))])
frame["malignant"] = 1 - frame.pop("target")  # scikit-learn codes malignant as 0
frame.to_csv("data/external/tumours.csv", index=False)
"""
DATA = {
    "source": "file", "path": "data/external/tumours.csv", "production_path": None,
    "demo": {"n_rows": 1000, "n_production_rows": 0, "seed": 0},
    "id_column": "sample_id", "time_column": None, "numeric": FEATURES, "categorical": [],
    "split": {"valid_fraction": 0.2, "test_fraction": 0.2, "seed": 7},
    "checks": {"max_single_feature_score": 0.98, "max_label_share_shift": 0.15,
               "max_null_rate_shift": 0.2, "max_age_days": None},
}
PROBLEM = {
    "name": "tumours", "task": "binary_classification",
    "decision": "Which scans are sent to a specialist for a second reading.",
    "target": "malignant", "classes": [0, 1],
    # A missed malignancy costs far more than a second reading of a benign scan.
    "value_matrix": {"0": {"0": 0.0, "1": -10.0}, "1": {"0": -200.0, "1": 50.0}},
    "under_cost_per_unit": None, "over_cost_per_unit": None,
    "baseline_rule": {"when": "mean_radius >= 15", "then": 1, "otherwise": 0, "predict": None},
    "success_criteria": {"min_uplift_per_1000": 100.0, "min_value_per_1000": None,
                         "metric_floors": {"roc_auc": 0.9}},
    "constraints": {"p99_latency_ms": 100, "min_rows": 400, "explainable": False},
}


def test_a_real_dataset_goes_from_csv_to_a_green_pipeline(tmp_path: Path,
                                                          generated_env: GeneratedEnv) -> None:
    project = bake(tmp_path, module_name="tumours", project_name="tumours")
    generated_env.install(project)
    venv = f"VENV={generated_env.root}"
    (project / "data/external").mkdir(parents=True)
    generated_env.run(["python", "-c", WRITE_CSV], cwd=project)

    conf = project / "conf"
    (conf / "data/tumours.yaml").write_text(yaml.safe_dump(DATA, sort_keys=False))
    (conf / "problem/tumours.yaml").write_text(yaml.safe_dump(PROBLEM, sort_keys=False))
    evaluate = yaml.safe_load((conf / "evaluate/default.yaml").read_text())
    evaluate["slice_columns"] = ["mean_radius"]
    (conf / "evaluate/default.yaml").write_text(yaml.safe_dump(evaluate, sort_keys=False))
    root = (conf / "config.yaml").read_text()
    (conf / "config.yaml").write_text(root.replace("problem: churn", "problem: tumours")
                                      .replace("data: demo", "data: tumours"))

    suite = project / "gx/expectations/raw.json"
    demo_suite = suite.read_bytes()
    shown = generated_env.run(["make", "params", "suite", venv], cwd=project).stdout
    assert "expect_table_columns_to_match_set" in shown and suite.read_bytes() == demo_suite
    generated_env.run(["make", "suite", "ACCEPT=1", venv], cwd=project)
    drafted = json.loads(suite.read_text())["expectations"]
    assert {"sample_id", *FEATURES} <= set(drafted[0]["kwargs"]["column_set"])

    output = generated_env.run(["dvc", "repro"], cwd=project).stdout
    assert "Running stage 'package'" in output and "Running stage 'monitor'" in output
    evaluation = json.loads((project / "metrics/evaluate.json").read_text())
    assert evaluation["test"]["model"]["roc_auc"] > 0.9
    assert evaluation["test"]["model"]["value_per_1000"] > evaluation["test"]["dummy"]["value_per_1000"]
    verdict = json.loads((project / "reports/verdict.json").read_text())
    assert verdict["model"] == "lightgbm" and verdict["passed"], verdict["criteria"]
