"""PNG figures of results, drawn with matplotlib's Agg backend (no display on servers or in jobs)."""

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


def histogram(values: np.ndarray, mean: float, ci95: Sequence[float], path: Path, title: str) -> Path:
    """Distribution of per-iteration violations per person, the mean and its 95 % CI marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    try:
        bins = min(60, max(10, int(np.sqrt(values.size))))
        ax.hist(values, bins=bins, color="#7da7d9", edgecolor="white")
        ax.axvspan(ci95[0], ci95[1], color="#d62728", alpha=0.2, label=f"95% CI [{ci95[0]:.4g}, {ci95[1]:.4g}]")
        ax.axvline(mean, color="#d62728", linewidth=2, label=f"mean {mean:.4g}")
        ax.set_xlabel("violations per person (per iteration)")
        ax.set_ylabel("iterations")
        ax.set_title(title, fontsize=10)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


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
