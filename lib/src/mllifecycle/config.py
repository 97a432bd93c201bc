"""The typed schema of params.yaml, which Hydra composes from conf/.

Stages never read raw dictionaries: they call `load_params()` and get these
models, so a typo or a missing business number fails at once, naming the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)

from . import paths
from .errors import ConfigError
from .features import kinds as derived_kinds
from .models import candidates

Task = Literal["binary_classification", "multiclass_classification", "regression"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FairnessGap(Strict):
    """The largest gap allowed between groups of a sensitive attribute (evaluation/fairness.py)."""

    metric: str
    max: float = Field(ge=0)
    # An attribute with fewer than two groups large enough to compare cannot be judged:
    # "fail" (the default) fails the criterion then, "pass" lets it through, reported.
    when_not_judged: Literal["fail", "pass"] = "fail"


class SuccessCriteria(Strict):
    min_uplift_per_1000: float
    min_value_per_1000: float | None = None
    metric_floors: dict[str, float] = Field(default_factory=dict)
    max_fairness_gap: FairnessGap | None = None


class Constraints(Strict):
    p99_latency_ms: float = Field(gt=0)
    min_rows: int = Field(ge=1)
    explainable: bool = False


class BaselineRule(Strict):
    """A rule the business could run without a model, e.g. "flag when tickets >= 3".

    Classification: `when` is a pandas expression over the raw columns; rows where
    it holds get `then`, the others `otherwise`. Regression: `predict` is a pandas
    expression giving the number to predict.
    """

    when: str | None = None
    then: str | int | None = None
    otherwise: str | int | None = None
    predict: str | None = None


class _Problem(Strict):
    """Step 1: the decision being automated and what counts as success (every task)."""

    # ML metrics the spec may put a floor on (higher is better for all).
    floor_metrics: ClassVar[tuple[str, ...]] = ()
    # Per-group figures a fairness gap may be judged on (evaluation/fairness.py).
    fairness_metrics: ClassVar[tuple[str, ...]] = ()
    is_classification: ClassVar[bool] = True
    # The fields of the other tasks, refused by name rather than as "extra inputs".
    foreign_fields: ClassVar[tuple[str, ...]] = ()

    name: str = Field(min_length=1)
    decision: str = Field(min_length=20)
    target: str = Field(min_length=1)
    baseline_rule: BaselineRule | None = None
    success_criteria: SuccessCriteria
    constraints: Constraints
    # Columns of the prepared data (model inputs or not) that evaluate reports fairness by.
    sensitive_attributes: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_fields_of_another_task(cls, raw: Any) -> Any:
        """Another task's field is refused by name; left null it is dropped, as packages
        written before the spec split record every field, null where unused."""
        if isinstance(raw, dict):
            given = [field for field in cls.foreign_fields if raw.get(field) is not None]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: not a field of a {raw.get('task')} problem; "
                    "remove it from conf/problem/"
                )
            return {key: value for key, value in raw.items() if key not in cls.foreign_fields}
        return raw

    @property
    def labels(self) -> list[str]:
        """Class labels as strings, the keys of value_matrix (none for regression)."""
        return []

    @model_validator(mode="after")
    def _floors_and_rule_match_task(self) -> _Problem:
        if self.baseline_rule is not None:
            self._check_rule(self.baseline_rule)
        unknown = set(self.success_criteria.metric_floors) - set(self.floor_metrics)
        if unknown:
            task = getattr(self, "task", "")
            raise ValueError(
                f"success_criteria.metric_floors: {sorted(unknown)} are not metrics of a "
                f"{task} task; choose from {list(self.floor_metrics)}"
            )
        gap = self.success_criteria.max_fairness_gap
        if gap is not None and gap.metric not in self.fairness_metrics:
            raise ValueError(
                f"success_criteria.max_fairness_gap.metric: {gap.metric!r} is not a fairness "
                f"figure of a {getattr(self, 'task', '')} task; choose from "
                f"{list(self.fairness_metrics)}"
            )
        if gap is not None and not self.sensitive_attributes:
            raise ValueError(
                "success_criteria.max_fairness_gap needs sensitive_attributes to judge by"
            )
        return self

    def _check_rule(self, rule: BaselineRule) -> None:
        raise NotImplementedError

    def value_statement(self) -> list[str]:
        """What a decision is worth, in Markdown for reports/problem.md."""
        raise NotImplementedError


class ClassificationProblem(_Problem):
    """A decision among classes, valued per (actual, decided) pair."""

    foreign_fields: ClassVar[tuple[str, ...]] = ("under_cost_per_unit", "over_cost_per_unit")
    fairness_metrics: ClassVar[tuple[str, ...]] = (
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
    )
    min_classes: ClassVar[int] = 2

    classes: list[str | int] | None = None
    value_matrix: dict[str, dict[str, float]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _labels_are_not_yaml_booleans(cls, raw: Any) -> Any:
        """Unquoted Yes/No/True/False/On/Off are booleans in YAML, not the data's labels."""
        if isinstance(raw, dict) and _holds_a_boolean_label(raw):
            name = raw.get("name", "<name>")
            raise ValueError(
                "a class label is a YAML boolean (unquoted yes/no/true/false/on/off): quote "
                f"every label exactly as the data spells it in conf/problem/{name}.yaml, "
                "e.g. classes: ['No', 'Yes'] and value_matrix keys 'No': {'No': 0, 'Yes': -5}"
            )
        return raw

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.classes or []]

    @property
    def values(self) -> dict[str, dict[str, float]]:
        """The value matrix, checked present by validation."""
        assert self.value_matrix is not None
        return self.value_matrix

    @model_validator(mode="after")
    def _business_terms_match_task(self) -> ClassificationProblem:
        labels, task = self.labels, getattr(self, "task", "")
        if len(labels) < self.min_classes or len(set(labels)) != len(labels):
            raise ValueError(f"classes: a {task} task needs {self.min_classes}+ distinct classes")
        self._check_class_count(labels)
        if self.value_matrix is None:
            raise ValueError(
                "value_matrix: a classification problem needs the value of each outcome"
            )
        for actual in labels:
            row = self.value_matrix.get(actual)
            if row is None or set(row) != set(labels):
                raise ValueError(
                    f"value_matrix[{actual!r}] must give a value for deciding each of {labels}"
                )
        if set(self.value_matrix) != set(labels):
            raise ValueError(f"value_matrix rows must be exactly the classes {labels}")
        return self

    def value_statement(self) -> list[str]:
        labels, values = self.labels, self.values
        return [
            "| actual \\ decided | " + " | ".join(labels) + " |",
            "|---|" + "---|" * len(labels),
            *(f"| {a} | " + " | ".join(f"{values[a][d]:g}" for d in labels) + " |" for a in labels),
        ]

    def _check_class_count(self, labels: list[str]) -> None:
        """Extra rules on the number of classes (binary: exactly two)."""

    def _check_rule(self, rule: BaselineRule) -> None:
        if not rule.when or rule.predict is not None:
            raise ValueError(
                "baseline_rule: a classification rule gives `when`, `then`, `otherwise`"
            )
        decided = {str(rule.then), str(rule.otherwise)}
        if not decided <= set(self.labels):
            raise ValueError(
                f"baseline_rule: then/otherwise must be among the classes {self.labels}"
            )


