"""Close-pair counting on a cell-sorted grid: a numba kernel and a pure-numpy fallback that count the same pairs.

Both decide a pair with the same float64 expression as brute force, `dx*dx + dy*dy < r*r` (no fused
multiply-add, no sqrt), so their counts equal brute force exactly; the grid only chooses which pairs to
compare. Correctness of the grid rests on one property: a pair that brute force counts always lands in the
same or adjacent cells. `grid_shape` guarantees it (see there), for any finite input.

Layout (numba, in _numba_kernel.py beside this module). Points are counting-sorted by cell, row-major, into `xs`/`ys`;
`start[c]` is the first sorted index of cell c. Each row of the grid has one always-empty cell on either side
and one always-empty row follows the last, so the neighbours of any cell exist and need no bounds test: a
point at sorted index i in cell c meets its close partners in two contiguous ranges, `[i + 1, start[c + 2])`
(the rest of its cell and the cell to the right) and `[start[c + row - 1], start[c + row + 2])` (the three
cells of the next row), each adjacent pair of cells visited once. Each range is read as a fixed-length window
with a mask plus a rarely taken tail loop: the ranges are short and of random length, and a loop per range
costs a mispredicted branch per point, more than the arithmetic. Large N first buckets the points into bands
of grid rows and then sorts and counts one band at a time in two reused slots, so the work stays in cache and
the cost per person stays nearly flat in N.

Random stream (block path). Iteration t of a block draws 2N uniforms from SFC64 and places person i at
(u[2i] * width, u[2i + 1] * height): exactly `Generator(SFC64(seed_sequence)).random((n_iter, N, 2))`, with
the generator implemented inside the kernel (numpy's SFC64 algorithm and its 53-bit double conversion), so no
array of uniforms is materialized. The numpy fallback draws the same array with numpy itself.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

# Cells are a hair wider than r, so rounding in `(x - x0) * inv_side` (relative error ~3 ulp of a cell
# coordinate that is at most MAX_CELLS_PER_AXIS) can never push a counted pair two cells apart.
_SIDE_SLACK = 1.0 + 1e-6
_MAX_CELLS_PER_AXIS = 1 << 22
# Cells per person at the tuned density: more cells mean shorter ranges (fewer comparisons, the windows
# rarely overflow) but more cells to zero and scan while sorting. Measured by benchmarks/engine.py --tune.
_CELLS_PER_POINT = 2.0
# The numpy fallback expands candidate pairs in slices of this many, so its memory stays O(N).
_NUMPY_CHUNK = 1 << 20


def grid_shape(span_x: float, span_y: float, n: int, radius: float) -> tuple[float, int, int]:
    """Cell side and cell counts for points spanning [0, span_x] x [0, span_y].

    The side is at least radius * (1 + 1e-6) and the grid holds at most ~4n cells (memory O(n)) and
    2**22 cells per axis (bounds the rounding in cell coordinates). A span that overflowed to inf gets
    one cell, where the grid degenerates to brute force but stays exact.
    """
    if not (math.isfinite(span_x) and math.isfinite(span_y) and math.isfinite(radius)):
        return math.inf, 1, 1
    # the floor keeps 1 / side finite for subnormal radii (a wider cell is always safe)
    side = max(radius * _SIDE_SLACK, 2.0**-1000)
    if n > 0:  # square roots first, so a huge area cannot overflow
        side = max(side, math.sqrt(span_x) * math.sqrt(span_y / (n * _CELLS_PER_POINT)))
    side = max(side, span_x / (_MAX_CELLS_PER_AXIS - 1), span_y / (_MAX_CELLS_PER_AXIS - 1))
    max_cells = 4 * n + 16
    while True:
        nx = int(span_x / side) + 1
        ny = int(span_y / side) + 1
        if nx * ny <= max_cells and nx <= _MAX_CELLS_PER_AXIS and ny <= _MAX_CELLS_PER_AXIS:
            return side, nx, ny
        side *= 2.0


def _load_numba() -> Any:
    if os.environ.get("SIMLAB_NO_NUMBA"):
        return None
    try:
        import numba  # noqa: F401
    except ImportError:
        return None
    from simulation.engine import _numba_kernel

    return _numba_kernel


_NUMBA = _load_numba()
HAVE_NUMBA = _NUMBA is not None


def describe() -> str:
    """numpy and numba versions, as a job's first log line states them."""
    numba_version = __import__("numba").__version__ if HAVE_NUMBA else "not used"
    return f"numpy {np.__version__}, numba {numba_version}"


def kernel_source() -> str:
    """'cache' when the compiled kernel was loaded from numba's on-disk cache, 'compiled' when it was compiled
    in this process, 'numpy' without numba (what a job's first log line reports)."""
    return _NUMBA.source() if HAVE_NUMBA else "numpy"


# ----------------------------------------------------------------------------------------------------------
# numpy fallback: the same cells, candidate pairs expanded in bounded slices


