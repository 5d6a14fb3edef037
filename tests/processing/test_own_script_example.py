"""The shipped R example (R/examples/own_script/main.R) as the docs run it, on 1, 2 and 3 emulated hosts (real
Rscript): the hosts share the iterations by HOST_INDEX, draw from their own L'Ecuyer-CMRG streams, and local-job
puts their files together into the same outputs a simulation has."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "R" / "examples" / "own_script" / "main.R"
pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R: apt-get install r-base-core")
ARGS = ["1000", "1000", "1000", "10"]  # the command: 1,000 people in 1000 x 1000, 10 iterations


def run_example(hosts: int, output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "simulation", "local-job", "--r-script", str(EXAMPLE), "--hosts", str(hosts)]
    return subprocess.run(
        [*command, "--output", str(output), "--", *(args or ARGS)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=output.parent,
    )


def rows(output: Path) -> list[dict[str, str]]:
    with (output / "iterations.csv").open() as handle:
        return list(csv.DictReader(handle))


# parallel::splitIndices(10, hosts), by hand: contiguous shares as even as possible
SHARES = {2: [range(1, 6), range(6, 11)], 3: [range(1, 4), range(4, 8), range(8, 11)]}


@pytest.mark.parametrize("hosts", [2, 3])
def test_the_example_shares_iterations_over_hosts(tmp_path, hosts):
    output = tmp_path / "out"
    done = run_example(hosts, output)
    assert done.returncode == 0, done.stderr
    table = rows(output)
    assert [int(r["iteration"]) for r in table] == list(range(1, 11))
    for index, share in enumerate(SHARES[hosts]):
        assert {r["host"] for r in table if int(r["iteration"]) in share} == {f"algo-{index + 1}"}
    values = [float(r["violations_per_person"]) for r in table]
    summary = json.loads((output / "summary.json").read_text())
    assert summary["iterations"] == 10
    assert summary["hosts"] == [f"algo-{i}" for i in range(1, hosts + 1)]
    assert summary["mean"] == pytest.approx(sum(values) / 10, rel=1e-12)
    assert float((output / "output_result_mean.txt").read_text()) == summary["mean"]
    # (N - 1) p for 1,000 people, r = 6 in 1000 x 1000 (closed form): 0.112409. One iteration's value is
    # 2 * pairs / N with pairs ~ Poisson(56.2), sd 2 * sqrt(56.2) / 1000 = 0.015; over 10 iterations se 0.0047,
    # and eight of them (0.038) is a bound a correct script misses with probability below 1e-12.
    p = (math.pi * 36 * 1000 * 1000 - 4 / 3 * 216 * 2000 + 1296 / 2) / (1000 * 1000) ** 2
    assert abs(summary["mean"] - 999 * p) < 0.038
    # every value is 2 * pairs / 1000, so the plot's bins lie on that lattice
    assert all(abs(v * 500 - round(v * 500)) < 1e-9 for v in values)
    assert (output / "histogram.png").read_bytes()[:4] == b"\x89PNG"
    assert "mean violations per person: " in done.stdout


def test_hosts_draw_different_streams_and_the_same_seed_repeats(tmp_path):
    first, second, other_seed = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for output, args in ((first, ARGS), (second, ARGS), (other_seed, [*ARGS, "0", "7"])):
        done = run_example(2, output, *args)
        assert done.returncode == 0, done.stderr
    assert (first / "iterations.csv").read_text() == (second / "iterations.csv").read_text()
    assert (first / "iterations.csv").read_text() != (other_seed / "iterations.csv").read_text()
    by_host: dict[str, list[str]] = {}
    for row in rows(first):
        by_host.setdefault(row["host"], []).append(row["violations_per_person"])
    # two hosts on one stream would repeat each other's five values exactly
    assert by_host["algo-1"] != by_host["algo-2"]


def test_one_host_writes_the_originals_mean_file_itself(tmp_path):
    output = tmp_path / "one"
    done = run_example(1, output)
    assert done.returncode == 0, done.stderr
    own = float((output / "output_result_mean.txt").read_text())
    values = [float(r["violations_per_person"]) for r in rows(output)]
    assert own == pytest.approx(sum(values) / 10, rel=1e-12)
    assert sorted(p.name for p in (output / "iterations").iterdir()) == ["algo-1.csv"]
