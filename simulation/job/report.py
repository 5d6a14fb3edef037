"""What a finished run leaves for a person to look at, the same on every path.

`local-job`, `merge` and `results` write the same files (`write_outputs`): summary.json, output_result_mean.txt,
iterations.csv (one row per iteration) and histogram.png; `run`, `local-job` and `merge` print the result in one
format (`describe`). The histogram's bins lie on the values' lattice: violations per person are 2 * pairs / N,
multiples of 2/N, and bins of a whole number of lattice steps with edges between lattice points are never empty
by aliasing (a bin that fell between two multiples would be).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from simulation.errors import SimulationError
from simulation.job import layout, records
from simulation.job.merge import MergedResult

MAX_BINS = 60
# iterations.csv has one row per iteration; beyond this many (~35 MB) it is left out and the run says so (the
# pair counts stay in blocks/).
MAX_CSV_ROWS = 1_000_000
Z95 = NormalDist().inv_cdf(0.975)


# --- the histogram's bins --------------------------------------------------------------------------------------


def lattice_edges(steps: np.ndarray, max_bins: int = MAX_BINS) -> np.ndarray:
    """Bin edges, in lattice steps, for integer data: each bin holds the same number of consecutive integers and its
    edges lie halfway between two, so only the data can leave a bin empty. The width is the smallest of those with
    at most `max_bins` bins and no empty bin between the first and the last (gaps in a sparse tail widen it)."""
    data = np.asarray(steps, dtype=np.int64)
    low, high = int(data.min()), int(data.max())
    span = high - low + 1
    for bins in range(min(max_bins, span), 0, -1):
        width = -(-span // bins)
        count = -(-span // width)
        if np.bincount((data - low) // width, minlength=count).all():
            return low - 0.5 + width * np.arange(count + 1, dtype=float)
    raise AssertionError("one bin holding every value is never empty")


def lattice_of(values: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """(steps, origin, step) when every value is origin + an integer number of steps (values an R script computed
    as 2 * pairs / N are); None for values on no lattice."""
    distinct = np.unique(values)
    if distinct.size < 2:
        return np.zeros(values.shape, dtype=np.int64), float(distinct[0]), 1.0
    step = float(np.diff(distinct).min())
    position = (values - distinct[0]) / step
    steps = np.rint(position)
    if steps.max() > 10**6 or not np.allclose(position, steps, rtol=0, atol=1e-6):
        return None
    return steps.astype(np.int64), float(distinct[0]), step


def histogram_edges(values: np.ndarray, step: float | None = None) -> np.ndarray:
    """Bin edges in the values' units: on the lattice of `step` (or the one the values reveal), else even bins."""
    if step is not None:
        steps = np.rint(values / step).astype(np.int64)
        return lattice_edges(steps) * step
    found = lattice_of(values)
    if found is None:
        return np.histogram_bin_edges(values, bins=min(MAX_BINS, max(10, int(math.sqrt(values.size)))))
    steps, origin, unit = found
    return origin + lattice_edges(steps) * unit


# --- files ------------------------------------------------------------------------------------------------------


def write_outputs(
    directory: Path,
    summary: dict[str, Any],
    values: np.ndarray,
    columns: dict[str, Sequence[Any]],
    *,
    step: float | None = None,
    title: str = "",
    mean_file: bool = True,
) -> list[str]:
    """iterations.csv (`columns`, then violations_per_person), histogram.png, summary.json and (unless `mean_file`
    is False) output_result_mean.txt into `directory`; returns the names written. What had to be left out is
    said in the summary's `notes`."""
    written = []
    notes = []
    if values.size <= MAX_CSV_ROWS:
        records.write_atomic(directory / layout.ITERATIONS_FILE, _csv(columns, values))
        written.append(layout.ITERATIONS_FILE)
    else:
        notes.append(f"{layout.ITERATIONS_FILE} left out: {values.size:,} iterations, more than {MAX_CSV_ROWS:,} rows")
    if histogram(values, summary, directory / layout.PLOT_FILE, title or _title(summary), step=step):
        written.append(layout.PLOT_FILE)
    else:
        notes.append(f"{layout.PLOT_FILE} needs matplotlib: pip install 'simulation[client]'")
    if notes:
        summary.setdefault("notes", []).extend(notes)
    records.write_json(directory / layout.SUMMARY_FILE, summary)
    written.insert(0, layout.SUMMARY_FILE)
    if mean_file:
        records.write_atomic(directory / layout.MEAN_FILE, f"{summary['mean']!r}\n")
        written.insert(1, layout.MEAN_FILE)
    return written


