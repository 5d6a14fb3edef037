"""A merged run carries its parameters, iterations and seed (from run.json), so readers of a result need not dig
them out of the summary, its manifest or run.json again."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine import Params, run
from simulation.job import merge


def test_merged_result_keeps_what_was_run_and_its_violations_are_the_runs(h, tree):
    params = {"width": 300.0, "height": 200.0, "people": 40, "radius": 9.0}
    done = h.run_entrypoint(tree, "simulate", *h.engine_args(params, 2500, 11), "--workers=1")
    assert done.returncode == 0, done.stderr
    merged = merge.merge_output(tree / "processing" / "output")
    assert merged.params == Params(**params)
    assert (merged.iterations, merged.seed) == (2500, 11)
    # the same run on this machine: its mean is the mean of the merged violations per person
    local = run(Params(**params), 2500, 11, workers=1)
    assert merged.violations().shape == (2500,)
    assert float(np.mean(merged.violations())) == pytest.approx(local["mean"], rel=1e-12)
    assert np.array_equal(merged.violations(), 2.0 * merged.pair_counts / 40)
