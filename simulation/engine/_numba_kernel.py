"""The numba kernel (imported only where numba is installed; see simulation.engine._kernel for the layout, the random
stream and the numpy fallback that counts the same pairs).

Indices are cast to unsigned where arrays are read: numba then skips its negative-index wrap-around test,
which otherwise costs more than the comparison it guards (every index here is >= 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba import uint64 as u64

# Window lengths of the two ranges of a point; longer ranges take the tail loop. At 2 cells per person the
# ranges hold 0.75 and 1.5 points on average.
SAME_WINDOW = 2
UP_WINDOW = 4
SPARE = max(SAME_WINDOW, UP_WINDOW)  # entries after the sorted points, so a window never reads past the array
# From this many points on, sort band by band (the whole grid no longer fits in the L2 cache), bands of 2**k
# grid rows holding about BAND_POINTS points.
BAND_SORT_POINTS = 1 << 15
BAND_POINTS = 1 << 13
UINT64_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53, numpy's conversion of (next64 >> 11) to [0, 1)
_F8 = "float64[::1]"
_I8 = "int64[::1]"
# The block entry point carries an explicit signature: compiled, or loaded from numba's on-disk cache, when
# this module is imported, so the first block pays nothing and `source()` can say whether the cache served it.
# The helpers compile as part of it (and are not loaded on their own when it comes from the cache); so does
# count_points, which the jobs never call directly and which loads (or compiles) on its first own call.
COUNT_BLOCK_SIGNATURE = (
    f"void(uint64[::1], int64, int64, float64, float64, float64, int64, int64, int64, int64, float64, {_I8}, {_F8}, "
    f"{_F8}, {_F8}, {_F8}, {_I8}, {_I8}, {_I8}, {_I8})"
)


def jit(function: Callable[..., Any], signature: str | None = None) -> Any:
    """Compile with an on-disk cache when a cache location is writable; without one (read-only
    site-packages and no writable home or NUMBA_CACHE_DIR) compile once per process instead of failing."""
    for cache in (True, False):
        try:
            if signature is None:
                return numba.njit(cache=cache, nogil=True)(function)
            return numba.njit(signature, cache=cache, nogil=True)(function)
        except (RuntimeError, OSError):
            if not cache:
                raise
    raise AssertionError("unreachable")


def _kernel(signature: str | None = None) -> Callable[[Callable[..., Any]], Any]:
    return lambda function: jit(function, signature)


@_kernel()
def _sfc64(s):
    """One step of SFC64 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, as numpy.random.SFC64)."""
    a, b, c, w = s[0], s[1], s[2], s[3]
    out = a + b + w
    s[3] = w + u64(1)
    s[0] = b ^ (b >> u64(11))
    s[1] = c + (c << u64(3))
    s[2] = ((c << u64(24)) | (c >> u64(40))) + out
    return out


@_kernel()
def _uniform(s):
    return (_sfc64(s) >> u64(11)) * UINT64_TO_UNIT


@_kernel()
def _cell(v, v0, inv_side, cells):
    # one cell means the span overflowed or r is huge: skip the arithmetic, which may give NaN
    if cells == 1:
        return 0
    k = int((v - v0) * inv_side)
    return cells - 1 if k > cells - 1 else k


@_kernel()
def _pairs_from(a0, a1, up, r2, xs, ys, scell, start):
    """Pairs whose lower sorted index is in [a0, a1) (see the module's layout note); `up` is how far the cell
    above a cell is in `start` (one padded row in the whole-grid layout).

    Each range is read as a window of fixed length with a mask, then a tail loop that rarely runs. xs/ys carry
    spare entries at the end, so a window never reads past them. (Written out twice rather than as a helper:
    numba does not inline a separately compiled helper into this loop, and the call costs more than the work.)
    """
    pairs = 0
    for i in range(a0, a1):
        c = scell[u64(i)]
        xi = xs[u64(i)]
        yi = ys[u64(i)]
        j0 = i + 1
        j1 = start[u64(c + 2)]
        for m in range(SAME_WINDOW):
            j = j0 + m
            dx = xi - xs[u64(j)]
            dy = yi - ys[u64(j)]
            pairs += (dx * dx + dy * dy < r2) & (j < j1)
        if j1 > j0 + SAME_WINDOW:
            for j in range(j0 + SAME_WINDOW, j1):
                dx = xi - xs[u64(j)]
                dy = yi - ys[u64(j)]
                pairs += dx * dx + dy * dy < r2
        j0 = start[u64(c + up - 1)]
        j1 = start[u64(c + up + 2)]
        for m in range(UP_WINDOW):
            j = j0 + m
            dx = xi - xs[u64(j)]
            dy = yi - ys[u64(j)]
            pairs += (dx * dx + dy * dy < r2) & (j < j1)
        if j1 > j0 + UP_WINDOW:
            for j in range(j0 + UP_WINDOW, j1):
                dx = xi - xs[u64(j)]
                dy = yi - ys[u64(j)]
                pairs += dx * dx + dy * dy < r2
    return pairs


@_kernel()
def _sort_points(x, y, x0, y0, inv_side, nx, ny, xs, ys, scell, start, cell):
    """Stable counting sort of all points by padded cell `cy * (nx + 2) + cx + 1` (plus one empty row)."""
    n = x.shape[0]
    row = nx + 2
    ncell = (ny + 1) * row
    for c in range(ncell + 2):
        start[u64(c)] = 0
    for i in range(n):
        c = _cell(y[u64(i)], y0, inv_side, ny) * row + _cell(x[u64(i)], x0, inv_side, nx) + 1
        cell[u64(i)] = c
        start[u64(c + 2)] += 1
    # counts sit two places up; the running sum (kept in a register) leaves start[c + 1] = first index of cell c
    total = 0
    for c in range(2, ncell + 2):
        total += start[u64(c)]
        start[u64(c)] = total
    for i in range(n):
        c = cell[u64(i)]
        k = start[u64(c + 1)]
        xs[u64(k)] = x[u64(i)]
        ys[u64(k)] = y[u64(i)]
        scell[u64(k)] = c
        start[u64(c + 1)] = k + 1


@_kernel()
def count_points(x, y, x0, y0, inv_side, nx, ny, r2, xs, ys, scell, start, cell):
    _sort_points(x, y, x0, y0, inv_side, nx, ny, xs, ys, scell, start, cell)
    return _pairs_from(0, x.shape[0], nx + 2, r2, xs, ys, scell, start)


@_kernel()
def _sort_band(a0, a1, dst, base, r0, rows, inv_side, nx, ny, xy, xs, ys, scell, start, cell):
    """Counting sort of one band's points (x, y) = xy[2k], xy[2k + 1] for k in [a0, a1) (grid rows r0 .. r0 +
    rows - 1) by cell into xs/ys from index dst on, with the band's padded cells at start[base:base + rows *
    (nx + 2) + 2]."""
    row = nx + 2
    for c in range(base, base + rows * row + 2):
        start[u64(c)] = 0
    for k in range(a0, a1):
        cy = _cell(xy[u64(2 * k + 1)], 0.0, inv_side, ny) - r0
        c = base + cy * row + _cell(xy[u64(2 * k)], 0.0, inv_side, nx) + 1
        cell[u64(k - a0)] = c
        start[u64(c + 2)] += 1
    start[u64(base)] = dst
    total = dst
    for c in range(base + 1, base + rows * row + 2):
        total += start[u64(c)]
        start[u64(c)] = total
    for k in range(a0, a1):
        c = cell[u64(k - a0)]
        m = start[u64(c + 1)]
        xs[u64(m)] = xy[u64(2 * k)]
        ys[u64(m)] = xy[u64(2 * k + 1)]
        scell[u64(m)] = c
        start[u64(c + 1)] = m + 1


@_kernel()
def _band_pairs(base, rows, above, row, r2, xs, ys, scell, start):
    """Pairs whose lower point is in the band sorted at `base`; the cells above its last row start at `above`."""
    last = base + (rows - 1) * row
    pairs = _pairs_from(start[u64(base)], start[u64(last)], row, r2, xs, ys, scell, start)
    return pairs + _pairs_from(start[u64(last)], start[u64(last + row)], above - last, r2, xs, ys, scell, start)


@_kernel()
def _block_iteration(
    s, n, width, height, inv_side, nx, ny, shift, band_from, r2, x, y, xs, ys, scell, start, cell, bstart
):
    """One iteration: draw n people from the generator state `s` (advanced), return the close-pair count.
    Below `band_from` people (BAND_SORT_POINTS; the tests lower it) the whole grid is sorted at once."""
    if n < band_from:
        for i in range(n):
            x[u64(i)] = _uniform(s) * width
            y[u64(i)] = _uniform(s) * height
        return count_points(x[:n], y, 0.0, 0.0, inv_side, nx, ny, r2, xs, ys, scell, start, cell)
    # Large n: bucket the points into bands of 2**shift grid rows (few enough that the bucket ends stay in L1),
    # then sort one band at a time into one of two slots, count the band below once the one above is sorted,
    # and reuse its slot: the sorted points never leave the cache. Bucketing needs the bands' sizes before
    # the first point is placed, so the points are drawn twice from the same state (cheaper than writing and
    # re-reading them: the generator is a few additions).
    bands = ((ny - 1) >> shift) + 1
    saved = s.copy()
    for b in range(bands + 2):
        bstart[u64(b)] = 0
    for _ in range(n):
        _uniform(s)
        bstart[u64((_cell(_uniform(s) * height, 0.0, inv_side, ny) >> shift) + 2)] += 1
    total = 0
    widest = 0
    for b in range(2, bands + 2):
        widest = max(widest, bstart[u64(b)])
        total += bstart[u64(b)]
        bstart[u64(b)] = total
    for _ in range(n):
        xi = _uniform(saved) * width
        yi = _uniform(saved) * height
        b = _cell(yi, 0.0, inv_side, ny) >> shift
        k = bstart[u64(b + 1)]
        x[u64(2 * k)] = xi  # one stream per band: x holds (x, y) pairs here (it has room for 2n values)
        x[u64(2 * k + 1)] = yi
        bstart[u64(b + 1)] = k + 1
    # band b's points are now the pairs k in [bstart[b], bstart[b + 1]) of x
    half = widest + SPARE  # a slot's points and the windows' spare
    if 2 * half > xs.shape[0]:  # one band holds most points
        xs = np.zeros(2 * half)
        ys = np.zeros(2 * half)
        scell = np.empty(2 * half, np.int64)
    row = nx + 2
    slot = (1 << shift) * row + 2
    pairs = 0
    for b in range(bands):
        this = b & 1
        r0 = b << shift
        _sort_band(
            bstart[u64(b)],
            bstart[u64(b + 1)],
            this * half,
            this * slot,
            r0,
            min(1 << shift, ny - r0),
            inv_side,
            nx,
            ny,
            x,
            xs,
            ys,
            scell,
            start,
            cell,
        )
        if b > 0:
            pairs += _band_pairs((1 - this) * slot, 1 << shift, this * slot, row, r2, xs, ys, scell, start)
    # the last band has nothing above it
    last = ((bands - 1) & 1) * slot
    above = slot - last
    for c in range(above, above + row + 2):
        start[u64(c)] = 0
    return pairs + _band_pairs(last, ny - ((bands - 1) << shift), above, row, r2, xs, ys, scell, start)


@_kernel(COUNT_BLOCK_SIGNATURE)
def count_block(
    s, n_iter, n, width, height, inv_side, nx, ny, shift, band_from, r2, out, x, y, xs, ys, scell, start, cell, bstart
):
    for t in range(n_iter):
        out[t] = _block_iteration(
            s, n, width, height, inv_side, nx, ny, shift, band_from, r2, x, y, xs, ys, scell, start, cell, bstart
        )


def points_work(n: int, nx: int, ny: int, starts: int = 0) -> tuple[np.ndarray, ...]:
    """xs/ys (sorted points + spare), scell (cell of each sorted point), start (cell starts of the whole grid,
    or at least `starts`), cell (per point)."""
    return (
        np.zeros(n + SPARE),
        np.zeros(n + SPARE),
        np.empty(n, np.int64),
        np.empty(max((ny + 1) * (nx + 2) + 2, starts), np.int64),
        np.empty(n, np.int64),
    )


def block_work(n: int, nx: int, ny: int, band_points: int = BAND_POINTS) -> tuple[int, tuple[np.ndarray, ...]]:
    """The band shift (bands of 2**shift rows, about `band_points` points each) and count_block's work arrays."""
    shift = 0
    while (2 << shift) <= ny and (2 << shift) * n <= band_points * ny:
        shift += 1
    # x has room for 2n values: it holds the (x, y) pairs of the band buckets when the kernel bands the points
    pair_buckets, y = np.empty(2 * n), np.empty(n)
    bands = np.empty(((ny - 1) >> shift) + 3, np.int64)
    slots = 2 * ((1 << shift) * (nx + 2) + 2)  # the two band slots of cell starts
    return shift, (pair_buckets, y, *points_work(n, nx, ny, slots), bands)


def source() -> str:
    """'cache' when the block kernel was loaded from numba's on-disk cache, else 'compiled'."""
    stats = count_block.stats
    return "compiled" if sum(stats.cache_misses.values()) or not sum(stats.cache_hits.values()) else "cache"
