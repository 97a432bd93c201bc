"""Updates are a version bump: a team that edited its repo takes a later template commit
that changes both the library and the template, with `cruft update`, and nothing breaks.

The render is made as a team would from a git host (`cookiecutter gh:...`; here a git URL
of a file:// copy of this checkout, offline), so the library is pinned to the template's
commit in [tool.uv.sources] and installed from uv.lock with `make setup`. (`cruft create`
of a local template is tested in test_ci.py.)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from cookiecutter.main import cookiecutter

from .conftest import QUIET_ENV, GeneratedEnv, run, template_repo

MODULE = "upd_churn"
# A team's own kind, added beside the example one (src/<module>/features.py).
TEAM_KIND = '''

class Difference(
    Derived, declared=Kind(columns=("left", "right"), reads="numeric", output="numeric")
):
    """left - right, e.g. tickets beyond the products a customer holds."""

    def __init__(self, name: str = "difference", left: str = "", right: str = "") -> None:
        self.name = name
        self.left = left
        self.right = right

    def values(self, frame: pd.DataFrame) -> pd.Series:
        left = pd.to_numeric(frame[self.left], errors="coerce").astype("float64")
        return left - pd.to_numeric(frame[self.right], errors="coerce").astype("float64")
'''
TEAM_ENTRY = (f"  - {{name: tickets_beyond_products, _target_: {MODULE}.features.Difference, "
              "left: support_tickets, right: num_products}\n")
SMALL_DEMO = "# @package _global_\ndata:\n  demo:\n    n_rows: 6000\n    n_production_rows: 1500\n"


def library_pin(project: Path) -> dict[str, str]:
    return tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["sources"]["mllifecycle"]


def locked_version(project: Path) -> str:
    found = re.search(r'name = "mllifecycle"\nversion = "([^"]+)"', (project / "uv.lock").read_text())
    assert found, "uv.lock pins mllifecycle"
    return found.group(1)


def commit(folder: Path, env: dict[str, str], message: str) -> str:
    run(["git", "add", "-A"], cwd=folder, env=env)
    run(["git", "commit", "-qm", message], cwd=folder, env=env)
    return run(["git", "rev-parse", "HEAD"], cwd=folder, env=env).stdout.strip()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1))


def test_a_library_and_template_change_arrive_without_conflict(
    tmp_path: Path, generated_env: GeneratedEnv
) -> None:
    env = {**generated_env.env(), **QUIET_ENV}
    # (".git" in the name: cookiecutter clones a URL it recognises as git)
    template = template_repo(tmp_path / "ml-lifecycle-template.git")
    first = run(["git", "rev-parse", "HEAD"], cwd=template, env=env).stdout.strip()
    project = Path(cookiecutter(template.as_uri(), no_input=True, output_dir=str(tmp_path / "out"),
                                extra_context={"module_name": MODULE, "project_name": "upd churn"}))
    assert library_pin(project) == {"git": template.as_uri(), "subdirectory": "lib", "rev": first}
    assert locked_version(project) == "0.1.0"

    # The team's edits: a derived feature of its own, a hyperparameter, a README paragraph.
    features = project / f"src/{MODULE}/features.py"
    features.write_text(features.read_text() + TEAM_KIND)
    demo = project / "conf/features/demo.yaml"
    edit(demo, "\n# Findings of the exploratory", f"{TEAM_ENTRY}\n# Findings of the exploratory")
    edit(project / "conf/model/lightgbm.yaml", "num_leaves: 31", "num_leaves: 47")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n## Our notes\n\nOffers go out on Mondays.\n")
    commit(project, env, "Our derived feature, deeper trees, notes")

    # A later template commit: a library fix (a new version) and template changes, one
    # of them in a file the team edited too.
    edit(template / "lib/pyproject.toml", 'version = "0.1.0"', 'version = "0.1.1"')
    edit(template / "lib/src/mllifecycle/__init__.py", '__version__ = "0.1.0"', '__version__ = "0.1.1"')
    edit(template / "{{cookiecutter.project_slug}}/conf/model/lightgbm.yaml",
         "# Gradient-boosted trees;", "# LightGBM's gradient-boosted trees;")
    edit(template / "{{cookiecutter.project_slug}}/Makefile",
         "# Everyday commands.", "# Everyday commands (`make help` lists them).")
    second = commit(template, env, "Library 0.1.1 and template touches")

    generated_env.run(["cruft", "update", "--skip-apply-ask"], cwd=project)
    rejected = list(project.rglob("*.rej"))
    conflicted = run(["git", "grep", "-l", "-e", "^<<<<<<< ", "-e", "^>>>>>>> "], cwd=project,
                     env=env, check=False).stdout
    assert not rejected and not conflicted.strip(), (rejected, conflicted)
    assert library_pin(project)["rev"] == second
    assert "num_leaves: 47" in (project / "conf/model/lightgbm.yaml").read_text()
    assert "# LightGBM's gradient-boosted trees;" in (project / "conf/model/lightgbm.yaml").read_text()
    assert "Offers go out on Mondays." in readme.read_text()
    assert "class Difference(" in features.read_text()

    # The lock follows the new pin; the team reviews this diff (printed for the record).
    run(["make", "lock"], cwd=project, env=env)
    assert locked_version(project) == "0.1.1"
    reviewed = run(["git", "diff", "HEAD", "--stat"], cwd=project, env=env).stdout
    print(f"the diff a team reviews for this update:\n{reviewed}")
    changed = set(run(["git", "diff", "HEAD", "--name-only"], cwd=project, env=env).stdout.split())
    assert changed == {".cruft.json", "Makefile", "conf/model/lightgbm.yaml", "pyproject.toml",
                       "uv.lock"}

    # The updated repo, installed from its lock, passes its tests and runs its pipeline.
    (project / "conf/local").mkdir(exist_ok=True)
    (project / "conf/local/default.yaml").write_text(SMALL_DEMO)
    run(["make", "setup", "params"], cwd=project, env=env)
    tested = run(["make", "test"], cwd=project, env=env).stdout
    assert " passed" in tested and " failed" not in tested
    repro = run(["make", "repro"], cwd=project, env=env).stdout
    assert "Running stage 'monitor'" in repro
    packaged = (project / "models/package/metadata.json").read_text()
    assert "tickets_beyond_products" in packaged and '"num_leaves": 47' in packaged
