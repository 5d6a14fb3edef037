"""The throughput model's local prediction against a measured run, for two workload shapes.

Measured as the run's CPU time (this machine is shared: wall time would measure the neighbours), best of three;
the model's constants come from benchmarks/engine.py, not from this test.
"""

from __future__ import annotations

import math
import time

import pytest

from simulation import _kernel, throughput
from simulation.engine import Params, run


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
    measured = []
    for _ in range(3):
        started = time.process_time()
        run(params, iterations, seed=7, workers=1)
        measured.append(time.process_time() - started)
    assert abs(predicted - min(measured)) <= 0.3 * min(measured), (predicted, measured)
