"""The model card: what stakeholders read before the model goes anywhere.

Built once as a list of sections, rendered to Markdown (for review in git) and
to a self-contained HTML page with the plots inline (for everyone else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from ..config import Params
from ..contracts import SliceRecord
from ..reporting import svg
from .slices import method

# Criteria and metrics counted in rows or slices (shown as integers); names with
# "per_1000" are business values (one decimal, thousands separated); the rest are
# rates and ML metrics (four decimals).
COUNTS = frozenset({"rows", "slices_below_floor"})
VALUES = frozenset({"not_worse_than_champion"})  # a value per 1,000 by another name

SIGN_OFF = (
    "Domain owner: the decision, the value of each outcome and the success criteria are right",
    "Compliance: the features are allowed for this decision; slices were reviewed for harm",
    "Operations: the latency constraint, the monitoring and the rollback path are in place",
)


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: tuple[list[str], list[list[str]]] | None = None
    figures: list[str] = field(default_factory=list)  # inline SVG, HTML only


@dataclass(frozen=True)
class CardInputs:
    params: Params
    model: dict[str, float]
    baselines: dict[str, dict[str, float]]
    champion: dict[str, Any] | None
    verdict: dict[str, Any]
    slices: list[SliceRecord]
    reliability: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    split: dict[str, Any]
    data_version: str
    # Fairness, robustness and cost sections (assessment.beyond_value), after the slices.
    judged: list[Section] = field(default_factory=list)


def sections(card: CardInputs) -> list[Section]:
    problem = card.params.problem
    return [
        Section(
            "Intended use",
            [
                f"**Decision automated.** {problem.decision}",
                f"Task: {problem.task.replace('_', ' ')}; target `{problem.target}`; "
                f"candidate `{card.params.model.name}`.",
            ],
        ),
        Section(
            "Data",
            [f"Data version `{card.data_version}` (SHA-256 of the raw dataset)."],
            table=(
                ["split", "rows", "from", "to"],
                [
                    [
                        name,
                        _count(info.get("rows")),
                        str(info.get("from", "")),
                        str(info.get("to", "")),
                    ]
                    for name, info in card.split.items()
                ],
            ),
        ),
        _performance(card),
        _verdict(card),
        _slices(card),
        *card.judged,
        _calibration(card),
        Section("Limitations", _limitations(card)),
        Section("Sign-off", [f"- [ ] {item}" for item in SIGN_OFF]),
    ]


def _performance(card: CardInputs) -> Section:
    columns = ["model", *card.baselines]
    # A refused champion has no figures on this split.
    champion = card.champion if card.champion and "metrics" in card.champion else None
    if champion:
        columns.append(f"champion {champion['version']}")
    rows = []
    for name in card.model:
        row = [name, format_number(name, card.model[name])]
        row += [format_number(name, card.baselines[b].get(name)) for b in card.baselines]
        if champion:
            row.append(format_number(name, champion["metrics"].get(name)))
        rows.append(row)
    notes = ["Net value per 1,000 decisions is the figure that matters; the others explain it."]
    notes += _champion_note(card.champion)
    return Section("Performance on the test split", notes, table=(["metric", *columns], rows))


def _champion_note(champion: dict[str, Any] | None) -> list[str]:
    if champion is None:
        return []
    if champion.get("refused"):
        return [f"**No champion comparison.** {champion['refused']}"]
    return [
        f"The champion (`{champion['version']}`, in production) is its packaged pipeline "
        "scored on this test split, beside the candidate, on the same rows."
    ]


def _verdict(card: CardInputs) -> Section:
    verdict = card.verdict
    state = "PASS" if verdict["passed"] else "FAIL"
    lines = [f"**Verdict: {state}.** Promotable: {'yes' if verdict['promotable'] else 'no'}."]
    if verdict.get("override"):
        lines.append(
            f"Failed verdict accepted by {verdict['override']['approved_by']}: "
            f"{verdict['override']['reason']}"
        )
    rows = [
        [
            c["name"],
            format_number(c["name"], c["observed"]),
            format_number(c["name"], c["required"]),
            ("yes" if c["passed"] else "NO") + ("" if c.get("judged", True) else " (not judged)"),
            c["detail"],
        ]
        for c in verdict["criteria"]
    ]
    return Section(
        "Success criteria",
        lines,
        table=(["criterion", "observed", "required", "passed", "note"], rows),
    )


def _slices(card: CardInputs) -> Section:
    rows = [
        [
            s.column,
            s.value,
            _count(s.rows),
            _value(s.model_value_per_1000),
            _value(s.baseline_value_per_1000),
            _value(s.uplift_per_1000),
            _value(s.uplift_se_per_1000),
            _value(s.uplift_upper_bound_per_1000),
            "FLAGGED" if s.flagged else ("too few rows" if s.too_small else ""),
        ]
        for s in card.slices
    ]
    chart = svg.horizontal_bars(
        [f"{s.column}={s.value}" for s in card.slices],
        [s.uplift_per_1000 for s in card.slices],
        [s.flagged for s in card.slices],
    )
    cfg = card.params.evaluate
    return Section(
        "Slices",
        [
            "Value per 1,000 decisions over the best baseline, per slice: the mean paired "
            "per-row difference (uplift), its standard error (se) and the upper confidence "
            f"bound ({method(cfg.slice_confidence)}). A slice with at least "
            f"{_count(cfg.min_slice_rows)} rows is flagged when that bound is below "
            f"{_value(cfg.slice_floor_uplift_per_1000)}: its shortfall is beyond sampling noise."
        ],
        table=(
            ["column", "value", "rows", "model", "baseline", "uplift", "se", "bound", "note"],
            rows,
        ),
        figures=[chart],
    )


def _calibration(card: CardInputs) -> Section:
    table = card.reliability
    figures = [
        svg.line_chart(
            [("model", table["predicted"].to_numpy(), table["observed"].to_numpy())],
            "Reliability",
            "predicted",
            "observed",
            diagonal=True,
        )
    ]
    if "roc" in card.curves:
        roc = card.curves["roc"]
        figures.append(
            svg.line_chart(
                [("ROC", roc["fpr"].to_numpy(), roc["tpr"].to_numpy())],
                "ROC",
                "false positive rate",
                "true positive rate",
                diagonal=True,
            )
        )
    if "precision_recall" in card.curves:
        pr = card.curves["precision_recall"]
        figures.append(
            svg.line_chart(
                [("PR", pr["recall"].to_numpy(), pr["precision"].to_numpy())],
                "Precision-recall",
                "recall",
                "precision",
            )
        )
    gap = float(np.abs(table["predicted"] - table["observed"]).max())
    text = [f"Largest gap between predicted and observed over the bins: {_rate(gap)}."]
    if "brier" in card.model:
        text.append(
            f"Brier score {_rate(card.model['brier'])} "
            f"(baseline {_rate(card.baselines['dummy']['brier'])})."
        )
    rows = [
        [format_number(str(name), value) for name, value in zip(table.columns, row, strict=True)]
        for row in table.itertuples(index=False)
    ]
    return Section("Calibration", text, table=(list(table.columns), rows), figures=figures)


def _limitations(card: CardInputs) -> list[str]:
    notes = []
    flagged = [f"{s.column}={s.value}" for s in card.slices if s.flagged]
    small = [f"{s.column}={s.value}" for s in card.slices if s.too_small]
    if flagged:
        notes.append(f"- The model does worse than the baseline on: {', '.join(flagged)}.")
    if small:
        notes.append(f"- Too few test rows to judge: {', '.join(small)}.")
    train = card.split.get("train", {})
    if train.get("to"):
        notes.append(f"- Trained on data up to {train['to']}; after that, trust the monitor stage.")
    shares = train.get("label_share")
    if shares and min(shares.values()) < 0.2:
        notes.append(f"- Imbalanced classes in training: {shares}.")
    notes.append("- Figures come from one test period; business values are the spec's estimates.")
    return notes


def markdown(card: CardInputs) -> str:
    lines = [f"# Model card: {card.params.problem.name} ({card.params.model.name})", ""]
    for section in sections(card):
        lines += [f"## {section.title}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        if section.table:
            header, rows = section.table
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines)


def html(card: CardInputs) -> str:
    body = []
    for section in sections(card):
        body.append(f"<h2>{escape(section.title)}</h2>")
        body += [f"<p>{_inline(p)}</p>" for p in section.paragraphs]
        if section.figures:
            body.append('<div class="figures">' + "".join(section.figures) + "</div>")
        if section.table:
            header, rows = section.table
            body.append(
                "<table><tr>"
                + "".join(f"<th>{escape(h)}</th>" for h in header)
                + "</tr>"
                + "".join(
                    "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows
                )
                + "</table>"
            )
    title = f"Model card: {card.params.problem.name} ({card.params.model.name})"
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{''.join(body)}</body></html>\n"
    )


STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2430;max-width:1100px}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{padding:.3rem .6rem;border-bottom:1px solid #dde}
th{text-align:left;background:#f4f6fa}.figures svg{margin-right:1rem}"""


def _inline(text: str) -> str:
    """The little Markdown the card uses: **bold**, `code`, leading '- [ ] '."""
    out = escape(text).replace("- [ ] ", "&#9744; ")
    for mark, tag in (("**", "b"), ("`", "code")):
        parts = out.split(mark)
        out = "".join(p if i % 2 == 0 else f"<{tag}>{p}</{tag}>" for i, p in enumerate(parts))
    return out


def format_number(name: str, value: Any) -> str:
    """A number in the format its kind takes: count, value per 1,000, or rate/metric."""
    if name in COUNTS:
        return _count(value)
    if "per_1000" in name or name in VALUES:
        return _value(value)
    return _rate(value)


def _count(value: Any) -> str:
    return "" if value is None else f"{round(float(value)):,}"


def _value(value: Any) -> str:
    return _decimals(value, 1)


def _rate(value: Any) -> str:
    return _decimals(value, 4)


def _decimals(value: Any, places: int) -> str:
    if value is None:
        return ""
    text = f"{float(value):,.{places}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.0"
