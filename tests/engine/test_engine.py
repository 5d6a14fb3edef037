"""Blocks, streams, statistics and the analytic expectation."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from simulation.engine import (
    Params,
    _kernel,
    analytic_mean,
    block_count,
    block_iterations,
    block_size,
    run,
    simulate_block,
    summarize,
)
from simulation.errors import SimulationError

DEFAULT = Params(1000, 1000, 1000, 6)
TIMING_KEYS = {"seconds", "startup_seconds", "workers"}


def close_pair_probability(width: float, height: float, radius: float, steps: int = 400_000) -> float:
    """P(two uniform points of a width x height rectangle are closer than radius), derived independently of the
    engine: |X1 - X2| has density 2 (W - u) / W^2 on [0, W] and |Y1 - Y2| the CDF G(t) = (2 t H - t^2) / H^2 up
    to H (the triangular distribution of a difference of two uniforms), so p = int_0^W 2 (W - u) / W^2
    G(sqrt(r^2 - u^2)) du, here by the midpoint rule on `steps` points (error ~ 1e-9 for these cases)."""
    u = (np.arange(steps) + 0.5) * (min(width, radius) / steps)
    t = np.minimum(np.sqrt(np.maximum(radius * radius - u * u, 0.0)), height)
    cdf = (2 * t * height - t * t) / (height * height)
    density = 2 * (width - u) / (width * width)
    return float(np.sum(density * cdf) * (min(width, radius) / steps))


def test_block_size_is_a_pure_function_of_people():
    assert block_size(1000) == 1000
    assert block_size(2) == 1000
    assert block_size(10_000) == 200
    assert block_size(1_000_000) == 2
    assert block_size(10_000_000) == 1
    assert all(block_size(n) * n <= 2_000_000 or block_size(n) == 1 for n in range(2, 5000, 7))


def test_blocks_cover_the_iterations_once():
    for iterations, people in [(1, 1000), (999, 1000), (1000, 1000), (10_001, 1000), (7, 1_000_000)]:
        count = block_count(iterations, people)
        sizes = [block_iterations(k, iterations, people) for k in range(count)]
        assert sum(sizes) == iterations
        assert all(s == block_size(people) for s in sizes[:-1])
        assert 1 <= sizes[-1] <= block_size(people)
    with pytest.raises(SimulationError, match="block 3"):
        block_iterations(3, 3000, 1000)


def test_simulate_block_is_reproducible_and_streams_differ():
    params = Params(200, 100, 300, 4)
    a = simulate_block(params, 7, 0, 500)
    assert a.dtype == np.int64
    assert a.shape == (500,)
    assert np.array_equal(a, simulate_block(params, 7, 0, 500))
    # a shorter block is a prefix: iteration t of block k never depends on how many follow it
    assert np.array_equal(a[:123], simulate_block(params, 7, 0, 123))
    assert not np.array_equal(a, simulate_block(params, 7, 1, 500))
    assert not np.array_equal(a, simulate_block(params, 8, 0, 500))


@pytest.mark.parametrize("use_numba", [pytest.param(True, id="numba"), pytest.param(False, id="numpy")])
def test_simulate_block_draws_from_the_documented_stream(use_numba):
    """Any host can recompute block k from the contract alone, with numpy's own SFC64:
    Generator(SFC64(SeedSequence(seed, spawn_key=(k,)))).random((n_iter, people, 2)), person i of iteration t
    at (u[t, i, 0] * width, u[t, i, 1] * height). The numba kernel runs its own copy of SFC64, so this also
    checks that copy against numpy's, bit for bit."""
    if use_numba and not _kernel.HAVE_NUMBA:
        pytest.skip("numba not installed")
    params = Params(50, 80, 40, 7)
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(99, spawn_key=(3,))))
    u = rng.random((20, 40, 2))
    expected = []
    i, j = np.triu_indices(params.people, k=1)
    for t in range(20):
        x, y = u[t, :, 0] * params.width, u[t, :, 1] * params.height
        dx, dy = x[i] - x[j], y[i] - y[j]
        expected.append(np.count_nonzero(dx * dx + dy * dy < params.radius**2))
    assert np.array_equal(simulate_block(params, 99, 3, 20, use_numba=use_numba), expected)


@pytest.mark.skipif(not _kernel.HAVE_NUMBA, reason="numba not installed")
def test_numba_and_numpy_blocks_agree():
    for params, n_iter in [
        (DEFAULT, 200),
        (Params(30, 3000, 500, 2.5), 200),
        (Params(10, 10, 50, 30), 200),
        (Params(7000, 7000, 50_000, 6), 3),  # the band path
    ]:
        fast = simulate_block(params, 5, 2, n_iter, use_numba=True)
        slow = simulate_block(params, 5, 2, n_iter, use_numba=False)
        assert np.array_equal(fast, slow)


def test_run_is_independent_of_workers():
    params = Params(300, 300, 2500, 5)  # 800 iterations per block: 3 blocks
    one = run(params, 2100, seed=123, workers=1)
    two = run(params, 2100, seed=123, workers=2)
    assert one["blocks"] == 3
    assert two["workers"] == 2
    assert {k: v for k, v in one.items() if k not in TIMING_KEYS} == {
        k: v for k, v in two.items() if k not in TIMING_KEYS
    }