class BinaryProblem(ClassificationProblem):
    floor_metrics: ClassVar[tuple[str, ...]] = ("roc_auc", "average_precision", "accuracy", "f1")

    task: Literal["binary_classification"]

    def _check_class_count(self, labels: list[str]) -> None:
        if len(labels) != 2:
            raise ValueError("classes: a binary task has exactly two classes")


class MulticlassProblem(ClassificationProblem):
    floor_metrics: ClassVar[tuple[str, ...]] = ("roc_auc_ovr", "accuracy", "f1_macro")
    min_classes: ClassVar[int] = 3

    task: Literal["multiclass_classification"]


class RegressionProblem(_Problem):
    """A number to predict, where predicting too low and too high cost different amounts."""

    floor_metrics: ClassVar[tuple[str, ...]] = ("r2",)
    fairness_metrics: ClassVar[tuple[str, ...]] = ("mean_absolute_error", "bias")
    is_classification: ClassVar[bool] = False
    foreign_fields: ClassVar[tuple[str, ...]] = ("classes", "value_matrix")

    task: Literal["regression"]
    under_cost_per_unit: float | None = Field(default=None, ge=0)
    over_cost_per_unit: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _costs_are_given(self) -> RegressionProblem:
        if self.under_cost_per_unit is None or self.over_cost_per_unit is None:
            raise ValueError(
                "under_cost_per_unit and over_cost_per_unit are required for regression"
            )
        return self

    @property
    def costs(self) -> tuple[float, float]:
        """(under, over) cost per unit of error, checked present by validation."""
        assert self.under_cost_per_unit is not None and self.over_cost_per_unit is not None
        return self.under_cost_per_unit, self.over_cost_per_unit

    def value_statement(self) -> list[str]:
        under, over = self.costs
        return [f"Each unit predicted too low costs {under:g}; each unit too high costs {over:g}."]

    def _check_rule(self, rule: BaselineRule) -> None:
        if not rule.predict or rule.when is not None:
            raise ValueError("baseline_rule: a regression rule gives `predict` (and no `when`)")


