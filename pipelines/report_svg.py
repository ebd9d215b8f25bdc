"""Charts as inline SVG, drawn on the server: the report needs no script, no font and no network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2f6db5", "#e07b39", "#3a9d5d", "#c9483f", "#8a63b8", "#8c6d31", "#d36fb0", "#6b7a8f", "#17a2b8", "#b5a02f")


def _num(v: float) -> str:
    """A compact label: 1.2k, 3.4M, 5.6B."""
    a = abs(v)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.1f}{suffix}"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def bar_chart(items: Sequence[tuple[str, float]], title: str, width: int = 560, unit: str = "") -> str:
    """Horizontal bars, one per (label, value), largest scale at the longest value."""
    row, left, right = 24, 190, 70
    height = 34 + row * max(len(items), 1)
    top = max((v for _, v in items), default=0) or 1
    out = [
        (
            f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        ),
        f'<text x="0" y="16" class="title">{escape(title)}</text>',
    ]
    if not items:
        out.append('<text x="0" y="40" class="muted">no data</text>')
    for i, (label, value) in enumerate(items):
        y = 28 + i * row
        w = max((width - left - right) * (value / top), 1 if value else 0)
        out.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" class="label">{escape(str(label))[:32]}</text>'
        )
        out.append(
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(str(label))}: {value:,.2f}{unit}</title></rect>'
        )
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}" class="value">{_num(value)}{escape(unit)}</text>')
    out.append("</svg>")
    return "".join(out)


def line_chart(
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str,
    width: int = 560,
    height: int = 240,
    y_max: float | None = None,
) -> str:
    """One polyline per series over the x labels, with a legend; None values are gaps."""
    left, right, top, bottom = 44, 120, 28, 34
    vals = [v for s in series.values() for v in s if v is not None]
    hi = y_max if y_max is not None else (max(vals, default=1) or 1)
    lo = min(0.0, min(vals, default=0))
    n = max(len(x_labels), 1)
    pw, ph = width - left - right, height - top - bottom

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (pw * i / (n - 1) if n > 1 else pw / 2)
        return x, top + ph - ph * (v - lo) / ((hi - lo) or 1)

    out = [
        (
            f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        ),
        f'<text x="0" y="16" class="title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" class="axis"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="value">{_num(hi)}</text>',
        f'<text x="{left - 4}" y="{top + ph}" text-anchor="end" class="value">{_num(lo)}</text>',
    ]
    step = max(1, n // 6)
    for i in range(0, len(x_labels), step):
        x, _ = xy(i, lo)
        out.append(
            f'<text x="{x:.1f}" y="{height - 14}" text-anchor="middle" class="value">'
            f"{escape(str(x_labels[i]))[:12]}</text>"
        )
    for k, (name, values) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        pts = [xy(i, v) for i, v in enumerate(values) if v is not None]
        if len(pts) > 1:
            out.append(
                f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2" points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                + '"/>'
            )
        for x, y in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
        ly = top + 6 + k * 16
        out.append(
            f'<rect x="{width - right + 10}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{width - right + 24}" y="{ly}" class="label">{escape(str(name))[:16]}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def sparkline(values: Sequence[float], width: int = 120, height: int = 28) -> str:
    """A small trend line (first to last value), red when it ends lower than it starts."""
    if not values:
        return ""
    hi, lo = max(values), min(values)
    n = len(values)
    pts = [
        (2 + (width - 4) * i / max(n - 1, 1), height - 3 - (height - 6) * ((v - lo) / ((hi - lo) or 1)))
        for i, v in enumerate(values)
    ]
    color = "#c9483f" if values[-1] < values[0] else "#3a9d5d"
    return (
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><polyline fill="none" stroke="{color}" stroke-width="1.5" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        + '"/></svg>'
    )