def write_merged(directory: Path, merged: MergedResult, extra: dict[str, Any] | None = None) -> list[str]:
    """Every output of a merged simulation run (one job, or one sweep point) into `directory`; `extra` keys (the
    job's name, its S3 URI) go into summary.json first."""
    summary = {**(extra or {}), **merged.summary}
    columns = simulation_columns(merged.pair_counts, int(summary["block_size"]), summary["manifest"]["blocks_by_host"])
    written = write_outputs(directory, summary, merged.violations(), columns, step=2.0 / merged.params.people)
    merged.summary.update({k: v for k, v in summary.items() if k == "notes"})
    return written


def _csv(columns: dict[str, Sequence[Any]], values: np.ndarray) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*columns, "violations_per_person"])
    writer.writerows(zip(*columns.values(), (repr(float(v)) for v in values), strict=True))
    return out.getvalue()


def simulation_columns(
    pair_counts: np.ndarray, block_size: int, blocks_by_host: dict[str, list[int]]
) -> dict[str, Sequence[Any]]:
    """iterations.csv's columns for the bundled simulation: iteration (1-based), block, host, pair_count."""
    host_of = {block: host for host, blocks in blocks_by_host.items() for block in blocks}
    blocks = np.arange(pair_counts.size) // block_size
    return {
        "iteration": range(1, pair_counts.size + 1),
        "block": blocks.tolist(),
        "host": [host_of.get(int(b), "") for b in blocks],
        "pair_count": pair_counts.tolist(),
    }


def _title(summary: dict[str, Any]) -> str:
    if "people" in summary:
        return (
            f"{summary['iterations']:,} iterations of {summary['people']:,} people in {summary['width']:g} x "
            f"{summary['height']:g}, radius {summary['radius']:g}\nseed {summary['seed']}"
        )
    return f"{summary['iterations']:,} iterations from {len(summary.get('hosts', []))} host(s)"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def legend(summary: dict[str, Any]) -> dict[str, str]:
    """The plot's legend: the mean with its 95 % CI written out (the interval is far narrower than the distribution
    of single iterations, so drawn alone it would be a hairline), and the analytic value where there is one."""
    labels = {"mean": f"mean {float(summary['mean']):.5g}"}
    if summary.get("ci95") is not None:
        low, high = summary["ci95"]
        labels["mean"] += f", 95% CI [{float(low):.5g}, {float(high):.5g}]"
    if summary.get("analytic_mean") is not None:
        labels["analytic"] = f"analytic (N-1)p {float(summary['analytic_mean']):.5g}"
    return labels


def histogram(values: np.ndarray, summary: dict[str, Any], path: Path, title: str, step: float | None = None) -> bool:
    """Distribution of per-iteration violations per person on the lattice's bins, the mean, its 95 % CI (shaded
    and in the legend) and the analytic value. False when matplotlib is not installed."""
    try:
        plt = _pyplot()
    except ImportError:
        return False
    labels = legend(summary)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    try:
        ax.hist(values, bins=histogram_edges(values, step), color="#7da7d9", edgecolor="white")
        if summary.get("ci95") is not None:
            ax.axvspan(float(summary["ci95"][0]), float(summary["ci95"][1]), color="#d62728", alpha=0.25)
        ax.axvline(float(summary["mean"]), color="#d62728", linewidth=2, label=labels["mean"])
        if "analytic" in labels:
            ax.axvline(
                float(summary["analytic_mean"]), color="black", linestyle="--", linewidth=1, label=labels["analytic"]
            )
        ax.set_xlabel("violations per person (per iteration)")
        ax.set_ylabel("iterations")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return True


# --- what every command prints ----------------------------------------------------------------------------------