# The problem spec, one model per task: a regression spec carries no classes.
ProblemSpec = Annotated[
    BinaryProblem | MulticlassProblem | RegressionProblem, Field(discriminator="task")
]
TASKS: tuple[str, ...] = ("binary_classification", "multiclass_classification", "regression")
_PROBLEM: TypeAdapter[ProblemSpec] = TypeAdapter(ProblemSpec)


def parse_problem(raw: Any) -> ProblemSpec:
    """A problem spec from its dict (conf/problem/, or a package's metadata)."""
    return _PROBLEM.validate_python(raw)


def _holds_a_boolean_label(raw: dict[str, Any]) -> bool:
    labels: list[Any] = list(raw.get("classes") or [])
    for row_label, row in (raw.get("value_matrix") or {}).items():
        labels += [row_label, *(row or {})]
    rule = raw.get("baseline_rule") or {}
    labels += [rule.get("then"), rule.get("otherwise")]
    return any(isinstance(label, bool) for label in labels)


class DemoConfig(Strict):
    n_rows: int = Field(ge=500)
    n_production_rows: int = Field(ge=0)
    seed: int


class SplitConfig(Strict):
    valid_fraction: float = Field(gt=0, lt=0.5)
    test_fraction: float = Field(gt=0, lt=0.5)
    seed: int


class DataChecks(Strict):
    """Step 2: tolerances of the checks GX has no expectation for (validation/leakage.py)."""

    # A feature whose cross-validated score alone (AUC, accuracy or R²) reaches this leaks.
    max_single_feature_score: float = Field(gt=0, le=1)
    max_label_share_shift: float = Field(gt=0, le=1)
    max_null_rate_shift: float = Field(gt=0, le=1)
    # The newest row must be at most this old (None: a fixed historical snapshot).
    max_age_days: int | None = Field(default=None, gt=0)
    # Columns holding when something a feature describes happened (a last login, a
    # last order): none may be after the row's time_column, or the feature saw the future.
    event_time_columns: list[str] = Field(default_factory=list)
    # Rates are also compared per value of each categorical feature (per slice),
    # where the slice has at least this many rows in both splits.
    min_slice_rows: int = Field(default=200, ge=1)
    # Training-serving skew: a production feature whose distance from training
    # (Wasserstein over the training std; Jensen-Shannon for categories) exceeds this.
    # Far above the monitor's drift thresholds: this catches broken inputs (a unit
    # change, a swapped column), not a population that moved.
    max_skew: float = Field(default=1.0, gt=0)


TIME_FORMATS_BY_NAME = ("iso8601", "epoch_s", "epoch_ms")


