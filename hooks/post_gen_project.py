"""Finish the generated repository without needing dvc or hydra installed.

1. Prune files for options not chosen (CI system, licenses).
2. Initialise DVC by hand: the same files `dvc init` writes, with Hydra
   composition on (so `dvc exp run -S model=linear` works at once) and the
   chosen remote.
3. Write params.yaml as the composition of conf/, so `dvc repro` works before
   any `dvc exp run` (DVC composes only on `dvc exp run`). The composition
   here is Hydra's defaults-list rule for plain group options; the generated
   repo's tests check it against Hydra itself.
4. Record the template and its commit in .cruft.json, so `cruft check` and
   `cruft update` (and the template-update workflow) can follow the template.
5. Name where the library (mllifecycle) comes from: the template's commit on its git
   host, or the local checkout rendered from (offline); then lock it with uv when uv is
   installed (`make setup` locks otherwise).
6. git init and a first commit (DVC experiments need a commit to start from).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import yaml  # a dependency of cookiecutter itself

# The answers as data (JSON, percent-encoded by the template): never pasted into code.
CONTEXT = json.loads(urllib.parse.unquote("{{ cookiecutter | jsonify | urlencode }}"))
CI = CONTEXT["ci"]
LICENSE = CONTEXT["license"]
REMOTE = CONTEXT["dvc_remote"]
REMOTE_URL = CONTEXT["dvc_remote_url"].strip()
AUTHOR = CONTEXT["author_name"]
EMAIL = CONTEXT["author_email"]

CI_FILES = {"github": [".github"], "gitlab": [".gitlab-ci.yml", "renovate.json"]}

# What cookiecutter knows of where the template came from (cruft renders without them).
TEMPLATE = CONTEXT.get("_template", "")
REPO_DIR = CONTEXT.get("_repo_dir", "")
# Paths cruft must leave out of its diffs: each render made by an update has its own git.
CRUFT_SKIP = [".git", ".cruft.json"]


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
        if isinstance(entry, str):  # a config into a package: `spec_defaults/problem@problem`
            path, _, package = entry.partition("@")
            loaded = yaml.safe_load((conf / f"{path}.yaml").read_text()) or {}
            params[package] = deep_merge(params.get(package, {}), loaded)
            continue
        ((key, option),) = entry.items()
        if option is None:
            continue  # `experiment: null`: no preset selected
        group = key.removeprefix("optional ")
        path = conf / group / f"{option}.yaml"
        if key.startswith("optional ") and not path.exists():
            continue  # conf/local/ is personal and git-ignored: never there at render time
        params[group] = deep_merge(params.get(group, {}), group_option(conf / group, option))
    params.update({k: v for k, v in root.items() if k != "defaults"})
    return params


def group_option(group: Path, option: str) -> dict:
    """One option of a config group, on top of the options of its group it names in its
    own defaults list (`features/demo.yaml`: `defaults: [default, _self_]`), as Hydra does."""
    raw = yaml.safe_load((group / f"{option}.yaml").read_text()) or {}
    own = {k: v for k, v in raw.items() if k != "defaults"}
    merged: dict = {}
    for base in raw.get("defaults", ["_self_"]):
        merged = deep_merge(merged, own if base == "_self_" else group_option(group, base))
    return merged if "_self_" in raw.get("defaults", ["_self_"]) else deep_merge(merged, own)


def deep_merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        both_dicts = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = deep_merge(merged[key], value) if both_dicts else value
    return merged


def write_params() -> None:
    header = "# Composed from conf/ by `make params` or `dvc exp run`; edit conf/, not this file.\n"
    Path("params.yaml").write_text(header + yaml.safe_dump(compose_params(), sort_keys=False))


def template_dir() -> Path:
    """The template checkout. Hooks run inside the new project, so a relative path is
    resolved against the directory cookiecutter was started from (the shell's PWD)."""
    launched_from = Path(os.environ.get("PWD", os.getcwd()))
    return (launched_from / (REPO_DIR or TEMPLATE)).resolve()


def template_source() -> str:
    """A URL or absolute path that `git clone` accepts (cruft clones it to update)."""
    from cookiecutter.config import BUILTIN_ABBREVIATIONS
    from cookiecutter.repository import expand_abbreviations, is_repo_url

    expanded = expand_abbreviations(TEMPLATE, BUILTIN_ABBREVIATIONS)
    return expanded if is_repo_url(expanded) else str(template_dir())


def template_commit() -> str | None:
    if shutil.which("git") is None:
        return None
    head = subprocess.run(["git", "-C", str(template_dir()), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=False)
    return head.stdout.strip() if head.returncode == 0 else None


def write_cruft_state() -> None:
    """The file `cruft create` would write, for renders made by plain cookiecutter."""
    if Path(".cruft.json").exists():
        return
    commit = template_commit()
    if commit is None:
        print("The template is not a git checkout: `cruft check` and `cruft update` "
              "need .cruft.json's commit filled in by hand.", file=sys.stderr)
    hidden = {"_output_dir", "_repo_dir", "_checkout"}
    context = {key: value for key, value in CONTEXT.items() if key not in hidden}
    template = template_source()
    context.update({"_template": template, "_commit": commit})
    state = {"template": template, "commit": commit, "checkout": None,
             "context": {"cookiecutter": context}, "directory": None, "skip": CRUFT_SKIP}
    Path(".cruft.json").write_text(json.dumps(state, indent=2) + "\n")


def library_source() -> str:
    """The TOML inline table [tool.uv.sources] gives mllifecycle."""
    source = template_source()
    if source == str(template_dir()):  # a local checkout: its lib/, read at lock time
        return "{ path = " + json.dumps(str(template_dir() / "lib")) + " }"
    # cruft names the commit it renders; cookiecutter leaves its clone at the one it used.
    commit = CONTEXT.get("_commit") or template_commit() or CONTEXT.get("_checkout") or "main"
    # (concatenated, not an f-string: this file is a Jinja template, and braces are Jinja's)
    return "{ git = " + json.dumps(source) + ', subdirectory = "lib", rev = ' + json.dumps(commit) + " }"


def pin_library() -> None:
    """Append the library's source to pyproject.toml and lock when uv is at hand."""
    with open("pyproject.toml", "a") as pyproject:
        pyproject.write(
            "\n[tool.uv.sources]\n"
            "# Where mllifecycle comes from: the template commit this repo was rendered from.\n"
            "# Once it is on a package index, delete this table and run `uv lock` (README).\n"
            f"mllifecycle = {library_source()}\n"
        )
    beside_python = Path(sys.executable).parent / "uv"  # cookiecutter's own environment
    uv = shutil.which("uv") or (str(beside_python) if beside_python.exists() else None)
    if uv is None:
        print("uv not found: `make setup` writes uv.lock; commit it.", file=sys.stderr)
        return
    locked = subprocess.run([uv, "lock", "--quiet"], capture_output=True, text=True)
    if locked.returncode != 0:
        print(f"`uv lock` failed; `make setup` retries it:\n{locked.stderr}", file=sys.stderr)


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
    write_cruft_state()
    pin_library()
    git_init()
