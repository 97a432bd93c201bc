"""The exploratory report: what the train split looks like before a model sees it.

Per feature (raw inputs and derived features): a distribution chart (inline SVG, so
the HTML opens offline), skewness, the share of nulls and of the most common value,
cardinality and mutual information with the target. Then numeric pairs with high
|correlation|, categorical pairs with high Cramer's V, suspected leaks (a feature
whose mutual information is most of the target's information) and class imbalance.
`figures` is the JSON DVC tracks as metrics; `html` renders it with the selection.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..config import ExploreConfig
from ..reporting.svg import BLUE, ORANGE

BINS = 20
STYLE = "body { font-family: sans-serif; margin: 2em } td, th { padding: 2px 8px }"
TOP_CATEGORIES = 12


def profile(column: pd.Series) -> dict[str, Any]:
    present = column.dropna()
    counts = present.value_counts()
    numeric = pd.api.types.is_numeric_dtype(column)
    # scipy's bias-corrected skewness is pandas' Series.skew.
    values = present.to_numpy(dtype=np.float64) if numeric else np.empty(0)
    skewness = float(stats.skew(values, bias=False)) if len(values) > 2 else None
    return {
        "kind": "numeric" if numeric else "categorical",
        "skewness": None if skewness is None or np.isnan(skewness) else round(skewness, 4),
        "null_share": round(float(column.isna().mean()), 4),
        "top_value_share": round(float(counts.iloc[0] / len(column)), 4) if len(counts) else 0.0,
        "cardinality": len(counts),
    }


def correlated_pairs(frame: pd.DataFrame, threshold: float) -> list[dict[str, Any]]:
    numeric = frame.select_dtypes("number").astype("float64")
    correlation = numeric.corr().fillna(0.0).to_numpy()
    names = list(numeric.columns)
    return [
        {"a": names[i], "b": names[j], "correlation": round(float(correlation[i, j]), 4)}
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if abs(correlation[i, j]) >= threshold
    ]


def cramers_v(first: pd.Series, second: pd.Series) -> float:
    table = pd.crosstab(first.fillna("<null>"), second.fillna("<null>"))
    if min(table.shape) < 2:
        return 0.0
    chi2 = float(stats.chi2_contingency(table, correction=False)[0])
    return float(np.sqrt(chi2 / table.to_numpy().sum() / (min(table.shape) - 1)))


def associated_pairs(frame: pd.DataFrame, threshold: float) -> list[dict[str, Any]]:
    names = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    pairs = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            value = cramers_v(frame[first], frame[second])
            if value >= threshold:
                pairs.append({"a": first, "b": second, "cramers_v": round(value, 4)})
    return pairs


def imbalance(target: pd.Series, classification: bool) -> dict[str, Any]:
    if classification:
        shares = target.astype(str).value_counts(normalize=True)
        return {
            "class_shares": {k: round(float(v), 4) for k, v in shares.items()},
            "minority_share": round(float(shares.to_numpy().min()), 4),
        }
    values = target.to_numpy(dtype=np.float64)
    skewness = float(stats.skew(values, bias=False, nan_policy="omit"))
    return {"target_mean": round(float(np.nanmean(values)), 4), "skewness": round(skewness, 4)}


def figures(
    frame: pd.DataFrame,
    target: pd.Series,
    classification: bool,
    information: dict[str, float],
    ceiling: float,
    config: ExploreConfig,
) -> dict[str, Any]:
    """Everything the report says, as JSON; `ceiling` is the target's own information."""
    profiles = {name: profile(frame[name]) for name in frame.columns}
    skewed = [n for n, p in profiles.items() if abs(p["skewness"] or 0.0) >= config.skew_threshold]
    leaks = [n for n, v in information.items() if v >= config.leak_share * ceiling]
    numeric_pairs = correlated_pairs(frame, config.correlation_threshold)
    categorical_pairs = associated_pairs(frame, config.cramers_v_threshold)
    return {
        "rows": len(frame),
        "features": profiles,
        "mutual_information": {k: round(v, 4) for k, v in information.items()},
        "target_information": round(ceiling, 4),
        "skewed": skewed,
        "suspected_leaks": leaks,
        "correlated_pairs": numeric_pairs,
        "associated_pairs": categorical_pairs,
        "imbalance": imbalance(target, classification),
    }


