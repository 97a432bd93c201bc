"""This project's derived-feature kinds (src/{{ cookiecutter.module_name }}/features.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mllifecycle.models.storage import read_model, write_model

from {{ cookiecutter.module_name }}.features import Band

ROOT = Path(__file__).resolve().parents[1]


def test_a_band_names_the_interval_each_number_falls_in() -> None:
    band = Band(name="tenure_band", column="tenure", edges=(6, 12, 24))
    frame = pd.DataFrame({"tenure": [0, 6, 11.5, 12, 30, None]})
    made = band.fit(frame).transform(frame)["tenure_band"]
    assert made.tolist() == ["<6", "6-12", "6-12", "12-24", ">=24", None]


def test_the_fast_path_makes_the_same_bands_as_pandas() -> None:
    band = Band(name="b", column="x", edges=(1.5, 10))
    numbers = np.array([-1.0, 1.5, 9.99, 10.0, np.nan])
    coded = band.array_values({"x": numbers})
    from_codes = [coded.dictionary[code] if code >= 0 else None for code in coded.codes]
    assert from_codes == band.values(pd.DataFrame({"x": numbers})).tolist()


def test_a_fitted_band_is_saved_and_loaded_as_trusted_project_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the project's own code is trusted from beside its dvc.yaml
    frame = pd.DataFrame({"tenure": [1.0, 20.0]})
    write_model(Band(name="b", column="tenure", edges=(12,)).fit(frame), tmp_path / "band.skops")
    loaded = read_model(tmp_path / "band.skops")
    assert loaded.transform(frame)["b"].tolist() == ["<12", ">=12"]
