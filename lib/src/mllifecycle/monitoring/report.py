"""A self-contained HTML drift report: inline CSS and SVG, opens offline."""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from ..contracts import DriftRecord, MonitorSummary, ProductionChecks, WindowRecord
from ..reporting import svg

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2430;max-width:1100px}
table{border-collapse:collapse;width:100%}td,th{padding:.4rem .6rem;border-bottom:1px solid #dde}
th{text-align:left;background:#f4f6fa}.drift{color:#b3261e;font-weight:600}.ok{color:#1b6e3a}
.verdict{padding:1rem;border-radius:6px;margin:1rem 0}.retrain{background:#fde8e6}.keep{background:#e6f4ea}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
"""
REFERENCE_COLOUR, CURRENT_COLOUR = svg.GREY, svg.ORANGE


def render(
    summary: MonitorSummary,
    drifts: list[DriftRecord],
    reference: pd.DataFrame,
    current: pd.DataFrame,
) -> str:
    verdict, prediction = summary.verdict, summary.prediction_drift
    assert prediction is not None and summary.drift_share is not None  # a batch was compared
    assert summary.drift_share_threshold is not None
    reasons = (
        "".join(f"<li>{escape(r)}</li>" for r in verdict.reasons) or "<li>no trigger fired</li>"
    )
    rows = "".join(_row(d, reference[d.column], current[d.column]) for d in drifts)
    performance = summary.performance
    perf_html = (
        "<p>Labelled batch: value per 1,000 decisions "
        f"<b>{performance.current_value_per_1000:.1f}</b> vs "
        f"{performance.evaluation_value_per_1000:.1f} at evaluation "
        f"(drop {performance.value_drop:.1%}).</p>"
        if performance
        else "<p>No labels on the current batch: performance not measured.</p>"
    )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Monitoring report: model {escape(summary.model_version)}</title><style>{STYLE}</style></head>
<body><h1>Monitoring report</h1>
<p>Model <code>{escape(summary.model_version)}</code>. Reference: {summary.reference_rows} training rows;
current batch: {summary.current_rows} rows.</p>
<div class="verdict {"retrain" if verdict.retrain else "keep"}">
<b>{"Retrain recommended" if verdict.retrain else "No retraining needed"}</b><ul>{reasons}</ul></div>
{_production_checks(summary.production_checks)}
<p>Dataset drift: {summary.drifted_features} of {summary.n_features} features drifted
(share {summary.drift_share:.0%}, threshold {summary.drift_share_threshold:.0%}).
Prediction drift: {escape(prediction.test)} =
{prediction.statistic:.4f} ({"drifted" if prediction.drifted else "stable"}).</p>
{perf_html}
{_over_time(summary.windows, summary.drift_share_threshold)}
<h2>Features</h2>
<p class="legend"><span style="background:{REFERENCE_COLOUR}"></span>reference
<span style="background:{CURRENT_COLOUR}"></span>current</p>
<table><tr><th>feature</th><th>distribution</th><th>test</th><th>statistic</th><th>threshold</th>
<th>PSI</th><th>nulls ref / cur</th><th>status</th></tr>{rows}</table></body></html>
"""


def _production_checks(checks: ProductionChecks | None) -> str:
    """The batch's production checks (validate_production): failed ones are named first."""
    if checks is None:
        return "<p>Production checks (validate_production): not run yet.</p>"
    batch = f"<code>{escape(checks.batch)}</code>"
    if checks.passed:
        return f"<p>Production checks on {batch}: <span class=ok>passed</span>.</p>"
    items = "".join(f"<li>{escape(line)}</li>" for line in checks.failures)
    return (
        f'<div class="verdict retrain"><b>{batch} failed its production checks</b> '
        "(validate_production): broken inputs, not only drift. Fix the batch before "
        f"acting on the drift below.<ul>{items}</ul></div>"
    )


def _over_time(windows: list[WindowRecord], threshold: float) -> str:
    """Drift share (and value, when labelled) per window: is drift persistent or a blip?"""
    if not windows:
        return ""
    rows = "".join(
        f"<tr><td>{escape(w.start)}</td><td>{w.rows}</td><td>{w.drift_share:.0%}</td>"
        f"<td>{escape(', '.join(w.drifted)) or '-'}</td>"
        f"<td>{_value(w.value_per_1000)}</td>"
        f"<td>{_window_status(w)}</td></tr>"
        for w in windows
    )
    index = np.arange(len(windows), dtype=float)
    series = [
        ("drift share", index, np.array([w.drift_share for w in windows], float)),
        ("threshold", index, np.full(len(windows), threshold)),
    ]
    chart = svg.line_chart(series, "Drift share per window", "window", "share drifted")
    return (
        f"<h2>Over time</h2><div>{chart}</div>"
        "<table><tr><th>window from</th><th>rows</th><th>drift share</th><th>drifted</th>"
        f"<th>value per 1,000</th><th>status</th></tr>{rows}</table>"
    )


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _window_status(window: WindowRecord) -> str:
    if not window.judged:
        return "too few rows to judge"
    if window.dataset_drift:
        return '<span class="drift">dataset drift</span>'
    return '<span class="ok">stable</span>'


def _row(drift: DriftRecord, reference: pd.Series, current: pd.Series) -> str:
    status = (
        '<span class="drift">drift</span>' if drift.drifted else '<span class="ok">stable</span>'
    )
    notes = ""
    if drift.new_categories:
        notes += f"<br>new: {escape(', '.join(drift.new_categories))}"
    if drift.missing_categories:
        notes += f"<br>missing: {escape(', '.join(drift.missing_categories))}"
    return (
        f"<tr><td>{escape(drift.column)}{notes}</td><td>{_histogram(drift, reference, current)}</td>"
        f"<td>{drift.test}</td><td>{drift.statistic:.4f}</td><td>{drift.threshold}</td>"
        f"<td>{drift.psi:.3f}</td><td>{drift.null_rate_reference:.1%} / "
        f"{drift.null_rate_current:.1%}</td><td>{status}</td></tr>"
    )


def _histogram(drift: DriftRecord, reference: pd.Series, current: pd.Series) -> str:
    ref, cur = reference.dropna(), current.dropna()
    ref_share: np.ndarray
    cur_share: np.ndarray
    if drift.kind == "numeric":
        edges = np.histogram_bin_edges(
            np.concatenate([ref.to_numpy(float), cur.to_numpy(float)]), 20
        )
        ref_share = np.histogram(ref, edges)[0] / max(len(ref), 1)
        cur_share = np.histogram(cur, edges)[0] / max(len(cur), 1)
    else:
        categories = sorted(set(ref.astype(str)) | set(cur.astype(str)))
        ref_share = (
            ref.astype(str)
            .value_counts(normalize=True)
            .reindex(categories, fill_value=0)
            .to_numpy()
        )
        cur_share = (
            cur.astype(str)
            .value_counts(normalize=True)
            .reindex(categories, fill_value=0)
            .to_numpy()
        )
    return svg.paired_bars(np.asarray(ref_share, float), np.asarray(cur_share, float))
