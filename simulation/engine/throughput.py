"""How long the engine takes: a throughput model of the kernel, calibrated by `benchmarks/engine.py`.

The cost of one iteration is N people x a cost per person. At the default density (and any density where the
cell side is set by N rather than by r) that cost depends on N only, through caches: NS_PER_PERSON holds it at
four N, measured on one core of the calibration machine, interpolated linearly in log N between them. Where
r is larger than the cell the density gives, each person meets more candidates than the 2.25 of the tuned grid,
and the extra cost grows sublinearly (long candidate ranges run as vector loops): EXTRA_NS * extra**EXTRA_POWER,
a fit through two benchmark points (r = 45 at N = 1000 and at N = 20,000 in 1000 x 1000). Blocks are the unit of
work: a host's busiest worker runs ceil(blocks / workers) of them.

Every constant below is printed by `python benchmarks/engine.py` (section "calibration"): re-run it on new
hardware and copy the figures here. They are CPU time (not wall time) of the fastest block, on the project's
shared 2-core AMD EPYC machine (numba 0.68.1, numpy 2.4.6).
"""

from __future__ import annotations

import math
from typing import Any

from simulation import engine

# ns per person per iteration on one core at the default density (benchmarks/engine.py "calibration"). This
# machine is shared and its figures move with the neighbours' load (at N = 1000: 10.3 ns at load ~7, 11.4 at 9,
# 15.4 at 5.6 with both cores busy); these are the middle of the runs measured, see README "Plan before paying".
NS_PER_PERSON: dict[int, float] = {1_000: 13.0, 10_000: 13.2, 100_000: 17.0, 1_000_000: 19.5}
# candidates per person of the tuned grid (2 cells per person: 4.5 cells' area x 0.5 people per cell)
BASE_CANDIDATES = 2.25
EXTRA_NS = 4.67
EXTRA_POWER = 0.38
# a fresh process importing numpy, numba and the cached kernel: 0.87 s measured at load average 0.45 (section
# (d) prints it; under a loaded machine it grows several-fold)
LOCAL_STARTUP_SECONDS = 0.9


def candidates_per_person(params: engine.Params) -> float:
    """People each person is compared with: 4.5 cells (own half, right, three above) at the grid's density."""
    from simulation.engine._kernel import grid_shape

    side, nx, ny = grid_shape(params.width, params.height, params.people, params.radius)
    cell_area = min(side * side, params.width * params.height) if math.isfinite(side) else params.width * params.height
    return 4.5 * cell_area * params.people / (params.width * params.height)


def ns_per_person(params: engine.Params) -> float:
    """Predicted ns per person per iteration on one core of the calibration machine."""
    points = sorted(NS_PER_PERSON.items())
    n = min(max(params.people, points[0][0]), points[-1][0])
    base = points[-1][1]
    for (n0, t0), (n1, t1) in zip(points, points[1:], strict=False):
        if n <= n1:
            base = t0 + (t1 - t0) * (math.log(n) - math.log(n0)) / (math.log(n1) - math.log(n0))
            break
    extra = max(0.0, candidates_per_person(params) - BASE_CANDIDATES)
    return base + (EXTRA_NS * extra**EXTRA_POWER if extra > 0 else 0.0)


def seconds_per_iteration(params: engine.Params) -> float:
    return ns_per_person(params) * params.people * 1e-9


def compute_seconds(
    params: engine.Params, iterations: int, hosts: int = 1, workers: int = 1, speed: float = 1.0
) -> float:
    """Seconds the busiest worker of the busiest host computes: blocks go round-robin to hosts, then to
    workers; `speed` is a worker's speed relative to one core of the calibration machine."""
    size = engine.block_size(params.people)
    blocks = engine.block_count(iterations, params.people)
    per_host = -(-blocks // max(hosts, 1))
    per_worker = -(-per_host // max(workers, 1))
    return per_worker * size * seconds_per_iteration(params) / speed


def local_prediction(params: engine.Params, iterations: int, cores: int) -> dict[str, Any]:
    """A local `simulation run` on `cores` cores of the calibration machine."""
    compute = compute_seconds(params, iterations, 1, cores)
    return {
        "local_compute_seconds": compute,
        "local_startup_seconds": LOCAL_STARTUP_SECONDS,
        "local_seconds": compute + LOCAL_STARTUP_SECONDS,
        "local_cores": cores,
    }