def describe(summary: dict[str, Any], output: Path | None = None, files: Sequence[str] = ()) -> str:
    """The result as `run`, `local-job` and `merge` print it: the mean and its interval first, then what was run,
    then where it ran, then where the files are."""
    mean = f"mean violations per person: {summary['mean']:.6f}"
    if summary.get("ci95") is not None:
        low, high = summary["ci95"]
        mean += f" (95% CI {low:.6f} to {high:.6f}"
        mean += f"; analytic {summary['analytic_mean']:.6f})" if summary.get("analytic_mean") is not None else ")"
    elif summary.get("analytic_mean") is not None:
        mean += f" (one iteration: no interval; analytic {summary['analytic_mean']:.6f})"
    lines = [mean]
    if "people" in summary:
        spread = f"sd {summary['sd']:.6f}, se {summary['se']:.6f}; " if summary.get("sd") is not None else ""
        lines.append(
            f"  {spread}{summary['iterations']} iterations of {summary['people']} people in {summary['width']:g} x "
            f"{summary['height']:g}, radius {summary['radius']:g}, seed {summary['seed']}"
        )
    elif summary.get("sd") is not None:
        lines.append(f"  sd {summary['sd']:.6f}, se {summary['se']:.6f}; {summary['iterations']} iterations")
    where = []
    blocks = f"{summary['blocks']} blocks" if summary.get("blocks") is not None else ""
    if summary.get("hosts"):
        where.append(
            f"{blocks + ' from ' if blocks else ''}{len(summary['hosts'])} host(s) {', '.join(summary['hosts'])}"
        )
    elif blocks:
        where.append(blocks)
    if summary.get("seconds") is not None:
        workers = f" on {summary['workers']} worker(s)" if summary.get("workers") else ""
        where.append(f"{summary['seconds']:.3f} s{workers}")
    if summary.get("backend"):
        where.append(f"{summary['backend']} kernel")
    if where:
        lines.append("  " + ", ".join(where))
    if output is not None:
        lines.append(f"  output: {output} ({', '.join(files)})")
    lines += [f"  note: {note}" for note in summary.get("notes", [])]
    return "\n".join(lines)


# --- a user's R script: the hosts' per-iteration files put together ---------------------------------------------


def _host_rank(path: Path) -> tuple[int, str]:
    name = path.stem
    number = name.removeprefix("algo-")
    return (int(number), name) if number.isdigit() else (10**6, name)


def _read_values(path: Path) -> tuple[list[str], list[float]]:
    """(iteration labels, values) of one host's iterations/<host>.csv; one line naming what is wrong otherwise."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "violations_per_person" not in reader.fieldnames:
            raise SimulationError(f"{path}: no violations_per_person column (header {reader.fieldnames})")
        labels, values = [], []
        for line, row in enumerate(reader, start=2):
            try:
                value = float(row["violations_per_person"])
            except (TypeError, ValueError):
                value = math.nan
            if not math.isfinite(value):
                raise SimulationError(f"{path} line {line}: violations_per_person {row['violations_per_person']!r}")
            values.append(value)
            labels.append(row.get("iteration") or str(len(values)))
    return labels, values


def value_summary(values: np.ndarray) -> dict[str, Any]:
    """mean, sd, se and normal 95 % interval of per-iteration values (the engine's `summarize` for counts)."""
    n = values.size
    mean = math.fsum(values.tolist()) / n
    result: dict[str, Any] = {"mean": mean, "sd": None, "se": None, "ci95": None, "iterations": n}
    if n > 1:
        sd = math.sqrt(math.fsum(((values - mean) ** 2).tolist()) / (n - 1))
        se = sd / math.sqrt(n)
        result.update(sd=sd, se=se, ci95=[mean - Z95 * se, mean + Z95 * se])
    return result


def combine_script_output(
    source: Path, dest: Path, hosts: Sequence[str] = ()
) -> tuple[dict[str, Any], list[str]] | None:
    """The iterations/<host>.csv files an R script's hosts wrote under `source`, in host order, as the same outputs
    as a simulation's in `dest`; None when the script wrote none. The script's own output_result_mean.txt (a
    single host's) is kept."""
    files = sorted((source / layout.SCRIPT_ITERATIONS_DIR).glob("*.csv"), key=_host_rank)
    if not files:
        return None
    labels: list[str] = []
    owners: list[str] = []
    values: list[float] = []
    for path in files:
        these, numbers = _read_values(path)
        labels += these
        values += numbers
        owners += [path.stem] * len(numbers)
    if not values:
        raise SimulationError(f"{source / layout.SCRIPT_ITERATIONS_DIR}: the hosts' files hold no iterations")
    array = np.asarray(values, dtype=float)
    summary = {**value_summary(array), "hosts": [p.stem for p in files]}
    missing = [host for host in hosts if host not in summary["hosts"]]
    if missing:
        summary["notes"] = [f"{', '.join(missing)} wrote no {layout.SCRIPT_ITERATIONS_DIR}/<host>.csv"]
    dest.mkdir(parents=True, exist_ok=True)
    keep = (dest / layout.MEAN_FILE).exists()
    written = write_outputs(dest, summary, array, {"iteration": labels, "host": owners}, mean_file=not keep)
    return summary, written
