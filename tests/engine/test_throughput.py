"""The throughput model's local prediction against a measured run, for two workload shapes.

Measured as CPU time (this machine is shared: wall time would measure the neighbours), block by block, the
run's blocks times its fastest block (the model's unit of work), as benchmarks/engine.py calibrates; the model's
constants come from that benchmark, not from this test.
"""

from __future__ import annotations

import math
import time

import pytest

from simulation import _kernel, throughput
from simulation.engine import Params, block_count, block_iterations, simulate_block


@pytest.mark.skipif(not _kernel.HAVE_NUMBA, reason="the model describes the numba kernel")
@pytest.mark.parametrize(
    ("params", "iterations"),
    [
        (Params(1000, 1000, 1000, 6), 20_000),  # the reference case: 20 blocks of 1000
        (Params(1000 * math.sqrt(200), 1000 * math.sqrt(200), 200_000, 6), 40),  # N = 200,000, default density
    ],
)
def test_local_prediction_within_30_percent_of_a_measured_run(params, iterations):
    predicted = throughput.compute_seconds(params, iterations, hosts=1, workers=1)
    blocks = block_count(iterations, params.people)
    per_block = []
    for repeat in range(3):
        for k in range(blocks):
            started = time.thread_time()
            simulate_block(params, 7, repeat * blocks + k, block_iterations(k, iterations, params.people))
            per_block.append(time.thread_time() - started)
    measured = min(per_block) * blocks  # every block of these workloads has the same size
    assert abs(predicted - measured) <= 0.3 * measured, (predicted, measured, per_block)
