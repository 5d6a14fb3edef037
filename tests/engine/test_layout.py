"""The block kernel's cell-sorted layout (whole grid and band by band) against brute force, and at N >= 100,000
against an independent exact sweep along x; the estimate against the analytic mean at N = 100,000."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.engine import Params, _kernel, analytic_mean, block_seed_sequence, block_uniforms, run, simulate_block

pytestmark = pytest.mark.skipif(not _kernel.HAVE_NUMBA, reason="numba not installed")


def brute_force(x: np.ndarray, y: np.ndarray, radius: float) -> int:
    """Every pair i < j, the float64 test of the contract."""
    i, j = np.triu_indices(x.size, k=1)
    dx = x[i] - x[j]
    dy = y[i] - y[j]
    return int(np.count_nonzero(dx * dx + dy * dy < radius * radius))


def sweep(x: np.ndarray, y: np.ndarray, radius: float) -> int:
    """Exact count without a grid, for N too large for brute force. Rounding is monotone, so in float64
    |dx| >= r implies dx*dx >= r*r and the pair is not counted; after sorting by x, every counted pair is
    (i, i + k) for a k below the first at which all x gaps reach r. |a - b| = |b - a| exactly, so the squares
    equal those of brute force bit for bit."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    r2 = radius * radius
    total = 0
    for k in range(1, xs.size):
        gap = xs[k:] - xs[:-k]
        near = gap < radius
        if not near.any():
            break
        dx = gap[near]
        dy = ys[k:][near] - ys[:-k][near]
        total += int(np.count_nonzero(dx * dx + dy * dy < r2))
    return total


def expected_counts(params: Params, seed: int, k: int, n_iter: int, count=brute_force) -> list[int]:
    u = block_uniforms(seed, k, n_iter, params.people)
    return [count(u[t, :, 0] * params.width, u[t, :, 1] * params.height, params.radius) for t in range(n_iter)]


def test_the_sweep_reference_equals_brute_force():
    rng = np.random.default_rng(8)
    for n, side, radius in [(500, 100.0, 6.0), (300, 10.0, 2.0), (200, 1000.0, 50.0)]:
        x, y = rng.random(n) * side, rng.random(n) * side
        assert sweep(x, y, radius) == brute_force(x, y, radius)
    k = np.arange(30, dtype=np.float64) * 6.0  # a lattice at exactly r: nothing counts, then everything
    x, y = (a.ravel() for a in np.meshgrid(k, k))
    assert sweep(x, y, 6.0) == brute_force(x, y, 6.0) == 0
    assert sweep(x, y, 6.000001) == brute_force(x, y, 6.000001) == 2 * 30 * 29


# the band path on inputs small enough for brute force: bands of 1 row, a few rows, or all rows in one band
band_points = st.sampled_from([1, 5, 40, 10**9])


@settings(max_examples=150, deadline=None)
@given(
    width=st.floats(0.5, 2000.0),
    height=st.floats(0.5, 2000.0),
    people=st.integers(2, 250),
    radius=st.one_of(st.floats(0.01, 300.0), st.sampled_from([1.0, 6.0, 25.0])),
    seed=st.integers(0, 2**63),
    k=st.integers(0, 50),
    n_iter=st.integers(1, 3),
    per_band=band_points,
)
def test_band_path_equals_brute_force(width, height, people, radius, seed, k, n_iter, per_band):
    params = Params(width, height, people, radius)
    expected = expected_counts(params, seed, k, n_iter)
    sequence = block_seed_sequence(seed, k)
    args = (n_iter, people, params.width, params.height, params.radius)
    assert list(_kernel.count_block(sequence, *args, bands=(0, per_band))) == expected
    assert list(_kernel.count_block(sequence, *args)) == expected  # the whole-grid path


@pytest.mark.parametrize(
    "params",
    [
        Params(1000, 1000, 1000, 6),  # the reference case
        Params(1, 1, 200, 0.05),  # a unit square
        Params(5000, 10, 300, 3),  # a corridor: one row of cells
        Params(10, 5000, 300, 3),  # one column
        Params(100, 100, 2000, 60),  # r beyond most of the area: few cells
        Params(1e6, 1e6, 50, 1e-3),  # sparse: no pairs at all
    ],
)
def test_shapes_equal_brute_force(params):
    expected = expected_counts(params, 3, 1, 4)
    assert list(simulate_block(params, 3, 1, 4)) == expected
    sequence = block_seed_sequence(3, 1)
    args = (4, params.people, params.width, params.height, params.radius)
    assert list(_kernel.count_block(sequence, *args, bands=(0, 64))) == expected


@pytest.mark.parametrize(
    ("people", "n_iter"),
    [(40_000, 2), (100_000, 2), (1_000_000, 1)],  # the default band path from 2**15 people on
)
def test_large_n_equals_the_sweep(people, n_iter):
    side = 1000.0 * math.sqrt(people / 1000)  # the default density
    params = Params(side, side, people, 6.0)
    assert list(simulate_block(params, 11, 5, n_iter)) == expected_counts(params, 11, 5, n_iter, count=sweep)


def test_numpy_fallback_agrees_at_100k():
    params = Params(10_000, 10_000, 100_000, 6)
    assert np.array_equal(
        simulate_block(params, 4, 0, 1, use_numba=True), simulate_block(params, 4, 0, 1, use_numba=False)
    )


def test_estimate_matches_the_analytic_mean_at_100k():
    params = Params(10_000, 10_000, 100_000, 6)  # the reference density, 100 times the people
    result = run(params, 200, seed=19, workers=1)
    assert abs(result["mean"] - analytic_mean(params)) < 4 * result["se"]
