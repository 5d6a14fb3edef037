"""The defaults of a run (and the bounds of one on this machine), defined once: `engine.Params`, `run`,
`local-job`, `submit`, `sweep`, `cost` (the planner), the Python client and R (`for_r()`) all read them here,
and `simulation.options` declares them as the command-line options of every parser.

There is no default seed on purpose. A run given none draws fresh entropy (`engine.fresh_seed`) and reports it
(output, run.json, summary manifest), so repeated submissions are independent samples that may be pooled, and any
one of them can be repeated exactly by passing its seed again. A fixed default (the old 42) made every
submission return the same sample, so pooling them silently counted one sample many times.

The number of workers has no fixed default either: it is `usable_cores()`, the cores this process may run on.
"""

from __future__ import annotations

import os
from typing import Any

from simulation.errors import SimulationError

WIDTH = 1000.0
HEIGHT = 1000.0
PEOPLE = 1000
RADIUS = 6.0
ITERATIONS = 10_000  # the original workflow's full run (seed 000: "10,000 iterations ... 1 hour and 33 minutes")

RUN = {"width": WIDTH, "height": HEIGHT, "people": PEOPLE, "radius": RADIUS, "iterations": ITERATIONS}

# What one machine can hold and finish (`run`, `local-job`, R's run_simulation/local_job). 10 million people are
# 160 MB of coordinates per worker and iteration (beyond that memory, not time, runs out); 10^12 placed people
# (iterations x people) take hours here (the reference case, 10^7, takes about a third of a second): bigger runs
# belong on SageMaker (`submit`).
MAX_LOCAL_PEOPLE = 10_000_000
MAX_LOCAL_POINTS = 10**12


def fill(**given: Any) -> dict[str, Any]:
    """Every run parameter: the value given, or its default where it is None (a name outside RUN is an error)."""
    unknown = set(given) - set(RUN)
    if unknown:
        raise TypeError(f"not a run parameter: {', '.join(sorted(unknown))}")
    return {name: RUN[name] if given.get(name) is None else given[name] for name in RUN}


def check_local_size(people: int, iterations: int) -> None:
    """One line instead of a MemoryError or a local run that would not end today."""
    if people > MAX_LOCAL_PEOPLE:
        raise SimulationError(f"run: --people {people} is more than {MAX_LOCAL_PEOPLE:,} (the memory one machine has)")
    if people * iterations > MAX_LOCAL_POINTS:
        raise SimulationError(
            f"run: {iterations:,} iterations of {people:,} people place {people * iterations:.2e} people, more than "
            f"{MAX_LOCAL_POINTS:.0e} (hours on one machine); use fewer iterations, or `submit` with more instances"
        )


def for_r() -> dict[str, Any]:
    """The run defaults as a plain dict (a fresh copy): what R's `run_defaults()` shows through reticulate."""
    return dict(RUN)


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the OS has one (Linux: a container's or
    taskset's cpuset, which `os.cpu_count()` ignores), else the machine's count. The default worker count of a
    local run, of each host of a job, and of the planner's local prediction."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
