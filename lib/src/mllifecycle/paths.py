"""Where each stage reads and writes. dvc.yaml declares the same paths.

Every path here is relative to the project root, the folder holding dvc.yaml, and is
the string dvc.yaml declares. DVC starts each stage in that root. The command line
(cli.py) finds it with `find_root`: `--root DIR` when given, else the nearest folder
upward from the current one that holds dvc.yaml, else $MLLIFECYCLE_ROOT
(so a shell outside the project can name it), else the current folder; it then
enters the root before it runs anything, so these paths, DVC, GTO and git (which all
work on the current folder) agree on one root whatever folder the command ran from.
"""

import os
import sys
from pathlib import Path

PROJECT_FILE = "dvc.yaml"
ROOT_ENV = "MLLIFECYCLE_ROOT"

PARAMS = Path("params.yaml")
CONF_DIR = Path("conf")
SUITES_DIR = Path("gx/expectations")

RAW_DATASET = Path("data/raw/dataset.parquet")
RAW_PRODUCTION = Path("data/raw/production.parquet")
PREPARED_DIR = Path("data/prepared")
FEATURES_DIR = Path("data/features")

MODELS_DIR = Path("models")
# skops, like the package: loading one cannot run code (models/artifact.py).
PREPROCESSOR = MODELS_DIR / "preprocessor.skops"
MODEL = MODELS_DIR / "model.skops"
BASELINE = MODELS_DIR / "baseline.skops"
DECISIONS = MODELS_DIR / "decisions.json"
PACKAGE_DIR = MODELS_DIR / "package"
# Git-tracked, written by promote/rollback: the version in prod that evaluate and monitor use.
CHAMPION = MODELS_DIR / "champion.json"
CHAMPIONS_DIR = Path("build/champions")

REPORTS_DIR = Path("reports")
PROBLEM_REPORT = REPORTS_DIR / "problem.md"
VALIDATION_DIR = REPORTS_DIR / "validation"
# The production batch's checks, written pass or fail: the monitor names what failed.
PRODUCTION_CHECK = VALIDATION_DIR / "production.json"
DATA_DOCS_DIR = REPORTS_DIR / "data_docs"
SPLIT_REPORT = REPORTS_DIR / "split.json"
# Written by featurize from the train split (selection: train and valid).
EDA_REPORT = REPORTS_DIR / "eda.html"
EDA_METRICS = REPORTS_DIR / "eda.json"
SELECTION = REPORTS_DIR / "selection.json"
MODEL_CARD = REPORTS_DIR / "model_card.md"
MODEL_CARD_HTML = REPORTS_DIR / "model_card.html"
VERDICT = REPORTS_DIR / "verdict.json"
# conf/registry backend mlflow: the MLflow run and LoggedModel this pipeline run logged.
TRACKING = REPORTS_DIR / "tracking.json"
FEATURE_IMPORTANCE = REPORTS_DIR / "feature_importance.csv"
MONITOR_REPORT = REPORTS_DIR / "monitor.html"
MONITOR_SUMMARY = REPORTS_DIR / "monitor.json"

METRICS_DIR = Path("metrics")
PLOTS_DIR = Path("plots")

SPLITS = ("train", "valid", "test")


def prepared(split: str) -> Path:
    return PREPARED_DIR / f"{split}.parquet"


def features(split: str) -> Path:
    return FEATURES_DIR / f"{split}.parquet"


def find_root(given: Path | None = None, start: Path | None = None) -> Path:
    """The project root: `given`, else the nearest folder from `start` (the current one)
    upward holding dvc.yaml, else $ROOT_ENV, else `start` itself."""
    if given is not None:
        return given.resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    from_env = os.environ.get(ROOT_ENV)
    return Path(from_env).resolve() if from_env else here


# The stage a process runs (`mllifecycle stage NAME` sets it).
STAGE_ENV = "MLLIFECYCLE_STAGE"

# The team's own code (src/<module>/ of the project), wired in from conf/ by dotted path.
PROJECT_CODE = Path("src")


def put_project_code_first(root: Path | None = None) -> None:
    """Import the team's code from this root's src/, ahead of any installed copy.

    An editable install points at the main workspace; a queued DVC experiment runs in a
    copy of the repo, and must run the code of that copy.
    """
    code = str(((root or Path.cwd()) / PROJECT_CODE).resolve())
    if code in sys.path:
        sys.path.remove(code)
    sys.path.insert(0, code)
