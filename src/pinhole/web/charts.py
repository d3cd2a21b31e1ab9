"""Charts for the admin dashboard, drawn by the server as inline SVG (no script, no library): columns over time
and ranked bars. Colours come from the page's CSS, so they follow the light and dark themes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 160


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str  # shown as the column's tooltip with its value
    text: str


@dataclass(frozen=True)
class Columns:
    """Columns scaled to the tallest one; `first` and `last` label the axis ends."""

    columns: list[Column]
    top: str
    first: str
    last: str
    width: int = WIDTH
    height: int = HEIGHT


def columns(
    points: Sequence[tuple[str, float]],
    *,
    fmt: str = "{:,.0f}",
    top: float | None = None,
    slots: int = 0,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Columns:
    """One column per (label, value); `top` fixes the scale (e.g. 1.0 for a ratio), else the largest value.
    `slots` keeps room for that many columns, the given ones on the right (a time axis still filling up)."""
    if not points:
        return Columns([], fmt.format(0), "", "", width, height)
    scale = top if top is not None else max(value for _, value in points)
    scale = scale or 1
    slot = width / max(len(points), slots)
    offset = width - slot * len(points)
    gap = min(2.0, slot / 4)
    found = []
    for n, (label, value) in enumerate(points):
        bar = round(height * min(value, scale) / scale, 2)
        found.append(
            Column(
                x=round(offset + n * slot + gap / 2, 2),
                y=round(height - bar, 2),
                width=round(slot - gap, 2),
                height=bar,
                label=label,
                text=fmt.format(value),
            )
        )
    return Columns(found, fmt.format(scale), points[0][0], points[-1][0], width, height)


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    percent: float  # of the longest bar


def ranked(items: Sequence[tuple[str, float]], *, fmt: str = "{:,.0f}") -> list[Bar]:
    """Horizontal bars for a top-N list, longest first, each as a share of the longest."""
    ordered = sorted(items, key=lambda item: item[1], reverse=True)
    top = ordered[0][1] if ordered and ordered[0][1] > 0 else 1
    return [Bar(label, fmt.format(value), round(100 * value / top, 1)) for label, value in ordered]
