"""Small inline SVG charts: reports open offline, with no CDN and no plotting library."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

GREY, ORANGE, BLUE = "#7d8ca3", "#e07a1f", "#2f6db3"


def paired_bars(
    first: np.ndarray,
    second: np.ndarray,
    width: int = 220,
    height: int = 50,
    colours: tuple[str, str] = (GREY, ORANGE),
) -> str:
    """Two shares side by side per bin (for example reference vs current)."""
    top = max(float(first.max(initial=0)), float(second.max(initial=0)), 1e-9)
    slot = width / max(len(first), 1)
    bars = []
    for i, pair in enumerate(zip(first, second, strict=True)):
        for j, (share, colour) in enumerate(zip(pair, colours, strict=True)):
            h = share / top * height
            bars.append(
                f'<rect x="{i * slot + j * slot / 2:.1f}" y="{height - h:.1f}" '
                f'width="{slot / 2 - 0.5:.1f}" height="{h:.1f}" fill="{colour}"/>'
            )
    return f'<svg width="{width}" height="{height}" role="img">{"".join(bars)}</svg>'


def line_chart(
    series: Sequence[tuple[str, np.ndarray, np.ndarray]],
    title: str,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
    size: int = 260,
) -> str:
    """Lines of (name, x, y); `diagonal` draws y = x, the ideal for ROC and reliability."""
    series = [(name, x, y) for name, x, y in series if len(x)]
    xs = np.concatenate([x for _, x, _ in series]) if series else np.array([0.0, 1.0])
    ys = np.concatenate([y for _, _, y in series]) if series else np.array([0.0, 1.0])
    lo = float(min(xs.min(), ys.min())) if diagonal else float(xs.min())
    hi = float(max(xs.max(), ys.max())) if diagonal else float(xs.max())
    y_lo, y_hi = (lo, hi) if diagonal else (float(ys.min()), float(ys.max()))
    pad = 30

    def point(x: float, y: float) -> str:
        px = pad + (x - lo) / max(hi - lo, 1e-12) * (size - 2 * pad)
        py = size - pad - (y - y_lo) / max(y_hi - y_lo, 1e-12) * (size - 2 * pad)
        return f"{px:.1f},{py:.1f}"

    parts = [
        f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" '
        'fill="none" stroke="#ccd"/>'
    ]
    if diagonal:
        parts.append(
            f'<polyline points="{point(lo, lo)} {point(hi, hi)}" stroke="#bbb" '
            'stroke-dasharray="4" fill="none"/>'
        )
    for (name, x, y), colour in zip(series, (BLUE, ORANGE, GREY), strict=False):
        points = " ".join(point(float(a), float(b)) for a, b in zip(x, y, strict=True))
        parts.append(
            f'<polyline points="{points}" stroke="{colour}" stroke-width="2" fill="none">'
            f"<title>{escape(name)}</title></polyline>"
        )
    parts.append(
        f'<text x="{size / 2}" y="{size - 6}" text-anchor="middle" font-size="11">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text x="10" y="{size / 2}" font-size="11" transform="rotate(-90 10 {size / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    parts.append(
        f'<text x="{size / 2}" y="16" text-anchor="middle" font-size="12">{escape(title)}</text>'
    )
    return f'<svg width="{size}" height="{size}" role="img">{"".join(parts)}</svg>'


def horizontal_bars(
    labels: list[str], values: list[float], flagged: list[bool], width: int = 420
) -> str:
    """One bar per label, centred on zero; flagged bars are drawn in orange."""
    row, label_width = 18, 150
    span = max(max((abs(v) for v in values), default=0.0), 1e-9)
    zero = label_width + (width - label_width) / 2
    scale = (width - label_width) / 2 / span
    parts = []
    for i, (label, value, flag) in enumerate(zip(labels, values, flagged, strict=True)):
        y = i * row
        x, w = (zero, value * scale) if value >= 0 else (zero + value * scale, -value * scale)
        parts.append(f'<text x="0" y="{y + 13}" font-size="11">{escape(label)}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{ORANGE if flag else BLUE}"><title>{value:.1f}</title></rect>'
        )
    parts.append(f'<line x1="{zero}" x2="{zero}" y1="0" y2="{len(labels) * row}" stroke="#999"/>')
    return (
        f'<svg width="{width}" height="{len(labels) * row + 4}" role="img">{"".join(parts)}</svg>'
    )
