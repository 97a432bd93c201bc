"""Finish the generated repository without needing dvc or hydra installed.

1. Prune files for options not chosen (CI system, licenses).
2. Initialise DVC by hand: the same files `dvc init` writes, with Hydra
   composition on (so `dvc exp run -S model=linear` works at once) and the
   chosen remote.
3. Write params.yaml as the composition of conf/, so `dvc repro` works before
   any `dvc exp run` (DVC composes only on `dvc exp run`). The composition
   here is Hydra's defaults-list rule for plain group options; the generated
   repo's tests check it against Hydra itself.
4. git init and a first commit (DVC experiments need a commit to start from).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml  # a dependency of cookiecutter itself

CI = "{{ cookiecutter.ci }}"
LICENSE = "{{ cookiecutter.license }}"
REMOTE = "{{ cookiecutter.dvc_remote }}"
REMOTE_URL = "{{ cookiecutter.dvc_remote_url }}".strip()
AUTHOR = "{{ cookiecutter.author_name }}"
EMAIL = "{{ cookiecutter.author_email }}"

CI_FILES = {"github": [".github"], "gitlab": [".gitlab-ci.yml"]}


def prune() -> None:
    for system, files in CI_FILES.items():
        if system != CI:
            for name in files:
                path = Path(name)
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.move(f"licenses/{LICENSE}.txt", "LICENSE")
    shutil.rmtree("licenses")


def init_dvc() -> None:
    dvc = Path(".dvc")
    dvc.mkdir()
    (dvc / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    config = ["[core]", "    autostage = true"]
    if REMOTE != "none":
        config.append("    remote = storage")
    config += ["[hydra]", "    enabled = true"]
    if REMOTE != "none":
        # Credentials never go here: they come from the environment or
        # `dvc remote modify --local storage ...` (.dvc/config.local is git-ignored).
        config += ["['remote \"storage\"']", f"    url = {REMOTE_URL}"]
    (dvc / "config").write_text("\n".join(config) + "\n")


def compose_params(conf: Path = Path("conf")) -> dict:
    root = yaml.safe_load((conf / "config.yaml").read_text())
    params: dict = {}
    for entry in root.get("defaults", []):
        if entry == "_self_":
            continue
        ((key, option),) = entry.items()
        group = key.removeprefix("optional ")
        path = conf / group / f"{option}.yaml"
        if key.startswith("optional ") and not path.exists():
            continue  # conf/local/ is personal and git-ignored: never there at render time
        params[group] = yaml.safe_load(path.read_text()) or {}
    params.update({k: v for k, v in root.items() if k != "defaults"})
    return params


def write_params() -> None:
    header = "# Composed from conf/ by `make params` or `dvc exp run`; edit conf/, not this file.\n"
    Path("params.yaml").write_text(header + yaml.safe_dump(compose_params(), sort_keys=False))


def git_init() -> None:
    if shutil.which("git") is None:
        print("git not found: run `git init` and commit before `dvc exp run`.", file=sys.stderr)
        return
    identity = ["-c", f"user.name={AUTHOR}", "-c", f"user.email={EMAIL}"]
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    [*identity, "commit", "-q", "-m", "Initial commit from cookiecutter-ml-lifecycle"]):
        subprocess.run(["git", *command], check=True)


if __name__ == "__main__":
    prune()
    init_dvc()
    write_params()
    git_init()
