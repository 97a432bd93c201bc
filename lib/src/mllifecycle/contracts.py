"""Typed, versioned contracts for what the pipeline and the service write and read back.

Five artifacts cross process (and release) boundaries: the decision policies train
tunes (models/decisions.json), the packaged metadata (models/package/metadata.json),
the evaluation verdict (reports/verdict.json), the monitor summary
(reports/monitor.json) and each prediction-log line. Each is a strict
model (unknown keys are refused) with a `schema_version`. Writers build the model
and write `model_dump(mode="json")`; readers call `parse`/`read` once and use
attributes from then on.

A file written before versions existed has no `schema_version`: it is version 1, the
layout these models describe. A version this code does not know is refused with one
line naming the file, the version found and the versions read here: a package
registered today can be told apart from one registered next year.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import ProblemSpec
from .errors import ContractError
from .tasks.policy import DecisionPolicy

SCHEMA_VERSION = 1
# Versions that the readers below understand; a new layout adds its number here
# (and an upgrade of the older ones) in the same change.
READABLE_VERSIONS: tuple[int, ...] = (1,)

AnyContract = TypeVar("AnyContract", bound="Versioned")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Versioned(Strict):
    """A top-level artifact: carries its layout's version."""

    KIND: ClassVar[str] = "artifact"
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def parse(cls: type[AnyContract], raw: Any, source: str | Path) -> AnyContract:
        """Validate `raw` (as read from `source`); one-line ContractError on any mismatch."""
        if not isinstance(raw, dict):
            raise ContractError(f"{source}: expected a JSON object for the {cls.KIND}")
        found = check_version(raw, source)
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise ContractError(
                f"{source}: not a valid {cls.KIND} of schema_version {found} "
                f"({where}: {first['msg']}; {err.error_count()} problem(s) in all)"
            ) from err

    @classmethod
    def read(cls: type[AnyContract], path: Path) -> AnyContract:
        return cls.parse(read_json_object(path), path)


def check_version(raw: dict[str, Any], source: str | Path) -> Any:
    """The schema version `raw` declares (1 when it declares none); refused unless readable."""
    found = raw.get("schema_version", 1)  # files from before versions existed
    if isinstance(found, bool) or found not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        raise ContractError(
            f"{source}: schema_version {found!r} is not one this code reads ({readable}); "
            "it was written by another version of this project: read it with that "
            "version, or write it again with this one"
        )
    return found


