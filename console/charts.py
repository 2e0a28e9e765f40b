"""Chart geometry for inline SVG: plain functions from numbers to coordinates; templates draw them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Frame:
    """The SVG canvas and the plot area inside its margins."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> int:
        return self.height - self.bottom


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    caption: str


@dataclass(frozen=True)
class SeriesInput:
    name: str
    key: str
    values: Sequence[float]


@dataclass(frozen=True)
class Line:
    name: str
    key: str
    points: tuple[Point, ...]

    @property
    def path(self) -> str:
        return " ".join(f"{point.x},{point.y}" for point in self.points)


@dataclass(frozen=True)
class LineChart:
    frame: Frame
    lines: tuple[Line, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    threshold: float | None


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    key: str
    caption: str


@dataclass(frozen=True)
class BarChart:
    frame: Frame
    bars: tuple[Bar, ...]
    labels: tuple[Tick, ...]
    values: tuple[Point, ...]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value - 1e-9)


def _round(value: float) -> float:
    return round(value, 1)


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def line_chart(
    labels: Sequence[str], series: Sequence[SeriesInput], *, threshold: float | None = None, width: int = 560, height: int = 220
) -> LineChart:
    """Lines over evenly spaced ``labels`` (e.g. turns), scaled so the threshold, if any, shows."""
    frame = Frame(width, height, left=40, top=14, right=16, bottom=30)
    peak = max([*(value for item in series for value in item.values), threshold or 0.0, 0.0])
    top = nice_ceiling(peak * 1.1 if threshold is not None and peak <= threshold else peak)
    count = len(labels)

    def x_at(index: int) -> float:
        if count <= 1:
            return _round(frame.left + frame.plot_width / 2)
        return _round(frame.left + frame.plot_width * index / (count - 1))

    def y_at(value: float) -> float:
        return _round(frame.baseline - frame.plot_height * min(max(value, 0.0), top) / top)

    lines = tuple(
        Line(
            item.name,
            item.key,
            tuple(
                Point(x_at(index), y_at(value), f"{labels[index]}: {item.name} {_number(round(value, 2))}")
                for index, value in enumerate(item.values[:count])
            ),
        )
        for item in series
    )
    x_ticks = tuple(Tick(x_at(index), label) for index, label in enumerate(labels))
    y_ticks = tuple(Tick(y_at(top * step / 4), _number(round(top * step / 4, 2))) for step in range(5))
    return LineChart(frame, lines, x_ticks, y_ticks, None if threshold is None else y_at(threshold))


def bar_chart(items: Sequence[tuple[str, float, str]], *, maximum: float | None = None, width: int = 560, row: int = 26) -> BarChart:
    """Horizontal bars, one a row: (label, value, value as shown)."""
    frame = Frame(width, max(1, len(items)) * row + 8, left=130, top=4, right=60, bottom=4)
    top = maximum if maximum is not None else nice_ceiling(max((value for _, value, _ in items), default=0.0))
    bars, labels, values = [], [], []
    for index, (label, value, shown) in enumerate(items):
        y = frame.top + index * row
        length = _round(frame.plot_width * min(max(value, 0.0), top) / top) if top else 0.0
        bars.append(Bar(frame.left, y + 3, length, row - 8, "bar", f"{label}: {shown}"))
        labels.append(Tick(y + row / 2 + 1, label))
        values.append(Point(_round(frame.left + length + 6), y + row / 2 + 1, shown))
    return BarChart(frame, tuple(bars), tuple(labels), tuple(values))


def stacked_columns(
    columns: Sequence[tuple[str, Sequence[tuple[str, int]]]], *, width: int = 640, height: int = 220, label_every: int = 1
) -> BarChart:
    """One column per label (e.g. a day), stacked by key (e.g. a handoff reason)."""
    frame = Frame(width, height, left=36, top=10, right=10, bottom=30)
    top = nice_ceiling(max((sum(count for _, count in parts) for _, parts in columns), default=0))
    slot = frame.plot_width / max(1, len(columns))
    bars, labels = [], []
    for index, (label, parts) in enumerate(columns):
        x = _round(frame.left + slot * index + slot * 0.15)
        base = float(frame.baseline)
        for key, count in parts:
            if count <= 0:
                continue
            size = frame.plot_height * count / top
            base -= size
            bars.append(Bar(x, _round(base), _round(slot * 0.7), _round(size), key, f"{label}: {count} {key.replace('_', ' ')}"))
        if index % max(1, label_every) == 0:
            labels.append(Tick(_round(frame.left + slot * index + slot / 2), label))
    scale = tuple(
        Point(frame.left - 6, _round(frame.baseline - frame.plot_height * step / 4), _number(round(top * step / 4, 2)))
        for step in range(5)
    )
    return BarChart(frame, tuple(bars), tuple(labels), scale)