class DataConfig(Strict):
    """Step 2: where the data comes from and what its columns are."""

    source: Literal["demo", "file"]
    path: str | None = None
    production_path: str | None = None
    # The generator's settings; only read when source is demo.
    demo: DemoConfig | None = None
    id_column: str | None = None
    time_column: str | None = None
    # How time_column and checks.event_time_columns are written in the source:
    # iso8601 (ISO text, or dates already typed, as in Parquet), a strptime format
    # such as "%d/%m/%Y", or epoch_s / epoch_ms (numbers). Parsed once, at ingest.
    time_format: str = "iso8601"
    # The zone naive timestamps are in (they are localised to it; aware ones are
    # converted to it). None keeps naive timestamps naive.
    time_zone: str | None = None
    numeric: list[str]
    categorical: list[str]
    split: SplitConfig
    checks: DataChecks

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @model_validator(mode="after")
    def _columns_are_consistent(self) -> DataConfig:
        if self.source == "file" and not self.path:
            raise ValueError("path: required when source is 'file'")
        if self.source == "demo" and self.demo is None:
            raise ValueError("demo: the generator's settings are required when source is 'demo'")
        if self.time_format not in TIME_FORMATS_BY_NAME and "%" not in self.time_format:
            raise ValueError(
                f"time_format {self.time_format!r}: use iso8601, epoch_s, epoch_ms or a "
                "strptime format such as '%Y-%m-%d %H:%M'"
            )
        if self.time_zone is not None:
            _check_time_zone(self.time_zone)
        if not self.features:
            raise ValueError("numeric/categorical: name at least one feature column")
        overlap = set(self.numeric) & set(self.categorical)
        if overlap:
            raise ValueError(f"columns {sorted(overlap)} are listed as numeric and categorical")
        keys = {c for c in (self.id_column, self.time_column) if c}
        if keys & set(self.features):
            raise ValueError(f"id/time columns {sorted(keys & set(self.features))} are features")
        if self.checks.event_time_columns and not self.time_column:
            raise ValueError("checks.event_time_columns: needs a time_column to compare with")
        return self


def _check_time_zone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"time_zone {name!r} is not an IANA time zone such as 'UTC' or 'Europe/Berlin'"
        ) from None


class DerivedFeature(BaseModel):
    """One `derived` entry of conf/features: a name, a kind (`kind:` one of the library's,
    features/derived.py, or `_target_:` the dotted path of the team's own), and that kind's
    arguments (its input columns)."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    kind: str | None = None
    target: str | None = Field(default=None, alias="_target_")

    @property
    def arguments(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @model_serializer(mode="wrap")
    def _as_conf_writes_it(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`kind:` or `_target_:`, whichever it has, as conf/features spells them."""
        dumped: dict[str, Any] = handler(self)
        for key in ("kind", "target", "_target_"):
            dumped.pop(key, None)
        chosen = {"kind": self.kind} if self.target is None else {"_target_": self.target}
        return {"name": dumped.pop("name"), **chosen, **dumped}

    @property
    def declared(self) -> derived_kinds.Kind:
        if self.target is not None:
            return derived_kinds.declared_by(self.target)
        return derived_kinds.KINDS[str(self.kind)]

    @property
    def inputs(self) -> list[str]:
        """The raw columns it reads (for the team's own kind, this imports it)."""
        return [self.arguments[key] for key in self.declared.columns]

    def inputs_among(self, columns: list[str]) -> list[str]:
        """The raw columns it reads, found without importing the team's code (the stages
        before featurize never do): a library kind's declared ones; for the team's own,
        each text argument that names one of `columns`, conf/data's features and
        timestamps, the only columns a kind may read."""
        if self.target is None:
            return self.inputs
        return [v for v in self.arguments.values() if isinstance(v, str) and v in columns]

    @model_validator(mode="after")
    def _a_known_kind_with_its_columns(self) -> DerivedFeature:
        where = f"derived feature {self.name!r}"
        kinds = derived_kinds.KINDS
        if (self.kind is None) == (self.target is None):
            raise ValueError(
                f"{where}: give either `kind:` (one of {sorted(kinds)}) or `_target_:` "
                "(your own kind, e.g. my_project.features.MyKind), not both or neither"
            )
        if self.target is not None:  # checked where it is imported: check_own_kind
            if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", self.target):
                raise ValueError(
                    f"{where}: _target_ {self.target!r} is not a dotted path such as "
                    "my_project.features.MyKind"
                )
            return self
        if self.kind not in kinds:
            raise ValueError(
                f"{where}: unknown kind {self.kind!r}; choose from {sorted(kinds)} "
                "(KINDS in mllifecycle/features/kinds.py), or name your own with `_target_:`"
            )
        return self.check_arguments(kinds[self.kind])

    def check_arguments(self, declared: derived_kinds.Kind) -> DerivedFeature:
        """Its arguments are the declared kind's: each input column, no unknown key."""
        where = f"derived feature {self.name!r}"
        label = self.kind or self.target
        accepted = {*declared.columns, *declared.options}
        unknown = sorted(set(self.arguments) - accepted)
        if unknown:
            raise ValueError(f"{where}: kind {label} takes {sorted(accepted)}, not {unknown}")
        missing = [k for k in declared.columns if not isinstance(self.arguments.get(k), str)]
        if missing:
            raise ValueError(f"{where}: kind {label} needs the input column(s) {missing}")
        return self