def read_json_line(line: str, source: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise ContractError(f"{source}: not valid JSON ({err})") from err


def read_json_object(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ContractError(f"{path}: not valid JSON ({err}); refusing to load it") from err


# --- pieces shared by the verdict and the packaged metadata -------------------------


class Criterion(Strict):
    name: str
    observed: float | None
    required: float
    passed: bool
    detail: str = ""
    judged: bool = True


class Override(Strict):
    approved_by: str | None = None
    reason: str | None = None


class VerdictCore(Strict):
    """Promotion reads these: a failed verdict is promotable only with a recorded override."""

    passed: bool
    promotable: bool
    override: Override | None
    criteria: list[Criterion]


# --- models/decisions.json --------------------------------------------------------


class Decisions(Versioned):
    """The policies train tuned on the valid split, read by evaluate and package."""

    KIND: ClassVar[str] = "decision policies"
    model: DecisionPolicy
    baseline: DecisionPolicy


# --- models/package/metadata.json ---------------------------------------------------


class NumericInput(Strict):
    name: str
    kind: Literal["numeric"]
    nullable: bool
    min: float
    max: float
    # Whole numbers in training (counts): the service takes integers only.
    integer: bool = False


class CategoricalInput(Strict):
    name: str
    kind: Literal["categorical"]
    nullable: bool
    categories: list[str]


class TimestampInput(Strict):
    """A raw timestamp that derived features read (features/derived.py); ISO 8601 text."""

    name: str
    kind: Literal["timestamp"]
    nullable: bool
    min: str
    max: str


InputField = Annotated[
    NumericInput | CategoricalInput | TimestampInput, Field(discriminator="kind")
]


class PackagedParams(Strict):
    # The config sections as they were (their own schemas live in config.py).
    model: dict[str, Any]
    features: dict[str, Any]


Metrics = dict[str, float | None]


class PackageContent(Versioned):
    """What packaging decides; PackageMetadata adds the file hash and the digest."""

    KIND: ClassVar[str] = "packaged model metadata"
    name: str
    task: str
    target: str
    problem: ProblemSpec
    decision_policy: DecisionPolicy
    input_schema: list[InputField]
    # Carried through serving into the prediction log, so labels can be joined later.
    id_column: str | None = None
    # GX expectation configurations (their own format) the service checks requests with.
    serving_suite: list[dict[str, Any]] = []
    params: PackagedParams
    data_version: str
    training_rows: int
    metrics: Metrics
    baseline_metrics: dict[str, Metrics]
    verdict: VerdictCore
    # Which path scores this package: "compiled" (models/compiled.py, proven equal to the
    # scikit-learn pipeline when packaged) or "scikit-learn" (packages from before it).
    scoring_path: Literal["compiled", "scikit-learn"] = "scikit-learn"


class PackageMetadata(PackageContent):
    model_file: str
    sha256: str
    version: str
    digest: str

    @property
    def input_names(self) -> list[str]:
        return [field.name for field in self.input_schema]


# --- reports/verdict.json -----------------------------------------------------------


class ChampionRecord(Strict):
    version: str
    tag: str
    # Why it could not be compared (another problem); None when it was scored.
    refused: str | None
    metrics: Metrics | None = None


class SliceJudgement(Strict):
    method: str
    confidence: float
    floor_uplift_per_1000: float
    min_slice_rows: int


class SliceRecord(Strict):
    column: str
    value: str
    rows: int
    model_value_per_1000: float
    baseline_value_per_1000: float
    uplift_per_1000: float
    uplift_se_per_1000: float
    uplift_upper_bound_per_1000: float
    too_small: bool
    flagged: bool


class Verdict(VerdictCore, Versioned):
    KIND: ClassVar[str] = "evaluation verdict"
    model: str
    best_baseline: str
    champion: ChampionRecord | None
    slice_judgement: SliceJudgement
    slices: list[SliceRecord]


# --- reports/monitor.json -----------------------------------------------------------


class JudgedModel(Strict):
    version: str
    tag: str | None
    source: str


class DriftRecord(Strict):
    column: str
    kind: str
    test: str
    statistic: float
    threshold: float
    drifted: bool
    psi: float
    null_rate_reference: float
    null_rate_current: float
    new_categories: list[str] = []
    missing_categories: list[str] = []


class WindowRecord(Strict):
    start: str
    rows: int
    judged: bool
    drift_share: float
    dataset_drift: bool
    drifted: list[str] = []
    value_per_1000: float | None = None


class Performance(Strict):
    rows: int
    current_value_per_1000: float
    evaluation_value_per_1000: float
    value_drop: float


class RetrainVerdict(Strict):
    retrain: bool
    reasons: list[str]


class ProductionChecks(Strict):
    """What validate_production found on the batch (reports/validation/production.json)."""

    batch: str
    passed: bool
    failures: list[str]


class MonitorSummary(Versioned):
    """The drift fields are None (lists empty) when there was no batch to compare."""

    KIND: ClassVar[str] = "monitor summary"
    judged: JudgedModel
    model_version: str
    reference_rows: int | None = None
    current_rows: int
    n_features: int | None = None
    drifted_features: int | None = None
    drifted: list[str] = []
    drift_share: float | None = None
    drift_share_threshold: float | None = None
    features: list[DriftRecord] = []
    prediction_drift: DriftRecord | None = None
    performance: Performance | None = None
    windows: list[WindowRecord] = []
    # None: validate_production has not run on this workspace yet.
    production_checks: ProductionChecks | None = None
    verdict: RetrainVerdict


# --- one line of logs/predictions.jsonl ---------------------------------------------


class ModelAnswer(Strict):
    version: str
    decision: str | float
    latency_ms: float


class ChallengerFailure(Strict):
    error: str


class PredictionRecord(Versioned):
    KIND: ClassVar[str] = "prediction-log record"
    request_id: str
    record: int
    timestamp: str
    id: str | int | None
    # The record as it was sent (the id column aside).
    inputs: dict[str, Any]
    champion: ModelAnswer
    challenger: ModelAnswer | ChallengerFailure | None
