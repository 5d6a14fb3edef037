"""A sweep's PNG figure, drawn with matplotlib's Agg backend (no display on servers or in jobs); a run's histogram
is `simulation.job.report.histogram`, the same on every path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def sweep_plot(
    rows: Sequence[dict[str, Any]],
    analytic: Callable[[dict[str, Any]], float],
    path: Path,
    title: str,
) -> Path:
    """Mean with 95 % CI against `people`, one series per (width, height, radius), and the analytic curve."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    try:
        groups: dict[tuple[float, float, float], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault((row["width"], row["height"], row["radius"]), []).append(row)
        for index, ((width, height, radius), points) in enumerate(sorted(groups.items())):
            color = f"C{index % 10}"
            points = sorted(points, key=lambda r: r["people"])
            people = np.array([p["people"] for p in points], dtype=float)
            means = np.array([p["mean"] for p in points])
            low = means - np.array([p["ci95_low"] for p in points])
            high = np.array([p["ci95_high"] for p in points]) - means
            label = f"r={radius:g}, {width:g}x{height:g}"
            ax.errorbar(people, means, yerr=[low, high], fmt="o", color=color, capsize=3, label=f"{label} simulated")
            grid = np.unique(np.linspace(people.min(), people.max(), 100).round().astype(int))
            curve = [analytic({"width": width, "height": height, "people": int(n), "radius": radius}) for n in grid]
            ax.plot(grid, curve, "-", color=color, alpha=0.6, label=f"{label} analytic")
        ax.set_xlabel("people")
        ax.set_ylabel("mean violations per person")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path
