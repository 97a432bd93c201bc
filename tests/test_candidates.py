"""A candidate of the team's own is one `Candidate` in its code plus one conf/model/ file
naming it by `_target_` (the render ships extra_trees as the example); nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import GeneratedEnv, bake

SMALL_DEMO = ["-S", "data.demo.n_rows=6000", "-S", "data.demo.n_production_rows=1500"]
LOAD_PACKAGE = ("from pathlib import Path; from mllifecycle.models import artifact; "
                "print(type(artifact.load(Path('models/package')).pipeline[-1]).__name__)")


def test_the_teams_own_candidate_trains_through_dvc_exp_run(tmp_path: Path,
                                                           generated_env: GeneratedEnv) -> None:
    project = bake(tmp_path, module_name="extra_cand", project_name="extra cand")
    generated_env.install(project)
    conf = (project / "conf/model/extra_trees.yaml").read_text()
    assert "_target_: extra_cand.candidates.EXTRA_TREES" in conf

    # Its schema is as strict as the library's candidates': a typo is one line naming both.
    typo = generated_env.run(["extra-cand", "params", "model=extra_trees",
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
    # A fresh process (the service, batch scoring) loads the package: the candidate's
    # trusted types come from the team's own code, found from the package's metadata.
    loaded = generated_env.run(["python", "-c", LOAD_PACKAGE], cwd=project).stdout
    assert loaded.strip() in {"ExtraTreesClassifier", "ExtraTreesRegressor"}
