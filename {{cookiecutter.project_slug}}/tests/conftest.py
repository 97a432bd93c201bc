"""Shared fixtures: params composed from this repo's conf/, for any problem."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }}.compose import (
    composed,
)
from {{ cookiecutter.module_name }}.config import (
    Params,
    parse_params,
)

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ("churn", "plan_change", "spend")


@pytest.fixture
def in_root() -> Iterator[Path]:
    """Run from the repo root, where conf/ and params.yaml live."""
    before = Path.cwd()
    os.chdir(ROOT)
    try:
        yield ROOT
    finally:
        os.chdir(before)


@pytest.fixture
def make_params() -> Callable[..., Params]:
    def make(*overrides: str) -> Params:
        return parse_params(composed(list(overrides), ROOT / "conf"))

    return make