class FeatureSelection(Strict):
    """Which features the model keeps, decided on train and valid only (features/selection.py)."""

    # Of each numeric pair with |correlation| at or above this, drop the one with less mutual
    # information with the target (null: keep every pair).
    max_correlation: float | None = Field(default=None, gt=0, le=1)
    # Then keep only the k features most important on the valid split (null: all).
    top_k: int | None = Field(default=None, ge=1)


class ExploreConfig(Strict):
    """The exploratory report on the train split (features/explore.py)."""

    correlation_threshold: float = Field(default=0.8, gt=0, le=1)
    cramers_v_threshold: float = Field(default=0.5, gt=0, le=1)
    skew_threshold: float = Field(default=1.0, gt=0)
    # A feature whose mutual information explains this share of the target is a suspect leak.
    leak_share: float = Field(default=0.8, gt=0, le=1)
    sample_rows: int = Field(default=5000, ge=100)
    seed: int = 0


class FeaturesConfig(Strict):
    """Step 3: the preprocessing pipeline."""

    numeric_imputer: Literal["median", "mean"]
    add_missing_indicators: bool
    scale_numeric: bool
    categorical_imputer_value: str
    min_category_frequency: int = Field(ge=1)
    # Categories keep the source's spelling ("Yes" stays "Yes"). A normalisation set
    # here becomes the first step of the packaged pipeline, so training, batch
    # scoring and the service apply exactly the same one: strip (surrounding spaces)
    # or lower (strip, then lowercase).
    normalise_categories: Literal["none", "strip", "lower"] = "none"
    # Derived features (features/derived.py), the packaged pipeline's first step.
    derived: list[DerivedFeature] = Field(default_factory=list)
    # Skewed numeric features (inputs or derived) -> log1p or yeo-johnson, fitted on train
    # (features/transforms.py), applied before imputing and scaling.
    transforms: dict[str, Literal["log1p", "yeo-johnson"]] = Field(default_factory=dict)
    selection: FeatureSelection = Field(default_factory=lambda: FeatureSelection())
    explore: ExploreConfig = Field(default_factory=lambda: ExploreConfig())

    @property
    def derived_inputs(self) -> list[str]:
        """The raw columns the derived features read, each once."""
        return list(dict.fromkeys(c for entry in self.derived for c in entry.inputs))


