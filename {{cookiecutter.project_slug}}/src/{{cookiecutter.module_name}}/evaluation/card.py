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
from ..reporting import svg
from .slices import Slice

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
    slices: list[Slice]
    reliability: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    split: dict[str, Any]
    data_version: str


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
                        str(info.get("rows")),
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
        _calibration(card),
        Section("Limitations", _limitations(card)),
        Section("Sign-off", [f"- [ ] {item}" for item in SIGN_OFF]),
    ]


def _performance(card: CardInputs) -> Section:
    columns = ["model", *card.baselines]
    if card.champion:
        columns.append("champion")
    names = [n for n in card.model if n != "rows"]
    rows = []
    for name in names:
        row = [name, _fmt(card.model[name])]
        row += [_fmt(card.baselines[b].get(name)) for b in card.baselines]
        if card.champion:
            row.append(_fmt(card.champion["metrics"].get(name)))
        rows.append(row)
    note = "Net value per 1,000 decisions is the figure that matters; the others explain it."
    return Section("Performance on the test split", [note], table=(["metric", *columns], rows))


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
            _fmt(c["observed"]),
            _fmt(c["required"]),
            "yes" if c["passed"] else "NO",
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
            str(s.rows),
            _fmt(s.model_value_per_1000),
            _fmt(s.baseline_value_per_1000),
            _fmt(s.uplift_per_1000),
            "FLAGGED" if s.flagged else ("too few rows" if s.too_small else ""),
        ]
        for s in card.slices
    ]
    chart = svg.horizontal_bars(
        [f"{s.column}={s.value}" for s in card.slices],
        [s.uplift_per_1000 for s in card.slices],
        [s.flagged for s in card.slices],
    )
    floor = card.params.evaluate.slice_floor_uplift_per_1000
    return Section(
        "Slices",
        [
            f"Uplift per 1,000 decisions over the best baseline; a slice with at "
            f"least {card.params.evaluate.min_slice_rows} rows is flagged below {floor:g}."
        ],
        table=(["column", "value", "rows", "model", "baseline", "uplift", "note"], rows),
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
    text = [f"Largest gap between predicted and observed over the bins: {gap:.3g}."]
    if "brier" in card.model:
        text.append(
            f"Brier score {card.model['brier']:.4f} (baseline {card.baselines['dummy']['brier']:.4f})."
        )
    rows = [[_fmt(v) for v in row] for row in table.itertuples(index=False)]
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


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        return f"{number:.4g}" if abs(number) < 1e5 else f"{number:,.0f}"
    return str(value)
