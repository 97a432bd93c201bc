"""Reject bad Cookiecutter answers before anything is rendered.

Each rule names the field and what it must be, on one line, so a user can
fix the answer and rerun. Cookiecutter removes the half-made folder when this
hook exits non-zero, so a rejected answer leaves nothing behind.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
CHOICES = {
    "task": ("binary_classification", "multiclass_classification", "regression"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
    "ci": ("github", "gitlab", "none"),
    "dvc_remote": ("none", "local", "s3", "gcs", "azure"),
}
# Import names the generated repo depends on (or that its tools import):
# a package with one of these names would shadow the real one.
DEPENDENCY_IMPORTS = {
    "dvc", "dvclive", "hydra", "omegaconf", "lightgbm", "sklearn", "scipy",
    "numpy", "pandas", "pyarrow", "great_expectations", "pydantic", "yaml",
    "joblib", "fsspec", "pytest", "ruff", "mypy", "pre_commit", "setuptools",
    "conf", "tests", "src", "data", "models", "reports",
}
REMOTE_URL_PATTERNS = {
    "s3": (r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/\S*)?$", "s3://<bucket>/<path>"),
    "gcs": (r"^gs://[a-z0-9][a-z0-9._\-]{1,61}[a-z0-9](/\S*)?$", "gs://<bucket>/<path>"),
    "azure": (r"^azure://[a-z0-9][a-z0-9\-]{1,61}[a-z0-9](/\S*)?$", "azure://<container>/<path>"),
    "local": (r"^(?![a-zA-Z][a-zA-Z0-9+.\-]*://)\S+$", "a filesystem path such as /srv/dvc-store"),
}


def check_project() -> str | None:
    if not ANSWERS["project_name"].strip():
        return "project_name must not be empty"
    slug = ANSWERS["project_slug"]
    # It also names the model in the registry, whose tags allow no more than this.
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
        return (
            f"project_slug {slug!r} must be lowercase letters and digits in words "
            "joined by single '-' (it names the model in the registry)"
        )
    return None


def check_module_name() -> str | None:
    name = ANSWERS["module_name"]
    if not name.isidentifier() or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return f"module_name {name!r} must be a lowercase Python identifier (letters, digits, '_')"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"module_name {name!r} is a Python keyword"
    if name in DEPENDENCY_IMPORTS:
        return f"module_name {name!r} would shadow the {name!r} package the repo depends on"
    if name in getattr(sys, "stdlib_module_names", ()):  # Python 3.10+
        return f"module_name {name!r} would shadow the standard library module {name!r}"
    return None


def check_email() -> str | None:
    email = ANSWERS["author_email"]
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", email):
        return f"author_email {email!r} is not an email address (name@domain.tld)"
    return None


def check_python_version() -> str | None:
    version = ANSWERS["python_version"]
    if version not in SUPPORTED_PYTHONS:
        return f"python_version {version!r} is not supported; choose one of {', '.join(SUPPORTED_PYTHONS)}"
    return None


def check_choices() -> str | None:
    for field, allowed in CHOICES.items():
        if ANSWERS[field] not in allowed:
            return f"{field} {ANSWERS[field]!r} must be one of {', '.join(allowed)}"
    return None


def check_remote() -> str | None:
    remote, url = ANSWERS["dvc_remote"], ANSWERS["dvc_remote_url"].strip()
    if remote == "none":
        return f"dvc_remote_url {url!r} is set but dvc_remote is 'none'" if url else None
    pattern, shape = REMOTE_URL_PATTERNS[remote]
    if not re.fullmatch(pattern, url):
        return f"dvc_remote_url {url!r} does not match dvc_remote '{remote}': expected {shape}"
    return None


def main() -> int:
    checks = (check_project, check_module_name, check_email, check_python_version, check_choices,
              check_remote)
    for check in checks:
        problem = check()
        if problem:
            print(f"ERROR: {problem}. Nothing was generated.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
