"""Engine benchmark: prints tables, asserts nothing (a timed test would be flaky on a shared machine).

    python benchmarks/engine.py                       # the full run (a few minutes, one of them R)
    python benchmarks/engine.py --quick               # a smoke run in a few seconds
    python benchmarks/engine.py --image simulation-job  # also the job image: size, first block in a container

(a) the reference case, 10,000 iterations on one core, against 10 iterations of the original R algorithm
    (benchmarks/original_simulation.R) in the same run, and the per-iteration speed-up;
(b) cost per person per iteration for N = 10^3 .. 10^6 at the default density, and peak memory, each N in a
    fresh process so its peak RSS is its own;
(c) 100,000 iterations of the reference case on all cores: in this process, and as a fresh
    `python -m simulation run` from exec to exit;
(d) the calibration of the throughput model (simulation/throughput.py): CPU time per person per iteration,
    the dense-grid fit, the local start-up;
(e) with --image: the job image's size and how long after its entrypoint starts the first block is done.

Timings are the minimum of repeats; (a), (b) and (d) also give CPU time (of the fastest block), which neighbours
on a shared machine disturb less than wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
R_SCRIPT = HERE / "original_simulation.R"
SEED = 42


def _square(people: int, radius: float = 6.0):
    from simulation.engine import Params

    side = 1000.0 * math.sqrt(people / 1000)  # the default density, 1 person per 1000 area units
    return Params(width=side, height=side, people=people, radius=radius)


def timed_blocks(params, iterations: int, repeats: int) -> tuple[float, float]:
    """Seconds per iteration on one core: wall time of the whole `iterations` (best of `repeats` runs), and the
    CPU time of the fastest block (of all blocks of all runs), the figure neighbours disturb least."""
    from simulation.engine import block_iterations, simulate_block

    walls, block_cpu = [], []
    for repeat in range(repeats):
        wall = time.perf_counter()
        done, k = 0, repeat * 10_000
        while done < iterations:
            n = block_iterations(0, iterations - done, params.people)
            cpu = time.thread_time()
            simulate_block(params, SEED, k, n)
            block_cpu.append((time.thread_time() - cpu) / n)
            done, k = done + n, k + 1
        walls.append(time.perf_counter() - wall)
    return min(walls) / iterations, min(block_cpu)


def head_to_head(iterations: int, r_iterations: int) -> None:
    from simulation.engine import Params, analytic_mean, run

    result = run(Params(), iterations, SEED, workers=1)
    wall, cpu = timed_blocks(Params(), iterations, 3)
    print("(a) reference case (1000 x 1000, N = 1000, r = 6), one core")
    print(
        f"{'implementation':<38}{'iterations':>11}{'seconds':>10}{'s / iteration':>15}{'CPU s / it.':>13}{'mean':>10}"
    )
    print(
        f"{'engine (numba kernel), best of 3':<38}{iterations:>11}{wall * iterations:>10.3f}{wall:>15.2e}{cpu:>13.2e}"
        f"{result['mean']:>10.5f}"
    )
    r = _run_r(r_iterations)
    if r is None:
        print("R original: not run (Rscript or r-cran-doparallel missing)")
        return
    r_seconds, r_mean = r
    r_per_iteration = r_seconds / r_iterations
    print(
        f"{'R original (dist, lapply, foreach)':<38}{r_iterations:>11}{r_seconds:>10.3f}{r_per_iteration:>15.2e}"
        f"{'':>13}{r_mean:>10.5f}"
    )
    print(
        f"speed-up per iteration, same run: {r_per_iteration / wall:,.0f}x (wall)  "
        f"(analytic mean {analytic_mean(Params()):.6f})"
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


def scaling(sizes: list[tuple[int, int]]) -> dict[int, float]:
    print("(b) default density (1 person per 1000 area units, r = 6), one core, each N in a fresh process")
    print(
        f"{'N':>10}{'side':>8}{'iter.':>7}{'s / iteration':>15}{'ns / person':>13}{'vs N=1000':>11}{'CPU ns/p':>10}"
        f"{'vs N=1000':>11}{'run peak MB':>13}{'RSS MB':>8}{'mean':>10}{'analytic':>10}"
    )
    cpu_ns: dict[int, float] = {}
    first = first_cpu = None
    for people, iterations in sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(people), str(iterations)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(done.stdout)
        per_person = row["per_iteration"] / people * 1e9
        cpu_ns[people] = row["cpu_per_iteration"] / people * 1e9
        first = first or per_person
        first_cpu = first_cpu or cpu_ns[people]
        print(
            f"{people:>10,}{row['side']:>8.0f}{iterations:>7}{row['per_iteration']:>15.2e}{per_person:>13.2f}"
            f"{per_person / first:>10.2f}x{cpu_ns[people]:>10.2f}{cpu_ns[people] / first_cpu:>10.2f}x"
            f"{row['traced_mb']:>13.1f}{row['rss_mb']:>8.0f}{row['mean']:>10.5f}{row['analytic_mean']:>10.5f}"
        )
    return cpu_ns


def child(people: int, iterations: int) -> None:
    """One scaling point. Memory two ways: tracemalloc's peak of what the run allocates (every array of the
    engine is a numpy array, which tracemalloc sees), and the process's peak RSS, which includes numpy,
    numba and LLVM themselves."""
    from simulation.engine import run

    params = _square(people)
    wall, cpu = timed_blocks(params, iterations, 3)
    tracemalloc.start()
    result = run(params, iterations, SEED, workers=1)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "side": params.width,
                "per_iteration": wall,
                "cpu_per_iteration": cpu,
                "traced_mb": traced_peak / 2**20,
                "rss_mb": rss_peak,
                "mean": result["mean"],
                "analytic_mean": result["analytic_mean"],
            }
        )
    )


def all_cores(iterations: int) -> None:
    from simulation import defaults
    from simulation.engine import Params, run

    workers = defaults.usable_cores()
    started = time.perf_counter()
    result = run(Params(), iterations, SEED, workers=workers)
    wall = time.perf_counter() - started
    print(f"(c) reference case, {iterations:,} iterations on {result['workers']} cores (worker threads)")
    print(
        f"in this process: {wall:.3f} s wall = {result['startup_seconds']:.4f} s worker start-up + "
        f"{result['seconds']:.3f} s simulation ({iterations / result['seconds']:,.0f} iterations/s); "
        f"mean {result['mean']:.6f} (95% CI {result['ci95'][0]:.6f} .. {result['ci95'][1]:.6f}, "
        f"analytic {result['analytic_mean']:.6f})"
    )
    command = [sys.executable, "-m", "simulation", "run", "--iterations", str(iterations), "--seed", str(SEED)]
    walls = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([*command, "--json"], capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
    print(
        f"a fresh `python -m simulation run --iterations {iterations}` from exec to exit: "
        f"{min(walls):.3f} s (best of 3)"
    )


def calibration(cpu_ns: dict[int, float], quick: bool) -> None:
    """The throughput model's constants (simulation/throughput.py), from CPU time on one core."""
    from simulation.engine import throughput

    print("(d) calibration of simulation/throughput.py (one core, CPU time of the fastest block)")
    print("NS_PER_PERSON = {" + ", ".join(f"{n:_}: {v:.1f}" for n, v in sorted(cpu_ns.items())) + "}")
    from simulation.engine import Params

    dense = [(Params(1000, 1000, 1000, 45.0), 200 if quick else 2000), (Params(1000, 1000, 20_000, 45.0), 20)]
    extras = []
    for params, iterations in dense:
        _, cpu = timed_blocks(params, iterations, 3)
        measured = cpu / params.people * 1e9
        base = throughput.NS_PER_PERSON[1000] if params.people == 1000 else _interpolate(cpu_ns, params.people)
        extra_candidates = throughput.candidates_per_person(params) - throughput.BASE_CANDIDATES
        extras.append((extra_candidates, measured - base))
        print(
            f"  N = {params.people:,} in 1000 x 1000, r = {params.radius:g}: {extra_candidates:.1f} extra candidates "
            f"per person, {measured:.2f} ns per person ({measured - base:+.2f} over the default density)"
        )
    (x0, y0), (x1, y1) = extras
    if min(x0, x1, y0, y1) > 0:
        power = math.log(y1 / y0) / math.log(x1 / x0)
        print(f"EXTRA_POWER = {power:.2f}, EXTRA_NS = {y0 / x0**power:.2f}  (a power law through the two points)")
    loads = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import simulation.engine, simulation.engine._kernel"], check=True)
        loads.append(time.perf_counter() - started)
    print(f"LOCAL_STARTUP_SECONDS = {min(loads):.2f}  (a fresh interpreter importing the engine and cached kernel)")


