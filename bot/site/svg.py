"""Charts as inline SVG drawn on the server, so they need no script and no third party.

Colours come from CSS classes of the site's stylesheet (``chart-s1``, ``chart-s2``,
``chart-axis``, ``chart-mark``), never from style attributes, which the site's CSP
forbids, so light and dark mode work. Each chart is ``role="img"`` with a <title> and a
<desc>; the page puts its numbers in a table beside it for screen readers. Every text
drawn comes through :func:`markupsafe.escape`, so a label from a participant stays text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 8, 22, 24


@dataclass(frozen=True, slots=True)
class Series:
    """One stacked layer of a bar chart; ``css`` is its class, such as ``chart-s1``."""

    label: str
    values: tuple[int, ...]
    css: str


@dataclass(frozen=True, slots=True)
class Mark:
    """A vertical line at bar ``at`` with a short label, such as a question's "Q2"."""

    at: float
    label: str
    title: str


def _n(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _open(ident: str, title: str, desc: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"'
        f' viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMidYMid meet"'
        f' aria-labelledby="{ident}-t {ident}-d" id="{ident}">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]


def bar_chart(
    *,
    ident: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    number: Callable[[int], str],
    first_last: tuple[str, str] = ("", ""),
    marks: Sequence[Mark] = (),
) -> Markup:
    """Vertical bars, stacked by series, one per label; each bar carries its value in a
    ``data-value`` attribute and a tooltip, the same figures as the page's table."""
    count = max(1, len(labels))
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / count
    gap = step * 0.15 if step > 4 else 0
    base = _TOP + plot_h
    out = _open(ident, title, desc, HEIGHT)
    out.append(
        f'<g class="chart-axis"><line x1="{_LEFT}" y1="{base}" x2="{WIDTH - _RIGHT}"'
        f' y2="{base}" stroke="currentColor"/><line x1="{_LEFT}" y1="{_TOP}"'
        f' x2="{WIDTH - _RIGHT}" y2="{_TOP}" stroke="currentColor" stroke-dasharray="2 3"/>'
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end">{escape(number(peak))}</text>'
        f'<text x="{_LEFT - 4}" y="{base}" text-anchor="end">{escape(number(0))}</text>'
        f'<text x="{_LEFT}" y="{HEIGHT - 6}">{escape(first_last[0])}</text>'
        f'<text x="{WIDTH - _RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{escape(first_last[1])}</text></g>"
    )
    for s in series:
        out.append(f'<g class="{escape(s.css)}" data-series="{escape(s.label)}">')
        for i, value in enumerate(s.values):
            below = sum(t.values[i] for t in series[: series.index(s)])
            h = value * plot_h / peak
            y = base - (below * plot_h / peak) - h
            out.append(
                f'<rect x="{_n(_LEFT + i * step + gap / 2)}" y="{_n(y)}"'
                f' width="{_n(max(step - gap, 0.5))}" height="{_n(h)}" data-value="{value}">'
                f"<title>{escape(labels[i])}: {escape(s.label)} {escape(number(value))}"
                "</title></rect>"
            )
        out.append("</g>")
    for m in marks:
        x = _n(_LEFT + (m.at + 0.5) * step)
        out.append(
            f'<g class="chart-mark"><line x1="{x}" y1="{_TOP - 4}" x2="{x}" y2="{base}"'
            f' stroke="currentColor" stroke-dasharray="3 2"/><text x="{x}" y="{_TOP - 8}"'
            f' text-anchor="middle">{escape(m.label)}</text><title>{escape(m.title)}</title></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def hbar_chart(
    *,
    ident: str,
    title: str,
    desc: str,
    rows: Sequence[tuple[str, int]],
    number: Callable[[int], str],
    css: str = "chart-s1",
) -> Markup:
    """Horizontal bars, one per row, labelled; long labels are cut (the table has them
    whole)."""
    row_h = 22
    height = max(1, len(rows)) * row_h + 8
    label_w, plot_w = 220, WIDTH - 220 - 60
    peak = max((v for _, v in rows), default=0) or 1
    out = _open(ident, title, desc, height)
    out.append(f'<g class="{escape(css)}">')
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        short = label if len(label) <= 28 else label[:27] + "\u2026"  # fits in label_w
        w = value * plot_w / peak
        out.append(
            f'<text class="chart-label" x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(short)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{_n(max(w, 0.5))}" height="{row_h - 6}"'
            f' data-value="{value}"><title>{escape(label)}: {escape(number(value))}</title></rect>'
            f'<text class="chart-label" x="{_n(label_w + w + 4)}" y="{y + 15}">'
            f"{escape(number(value))}</text>"
        )
    out.append("</g></svg>")
    return Markup("".join(out))
