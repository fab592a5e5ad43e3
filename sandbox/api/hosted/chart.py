"""The journey page's chart: each fairness rule's headline value, run after run.

`disparity_chart(runs)` turns a journey's runs (oldest first, each with its `disparities`
from the signed `run.finished` record) into plain geometry: one line per rule (and metric),
a point per run that measured it, the rule's threshold as a dashed line when every run used
the same one. The template draws it as inline SVG (no script, nothing fetched); labels are
text the template escapes. The y axis spans the values and thresholds seen, padded a little.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["COLOURS", "Chart", "Line", "disparity_chart"]

COLOURS: Final = ("#1f4f99", "#c2410c", "#17663a", "#7c3aed", "#b91c1c", "#0f766e")
WIDTH: Final = 720
HEIGHT: Final = 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40
_MAX_LINES: Final = len(COLOURS)


@dataclass(frozen=True)
class Line:
    """One rule's values across the runs."""

    label: str
    colour: str
    points: tuple[tuple[float, float, str], ...]  # (x, y, the value as shown)
    threshold_y: float | None


@dataclass(frozen=True)
class Chart:
    """What the template draws: the frame, the axes' ticks and the lines."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    lines: tuple[Line, ...]
    hidden: int  # rules left out to keep the chart readable


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _series(runs: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[int, float, float | None]]]:
    """Each rule's (run index, value, threshold), in first-seen order."""
    found: dict[str, list[tuple[int, float, float | None]]] = {}
    for index, run in enumerate(runs):
        for item in run.get("disparities") or ():
            value = _number(item.get("value"))
            if value is None or not isinstance(item.get("rule_id"), str):
                continue
            metric = item.get("metric")
            label = item["rule_id"] + (f" ({metric})" if isinstance(metric, str) else "")
            found.setdefault(label, []).append((index, value, _number(item.get("threshold"))))
    return found


def _ticks(low: float, high: float) -> list[float]:
    step = 10 ** math.floor(math.log10((high - low) / 2)) if high > low else 0.1
    while (high - low) / step > 6:
        step *= 2
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step) + 1)]


def disparity_chart(runs: Sequence[Mapping[str, Any]]) -> Chart | None:
    """The chart of the runs' headline values, or None when no run measured one."""
    series = _series(runs)
    if not series:
        return None
    kept = list(series.items())[:_MAX_LINES]
    numbers = [n for _, points in kept for _, v, t in points for n in (v, t) if n is not None]
    low, high = min(numbers), max(numbers)
    pad = max((high - low) * 0.1, 0.05)
    low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = len(runs)

    def x(index: int) -> float:
        return LEFT + (plot_w * (index + 0.5) / count)

    def y(value: float) -> float:
        return TOP + plot_h * (high - value) / (high - low)

    lines = []
    for (label, points), colour in zip(kept, COLOURS, strict=False):
        thresholds = {t for _, _, t in points}
        only = thresholds.pop() if len(thresholds) == 1 else None
        lines.append(
            Line(
                label=label,
                colour=colour,
                points=tuple((x(i), y(v), f"{v:.3g}") for i, v, _ in points),
                threshold_y=y(only) if only is not None else None,
            )
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=WIDTH - RIGHT,
        bottom=HEIGHT - BOTTOM,
        x_ticks=tuple((x(i), f"run {i + 1}") for i in range(count)),
        y_ticks=tuple((y(t), f"{t:g}") for t in _ticks(low, high)),
        lines=tuple(lines),
        hidden=len(series) - len(kept),
    )