def _interpolate(table: dict[int, float], people: int) -> float:
    points = sorted(table.items())
    for (n0, t0), (n1, t1) in zip(points, points[1:], strict=False):
        if n0 <= people <= n1:
            return t0 + (t1 - t0) * (math.log(people) - math.log(n0)) / (math.log(n1) - math.log(n0))
    return points[-1][1]


def image(name: str) -> None:
    """The job image: podman's size, and the first block of a one-host job in it (no network)."""
    print(f"(e) job image {name}")
    inspected = subprocess.run(["podman", "image", "inspect", name, "--format", "{{.Size}}"], capture_output=True)
    if inspected.returncode != 0:
        print(f"  not found: {inspected.stderr.decode().strip()}")
        return
    print(f"  podman image inspect size: {int(inspected.stdout) / 1e6:.0f} MB")
    ages, loads = [], []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as root:
            (Path(root) / "config").mkdir()
            (Path(root) / "config" / "resourceconfig.json").write_text('{"current_host":"algo-1","hosts":["algo-1"]}')
            done = subprocess.run(
                ["podman", "run", "--rm", "--network=none", f"--volume={root}:/opt/ml", name, "simulate"]
                + ["--width=1000", "--height=1000", "--people=1000", "--radius=6", "--iterations=1000", "--seed=1"],
                capture_output=True,
                text=True,
                check=False,
            )
        first = done.stderr.splitlines()[:1]
        block = re.search(r"block 000000 done .* ([0-9.]+) s after the entrypoint started", done.stderr)
        loaded = re.search(r"kernel from (\w+) \(loaded in ([0-9.]+) s\)", done.stderr)
        if done.returncode != 0 or block is None or loaded is None:
            print(f"  the job failed: {done.stderr.strip()[-500:]}")
            return
        ages.append(float(block.group(1)))
        loads.append(float(loaded.group(2)))
    print(f"  first log line: {first[0]}")
    print(
        f"  first block (1000 iterations) done {min(ages):.2f} s after the entrypoint started "
        f"(kernel loaded in {min(loads):.2f} s), best of 3"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer iterations everywhere")
    parser.add_argument("--image", help="also measure this job image (podman)")
    parser.add_argument("--child", nargs=2, type=int, metavar=("PEOPLE", "ITERATIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    started = time.perf_counter()
    import numpy

    from simulation import __version__
    from simulation.engine import _kernel

    loaded = time.perf_counter() - started
    print(
        f"simulation {__version__}, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"{_kernel.describe().split(', ')[1]}, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    print(f"kernel from {_kernel.kernel_source()}, loaded with numpy and numba in {loaded:.2f} s, not counted below\n")
    if args.quick:
        head_to_head(1000, 1)
        print()
        cpu_ns = scaling([(1000, 500), (10_000, 50), (100_000, 4), (1_000_000, 2)])
        print()
        all_cores(10_000)
    else:
        head_to_head(10_000, 10)
        print()
        cpu_ns = scaling([(1000, 10_000), (10_000, 1000), (100_000, 40), (1_000_000, 6)])
        print()
        all_cores(100_000)
    print()
    calibration(cpu_ns, args.quick)
    if args.image:
        print()
        image(args.image)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
