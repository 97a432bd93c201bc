"""Adding a candidate model is one registry entry plus one conf/model/ file, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import GeneratedEnv, bake

# Appended to the render's models/candidates.py: one entry, in the registry's own terms.
EXTRA_TREES = '''

class ExtraTreesHyperparameters(Hyperparameters):
    n_estimators: int = 100
    min_samples_leaf: int = 1
    max_features: float | str | None = "sqrt"
    random_state: int | None = None


def _extra_trees(params: dict[str, Any], classify: bool) -> Any:
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    return (ExtraTreesClassifier if classify else ExtraTreesRegressor)(**params)


CANDIDATES["extra_trees"] = Candidate(
    "extra_trees",
    ExtraTreesHyperparameters,
    _extra_trees,
    # skops' default trust leaves out the fitted trees: reviewed, they hold arrays.
    trusted_types=("sklearn.tree._tree.Tree",),
)
'''
CONF = """# scikit-learn's extremely randomised trees.
name: extra_trees
n_estimators: 150
min_samples_leaf: 20
max_features: 0.5
random_state: 42
"""
SMALL_DEMO = ["-S", "data.demo.n_rows=6000", "-S", "data.demo.n_production_rows=1500"]


def test_a_registered_candidate_trains_through_dvc_exp_run(tmp_path: Path,
                                                           generated_env: GeneratedEnv) -> None:
    project = bake(tmp_path, module_name="extra_cand", project_name="extra cand")
    generated_env.install(project)
    registry = project / "src/extra_cand/models/candidates.py"
    registry.write_text(registry.read_text() + EXTRA_TREES)
    (project / "conf/model/extra_trees.yaml").write_text(CONF)

    # Its schema is as strict as the shipped candidates': a typo is one line naming both.
    typo = generated_env.run(["python", "-m", "extra_cand.compose", "model=extra_trees",
                              "+model.min_sample_leaf=3"], cwd=project, check=False)
    assert typo.returncode == 1 and len(typo.stderr.strip().splitlines()) == 1, typo.stderr
    assert "min_sample_leaf" in typo.stderr and "'extra_trees'" in typo.stderr

    output = generated_env.run(["dvc", "exp", "run", "-S", "model=extra_trees", *SMALL_DEMO],
                               cwd=project).stdout
    assert "Running stage 'train'" in output and "Running stage 'package'" in output
    trained = json.loads((project / "metrics/train.json").read_text())
    assert trained["candidate"] == "extra_trees"
    assert trained["hyperparameters"]["n_estimators"] == 150
    metadata = json.loads((project / "models/package/metadata.json").read_text())
    assert "extra_trees" in json.dumps(metadata)  # the package says which candidate it holds
    shown = generated_env.run(["dvc", "exp", "show", "--json"], cwd=project).stdout
    assert "extra_trees" in shown
