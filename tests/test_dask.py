"""The same repository on Dask: one render runs its whole pipeline twice from the same
files, the demo written as four Parquet parts and its production batch as three day
files in a directory, on the pandas engine and on a 2-worker LocalCluster (`dvc exp run
-S engine=dask`): the two packaged models must agree, and the monitor's report from
per-part sums must match the one measured on the batch in one frame. Then one day file
arrives with a column missing: the production gate names it.

Parity is not bit-for-bit (distributed LightGBM builds its histograms per worker, the
rows meet the model in another order): the tolerances are stated below and the figures
are in every assertion message. The dask engine's other faults (a dataset part with
another schema, an unreachable scheduler) are the library's own tests
(lib/tests/test_dask_engine.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from .conftest import GeneratedEnv, bake

PARTS = 4
# How close the two engines' models must be on the pandas run's test rows. The engines
# see the same rows, but rows sharing a timestamp reach the model in another order and
# distributed LightGBM builds its histograms per worker, so the scores differ a little
# (mean 0.015 on the demo) and the decision threshold tuned on validation moves with
# them: measured on four dask runs of this test (2026-12-07), thresholds 0.23-0.32
# against pandas' 0.245, decisions alike on 93.4-98.1% of the rows, AUC within 0.0015,
# value per 1,000 decisions within 2%, score rank correlation 0.990. The bounds: item 4
# of issue 31 (AUC within 0.01, value within 5%), the ranking, and the decisions.
MIN_AGREEMENT = 0.92
MAX_AUC_GAP = 0.01
MAX_VALUE_GAP = 0.05
MIN_RANK_CORRELATION = 0.98
# The monitor's drift statistics on dask (training sketched into 10,001 quantiles, the
# batch into sums per bin) against pandas' exact ones (lib/tests/test_dask_monitor.py).
MAX_STATISTIC_GAP = 0.005
BATCH_DAYS = 3
DASK = ["-S", "engine=dask", "-S", "engine.workers=2", "-S", "engine.memory_limit=1GiB"]

# The demo's raw rows as parts, and its production batch as day files: the user's own data.
WRITE_PARTS = """
import sys
from pathlib import Path
import numpy as np
import pandas as pd
raw, parts, production = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
dataset = pd.read_parquet(raw / "dataset.parquet")
for folder, table, count in ((parts, dataset, int(sys.argv[4])),
                             (production, pd.read_parquet(raw / "production.parquet"),
                              int(sys.argv[5]))):
    folder.mkdir(parents=True)
    for number, rows in enumerate(np.array_split(np.arange(len(table)), count)):
        table.iloc[rows].to_parquet(folder / f"part-{number:05d}.parquet", index=False)
"""

# Both packages score the pandas engine's test split.
COMPARE = """
import json, sys
from pathlib import Path
import pandas as pd
from sklearn.metrics import roc_auc_score
from mllifecycle.evaluation.business import value_per_1000
from mllifecycle.models import artifact
test = pd.read_parquet(sys.argv[1])
found = {}
for name, folder in (("pandas", sys.argv[2]), ("dask", sys.argv[3])):
    model = artifact.load(Path(folder))
    scores = model.scores(test)
    positive = model.problem.labels[-1]
    truth = test[model.problem.target].astype(str) == positive
    decisions = model.decide_from_scores(scores)
    found[name] = {
        "decisions": [str(d) for d in decisions],
        "scores": scores[:, -1].tolist(),
        "value": value_per_1000(model.problem, test[model.problem.target].astype(str), decisions),
        "auc": float(roc_auc_score(truth, scores[:, -1])),
        "estimator": type(model.pipeline[-1]).__module__ + "." + type(model.pipeline[-1]).__name__,
        "scoring_path": model.metadata.scoring_path,
        "input_schema": [f.model_dump(mode="json") for f in model.metadata.input_schema],
        "training_rows": model.metadata.training_rows,
    }
from scipy.stats import spearmanr
ranks = spearmanr(found["pandas"]["scores"], found["dask"]["scores"]).statistic
print(json.dumps({**found, "rank_correlation": float(ranks)}))
"""


def the_demo_as_files(project: Path, generated_env: GeneratedEnv, command: str) -> None:
    """The demo's rows, once, as the team's own files (the dataset in parts, the batch in
    day files) that conf/data/demo.yaml then names; the stage's outputs removed."""
    run = generated_env.run
    run([command, "stage", "ingest"], cwd=project)
    run(["python", "-c", WRITE_PARTS, "data/raw", "data/external/customers.parquet",
         "data/external/production", str(PARTS), str(BATCH_DAYS)], cwd=project)
    for written in (project / "data/raw").glob("*.parquet"):
        written.unlink()  # the runs below write them again
    data_conf = project / "conf/data/demo.yaml"
    data = yaml.safe_load(data_conf.read_text())
    data.update(source="file", path="data/external/customers.parquet",
                production_path="data/external/production")
    data_conf.write_text(yaml.safe_dump(data, sort_keys=False))


