"""The social-distancing Monte Carlo: N people uniform in a W x H area, count pairs closer than r.

Iterations are cut into blocks whose size depends on `people` only; block k draws from its own stream,
SFC64 seeded by `SeedSequence(seed, spawn_key=(k,))`. A result is therefore a function of (params, seed,
iterations) alone: any worker count, host count or block assignment reproduces it bit for bit.
"""

from __future__ import annotations

import collections
import itertools
import math
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Any

import numpy as np

from simulation import defaults
from simulation.engine.progress import Progress, progress_callback
from simulation.errors import SimulationError

# A block holds at most this many points (x and y: 16 bytes each), whatever N is.
BLOCK_POINTS = 2_000_000
MAX_BLOCK_ITERATIONS = 1000
_Z95 = NormalDist().inv_cdf(0.975)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during `run`: `result` is the run of the blocks finished before it, in block order (None if none
    was), which is exactly what a run of `result["iterations"]` iterations with the same seed gives, since block k
    draws the same numbers whatever the run's length; `planned` is the iterations asked for."""

    def __init__(self, result: dict[str, Any] | None, planned: int) -> None:
        super().__init__("interrupted")
        self.result = result
        self.planned = planned


@dataclass(frozen=True)
class Params:
    width: float = defaults.WIDTH
    height: float = defaults.HEIGHT
    people: int = defaults.PEOPLE
    radius: float = defaults.RADIUS

    def __post_init__(self) -> None:
        for name in ("width", "height", "radius"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise SimulationError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise SimulationError(f"{name} must be a positive finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        people = self.people
        if isinstance(people, bool) or not isinstance(people, (int, np.integer)):
            raise SimulationError(f"people must be an integer, got {people!r}")
        if people < 2:
            raise SimulationError(f"people must be at least 2, got {people}")
        object.__setattr__(self, "people", int(people))


# ----------------------------------------------------------------------------------------------------------
# blocks


def block_size(people: int) -> int:
    """Iterations per block: a pure function of `people`, so every host cuts the same blocks."""
    return max(1, min(MAX_BLOCK_ITERATIONS, BLOCK_POINTS // max(int(people), 1)))


def block_count(iterations: int, people: int) -> int:
    _check_iterations(iterations)
    return -(-iterations // block_size(people))


def block_iterations(k: int, iterations: int, people: int) -> int:
    """Iterations in block k; only the last block may be shorter."""
    count = block_count(iterations, people)
    if not 0 <= k < count:
        raise SimulationError(f"block {k} is outside 0..{count - 1}")
    size = block_size(people)
    return min(size, iterations - k * size)


def block_seed_sequence(seed: int, k: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(k,))


def block_uniforms(seed: int, k: int, n_iter: int, people: int) -> np.ndarray:
    """The uniforms block k consumes, drawn by numpy: person i of iteration t stands at
    (u[t, i, 0] * width, u[t, i, 1] * height). The kernel draws the same numbers itself, without the array."""
    return np.random.Generator(np.random.SFC64(block_seed_sequence(seed, k))).random((n_iter, people, 2))


def simulate_block(params: Params, seed: int, k: int, n_iter: int, *, use_numba: bool | None = None) -> np.ndarray:
    """Close-pair count of each of the n_iter iterations of block k, as int64.

    Iteration t uses the uniforms `block_uniforms(seed, k, n_iter, people)[t]`. Because that array fills in C
    order, a shorter block is a prefix of a longer one.
    """
    from simulation.engine import _kernel

    if not 1 <= n_iter <= block_size(params.people):
        raise SimulationError(f"a block holds 1..{block_size(params.people)} iterations, got {n_iter}")
    return _kernel.count_block(
        block_seed_sequence(_check_seed(seed), k),
        n_iter,
        params.people,
        params.width,
        params.height,
        params.radius,
        use_numba=use_numba,
    )


# ----------------------------------------------------------------------------------------------------------
# statistics


def summarize(pair_counts: np.ndarray, people: int) -> dict[str, Any]:
    """mean, sd, se and normal 95% interval of violations per person, 2 * pairs / people.

    Sums are taken over exact integers and rounded once, so the floats depend on the multiset of counts
    only: no summation order, platform or merge of hosts can change a bit. With one iteration, sd, se and
    ci95 are undefined and reported as None.
    """
    counts = np.asarray(pair_counts)
    n = int(counts.size)
    if n == 0:
        raise SimulationError("no iterations to summarize")
    total, squares = _exact_sums(counts)
    scale = Fraction(2, int(people))
    mean = float(Fraction(total, n) * scale)
    result: dict[str, Any] = {"mean": mean, "sd": None, "se": None, "ci95": None}
    if n > 1:
        variance = Fraction(n * squares - total * total, n * (n - 1)) * scale * scale
        sd = math.sqrt(float(variance))
        se = math.sqrt(float(variance / n))
        result.update(sd=sd, se=se, ci95=[mean - _Z95 * se, mean + _Z95 * se])
    return result


def _exact_sums(counts: np.ndarray) -> tuple[int, int]:
    if counts.dtype.kind not in "iu":
        raise SimulationError(f"pair counts must be integers, got dtype {counts.dtype}")
    if counts.size and int(counts.min()) < 0:
        raise SimulationError("pair counts cannot be negative")
    peak = int(counts.max()) if counts.size else 0
    if peak * peak * counts.size < 2**62:  # int64 sums are exact
        wide = counts.astype(np.int64)
        return int(wide.sum()), int((wide * wide).sum())
    values = [int(v) for v in counts]
    return sum(values), sum(v * v for v in values)


def analytic_mean(params: Params) -> float:
    """Expected violations per person, (N - 1) p, with p = P(|A - B| < r) for A, B uniform in the area.

    For r <= min(W, H) p has a closed form, (pi r^2 W H - 4/3 r^3 (W + H) + r^4 / 2) / (W H)^2; beyond that
    (where the closed form is wrong) the same double integral is done by Gauss-Legendre quadrature, exact to
    ~1e-15 relative.
    """
    w, h, r = params.width, params.height, params.radius
    if r <= min(w, h):
        p = (math.pi * r * r * w * h - 4.0 / 3.0 * r**3 * (w + h) + r**4 / 2.0) / (w * w * h * h)
    else:
        p = _pair_probability_quadrature(w, h, r)
    return (params.people - 1) * p


def _pair_probability_quadrature(w: float, h: float, r: float) -> float:
    """p = 4/(W^2 H^2) * int_0^min(W,r) (W-a) * int_0^min(H, sqrt(r^2-a^2)) (H-b) db da (|dx|, |dy| densities)."""
    if r * r >= w * w + h * h:
        return 1.0
    nodes, weights = np.polynomial.legendre.leggauss(80)
    # where the inner limit switches from H to the circle
    a_h = math.sqrt(r * r - h * h) if r > h else 0.0
    a_end = min(w, r)
    total = 0.0
    if a_h > 0.0:  # inner integral is H^2/2, outer (W - a) integrates in closed form
        total += h * h / 2.0 * (w * a_h - a_h * a_h / 2.0)
    # a = r sin(theta) removes the square-root singularity of the circle at a = r
    t0, t1 = math.asin(min(1.0, a_h / r)), math.asin(min(1.0, a_end / r))
    if t1 > t0:
        theta = (t1 - t0) / 2.0 * nodes + (t1 + t0) / 2.0
        a = r * np.sin(theta)
        m = r * np.cos(theta)
        integrand = (w - a) * (h * m - m * m / 2.0) * r * np.cos(theta)
        total += (t1 - t0) / 2.0 * float(np.dot(weights, integrand))
    return 4.0 * total / (w * w * h * h)


# ----------------------------------------------------------------------------------------------------------
# running


def fresh_seed() -> int:
    """A seed from the operating system's entropy, for runs given none: reported, so the run can be repeated."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)  # SeedSequence() without arguments draws one 128-bit integer
    return entropy


def run(
    params: Params,
    iterations: int,
    seed: int | None,
    workers: int | None = None,
    progress: bool | Progress = False,
    *,
    use_numba: bool | None = None,
) -> dict[str, Any]:
    """Run every block, on `workers` threads (default: the cores usable here), and summarize; what `run --json` prints.

    `seed=None` draws fresh entropy and reports it, so even an unseeded run can be repeated. `seconds` is
    the simulation's wall time; loading the kernel (first use in this process) and starting the workers are
    in `startup_seconds`.
    """
    started = time.perf_counter()
    from simulation.engine import _kernel

    _check_iterations(iterations)
    seed = fresh_seed() if seed is None else _check_seed(seed)
    count = block_count(iterations, params.people)
    workers = _check_workers(workers, count)
    report = progress_callback(progress)
    size = block_size(params.people)
    # made as they are submitted: a billion iterations are a million blocks
    tasks = ((params, seed, k, min(size, iterations - k * size), use_numba) for k in range(count))
    backend = _kernel.backend() if use_numba is None else ("numba" if use_numba else "numpy")

    pieces: list[np.ndarray] = []
    began = time.perf_counter()
    startup = 0.0
    try:
        with _executor(workers) as pool:
            startup = time.perf_counter() - started
            began = time.perf_counter()
            done = 0
            for piece in pool(tasks):
                pieces.append(piece)
                done += piece.size
                report(done, iterations)
    except KeyboardInterrupt:
        # the executor has let the blocks in flight finish; those after the first unfinished one are dropped, so
        # what is kept is a run of its own
        seconds = time.perf_counter() - began
        finished = _result(params, seed, pieces, seconds, startup, workers, backend) if pieces else None
        raise RunInterrupted(finished, iterations) from None
    return _result(params, seed, pieces, time.perf_counter() - began, startup, workers, backend)


def _result(
    params: Params,
    seed: int,
    pieces: list[np.ndarray],
    seconds: float,
    startup: float,
    workers: int,
    backend: str,
) -> dict[str, Any]:
    pair_counts = np.concatenate(pieces)
    iterations = int(pair_counts.size)
    return {
        **summarize(pair_counts, params.people),
        "iterations": iterations,
        **asdict(params),
        "seed": seed,
        "analytic_mean": analytic_mean(params),
        "seconds": seconds,
        "startup_seconds": startup,
        "workers": workers,
        "block_size": block_size(params.people),
        "blocks": block_count(iterations, params.people),
        "backend": backend,
    }


def _simulate_task(task: tuple[Params, int, int, int, bool | None]) -> np.ndarray:
    params, seed, k, n_iter, use_numba = task
    return simulate_block(params, seed, k, n_iter, use_numba=use_numba)


class _executor:
    """A context manager yielding `map(tasks) -> iterator of results in task order`.

    Workers are threads: the numba kernel releases the GIL (nogil) and is compiled, or loaded from numba's
    cache, when `simulation.engine._kernel` is imported, so a worker starts in microseconds with the kernel ready and
    nothing is pickled, spawned or compiled again. (The numpy fallback holds the GIL for part of its work and
    gains less from threads; it is the slow path anyway.)
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Callable[[Iterable[tuple[Any, ...]]], Iterator[np.ndarray]]:
        if self.workers == 1:
            return lambda tasks: map(_simulate_task, tasks)
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="simulation")
        return self._bounded_map

    def _bounded_map(self, tasks: Iterable[tuple[Any, ...]]) -> Iterator[np.ndarray]:
        """Results in task order, with at most two tasks per worker submitted ahead. (`Executor.map` submits every
        task at once: a million blocks took seconds and memory before the first one ran, and all of them had to
        be cancelled on Ctrl-C.)"""
        assert self.pool is not None
        queue = iter(tasks)
        pending = collections.deque(
            self.pool.submit(_simulate_task, t) for t in itertools.islice(queue, 2 * self.workers)
        )
        while pending:
            result = pending.popleft().result()
            for task in itertools.islice(queue, 1):
                pending.append(self.pool.submit(_simulate_task, task))
            yield result

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------------------------------------
# the kernel on its own


def count_close_pairs(x: Any, y: Any, radius: float) -> int:
    """Number of pairs i < j with (x[i]-x[j])**2 + (y[i]-y[j])**2 < radius**2 in float64: exactly what
    brute force counts, for any finite input (duplicates, edges, pairs at exactly r), in O(N) memory."""
    from simulation.engine import _kernel

    xa = np.ascontiguousarray(x, dtype=np.float64)
    ya = np.ascontiguousarray(y, dtype=np.float64)
    if xa.ndim != 1 or ya.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-d and of equal length, got shapes {xa.shape} and {ya.shape}")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValueError("coordinates must be finite")
    radius = float(radius)
    if not radius > 0:  # also rejects NaN
        raise ValueError(f"radius must be positive, got {radius}")
    return _kernel.count_points(xa, ya, radius)


# ----------------------------------------------------------------------------------------------------------
# validation shared with the CLI


def _check_iterations(iterations: int) -> None:
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise SimulationError(f"iterations must be an integer >= 1, got {iterations!r}")


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SimulationError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_workers(workers: int | None, blocks: int) -> int:
    if workers is None:
        workers = defaults.usable_cores()
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise SimulationError(f"workers must be an integer >= 1, got {workers!r}")
    return max(1, min(int(workers), blocks))
