"""What a pull request does to the model, in Markdown for a reviewer.

`mllifecycle pr-report BASE OUTPUT` writes the
evaluation verdict of the workspace, then `dvc metrics diff` and `dvc params diff`
against the git revision BASE (metrics are committed to git, so the base
branch's figures need no DVC remote). CI posts it as a pull-request comment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .. import paths
from ..contracts import Verdict

NO_CHANGE = "_No change._"
EVALUATION_METRICS = paths.METRICS_DIR / "evaluate.json"


def dvc_diff(kind: str, base: str, *targets: Path) -> str:
    """`dvc metrics diff` or `dvc params diff` against `base`, as a Markdown table."""
    target_args = [arg for target in targets for arg in ("--targets", str(target))]
    result = subprocess.run(
        [sys.executable, "-m", "dvc", kind, "diff", base, "--md", *target_args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"dvc {kind} diff {base} failed: {result.stderr.strip()}")
    return result.stdout.strip() or NO_CHANGE


def verdict_section(verdict_path: Path) -> list[str]:
    if not verdict_path.exists():
        return ["_No evaluation in this workspace: run `dvc repro` first._"]
    verdict = Verdict.read(verdict_path)
    status = "passes" if verdict.passed else "FAILS"
    lines = [
        f"**{verdict.model}** {status} its success criteria "
        f"(best baseline: {verdict.best_baseline}).",
        "",
        "| criterion | observed | required | |",
        "|---|---:|---:|---|",
    ]
    for criterion in verdict.criteria:
        mark = "pass" if criterion.passed else "**fail**"
        mark += "" if criterion.judged else " (not judged)"
        observed, required = _number(criterion.observed), _number(criterion.required)
        lines.append(f"| {criterion.name} | {observed} | {required} | {mark} |")
    return lines


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def render(base: str, verdict_path: Path = paths.VERDICT) -> str:
    sections = [
        "## Model report",
        "",
        *verdict_section(verdict_path),
        "",
        f"### Evaluation metrics against `{base}`",
        "",
        dvc_diff("metrics", base, EVALUATION_METRICS),
        "",
        "<details><summary>Every metric: training, cross-validation, monitoring</summary>",
        "",
        dvc_diff("metrics", base),
        "",
        "</details>",
        "",
        f"### Params against `{base}`",
        "",
        dvc_diff("params", base),
    ]
    return "\n".join(sections) + "\n"
