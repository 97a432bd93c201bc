"""The decision policy: how a task turns scores into decisions, tuned on validation data.

- binary: a probability threshold that maximises value on validation;
- multiclass: the class with the highest expected value under the value matrix;
- regression: an offset on the prediction at the newsvendor quantile of the
  validation residuals, because under- and over-prediction cost different amounts.

One type from tuning (train) to evaluation, packaging and serving: train writes it to
models/decisions.json (contracts.Decisions), the package carries it in its metadata.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

THRESHOLD_GRID = np.linspace(0.0, 1.0, 201)


class DecisionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["threshold", "expected_value", "offset"]
    value: float = 0.0

    def __init__(self, kind: str, value: float = 0.0, **extra: Any) -> None:
        super().__init__(kind=kind, value=value, **extra)
