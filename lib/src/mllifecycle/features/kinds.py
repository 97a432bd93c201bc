"""The derived-feature kinds conf/features may name, declared apart from their code.

Configuration (config.py) checks each `derived` entry against these declarations,
so every stage validates conf/features without importing the transformers in
features/derived.py (scikit-learn costs about a second in each stage's process),
and only the stages that run the transformers depend on their code in dvc.yaml.
Each transformer takes its columns, reads and output from its declaration here.

The library's kinds are declared below, their transformers in features/derived.py
(`class MyKind(Derived, kind="my_kind")`, listed in derived.KINDS); tests/test_derived.py
checks that the two agree. A project's own kind is a `Derived` subclass in its own
package that carries its declaration (`class MyKind(Derived, declared=Kind(...))`),
named in conf/features by dotted path (`_target_: my_project.features.MyKind`); only
the stages whose config names it import it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

Output = Literal["numeric", "categorical"]
# What a kind's input columns must be in conf/data: numeric features, any feature,
# or timestamps (the time column, an event time column).
Reads = Literal["numeric", "feature", "timestamp"]


@dataclass(frozen=True)
class Kind:
    """What an entry of this kind says in conf/features, and what it makes."""

    columns: tuple[str, ...]  # the entry's keys that name input columns
    reads: Reads  # what those columns must be in conf/data
    output: Output  # whether the derived column is numeric or categorical
    options: tuple[str, ...] = ()  # the entry's other keys (not columns)


# `kind:` in each `derived` entry. Kinds that read timestamps also receive the data's
# `time_zone`.
KINDS: dict[str, Kind] = {
    "ratio": Kind(columns=("numerator", "denominator"), reads="numeric", output="numeric"),
    "day_of_week": Kind(columns=("column",), reads="timestamp", output="categorical"),
    "days_between": Kind(columns=("start", "end"), reads="timestamp", output="numeric"),
}


def import_object(target: str) -> Any:
    """The object a `_target_` names (`package.module.NAME`), imported; ValueError if not."""
    module_name, _, name = target.rpartition(".")
    if not module_name or not name.isidentifier():
        raise ValueError(
            f"_target_ {target!r} is not a dotted path such as my_project.features.MyKind"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"_target_ {target!r}: cannot import {module_name!r} ({err})") from None
    if not hasattr(module, name):
        raise ValueError(f"_target_ {target!r}: {module_name} has no {name!r}")
    return getattr(module, name)


def imported(target: str) -> Any:
    """The class of the team's own kind that `target` names; ValueError if it is none."""
    found = import_object(target)
    if getattr(found, "DECLARED", None) is None:
        raise ValueError(
            f"_target_ {target!r} is not a derived-feature kind: subclass "
            "mllifecycle.features.derived.Derived with declared=Kind(...)"
        )
    return found


def declared_by(target: str) -> Kind:
    """The declaration of the team's own kind that `target` names."""
    declaration: Kind = imported(target).DECLARED
    return declaration
