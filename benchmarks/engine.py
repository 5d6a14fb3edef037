"""Engine benchmark: prints tables, asserts nothing (a timed test would be flaky on a shared machine).

    python benchmarks/engine.py            # the full run (about a minute, most of it R)
    python benchmarks/engine.py --quick    # a smoke run in a few seconds

(a) the default case, 10,000 iterations on one core, against 10 iterations of the original R algorithm
    (benchmarks/original_simulation.R) in the same run, and the per-iteration speed-up;
(b) seconds per iteration and peak memory for N = 10^3 .. 10^6 at the default density (area scaled),
    each N in a fresh process so its peak RSS is its own;
(c) 100,000 iterations of the default case on all cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
R_SCRIPT = HERE / "original_simulation.R"
SEED = 42


def _params(people: int):
    from simulation.engine import Params

    side = 1000.0 * math.sqrt(people / 1000)  # keep the default density, 1 person per 1000 area units
    return Params(width=side, height=side, people=people, radius=6.0)


def head_to_head(iterations: int, r_iterations: int) -> None:
    from simulation.engine import Params, run

    result = run(Params(), iterations, SEED, workers=1)
    per_iteration = result["seconds"] / iterations
    print("(a) default case (1000 x 1000, N = 1000, r = 6), one core")
    print(f"{'implementation':<34}{'iterations':>11}{'seconds':>10}{'s / iteration':>15}{'mean':>10}")
    print(
        f"{'engine (' + result['backend'] + ')':<34}{iterations:>11}{result['seconds']:>10.3f}"
        f"{per_iteration:>15.2e}{result['mean']:>10.5f}"
    )
    r = _run_r(r_iterations)
    if r is None:
        print("R original: not run (Rscript or r-cran-doparallel missing)")
        return
    r_seconds, r_mean = r
    r_per_iteration = r_seconds / r_iterations
    print(
        f"{'R original (dist, lapply, foreach)':<34}{r_iterations:>11}{r_seconds:>10.3f}"
        f"{r_per_iteration:>15.2e}{r_mean:>10.5f}"
    )
    print(
        f"speed-up per iteration: {r_per_iteration / per_iteration:,.0f}x  "
        f"(analytic mean {result['analytic_mean']:.6f})"
    )


def _run_r(iterations: int) -> tuple[float, float] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    done = subprocess.run(
        [rscript, str(R_SCRIPT), "--args", "1000", "1000", "1000", str(iterations), "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"R original failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    values = dict(line.split() for line in done.stdout.splitlines() if line.split()[:1] in (["mean"], ["seconds"]))
    return float(values["seconds"]), float(values["mean"])


def scaling(sizes: list[tuple[int, int]]) -> None:
    print("(b) default density (1 person per 1000 area units, r = 6), one core, each N in a fresh process")
    print(
        f"{'N':>10}{'side':>10}{'iterations':>11}{'s / iteration':>15}{'run peak MB':>13}{'process RSS MB':>16}"
        f"{'mean':>10}{'analytic':>10}"
    )
    for people, iterations in sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(people), str(iterations)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(done.stdout)
        print(
            f"{people:>10,}{row['side']:>10.0f}{iterations:>11}{row['per_iteration']:>15.2e}"
            f"{row['traced_mb']:>13.1f}{row['rss_mb']:>16.1f}{row['mean']:>10.5f}"
            f"{row['analytic_mean']:>10.5f}"
        )


def child(people: int, iterations: int) -> None:
    """One scaling point. Memory two ways: tracemalloc's peak of what the run allocates (every array of the
    engine is a numpy array, which tracemalloc sees), and the process's peak RSS, which includes numpy,
    numba and LLVM themselves."""
    from simulation import _kernel
    from simulation.engine import run

    _kernel.warm_up()
    params = _params(people)
    tracemalloc.start()
    result = run(params, iterations, SEED, workers=1)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "side": params.width,
                "per_iteration": result["seconds"] / iterations,
                "traced_mb": traced_peak / 2**20,
                "rss_mb": rss_peak,
                "mean": result["mean"],
                "analytic_mean": result["analytic_mean"],
            }
        )
    )


def all_cores(iterations: int) -> None:
    from simulation.engine import Params, run

    workers = os.cpu_count() or 1
    result = run(Params(), iterations, SEED, workers=workers)
    print(f"(c) default case, {iterations:,} iterations on {result['workers']} cores")
    print(
        f"simulation {result['seconds']:.3f} s ({iterations / result['seconds']:,.0f} iterations/s), "
        f"worker start-up {result['startup_seconds']:.3f} s, mean {result['mean']:.6f} "
        f"(95% CI {result['ci95'][0]:.6f} .. {result['ci95'][1]:.6f}, analytic {result['analytic_mean']:.6f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer iterations everywhere")
    parser.add_argument("--child", nargs=2, type=int, metavar=("PEOPLE", "ITERATIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    import numpy

    from simulation import __version__, _kernel

    numba_version = getattr(sys.modules.get("numba"), "__version__", "absent")
    print(
        f"simulation {__version__}, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"numba {numba_version}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start"
    )
    started = time.perf_counter()
    _kernel.warm_up()
    print(f"kernel ready (JIT or cache load) in {time.perf_counter() - started:.2f} s, not counted below\n")
    if args.quick:
        head_to_head(1000, 1)
        print()
        scaling([(1000, 500), (10_000, 50), (100_000, 3), (1_000_000, 1)])
        print()
        all_cores(10_000)
    else:
        head_to_head(10_000, 10)
        print()
        scaling([(1000, 5000), (10_000, 500), (100_000, 20), (1_000_000, 5)])
        print()
        all_cores(100_000)


if __name__ == "__main__":
    main()