class ModelConfig(BaseModel):
    """Step 4: a candidate from conf/model/; every other key is a hyperparameter, checked
    against the candidate's own schema in models/candidates.py. `_target_` names a
    candidate of the team's own code (`my_project.candidates.EXTRA_TREES`)."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    name: str
    target: str | None = Field(default=None, alias="_target_")

    @model_validator(mode="after")
    def _a_registered_candidate_with_its_hyperparameters(self) -> ModelConfig:
        if self.target is not None:
            candidates.imported(self.target, self.name)
        candidates.get(self.name).check(self.hyperparameters)
        return self

    @model_serializer(mode="wrap")
    def _as_conf_writes_it(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        for key in ("target", "_target_"):
            dumped.pop(key, None)
        own = {} if self.target is None else {"_target_": self.target}
        return {"name": dumped.pop("name"), **own, **dumped}

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @property
    def interpretable(self) -> bool:
        return candidates.get(self.name).interpretable

    def with_hyperparameters(self, **changes: Any) -> ModelConfig:
        own = {} if self.target is None else {"_target_": self.target}
        return ModelConfig.model_validate(
            {"name": self.name, **own, **self.hyperparameters, **changes}
        )


class SearchDimension(Strict):
    """One hyperparameter's range for Optuna: ints and floats, optionally on a log scale."""

    type: Literal["int", "float"]
    low: float
    high: float
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> SearchDimension:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class SelectionConfig(Strict):
    """Step 4: how candidates are judged before the test split (0 folds: no cross-validation)."""

    cv_folds: int = Field(ge=0, le=20)

    @model_validator(mode="after")
    def _enough_folds(self) -> SelectionConfig:
        if self.cv_folds == 1:
            raise ValueError("cv_folds must be 0 (off) or at least 2")
        return self


class SearchConfig(Strict):
    """Step 4, optional: an Optuna search inside the train stage (conf/hparams_search/)."""

    n_trials: int = Field(ge=1)
    timeout_s: float | None = Field(default=None, gt=0)
    seed: int
    space: dict[str, SearchDimension] = Field(min_length=1)


class VerdictOverride(Strict):
    """Who accepted a failed verdict for promotion, and why; recorded in the artifact."""

    approved_by: str | None = None
    reason: str | None = None

    @property
    def given(self) -> bool:
        return bool(self.approved_by and self.reason)


class RobustnessConfig(Strict):
    """Perturbations of the test inputs that evaluate scores (evaluation/robustness.py)."""

    # Gaussian noise with this standard deviation, as a fraction of each numeric
    # feature's interquartile range on the train split (its std when the IQR is 0).
    noise_fraction: float = Field(default=0.1, ge=0)
    missing_share: float = Field(default=0.1, ge=0, le=1)
    unseen_share: float = Field(default=0.1, ge=0, le=1)
    # At most this many test rows are perturbed and scored, so evaluate stays quick.
    sample_rows: int = Field(default=20000, ge=10)
    seed: int = 0
    # None: no criterion; else the verdict fails when the worst drop exceeds it.
    max_value_drop_per_1000: float | None = Field(default=None, ge=0)


class EvaluateConfig(Strict):
    # None: derived from conf/data (see columns_to_slice).
    slice_columns: list[str] | None = None
    slice_bins: int = Field(ge=2)
    min_slice_rows: int = Field(ge=1)
    slice_floor_uplift_per_1000: float
    # A slice fails only when this one-sided bound on its uplift is below the floor.
    slice_confidence: float = Field(default=0.95, gt=0.5, lt=1)
    # "prod": compare with the version models/champion.json names; None: no comparison.
    champion: Literal["prod"] | None = None
    accept_failed_verdict: VerdictOverride
    # Groups of a sensitive attribute with fewer test rows are reported, not judged.
    fairness_min_group_rows: int = Field(default=100, ge=1)
    robustness: RobustnessConfig = RobustnessConfig()

    def columns_to_slice(self, data: DataConfig) -> list[str]:
        """The slice columns as set, else every categorical feature, else the first numeric."""
        if self.slice_columns is not None:
            return list(self.slice_columns)
        return list(data.categorical) or data.numeric[:1]


