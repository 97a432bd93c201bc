r"""Jinja extensions of this template (cookiecutter loads them from `_extensions`).

- `path_answer` checks an answer that becomes a folder name while the answers are
  read, before cookiecutter creates any folder: "a/b" would otherwise leave an empty
  "a/" behind, and a 300-character name fails deep inside the file system. It prints
  one line and exits, like the pre-gen hook does for every other answer.
- `quoted` writes free text as a double-quoted string that is valid TOML and YAML
  alike (quotes, backslashes and non-ASCII text kept exactly); the pre-gen hook has
  already refused control characters, which neither accepts raw. (No answer lands in
  Python source: ruff format would re-quote it.)
- `markdown_text` keeps free text literal in Markdown: `<script>` shows as text.
- `dvc_quoted` is `quoted` for dvc.yaml, which DVC interpolates: `${price}` in an answer
  is written `\${price}`, which DVC reads back as the literal `${price}`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

# The folder name, the distribution name and the model's name in the registry.
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
MAX_SLUG = 64


def path_answer(value: str, field: str) -> str:
    if SLUG.fullmatch(value) and len(value) <= MAX_SLUG:
        return value
    shown = value if len(value) <= 80 else value[:77] + "..."
    rule = (
        f"must be at most {MAX_SLUG} characters"
        if SLUG.fullmatch(value)
        else "must be lowercase letters and digits in words joined by single '-' "
        "(it names the folder and the model in the registry)"
    )
    print(f"ERROR: {field} {shown!r} {rule}. Nothing was generated.", file=sys.stderr)
    sys.exit(1)


def quoted(value: Any) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def dvc_quoted(value: Any) -> str:
    return quoted(str(value).replace("${", "\\${"))


def markdown_text(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AnswerChecks(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["path_answer"] = path_answer
        environment.filters["quoted"] = quoted
        environment.filters["markdown_text"] = markdown_text
        environment.filters["dvc_quoted"] = dvc_quoted
