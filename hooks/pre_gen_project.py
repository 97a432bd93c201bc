"""Reject bad Cookiecutter answers before anything is rendered.

Each rule names the field and what it must be, on one line, so a user can
fix the answer and rerun. Cookiecutter removes the half-made folder when this
hook exits non-zero, so a rejected answer leaves nothing behind. (Answers that
name folders are checked even earlier, while they are read: local_extensions.py.)

The answers arrive as data: JSON, percent-encoded by the template, so no answer
can ever be read as Python here.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import unicodedata
import urllib.parse
from pathlib import Path

ANSWERS = json.loads(urllib.parse.unquote("{{ cookiecutter | jsonify | urlencode }}"))

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
CHOICES = {
    "task": ("binary_classification", "multiclass_classification", "regression"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
    "ci": ("github", "gitlab", "none"),
    "dvc_remote": ("none", "local", "s3", "gcs", "azure"),
    "registry": ("gto", "mlflow"),
}
# Free text lands in TOML, Python, YAML and Markdown: one line each, of bounded length.
FREE_TEXT_LIMITS = {"project_name": 100, "description": 300, "author_name": 100}
# Unicode categories no file type takes raw: controls (newline, tab, NUL, DEL),
# surrogates, unassigned code points, and the line and paragraph separators YAML breaks on.
UNPRINTABLE = {"Cc", "Cs", "Cn", "Zl", "Zp"}
MAX_MODULE = 64
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
MAX_SLUG = 64
# RFC 5322's atoms for the local part; a host name of labels for the domain.
EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)
# Folders of the generated repo, CPython's own `test` package, pip (`make setup` runs it
# where uv is missing) and the modules the interpreter looks up by name at start-up, none
# of which sys.stdlib_module_names lists: a package of that name would be shadowed, or run
# instead of the interpreter's.
RESERVED_IMPORTS = {"conf", "tests", "src", "data", "models", "reports", "test", "pip",
                    "__main__", "sitecustomize", "usercustomize"}
# Distributions whose import name is not their normalised name.
IMPORT_NAMES = {"scikit-learn": "sklearn", "pyyaml": "yaml", "hydra-core": "hydra",
                "psycopg": "psycopg", "pandas-stubs": "pandas", "types-pyyaml": "yaml"}
# Used when the template's sources cannot be read (a render without a repo dir).
KNOWN_IMPORTS = {
    "dvc", "dvclive", "gto", "hydra", "omegaconf", "lightgbm", "sklearn", "scipy", "numpy",
    "pandas", "pyarrow", "great_expectations", "pydantic", "pydantic_settings", "yaml",
    "joblib", "fsspec", "skops", "sqlalchemy", "optuna", "fastapi", "starlette", "uvicorn",
    "httpx", "locust", "psycopg", "pytest", "ruff", "mypy", "pre_commit", "setuptools",
    "schemathesis", "cruft", "mllifecycle", "dask", "distributed",
}
REQUIREMENT = re.compile(r'^\s*"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?[^"]*",?\s*$')
IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.MULTILINE)


def template_sources() -> Path | None:
    repo = Path(ANSWERS.get("_repo_dir") or "") / "{% raw %}{{cookiecutter.project_slug}}{% endraw %}"
    return repo if repo.is_dir() else None


def requirement_names(pyproject: Path) -> set[str]:
    names = set()
    for line in pyproject.read_text(encoding="utf-8").splitlines():
        found = REQUIREMENT.match(line)
        if found:
            distribution = found.group(1).lower()
            names.add(IMPORT_NAMES.get(distribution, distribution.replace("-", "_")))
    return names


def imported_names(src: Path) -> set[str]:
    return {name for module in src.rglob("*.py")
            for name in IMPORT.findall(module.read_text(encoding="utf-8"))}


def resolved_names(listing: Path) -> set[str]:
    """hooks/resolved_imports.txt: the import names of everything the lock resolves."""
    lines = listing.read_text(encoding="utf-8").splitlines() if listing.is_file() else []
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def taken_import_names() -> set[str]:
    """What the generated repo imports: its and the library's dependencies' import names,
    every top-level module their code names, read from the template itself, and the import
    names of every package its lock resolves (transitive ones too: packaging, click, ...)."""
    sources = template_sources()
    if sources is None:
        return KNOWN_IMPORTS | RESERVED_IMPORTS
    library = sources.parent / "lib"  # the library the render depends on, and its imports
    names = set(RESERVED_IMPORTS) | requirement_names(sources / "pyproject.toml")
    names |= imported_names(sources / "src")
    names |= resolved_names(sources.parent / "hooks" / "resolved_imports.txt")
    if library.is_dir():
        names |= requirement_names(library / "pyproject.toml") | imported_names(library / "src")
    return names


def check_free_text() -> str | None:
    for field, limit in FREE_TEXT_LIMITS.items():
        value = ANSWERS[field]
        if not value.strip():
            return f"{field} must not be empty"
        if len(value) > limit:
            return f"{field} is {len(value)} characters long; at most {limit}"
        unprintable = [c for c in value if unicodedata.category(c) in UNPRINTABLE]
        if unprintable:
            return f"{field} must be one line of printable text (it contains {unprintable[0]!r})"
    return None


def check_slug() -> str | None:
    """Again here: local_extensions.py checks it while the answers are read, but a private
    answer given on the command line (`__slug_checked=x`) replaces that check."""
    slug = ANSWERS["project_slug"]
    if not SLUG.fullmatch(slug) or len(slug) > MAX_SLUG:
        shown = slug if len(slug) <= 80 else slug[:77] + "..."
        return (f"project_slug {shown!r} must be at most {MAX_SLUG} lowercase letters and digits "
                "in words joined by single '-'")
    return None


def check_module_name() -> str | None:
    name = ANSWERS["module_name"]
    if not name.isidentifier() or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return f"module_name {name!r} must be a lowercase Python identifier (letters, digits, '_')"
    if len(name) > MAX_MODULE:
        return f"module_name {name[:40]!r}... is {len(name)} characters long; at most {MAX_MODULE}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"module_name {name!r} is a Python keyword"
    if name in getattr(sys, "stdlib_module_names", ()):  # Python 3.10+
        return f"module_name {name!r} would shadow the standard library module {name!r}"
    if name in taken_import_names():
        return f"module_name {name!r} would shadow the {name!r} package the repo depends on"
    return None


def check_email() -> str | None:
    email = ANSWERS["author_email"]
    if not EMAIL.fullmatch(email) or len(email) > 254:
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


REMOTE_URL_PATTERNS = {
    "s3": (r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\s\"'#;]*)?$", "s3://<bucket>/<path>"),
    "gcs": (r"^gs://[a-z0-9][a-z0-9._\-]{1,61}[a-z0-9](/[^\s\"'#;]*)?$", "gs://<bucket>/<path>"),
    "azure": (r"^azure://[a-z0-9][a-z0-9\-]{1,61}[a-z0-9](/[^\s\"'#;]*)?$", "azure://<container>/<path>"),
    # A path; no quotes, '#' or ';' (they would end the value in .dvc/config).
    "local": (r"^(?![a-zA-Z][a-zA-Z0-9+.\-]*://)[^\s\"'#;]+$", "a filesystem path such as /srv/dvc-store"),
}


def check_remote() -> str | None:
    remote, url = ANSWERS["dvc_remote"], ANSWERS["dvc_remote_url"].strip()
    if remote == "none":
        return f"dvc_remote_url {url!r} is set but dvc_remote is 'none'" if url else None
    pattern, shape = REMOTE_URL_PATTERNS[remote]
    if "%" in url:  # .dvc/config is read with interpolation: %(here)s stops every command
        return f"dvc_remote_url {url!r} contains '%', which DVC's config reads as interpolation"
    if not re.fullmatch(pattern, url):
        return f"dvc_remote_url {url!r} does not match dvc_remote '{remote}': expected {shape}"
    return None


def main() -> int:
    checks = (check_slug, check_free_text, check_module_name, check_email, check_python_version,
              check_choices, check_remote)
    for check in checks:
        problem = check()
        if problem:
            print(f"ERROR: {problem}. Nothing was generated.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