def metrics(found: dict[str, Any], selection: dict[str, Any]) -> dict[str, Any]:
    """The compact, flat figures `dvc exp show` and the PR report compare."""
    profiles = found["features"].values()
    summary = {
        "rows": found["rows"],
        "skewed_features": len(found["skewed"]),
        "max_abs_skewness": max((abs(p["skewness"] or 0.0) for p in profiles), default=0.0),
        "max_null_share": max((p["null_share"] for p in profiles), default=0.0),
        "correlated_pairs": len(found["correlated_pairs"]),
        "associated_pairs": len(found["associated_pairs"]),
        "suspected_leaks": len(found["suspected_leaks"]),
        "max_mutual_information": max(found["mutual_information"].values(), default=0.0),
        "kept_features": len(selection["kept"]),
        "dropped_features": len(selection["dropped"]),
    }
    balance = found["imbalance"]
    if "minority_share" in balance:
        summary["minority_class_share"] = balance["minority_share"]
    return {
        "summary": summary,
        "skewness": {n: p["skewness"] for n, p in found["features"].items() if p["skewness"]},
        "mutual_information": found["mutual_information"],
    }


def histogram(column: pd.Series, width: int = 200, height: int = 40) -> str:
    present = column.dropna()
    if pd.api.types.is_numeric_dtype(column):
        counts: Any = np.histogram(present.astype("float64"), bins=BINS)[0] if len(present) else []
        labels = [""] * len(counts)
    else:
        top = present.astype(str).value_counts().head(TOP_CATEGORIES)
        counts, labels = top.to_numpy(), [str(k) for k in top.index]
    peak = max(max(counts, default=0), 1)
    slot = width / max(len(counts), 1)
    bars = "".join(
        f'<rect x="{i * slot:.1f}" y="{height - c / peak * height:.1f}" width="{slot - 1:.1f}" '
        f'height="{c / peak * height:.1f}" fill="{BLUE}"><title>{escape(label)} {c}</title></rect>'
        for i, (c, label) in enumerate(zip(counts, labels, strict=True))
    )
    return f'<svg width="{width}" height="{height}" role="img">{bars}</svg>'


def target_text(balance: dict[str, Any]) -> str:
    if "class_shares" in balance:
        shares = ", ".join(f"{k}: {v:.1%}" for k, v in balance["class_shares"].items())
        return f"class shares {shares} (minority {balance['minority_share']:.1%})"
    return f"target mean {balance['target_mean']}, skewness {balance['skewness']}"


def html(
    found: dict[str, Any],
    selection: dict[str, Any],
    frame: pd.DataFrame,
    transforms: dict[str, str] | None = None,
) -> str:
    """A self-contained page: no script, no remote style. `transforms`: conf/features'."""
    transforms = transforms or {}
    flagged = set(found["skewed"]) | set(found["suspected_leaks"]) | set(selection["dropped"])
    rows = []
    for name, p in found["features"].items():
        style = f' style="color:{ORANGE}"' if name in flagged else ""
        notes = [
            *(["skewed"] if name in found["skewed"] else []),
            *([f"transformed: {transforms[name]}"] if name in transforms else []),
            *(["suspected leak"] if name in found["suspected_leaks"] else []),
            *([f"dropped: {selection['dropped'][name]}"] if name in selection["dropped"] else []),
        ]
        rows.append(
            f"<tr{style}><td>{escape(name)}</td><td>{p['kind']}</td><td>{histogram(frame[name])}"
            f"</td><td>{p['skewness'] if p['skewness'] is not None else ''}</td>"
            f"<td>{p['null_share']:.1%}</td><td>{p['top_value_share']:.1%}</td>"
            f"<td>{p['cardinality']}</td><td>{found['mutual_information'].get(name, 0):.4f}</td>"
            f"<td>{escape('; '.join(notes))}</td></tr>"
        )
    pairs = [
        f"<li>{escape(p['a'])} ~ {escape(p['b'])}: correlation {p['correlation']}</li>"
        for p in found["correlated_pairs"]
    ] + [
        f"<li>{escape(p['a'])} ~ {escape(p['b'])}: Cramer's V {p['cramers_v']}</li>"
        for p in found["associated_pairs"]
    ]
    dropped = [
        f"<li>{escape(n)}: {escape(reason)}</li>" for n, reason in selection["dropped"].items()
    ]
    header = (
        "<tr><th>feature</th><th>kind</th><th>distribution</th><th>skewness</th><th>nulls</th>"
        "<th>top value</th><th>cardinality</th><th>mutual information</th><th>notes</th></tr>"
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Exploratory report (train split)</title>
<style>{STYLE}</style></head><body>
<h1>Exploratory report: train split, {found["rows"]} rows</h1>
<p>Target information {found["target_information"]} nats; a feature at or above the leak
share of it is a suspected leak: {escape(", ".join(found["suspected_leaks"]) or "none")}.</p>
<h2>Target</h2><p>{escape(target_text(found["imbalance"]))}</p>
<h2>Features</h2><table>{header}{"".join(rows)}</table>
<h2>Related pairs</h2><ul>{"".join(pairs) or "<li>none above the thresholds</li>"}</ul>
<h2>Selection (train and valid only)</h2>
<p>Kept: {escape(", ".join(selection["kept"]))}</p>
<ul>{"".join(dropped) or "<li>nothing dropped</li>"}</ul>
</body></html>
"""
