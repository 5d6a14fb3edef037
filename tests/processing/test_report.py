"""What a finished run leaves to look at (simulation/job/report.py): the histogram's bins on the 2/N lattice with no
empty bin, the mean's CI in the plot's legend, iterations.csv row by row, and one printed format for run, local-job
and merge."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from simulation import engine
from simulation.job import layout, local_job, report

SMALL = engine.Params(width=300.0, height=300.0, people=400, radius=6.0)  # block size 1000


def test_bins_by_hand():
    # counts 3, 3, 4, 6: one count per bin would leave 5 empty; two per bin ([3, 4], [5, 6]) leaves none
    np.testing.assert_array_equal(report.lattice_edges(np.array([3, 3, 4, 6])), [2.5, 4.5, 6.5])
    # dense counts: one integer per bin, edges halfway between them
    np.testing.assert_array_equal(report.lattice_edges(np.array([10, 11, 12, 11])), [9.5, 10.5, 11.5, 12.5])
    # one value: one bin around it
    np.testing.assert_array_equal(report.lattice_edges(np.array([7, 7])), [6.5, 7.5])


def test_the_old_even_bins_left_empty_bins_the_lattice_bins_do_not():
    """Violations per person are multiples of 2/N. Even bins over their range (the old plot: sqrt(n) of them)
    fall between multiples and come out empty; bins of whole lattice steps never do."""
    rng = np.random.default_rng(3)
    people = 1000
    counts = rng.poisson(56, size=2000)  # the reference case's pair counts are about Poisson(56)
    values = 2.0 * counts / people
    old, _ = np.histogram(values, bins=min(60, max(10, int(np.sqrt(values.size)))))
    assert (old[1:-1] == 0).any()  # what the issue saw
    edges = report.histogram_edges(values, step=2.0 / people)
    new, _ = np.histogram(values, bins=edges)
    assert new.sum() == values.size
    assert (new > 0).all()
    width = np.diff(edges) * people / 2  # in lattice steps: a whole number, the same for every bin
    np.testing.assert_allclose(width, np.round(width[0]), atol=1e-9)
    assert len(edges) - 1 <= report.MAX_BINS


def test_values_an_r_script_wrote_reveal_their_lattice():
    # R computes (sum(d < r) - N) / N, written with 15 digits: the lattice 2/N comes back from the values alone
    counts = np.array([50, 52, 53, 53, 58, 61])
    values = np.array([float(f"{c * 2 / 1000:.15g}") for c in counts])
    steps, origin, step = report.lattice_of(values)
    assert step == pytest.approx(0.002)
    np.testing.assert_array_equal(steps, counts - 50)
    assert origin == pytest.approx(0.1)
    assert report.lattice_of(np.array([0.1, 0.2 + 1e-4, 0.35])) is None  # no common step: even bins instead


def test_the_legend_writes_the_mean_and_its_interval():
    labels = report.legend({"mean": 0.112409, "ci95": [0.111964, 0.112854], "analytic_mean": 0.1124})
    assert labels["mean"] == "mean 0.11241, 95% CI [0.11196, 0.11285]"
    assert labels["analytic"] == "analytic (N-1)p 0.1124"


def test_local_job_writes_csv_and_png_that_match_the_blocks(tmp_path):
    out = tmp_path / "out"
    result = local_job.run_local_job(SMALL, 2500, 9, hosts=2, output=out)
    assert result.files == ["summary.json", "output_result_mean.txt", "iterations.csv", "histogram.png"]
    with (out / layout.ITERATIONS_FILE).open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2500
    # independent of the merge: the blocks' own records, block 0, 1, 2 (1000, 1000, 500 iterations)
    counts = np.concatenate([json.loads(layout.block_path(out, k).read_text())["pair_counts"] for k in range(3)])
    assert [int(r["pair_count"]) for r in rows] == counts.tolist()
    assert [int(r["iteration"]) for r in rows] == list(range(1, 2501))
    assert [r["block"] for r in rows[999:1001]] == ["0", "1"]
    assert {r["host"] for r in rows if r["block"] == "1"} == {"algo-2"}  # block k on host k mod 2
    assert [float(r["violations_per_person"]) for r in rows] == (2 * counts / 400).tolist()
    assert (out / layout.PLOT_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.mean(2 * counts / 400) == pytest.approx(result.merged.summary["mean"], rel=1e-12)


def _simulation(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulation", *args], capture_output=True, text=True, timeout=600)


def test_run_local_job_and_merge_print_one_format(tmp_path):
    values = ["--width", "300", "--height", "300", "--people", "400", "--iterations", "2500", "--seed", "9"]
    ran = _simulation("run", *values)
    job = _simulation("local-job", "--hosts", "2", *values, "--output", str(tmp_path / "out"))
    merged = _simulation("merge", str(tmp_path / "out"))
    for done in (ran, job, merged):
        assert done.returncode == 0, done.stderr
    first = ran.stdout.splitlines()[0]
    assert first.startswith("mean violations per person: ")
    assert "(95% CI " in first
    assert job.stdout.splitlines()[1] == first  # after local-job's line about what it did
    assert merged.stdout.splitlines()[0] == first
    what = "  sd "
    assert [line for line in ran.stdout.splitlines() if line.startswith(what)] == [
        line for line in merged.stdout.splitlines() if line.startswith(what)
    ]
    assert "iterations.csv, histogram.png" in merged.stdout
