"""Tampered or corrupt job output never gives a traceback or a silently wrong mean: `merge` names the file that is
wrong in one line (exit 2), and no control character from a file reaches the terminal. The rows of the bad-input
matrix in docs/bad-input.md for job output are these cases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from simulation.engine import Params
from simulation.job import layout
from simulation.job.local_job import run_local_job
from simulation.text import printable

PEOPLE = 40  # at most 40 * 39 / 2 = 780 close pairs per iteration


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("good") / "out"
    run_local_job(Params(100.0, 100.0, PEOPLE, 5.0), 120_000, 3, hosts=2, output=output)
    return output


def block0(d: Path) -> Path:
    return layout.block_path(d, 0)


def edit_json(path: Path, change: Callable[[dict], object]) -> None:
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))


def set_count(value: object) -> Callable[[dict], object]:
    return lambda record: record["pair_counts"].__setitem__(0, value)


CASES: dict[str, tuple[Callable[[Path], object], str]] = {
    "negative count": (lambda d: edit_json(block0(d), set_count(-5)), "blocks/block-000000.json: pair_counts must be"),
    "count above the pairs of 40 people": (
        lambda d: edit_json(block0(d), set_count(781)),
        "integers from 0 to 780",
    ),
    "count of 2**63": (lambda d: edit_json(block0(d), set_count(2**63)), "pair_counts must be"),
    "count as a float": (lambda d: edit_json(block0(d), set_count(3.5)), "pair_counts must be"),
    "count as true": (lambda d: edit_json(block0(d), set_count(True)), "pair_counts must be"),
    "too few counts": (lambda d: edit_json(block0(d), lambda r: r["pair_counts"].pop()), "pair_counts must be"),
    "block that does not parse": (lambda d: block0(d).write_text('{"block": 0, "pair'), "is not valid JSON"),
    "block of another number": (
        lambda d: edit_json(block0(d), lambda r: r.update(block=1)),
        "not the record of block 0",
    ),
    "host with an escape sequence": (
        lambda d: edit_json(block0(d), lambda r: r.update(host="algo-1\x1b[2J")),
        "host must be a host name such as algo-1",
    ),
    "host not among the job's": (
        lambda d: edit_json(block0(d), lambda r: r.update(host="intruder")),
        "host 'intruder' is not one of the job's hosts",
    ),
    "host manifest of the wrong shape": (
        lambda d: layout.host_manifest_path(d, "algo-1").write_text("[1, 2]"),
        "hosts/algo-1.json is not a host manifest",
    ),
    "host manifest that does not parse": (
        lambda d: layout.host_manifest_path(d, "algo-2").write_text("{"),
        "hosts/algo-2.json is not readable JSON",
    ),
    "run.json with a block_count of another run": (
        lambda d: edit_json(d / layout.RUN_FILE, lambda r: r.update(block_count=3)),
        "run.json is inconsistent",
    ),
    "run.json that does not parse": (
        lambda d: (d / layout.RUN_FILE).write_text("nope"),
        "run.json is not readable JSON",
    ),
    "a missing block": (lambda d: block0(d).unlink(), "1 of 120 blocks missing (000000)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_merge_names_the_wrong_file_in_one_line(good, tmp_path, case):
    tamper, expected = CASES[case]
    directory = tmp_path / "out"
    shutil.copytree(good, directory)
    tamper(directory)
    result = subprocess.run(
        [sys.executable, "-m", "simulation", "merge", str(directory)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "\x1b" not in result.stderr


def test_the_untampered_output_merges(good):
    result = subprocess.run(
        [sys.executable, "-m", "simulation", "merge", "--no-write", str(good)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "; 120000 iterations of " in result.stdout
    assert "  120 blocks from 2 host(s) algo-1, algo-2, " in result.stdout


def test_an_output_path_that_is_a_file(tmp_path):
    path = tmp_path / "summary.txt"
    path.write_text("not a folder")
    result = subprocess.run([sys.executable, "-m", "simulation", "merge", str(path)], capture_output=True, text=True)
    assert (result.returncode, result.stderr.strip()) == (2, f"error: {path} is a file, not a job's output folder")


def test_results_refuses_an_output_that_is_a_file_before_any_request(tmp_path):
    from simulation.client import results
    from simulation.errors import SimulationError

    path = tmp_path / "taken"
    path.write_text("")
    with pytest.raises(SimulationError, match=r"--output .*taken is a file, not a folder"):
        results.job_results("sim-1", str(path), "simlab")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("algo-1\x1b[2J", "algo-1\\x1b[2J"),  # ESC: clear screen
        ("a\x07b", "a\\x07b"),  # BEL
        ("x\u202ey", "x\\u202ey"),  # right-to-left override (Cf)
        ("\x9b31m", "\\x9b31m"),  # C1 CSI
        ("line 1\nline 2\tok", "line 1\nline 2\tok"),  # newline and tab stay
    ],
)
def test_printable_shows_control_characters_instead_of_obeying_them(raw, shown):
    assert printable(raw) == shown
