"""The console's learning-curve plot: held-out AUC per learn run against the decisions it learned from, as SVG geometry.

The template draws it as inline SVG with classes from console.css (the CSP allows no inline style and
no script), so the page needs no chart library and works without JavaScript.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 16, 46


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    y: float
    promoted: bool
    title: str


@dataclass(frozen=True, slots=True)
class Plot:
    width: int
    height: int
    left: int
    top: int
    right: float
    bottom: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    candidate_line: str
    live_line: str
    candidates: list[Marker]
    lives: list[Marker]


def nice_step(span: float, target: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts `span` into about `target` parts."""
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _ticks(low: float, high: float, step: float, digits: int) -> list[float]:
    first = math.ceil(low / step - 1e-9) * step
    count = math.floor((high - first) / step + 1e-9) + 1
    return [round(first + i * step, digits) for i in range(max(count, 0))]


def plot(points: Sequence[dict[str, Any]]) -> Plot | None:
    """Geometry for `moderation.learn.learning_curve` points; None with no judged run yet."""
    if not points:
        return None
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    most = max(int(p["decisions"]) for p in points)
    x_step = nice_step(most or 1)
    x_high = max(math.ceil((most or 1) / x_step) * x_step, x_step)
    values = [v for p in points for v in (p["candidate"], p["live"]) if v is not None]
    y_low = min(0.5, math.floor((min(values) - 0.02) * 20) / 20)
    y_high = 1.0
    y_step = nice_step(y_high - y_low)

    def x_of(decisions: float) -> float:
        return round(LEFT + (right - LEFT) * decisions / x_high, 1)

    def y_of(auc: float) -> float:
        return round(bottom - (bottom - TOP) * (auc - y_low) / (y_high - y_low), 1)

    candidates, lives = [], []
    for p in points:
        x = x_of(p["decisions"])
        when = str(p["at"])[:16].replace("T", " ")
        common = f"{when} UTC, {p['decisions']} decisions"
        candidates.append(Marker(x, y_of(p["candidate"]), p["verdict"] == "promoted",
                                 f"{common}: candidate {p['candidate']:.3f} ({p['verdict']})"))
        if p["live"] is not None:
            lives.append(Marker(x, y_of(p["live"]), False, f"{common}: live model {p['live']:.3f}"))
    return Plot(
        WIDTH, HEIGHT, LEFT, TOP, right, bottom,
        x_ticks=[Tick(x_of(v), f"{v:,.0f}") for v in _ticks(0, x_high, x_step, 6)],
        y_ticks=[Tick(y_of(v), f"{v:.2f}") for v in _ticks(y_low, y_high, y_step, 6)],
        candidate_line=" ".join(f"{m.x},{m.y}" for m in candidates),
        live_line=" ".join(f"{m.x},{m.y}" for m in lives),
        candidates=candidates,
        lives=lives,
    )