class MonitorConfig(Strict):
    current: str = Field(min_length=1)
    large_sample_rows: int = Field(ge=1)
    p_value_threshold: float = Field(gt=0, lt=1)
    wasserstein_threshold: float = Field(gt=0)
    jensenshannon_threshold: float = Field(gt=0, le=1)
    drift_share: float = Field(gt=0, le=1)
    max_value_drop: float = Field(ge=0)
    window: str = Field(min_length=1)
    windows: int = Field(ge=1)
    min_drifted_windows: int = Field(ge=1)
    min_window_rows: int = Field(ge=1)

    @model_validator(mode="after")
    def _window_rule_is_consistent(self) -> MonitorConfig:
        import pandas as pd  # config parsing stays light for everything else

        try:
            length = pd.Timedelta(self.window)
        except ValueError:
            raise ValueError(
                f"monitor.window {self.window!r} is not a fixed length such as '7D' or '12h'"
            ) from None
        if length <= pd.Timedelta(0):
            raise ValueError(f"monitor.window {self.window!r} must be positive")
        if self.min_drifted_windows > self.windows:
            raise ValueError(
                f"monitor.min_drifted_windows ({self.min_drifted_windows}) exceeds "
                f"monitor.windows ({self.windows})"
            )
        return self


_BYTE_UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
# Below this, a shuffle (de-duplication) gets workers killed by their nanny (dask-plan F7).
MIN_WORKER_MEMORY = 2**30


def byte_count(text: str) -> int:
    """'2GiB', '1500MB', '1073741824' as bytes; the spelling dask accepts, parsed without dask."""
    import re

    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in _BYTE_UNITS:
        raise ValueError(f"{text!r} is not a size such as '2GiB' or '1500MB'")
    return int(float(match.group(1)) * _BYTE_UNITS[unit])


class RegistryConfig(Strict):
    """Where the model registry keeps versions and stages (conf/registry): git tags (GTO,
    serverless) or an MLflow 3 registry, whose server MLFLOW_TRACKING_URI names."""

    backend: Literal["gto", "mlflow"] = "gto"
    # MLflow: the experiment runs are logged to (null: the model artifact's name).
    experiment: str | None = None
    # MLflow: the alias each stage moves; a stage not listed moves an alias of its name.
    aliases: dict[str, str] = Field(
        default_factory=lambda: {"prod": "champion", "staging": "challenger"}
    )

    def alias(self, stage: str) -> str:
        return self.aliases.get(stage, stage)


class EngineConfig(Strict):
    """Where stages run: pandas in one process, or a Dask cluster (conf/engine/)."""

    name: Literal["pandas", "dask"] = "pandas"
    # The LocalCluster a stage starts when DASK_SCHEDULER_ADDRESS is not set.
    workers: int = Field(default=2, ge=1)
    threads_per_worker: int = Field(default=1, ge=1)
    memory_limit: str = "2GiB"
    connect_timeout: str = "10s"
    partition_rows: int = Field(default=1_000_000, ge=1)
    # Rows of train and valid the exploratory report and the feature selection read:
    # a seeded sample, collected to the stage (the fitted preprocessing sees every row).
    sample_rows: int = Field(default=200_000, ge=1_000)

    @model_validator(mode="after")
    def _memory_is_enough(self) -> EngineConfig:
        if byte_count(self.memory_limit) < MIN_WORKER_MEMORY:
            raise ValueError(
                f"engine.memory_limit {self.memory_limit!r} is under 1GiB per worker: "
                "a shuffle (de-duplication) needs about that much"
            )
        return self


class Params(Strict):
    problem: ProblemSpec
    data: DataConfig
    features: FeaturesConfig
    model: ModelConfig
    evaluate: EvaluateConfig
    monitor: MonitorConfig
    selection: SelectionConfig
    search: SearchConfig | None = None
    engine: EngineConfig = EngineConfig()
    registry: RegistryConfig = RegistryConfig()

    @model_validator(mode="after")
    def _target_is_not_a_feature(self) -> Params:
        if self.search is not None:
            candidate = candidates.get(self.model.name)
            unknown = [key for key in self.search.space if key not in candidate.known]
            if unknown:
                raise ValueError(
                    f"search.space: {unknown} are not hyperparameters of candidate "
                    f"{candidate.name!r} (its hyperparameters: {', '.join(candidate.known)})"
                )
        if self.problem.target in self.data.features:
            raise ValueError(f"target {self.problem.target!r} is also listed as a feature")
        unknown = [c for c in self.slice_columns if c not in self.data.features]
        if unknown:
            raise ValueError(
                f"evaluate.slice_columns {unknown} are not feature columns of conf/data "
                f"(features: {self.data.features}); name features, or null to derive them"
            )
        _check_derived(self)
        _check_transforms(self)
        return self

    @property
    def derived_inputs(self) -> list[str]:
        """The raw columns the derived features read, each once, without importing the
        team's code (prepare and the monitor's summaries keep them beside the inputs)."""
        data = self.data
        columns = [
            *data.features,
            *(c for c in (data.time_column, *data.checks.event_time_columns) if c),
        ]
        found = (c for entry in self.features.derived for c in entry.inputs_among(columns))
        return list(dict.fromkeys(found))

    @property
    def slice_columns(self) -> list[str]:
        """The columns evaluate slices by, resolved against the data config."""
        return self.evaluate.columns_to_slice(self.data)


