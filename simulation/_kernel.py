"""Close-pair counting on a uniform grid: a numba kernel and a pure-numpy fallback that count the same pairs.

Both decide a pair with the same float64 expression as brute force, `dx*dx + dy*dy < r*r` (no fused
multiply-add, no sqrt), so their counts equal brute force exactly; the grid only chooses which pairs to
compare. Correctness of the grid rests on one property: a pair that brute force counts always lands in the
same or adjacent cells. `grid_shape` guarantees it (see there), for any finite input.
"""

from __future__ import annotations

import math
import os

import numpy as np

# Cells are a hair wider than r, so rounding in `(x - x0) * inv_side` (relative error ~3 ulp of a cell
# coordinate that is at most MAX_CELLS_PER_AXIS) can never push a counted pair two cells apart.
_SIDE_SLACK = 1.0 + 1e-6
_MAX_CELLS_PER_AXIS = 1 << 22
# About one point per cell at the tuned density: fewer cells cost comparisons, more cost zeroing and scanning.
_CELL_DENSITY = 1.2
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
        side = max(side, math.sqrt(span_x) * math.sqrt(span_y / (n * _CELL_DENSITY)))
    side = max(side, span_x / (_MAX_CELLS_PER_AXIS - 1), span_y / (_MAX_CELLS_PER_AXIS - 1))
    max_cells = 4 * n + 16
    while True:
        nx = int(span_x / side) + 1
        ny = int(span_y / side) + 1
        if nx * ny <= max_cells and nx <= _MAX_CELLS_PER_AXIS and ny <= _MAX_CELLS_PER_AXIS:
            return side, nx, ny
        side *= 2.0


# ----------------------------------------------------------------------------------------------------------
# numba kernel


def _pairs_grid(x, y, x0, y0, inv_side, nx, ny, r2, cell, start, xs, ys):  # pragma: no cover - jitted
    """Counting sort of the points into cells, then each point against the later points of its own cell,
    the cell to its right and the three cells of the next row (each adjacent pair of cells visited once)."""
    n = x.shape[0]
    ncell = nx * ny
    for c in range(ncell + 1):
        start[c] = 0
    for i in range(n):
        # one cell means the span overflowed or r is huge: skip the arithmetic, which may give NaN
        cx = 0 if nx == 1 else int((x[i] - x0) * inv_side)
        cy = 0 if ny == 1 else int((y[i] - y0) * inv_side)
        if cx > nx - 1:
            cx = nx - 1
        if cy > ny - 1:
            cy = ny - 1
        c = cy * nx + cx
        cell[i] = c
        start[c + 1] += 1
    for c in range(ncell):
        start[c + 1] += start[c]
    # scatter; `start[c]` walks to the end of cell c and is shifted back afterwards
    for i in range(n):
        c = cell[i]
        k = start[c]
        xs[k] = x[i]
        ys[k] = y[i]
        start[c] = k + 1
    for c in range(ncell, 0, -1):
        start[c] = start[c - 1]
    start[0] = 0

    pairs = 0
    for cy in range(ny):
        row = cy * nx
        for cx in range(nx):
            c = row + cx
            a0 = start[c]
            a1 = start[c + 1]
            if a0 == a1:
                continue
            # own cell after i, then the right-hand cell: one contiguous range
            same_end = start[c + 2] if cx + 1 < nx else a1
            if cy + 1 < ny:
                lo = cx - 1 if cx > 0 else cx
                hi = cx + 1 if cx + 1 < nx else cx
                up0 = start[row + nx + lo]
                up1 = start[row + nx + hi + 1]
            else:
                up0 = 0
                up1 = 0
            for i in range(a0, a1):
                xi = xs[i]
                yi = ys[i]
                for j in range(i + 1, same_end):
                    dx = xi - xs[j]
                    dy = yi - ys[j]
                    if dx * dx + dy * dy < r2:
                        pairs += 1
                for j in range(up0, up1):
                    dx = xi - xs[j]
                    dy = yi - ys[j]
                    if dx * dx + dy * dy < r2:
                        pairs += 1
    return pairs


def _count_block(u, width, height, inv_side, nx, ny, r2, out, x, y, cell, start, xs, ys):  # pragma: no cover
    """u: (iterations, 2, N) uniforms in [0, 1); iteration t places its points at (u[t,0]*width, u[t,1]*height).
    The work arrays come from the caller (numpy), so memory is allocated once per block and visible to
    tracemalloc."""
    n_iter = u.shape[0]
    n = u.shape[2]
    for t in range(n_iter):
        for i in range(n):
            x[i] = u[t, 0, i] * width
            y[i] = u[t, 1, i] * height
        out[t] = _pairs_grid_jit(x, y, 0.0, 0.0, inv_side, nx, ny, r2, cell, start, xs, ys)


def _jit(function):
    """Compile with an on-disk cache when a cache location is writable; without one (read-only
    site-packages and no writable home or NUMBA_CACHE_DIR) compile once per process instead of failing."""
    import numba

    try:
        return numba.njit(cache=True, nogil=True)(function)
    except (RuntimeError, OSError):
        return numba.njit(nogil=True)(function)


def _load_numba() -> bool:
    if os.environ.get("SIMLAB_NO_NUMBA"):
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


HAVE_NUMBA = _load_numba()
if HAVE_NUMBA:
    _pairs_grid_jit = _jit(_pairs_grid)
    _count_block_jit = _jit(_count_block)


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


def count_block_numpy(u, width, height, inv_side, nx, ny, r2, out) -> None:
    for t in range(u.shape[0]):
        out[t] = count_points_numpy(u[t, 0] * width, u[t, 1] * height, 0.0, 0.0, inv_side, nx, ny, r2)


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
        cell, start, xs, ys = _work_arrays(n, nx, ny)
        return int(_pairs_grid_jit(x, y, x0, y0, inv_side, nx, ny, r2, cell, start, xs, ys))
    return count_points_numpy(x, y, x0, y0, inv_side, nx, ny, r2)


def count_block(
    u: np.ndarray, width: float, height: float, radius: float, *, use_numba: bool | None = None
) -> np.ndarray:
    """Close-pair counts of each iteration of a (iterations, 2, N) block of uniforms."""
    side, nx, ny = grid_shape(width, height, u.shape[2], radius)
    out = np.empty(u.shape[0], np.int64)
    args = (u, width, height, 1.0 / side, nx, ny, radius * radius, out)
    if _want_numba(use_numba):
        n = u.shape[2]
        _count_block_jit(*args, np.empty(n), np.empty(n), *_work_arrays(n, nx, ny))
    else:
        count_block_numpy(*args)
    return out


def _work_arrays(n: int, nx: int, ny: int) -> tuple[np.ndarray, ...]:
    """cell of each point, cell starts (+2 so `start[c + 2]` needs no bounds check), points in cell order."""
    return np.empty(n, np.int64), np.empty(nx * ny + 2, np.int64), np.empty(n), np.empty(n)


def _want_numba(use_numba: bool | None) -> bool:
    if use_numba and not HAVE_NUMBA:
        raise RuntimeError("numba is not importable here")
    return HAVE_NUMBA if use_numba is None else use_numba


def backend() -> str:
    return "numba" if HAVE_NUMBA else "numpy"


def warm_up() -> None:
    """Compile (or load from the cache) every kernel once, so no timed run pays for JIT."""
    u = np.full((1, 2, 3), 0.5)
    count_block(u, 1.0, 1.0, 0.1)
    count_points(u[0, 0], u[0, 1], 0.1)
