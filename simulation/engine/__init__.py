"""The pure numerical core: the Monte Carlo (`montecarlo`), its close-pair kernels (`_kernel`, numba's
`_numba_kernel`) and the throughput model (`throughput`). Nothing here reads or writes files, talks to AWS or
parses arguments; the job runtime (`simulation.job`), the client and the CLI are built on it, never the reverse.

The Monte Carlo's names are re-exported here: `simulation.engine.run`, `simulation.engine.Params` ... are the
public engine API (docs/contracts.md), whatever module inside the package defines them.
"""

from __future__ import annotations

from simulation.engine.montecarlo import (
    BLOCK_POINTS,
    MAX_BLOCK_ITERATIONS,
    Params,
    RunInterrupted,
    analytic_mean,
    block_count,
    block_iterations,
    block_seed_sequence,
    block_size,
    block_uniforms,
    count_close_pairs,
    fresh_seed,
    run,
    simulate_block,
    summarize,
)
from simulation.engine.progress import Progress, ProgressBar

__all__ = [
    "BLOCK_POINTS",
    "MAX_BLOCK_ITERATIONS",
    "Params",
    "Progress",
    "ProgressBar",
    "RunInterrupted",
    "analytic_mean",
    "block_count",
    "block_iterations",
    "block_seed_sequence",
    "block_size",
    "block_uniforms",
    "count_close_pairs",
    "fresh_seed",
    "run",
    "simulate_block",
    "summarize",
]
