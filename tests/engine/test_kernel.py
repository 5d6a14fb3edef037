"""count_close_pairs against brute force, on random and adversarial input, through both kernels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import count_close_pairs
from simulation.engine import _kernel

BACKENDS = [pytest.param(True, id="numba"), pytest.param(False, id="numpy")]
if not _kernel.HAVE_NUMBA:  # pragma: no cover - slim environments test the fallback only
    BACKENDS = [pytest.param(False, id="numpy")]


def brute_force(x, y, radius) -> int:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    i, j = np.triu_indices(x.size, k=1)
    with np.errstate(over="ignore"):
        dx = x[i] - x[j]
        dy = y[i] - y[j]
        return int(np.count_nonzero(dx * dx + dy * dy < radius * radius))


def both(x, y, radius, use_numba: bool) -> int:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return _kernel.count_points(x, y, float(radius), use_numba=use_numba)


@pytest.mark.parametrize("use_numba", BACKENDS)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 300, 2000])
@pytest.mark.parametrize("radius", [0.01, 1.0, 6.0, 40.0, 5000.0])
def test_random_points_equal_brute_force(n, radius, use_numba):
    rng = np.random.default_rng(n * 1000 + int(radius * 100))
    x = rng.random(n) * 1000
    y = rng.random(n) * 300
    assert both(x, y, radius, use_numba) == brute_force(x, y, radius)


# coordinates from a coarse lattice (many duplicates and exact distances) or anywhere in a wide range
coordinate = st.one_of(
    st.integers(-20, 20).map(float),
    st.integers(-40, 40).map(lambda k: k * 0.1),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 5e-324, 1e-300, 1e300, -1e300, 1e15, 1e15 + 0.125]),
)
radius_strategy = st.one_of(
    st.sampled_from([0.1, 0.3, 1.0, 2.0, 5.0, 6.0, 10.0, 1e-300, 1e200]),
    st.floats(1e-3, 1e3, allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(
    points=st.lists(st.tuples(coordinate, coordinate), max_size=60),
    radius=radius_strategy,
)
def test_hypothesis_equals_brute_force(points, radius):
    x = [p[0] for p in points]
    y = [p[1] for p in points]
    expected = brute_force(x, y, radius)
    for use_numba in [p.values[0] for p in BACKENDS]:
        assert both(x, y, radius, use_numba) == expected


@pytest.mark.parametrize("use_numba", BACKENDS)
def test_pairs_at_exactly_r_are_not_counted(use_numba):
    # 3-4-5 triangles scaled to r = 5: distances exactly 5 in float64, never counted
    x = [0.0, 3.0, 100.0, 100.0, 200.0, 205.0, 300.0, 304.0]
    y = [0.0, 4.0, 0.0, 5.0, 0.0, 0.0, 0.0, 3.0]
    assert brute_force(x, y, 5.0) == 0
    assert both(x, y, 5.0, use_numba) == 0
    assert both(x, y, math.nextafter(5.0, math.inf), use_numba) == brute_force(x, y, math.nextafter(5.0, math.inf))
    assert brute_force(x, y, math.nextafter(5.0, math.inf)) == 4


@pytest.mark.parametrize("use_numba", BACKENDS)
def test_lattice_with_spacing_r(use_numba):
    # every neighbour at exactly r (not counted), every diagonal at r*sqrt(2) (not counted)
    k = np.arange(40, dtype=np.float64) * 6.0
    x, y = (a.ravel() for a in np.meshgrid(k, k))
    assert both(x, y, 6.0, use_numba) == 0
    # just above r every lattice neighbour counts: 2 * 40 * 39 horizontal + vertical pairs
    assert both(x, y, 6.000001, use_numba) == 2 * 40 * 39


@pytest.mark.parametrize("use_numba", BACKENDS)
def test_duplicates(use_numba):
    x = np.full(500, 3.25)
    y = np.full(500, 1000.0)
    assert both(x, y, 1e-9, use_numba) == 500 * 499 // 2


@pytest.mark.parametrize("use_numba", BACKENDS)
def test_points_on_the_edges_of_the_area(use_numba):
    edge = np.array([0.0, 1000.0])
    rng = np.random.default_rng(3)
    along = rng.random(400) * 1000
    x = np.concatenate([np.repeat(edge, 200), along, np.full(100, 1000.0)])
    y = np.concatenate([along, np.repeat(edge, 200), rng.random(100) * 1000])
    assert both(x, y, 6.0, use_numba) == brute_force(x, y, 6.0)


@pytest.mark.parametrize("use_numba", BACKENDS)
def test_near_r_rounding(use_numba):
    # pairs at distance r give or take an ulp, in every direction: the decision must be bit-equal
    rng = np.random.default_rng(11)
    angle = rng.random(3000) * 2 * np.pi
    base_x = rng.random(3000) * 500
    base_y = rng.random(3000) * 500
    radius = 6.0 * (1 + rng.integers(-3, 4, 3000) * 2.0**-52)
    x = np.concatenate([base_x, base_x + radius * np.cos(angle)])
    y = np.concatenate([base_y, base_y + radius * np.sin(angle)])
    assert both(x, y, 6.0, use_numba) == brute_force(x, y, 6.0)


@pytest.mark.parametrize("use_numba", BACKENDS)
def test_extreme_ranges(use_numba):
    # a span that overflows float64, points on a line, and subnormal coordinates
    x = [-1.7e308, 1.7e308, 0.0, 1.0, 1.5]
    y = [0.0, 0.0, 0.0, 0.0, 0.0]
    assert both(x, y, 1.0, use_numba) == brute_force(x, y, 1.0) == 1
    x = np.arange(10_000, dtype=np.float64) * 0.5
    y = np.zeros(10_000)
    assert both(x, y, 1.0, use_numba) == brute_force(x, y, 1.0) == 9_999
    # a tiny radius over a huge span on a line: the grid must cap its cells, not overflow
    x = [-1e300, 1e300, 1e300, 0.0]
    y = [0.0, 0.0, 0.0, 0.0]
    assert both(x, y, 1e-100, use_numba) == brute_force(x, y, 1e-100) == 1
    sub = np.array([0.0, 5e-324, 1e-323, 3e-323])
    assert both(sub, sub, 1e-323, use_numba) == brute_force(sub, sub, 1e-323)


def test_public_function_validates_input():
    assert count_close_pairs([], [], 6) == 0
    assert count_close_pairs([1.0], [2.0], 6) == 0
    assert count_close_pairs([0, 1], [0, 1], 2) == 1
    assert count_close_pairs((0, 3), (0, 4), 5) == 0
    with pytest.raises(ValueError, match="equal length"):
        count_close_pairs([0, 1], [0], 1)
    with pytest.raises(ValueError, match="finite"):
        count_close_pairs([0, math.nan], [0, 0], 1)
    with pytest.raises(ValueError, match="radius"):
        count_close_pairs([0, 1], [0, 0], 0)
    with pytest.raises(ValueError, match="radius"):
        count_close_pairs([0, 1], [0, 0], math.nan)


def test_memory_is_linear():
    # the grid may hold at most ~4 cells per point, whatever the shape of the cloud
    for span_x, span_y, n, radius in [(1e9, 1e-9, 1000, 1e-12), (1e6, 1e6, 10, 1e-6), (1.0, 1.0, 10**6, 1e-9)]:
        side, nx, ny = _kernel.grid_shape(span_x, span_y, n, radius)
        assert nx * ny <= 4 * n + 16
        assert side >= radius


def test_cache_fallback_when_no_cache_location(monkeypatch):
    """A read-only install makes numba refuse cache=True; the kernel must still compile, uncached."""
    numba = pytest.importorskip("numba")
    real = numba.njit

    def picky(*args, **kwargs):
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", picky)
    from simulation.engine import _numba_kernel

    compiled = _numba_kernel.jit(lambda a: a + 1, "int64(int64)")
    assert compiled._cache.__class__.__name__ == "NullCache"
    assert compiled(41) == 42


@pytest.mark.skipif(not _kernel.HAVE_NUMBA, reason="numba not installed")
def test_kernel_source_says_whether_the_cache_served_it(tmp_path):
    """A fresh cache directory: the first process compiles (and fills the cache), the next one loads it."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = "from simulation.engine import _kernel; print(_kernel.kernel_source())"
    sources = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert sources == ["compiled\n", "cache\n"]
