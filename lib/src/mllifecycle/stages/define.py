"""Step 1, problem definition: validate the problem spec and state it in plain words."""

from __future__ import annotations

from .. import paths
from ..config import load_params
from ..io import write_text
from ..reporting.problem import statement
from . import run_stage


def main() -> None:
    write_text(statement(load_params().problem), paths.PROBLEM_REPORT)


if __name__ == "__main__":
    run_stage("define", main)
