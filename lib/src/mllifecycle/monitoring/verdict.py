"""The monitor's retrain verdict as an exit status, for schedulers and CI.

`mllifecycle retrain-needed` prints the verdict of the last
monitor run (reports/monitor.json) and exits 0 when it asks for a retrain, 1 when it
does not, and 2 when there is no verdict to read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .. import paths
from ..contracts import MonitorSummary
from ..errors import ContractError

RETRAIN, NO_RETRAIN, NO_VERDICT = 0, 1, 2


def retrain_status(summary_path: Path = paths.MONITOR_SUMMARY) -> int:
    if not summary_path.exists():
        print(f"no monitor verdict at {summary_path}: run `make monitor` first", file=sys.stderr)
        return NO_VERDICT
    try:
        verdict = MonitorSummary.read(summary_path).verdict
    except ContractError as err:
        print(err, file=sys.stderr)
        return NO_VERDICT
    print("retrain" if verdict.retrain else "no retrain")
    for reason in verdict.reasons:
        print(f"  {reason}")
    return RETRAIN if verdict.retrain else NO_RETRAIN


if __name__ == "__main__":
    sys.exit(retrain_status())