def _ranges_pairs(i_idx: np.ndarray, lo: np.ndarray, hi: np.ndarray, xs, ys, r2: float) -> int:
    """Count close pairs (i, j) for j in [lo, hi) per i, in slices of at most _NUMPY_CHUNK candidates."""
    lengths = np.maximum(hi - lo, 0)
    keep = lengths > 0
    i_idx, lo, lengths = i_idx[keep], lo[keep], lengths[keep]
    if i_idx.size == 0:
        return 0
    total = 0
    ends = np.cumsum(lengths)
    begin = 0
    while begin < i_idx.size:
        base = ends[begin - 1] if begin else 0
        stop = int(np.searchsorted(ends, base + _NUMPY_CHUNK, side="right"))
        stop = max(stop, begin + 1)
        seg_len = lengths[begin:stop]
        owner = np.repeat(np.arange(begin, stop), seg_len)
        offsets = np.arange(owner.size) - np.repeat(np.cumsum(seg_len) - seg_len, seg_len)
        j = lo[owner] + offsets
        i = i_idx[owner]
        with np.errstate(over="ignore"):  # an overflowing square is inf: not close, as in brute force
            dx = xs[i] - xs[j]
            dy = ys[i] - ys[j]
            total += int(np.count_nonzero(dx * dx + dy * dy < r2))
        begin = stop
    return total


def _cell_axis(v: np.ndarray, v0: float, inv_side: float, cells: int) -> np.ndarray:
    if cells == 1:
        return np.zeros(v.shape[0], np.int64)
    return np.minimum(((v - v0) * inv_side).astype(np.int64), cells - 1)


def count_points_numpy(x, y, x0, y0, inv_side, nx, ny, r2) -> int:
    n = x.shape[0]
    cx = _cell_axis(x, x0, inv_side, nx)
    cy = _cell_axis(y, y0, inv_side, ny)
    cell = cy * nx + cx
    order = np.argsort(cell, kind="stable")
    xs, ys, cell = x[order], y[order], cell[order]
    start = np.zeros(nx * ny + 2, np.int64)
    np.cumsum(np.bincount(cell, minlength=nx * ny), out=start[1 : nx * ny + 1])
    start[nx * ny + 1] = n
    idx = np.arange(n)
    pcx, pcy = cell % nx, cell // nx
    # own cell after i, plus the right-hand cell
    same_end = np.where(pcx + 1 < nx, start[np.minimum(cell + 2, nx * ny)], start[cell + 1])
    total = _ranges_pairs(idx, idx + 1, same_end, xs, ys, r2)
    # the three cells of the next row
    has_up = pcy + 1 < ny
    lo_c = (pcy + 1) * nx + np.maximum(pcx - 1, 0)
    hi_c = (pcy + 1) * nx + np.minimum(pcx + 1, nx - 1) + 1
    lo_c, hi_c = np.where(has_up, lo_c, 0), np.where(has_up, hi_c, 0)
    total += _ranges_pairs(idx, start[lo_c], np.where(has_up, start[hi_c], 0), xs, ys, r2)
    return total


# ----------------------------------------------------------------------------------------------------------
# dispatch


def count_points(x: np.ndarray, y: np.ndarray, radius: float, *, use_numba: bool | None = None) -> int:
    """Exact close-pair count of arbitrary finite points (validated by the caller)."""
    n = x.shape[0]
    if n < 2:
        return 0
    x0, y0 = float(x.min()), float(y.min())
    side, nx, ny = grid_shape(float(x.max()) - x0, float(y.max()) - y0, n, radius)
    inv_side = 1.0 / side
    r2 = radius * radius
    if _want_numba(use_numba):
        return int(_NUMBA.count_points(x, y, x0, y0, inv_side, nx, ny, r2, *_NUMBA.points_work(n, nx, ny)))
    return count_points_numpy(x, y, x0, y0, inv_side, nx, ny, r2)


def sfc64_state(seed_sequence: np.random.SeedSequence) -> np.ndarray:
    """numpy's seeding of SFC64 (words a, b, c and the counter after its warm-up rounds), for the kernel."""
    return np.array(np.random.SFC64(seed_sequence).state["state"]["state"], dtype=np.uint64)


def count_block(
    seed_sequence: np.random.SeedSequence,
    n_iter: int,
    people: int,
    width: float,
    height: float,
    radius: float,
    *,
    use_numba: bool | None = None,
    bands: tuple[int, int] | None = None,
) -> np.ndarray:
    """Close-pair counts of n_iter iterations drawn from the stream of `seed_sequence` (module docstring).

    `bands=(from_people, points_per_band)` overrides when and how the numba kernel sorts band by band (for the
    tests, which run that path on inputs small enough for brute force); the counts never depend on it."""
    side, nx, ny = grid_shape(width, height, people, radius)
    out = np.empty(n_iter, np.int64)
    inv_side, r2 = 1.0 / side, radius * radius
    if _want_numba(use_numba):
        band_from, band_points = bands or (_NUMBA.BAND_SORT_POINTS, _NUMBA.BAND_POINTS)
        shift, work = _NUMBA.block_work(people, nx, ny, band_points)
        state = sfc64_state(seed_sequence)
        _NUMBA.count_block(state, n_iter, people, width, height, inv_side, nx, ny, shift, band_from, r2, out, *work)
        return out
    u = np.random.Generator(np.random.SFC64(seed_sequence)).random((n_iter, people, 2))
    for t in range(n_iter):
        out[t] = count_points_numpy(u[t, :, 0] * width, u[t, :, 1] * height, 0.0, 0.0, inv_side, nx, ny, r2)
    return out


def _want_numba(use_numba: bool | None) -> bool:
    if use_numba and not HAVE_NUMBA:
        raise RuntimeError("numba is not importable here")
    return HAVE_NUMBA if use_numba is None else use_numba


def backend() -> str:
    return "numba" if HAVE_NUMBA else "numpy"


def warm_up() -> None:
    """Compile (or load) count_points too; the block kernel compiles (or loads) when this module is imported."""
    count_points(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.5, 1.0]), 0.6)