def test_results_do_not_depend_on_how_blocks_are_split_or_merged():
    params = Params(400, 250, 700, 6)
    iterations = 7000
    blocks = [
        simulate_block(params, 2024, k, block_iterations(k, iterations, params.people))
        for k in range(block_count(iterations, params.people))
    ]
    in_order = summarize(np.concatenate(blocks), params.people)
    # two "hosts" each took every other block and their results were merged in arrival order
    host_a, host_b = blocks[0::2], blocks[1::2]
    merged = summarize(np.concatenate(host_b + host_a), params.people)
    assert merged == in_order
    assert run(params, iterations, seed=2024, workers=1)["mean"] == in_order["mean"]


@pytest.mark.parametrize(
    ("params", "iterations"),
    [
        (Params(1000, 1000, 1000, 6), 4000),  # the reference case
        (Params(500, 100, 400, 3), 4000),  # a narrow room
        (Params(100, 100, 200, 15), 3000),  # dense, large radius
        (Params(30, 200, 60, 45), 3000),  # r > min(W, H): the quadrature branch
        (Params(10, 10, 5, 20), 3000),  # r beyond the diagonal: everyone is close
    ],
)
def test_estimate_matches_the_analytic_mean(params, iterations):
    result = run(params, iterations, seed=31, workers=1)
    expected = (params.people - 1) * close_pair_probability(params.width, params.height, params.radius)
    assert result["analytic_mean"] == pytest.approx(expected, rel=1e-6)
    if result["se"] == 0:
        assert result["mean"] == expected
    else:
        assert abs(result["mean"] - expected) < 4 * result["se"]
        assert result["ci95"][0] < result["mean"] < result["ci95"][1]


def test_analytic_mean_values():
    assert analytic_mean(DEFAULT) == pytest.approx(0.112409, abs=5e-7)
    # the quadrature agrees with the closed form where both hold
    w, h, r = 300.0, 200.0, 200.0
    from simulation.engine.montecarlo import _pair_probability_quadrature

    closed = (math.pi * r * r * w * h - 4 / 3 * r**3 * (w + h) + r**4 / 2) / (w * w * h * h)
    assert _pair_probability_quadrature(w, h, r) == pytest.approx(closed, rel=1e-12)
    assert _pair_probability_quadrature(w, h, math.nextafter(r, 1e9)) == pytest.approx(closed, rel=1e-12)
    assert analytic_mean(Params(3, 4, 11, 5)) == pytest.approx(10.0)


def test_summarize_known_values():
    result = summarize(np.array([1, 2, 3]), people=2)  # violations per person 1, 2, 3
    assert result["mean"] == 2.0
    assert result["sd"] == 1.0
    assert result["se"] == pytest.approx(1 / math.sqrt(3))
    assert result["ci95"] == pytest.approx([2 - 1.959963984540054 / math.sqrt(3), 2 + 1.959963984540054 / math.sqrt(3)])
    single = summarize(np.array([5]), people=10)
    assert single == {"mean": 1.0, "sd": None, "se": None, "ci95": None}
    with pytest.raises(SimulationError, match="no iterations"):
        summarize(np.array([], dtype=np.int64), 10)


def test_summarize_is_exact_and_order_free():
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 10**9, 100_001)
    a = summarize(counts, 1001)
    b = summarize(counts[::-1].copy(), 1001)
    assert a == b
    total = sum(int(c) for c in counts)
    assert a["mean"] == float(Fraction(2 * total, 1001 * counts.size))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"people": 1}, "people must be at least 2"),
        ({"people": 2.5}, "people must be an integer"),
        ({"width": 0}, "width must be a positive"),
        ({"height": -1}, "height must be a positive"),
        ({"radius": math.inf}, "radius must be a positive"),
        ({"radius": "6"}, "radius must be a number"),
    ],
)
def test_params_are_validated(kwargs, message):
    with pytest.raises(SimulationError, match=message):
        Params(**{"width": 10, "height": 10, "people": 10, "radius": 1, **kwargs})


def test_run_validates_its_arguments():
    with pytest.raises(SimulationError, match="iterations"):
        run(DEFAULT, 0, seed=1)
    with pytest.raises(SimulationError, match="seed"):
        run(DEFAULT, 10, seed=-1)
    with pytest.raises(SimulationError, match="workers"):
        run(DEFAULT, 10, seed=1, workers=0)


def test_unseeded_runs_report_a_seed_that_reproduces_them():
    first = run(Params(100, 100, 50, 5), 300, seed=None, workers=1)
    again = run(Params(100, 100, 50, 5), 300, seed=first["seed"], workers=1)
    assert first["mean"] == again["mean"]
    assert first["sd"] == again["sd"]


def test_progress_callback_sees_every_iteration():
    seen = []
    run(Params(100, 100, 1000, 5), 2500, seed=1, workers=1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]
