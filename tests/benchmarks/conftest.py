"""Benchmark helpers: timing, percentiles, and a report that prints and saves each figure."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], pct: float) -> float:
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[int(pct) - 1]


def time_calls(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def report(name: str, figures: dict[str, float | int | str]) -> None:
    """Print the figures (pytest -s shows them) and keep them as JSON for the closing note."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2))
    print(f"\n== {name}")
    for key, value in figures.items():
        print(f"   {key:<40} {value}")