def _check_derived(params: Params) -> None:
    """Derived features read columns of conf/data and make new ones."""
    data = params.data
    timestamps = [c for c in (data.time_column, *data.checks.event_time_columns) if c]
    readable = {"numeric": data.numeric, "feature": data.features, "timestamp": timestamps}
    taken = {*data.features, *timestamps, data.id_column, params.problem.target}
    for entry in params.features.derived:
        if entry.name in taken:
            raise ValueError(
                f"features.derived {entry.name!r}: the name is already a column; choose another"
            )
        taken.add(entry.name)
        if entry.target is not None:  # the team's own kind: check_own_kind, when imported
            continue
        reads = entry.declared.reads
        for column in entry.inputs:
            if column not in readable[reads]:
                raise ValueError(
                    f"features.derived {entry.name!r}: input column {column!r} is not a "
                    f"{reads} column of conf/data (choose from {readable[reads]})"
                )


def check_own_kind(entry: DerivedFeature, features: FeaturesConfig, data: DataConfig) -> None:
    """The checks of a library kind, for an entry naming the team's own kind (`_target_`),
    once featurize and the stages after it import it: ConfigError naming what is wrong."""
    where = f"features.derived {entry.name!r}"
    try:
        declared = derived_kinds.declared_by(str(entry.target))
        entry.check_arguments(declared)
    except ValueError as err:
        message = str(err).removeprefix(f"derived feature {entry.name!r}: ")
        raise ConfigError(f"{where}: {message}") from None
    timestamps = [c for c in (data.time_column, *data.checks.event_time_columns) if c]
    readable = {"numeric": data.numeric, "feature": data.features, "timestamp": timestamps}
    for key in declared.columns:
        column = entry.arguments[key]
        if column not in readable[declared.reads]:
            raise ConfigError(
                f"{where}: input column {column!r} is not a {declared.reads} column of "
                f"conf/data (choose from {readable[declared.reads]})"
            )
    if entry.name in features.transforms and declared.output != "numeric":
        raise ConfigError(f"features.transforms: {entry.name!r} is not a numeric feature")


def _check_transforms(params: Params) -> None:
    """Transforms name numeric features: inputs of conf/data or numeric derived ones."""
    # The team's own kinds declare their output in code: check_own_kind checks them.
    derived = [
        e.name for e in params.features.derived if e.target or e.declared.output == "numeric"
    ]
    numeric = [*params.data.numeric, *derived]
    unknown = [name for name in params.features.transforms if name not in numeric]
    if unknown:
        raise ValueError(
            f"features.transforms {unknown} are not numeric features (choose from {numeric})"
        )


def parse_params(raw: dict[str, Any], source: str = str(paths.PARAMS)) -> Params:
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"{source} (composed from conf/): {problems}") from err


def _where(loc: tuple[int | str, ...]) -> str:
    """A dotted key, without the task tag pydantic adds inside the problem spec."""
    return ".".join(str(part) for part in loc if part not in TASKS) or "<root>"


def load_params(path: Path = paths.PARAMS) -> Params:
    if not path.exists():
        raise ConfigError(f"{path} is missing: run `make params` to compose it from conf/")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return parse_params(raw, str(path))