def test_the_pipeline_on_dask_agrees_with_pandas(tmp_path: Path,
                                                 generated_env: GeneratedEnv) -> None:
    project = bake(tmp_path, module_name="churn_dask", project_name="churn dask")
    generated_env.install(project)
    run = generated_env.run
    the_demo_as_files(project, generated_env, "churn-dask")
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-qm", "The demo as the team's own partitioned files"], cwd=project)

    results: dict[str, dict[str, Any]] = {}
    for engine, options in (("pandas", []), ("dask", DASK)):
        run(["dvc", "exp", "run", *options], cwd=project)
        kept = tmp_path / engine
        shutil.copytree(project / "models/package", kept / "package")
        results[engine] = {
            "verdict": json.loads((project / "reports/verdict.json").read_text()),
            "monitor": json.loads((project / "reports/monitor.json").read_text()),
            "features": json.loads((project / "reports/validation/features.json").read_text()),
            "production": json.loads((project / "reports/validation/production.json").read_text()),
        }
        if engine == "pandas":
            shutil.copytree(project / "data/prepared", kept / "prepared")
    raw_parts = sorted((project / "data/raw/dataset.parquet").glob("part-*.parquet"))
    assert len(raw_parts) == PARTS, "the dask engine kept one partition per input file"
    batch_parts = sorted(p.name for p in (project / "data/raw/production.parquet").iterdir())
    assert batch_parts == [f"part-{i:05d}-part-{i:05d}.parquet" for i in range(BATCH_DAYS)]

    for engine, found in results.items():
        assert found["verdict"]["passed"], f"{engine}: {found['verdict']['criteria']}"
    monitors = {engine: found["monitor"] for engine, found in results.items()}
    assert monitors["dask"]["drifted"] == monitors["pandas"]["drifted"], monitors
    assert monitors["dask"]["current_rows"] == monitors["pandas"]["current_rows"]
    assert monitors["dask"]["verdict"] == monitors["pandas"]["verdict"]
    windows = {e: [(w["start"], w["rows"], w["drifted"]) for w in m["windows"]]
               for e, m in monitors.items()}
    assert windows["dask"] == windows["pandas"], windows
    for mine, theirs in zip(monitors["dask"]["features"], monitors["pandas"]["features"],
                            strict=True):
        assert mine["null_rate_current"] == theirs["null_rate_current"], (mine, theirs)
        gap = abs(mine["statistic"] - theirs["statistic"])
        assert gap <= MAX_STATISTIC_GAP, (mine["column"], mine["statistic"], theirs["statistic"])
    # The feature gate on partitions checks as many rows and rules as on one frame, and
    # the production check's verdicts do not move with a sample of training.
    for report in ("features", "production"):
        assert results["dask"][report] == results["pandas"][report], report

    compared = json.loads(run(["python", "-c", COMPARE, str(tmp_path / "pandas/prepared/test.parquet"),
                               str(tmp_path / "pandas/package"), str(tmp_path / "dask/package")],
                              cwd=project).stdout)
    pandas_run, dask_run = compared["pandas"], compared["dask"]
    # The same kind of artifact: the registry, the service and the compiled path take it.
    assert dask_run["estimator"] == pandas_run["estimator"]
    assert dask_run["scoring_path"] == pandas_run["scoring_path"] == "compiled"
    # The input schema the service checks requests with, from cluster aggregates.
    assert dask_run["input_schema"] == pandas_run["input_schema"]
    assert dask_run["training_rows"] == pandas_run["training_rows"]
    pairs = list(zip(pandas_run["decisions"], dask_run["decisions"], strict=True))
    agreement = sum(a == b for a, b in pairs) / len(pairs)
    gap = abs(dask_run["auc"] - pandas_run["auc"])
    value_gap = abs(dask_run["value"] - pandas_run["value"]) / abs(pandas_run["value"])
    ranks = compared["rank_correlation"]
    figures = (f"agreement {agreement:.4f} on {len(pairs)} test rows (min {MIN_AGREEMENT}); "
               f"AUC pandas {pandas_run['auc']:.4f}, dask {dask_run['auc']:.4f} "
               f"(max gap {MAX_AUC_GAP}); value per 1,000 pandas {pandas_run['value']:.1f}, "
               f"dask {dask_run['value']:.1f} (max gap {MAX_VALUE_GAP:.0%}); score rank "
               f"correlation {ranks:.4f} (min {MIN_RANK_CORRELATION})")
    assert agreement >= MIN_AGREEMENT and gap <= MAX_AUC_GAP, figures
    assert value_gap <= MAX_VALUE_GAP and ranks >= MIN_RANK_CORRELATION, figures


def test_a_day_file_with_a_column_missing_is_named_by_the_production_gate(
        tmp_path: Path, generated_env: GeneratedEnv) -> None:
    """The dask render's production batch as day files, one without a column: ingest
    keeps every file as a part, and the gate names the one that differs."""
    project = bake(tmp_path, module_name="churn_days", project_name="churn days")
    generated_env.install(project)
    run = generated_env.run
    the_demo_as_files(project, generated_env, "churn-days")
    broken = project / "data/external/production/part-00001.parquet"
    run(["python", "-c", DROP_COLUMN, str(broken), "region"], cwd=project)
    run(["churn-days", "params", *(option for option in DASK if option != "-S")], cwd=project)
    run(["churn-days", "stage", "ingest"], cwd=project)
    done = run(["churn-days", "stage", "validate_production"], cwd=project, check=False)
    assert done.returncode != 0, done.stdout
    named = [line for line in done.stderr.splitlines() if "parts_share_a_schema" in line]
    assert len(named) == 1, done.stderr
    assert "part-00001-part-00001.parquet" in named[0] and "region" in named[0], named[0]
    report = json.loads((project / "reports/validation/production.json").read_text())
    assert not report[0]["passed"], report


DROP_COLUMN = """
import sys
import pandas as pd
pd.read_parquet(sys.argv[1]).drop(columns=[sys.argv[2]]).to_parquet(sys.argv[1], index=False)
"""
