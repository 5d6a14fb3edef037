"""`python -m simulation run`: output, the R-style form, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.engine import Params, run

REPO = Path(__file__).resolve().parents[2]


def test_json_output_matches_the_engine(capsys):
    assert main(["run", "--people", "500", "--iterations", "1500", "--seed", "9", "--workers", "1", "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out)  # exactly one JSON object, nothing else
    expected = run(Params(1000, 1000, 500, 6), 1500, seed=9, workers=1)
    for key in ("mean", "sd", "se", "ci95", "iterations", "people", "width", "height", "radius", "seed"):
        assert result[key] == expected[key]
    assert result["seconds"] > 0
    assert result["analytic_mean"] == pytest.approx(499 * 0.112409 / 999, rel=1e-5)


def test_r_style_positional_form_matches_named_options(capsys):
    assert main(["run", "--args", "800", "600", "300", "1200", "1", "--seed", "4", "--json"]) == 0
    r_form = json.loads(capsys.readouterr().out)
    assert r_form["workers"] == 1  # IS_LOCAL=1 means one core
    named = ["--width", "800", "--height", "600", "--people", "300", "--iterations", "1200", "--seed", "4"]
    assert main(["run", *named, "--json"]) == 0
    named_form = json.loads(capsys.readouterr().out)
    assert r_form["mean"] == named_form["mean"]
    assert r_form["sd"] == named_form["sd"]


def test_text_output(capsys):
    assert main(["run", "--people", "100", "--iterations", "50", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("mean violations per person: ")
    assert "seed 1" in out
    assert "50 iterations of 100 people" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--people", "1"], "argument --people: must be at least 2"),
        (["--people", "ten"], "argument --people: expected an integer, got 'ten'"),
        (["--width", "0"], "argument --width: must be a positive number"),
        (["--height", "-5"], "argument --height: must be a positive number"),
        (["--radius", "nan"], "argument --radius: must be a positive number"),
        (["--radius", "abc"], "argument --radius: expected a number"),
        (["--iterations", "0"], "argument --iterations: must be at least 1"),
        (["--iterations", "1.5"], "argument --iterations: expected an integer"),
        (["--workers", "0"], "argument --workers: must be at least 1"),
        (["--colour", "red"], "unrecognized arguments: --colour red"),
        (["--args", "1000", "1000", "x", "10", "1"], "argument --args NUM_PEOPLE: expected an integer"),
        (["--args", "1000", "1000", "1000", "10", "3"], "argument --args IS_LOCAL: must be 0 or 1"),
        (["--args", "1000", "1000", "1000", "10", "1", "--people", "5"], "--args cannot be combined with --people"),
        (["--args", "1000", "1000"], "argument --args: expected 5 arguments"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, fragment):
    try:
        code = main(["run", *argv])
    except SystemExit as exit_:  # argparse's own errors leave through SystemExit
        code = exit_.code
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]


def _python_m(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simulation", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_module_entry_point_prints_only_json_and_no_traceback():
    done = _python_m("run", "--people", "200", "--iterations", "400", "--seed", "2", "--workers", "1", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["iterations"] == 400
    assert done.stderr == ""  # no progress bar when piped
    bad = _python_m("run", "--people", "1")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_without_numba_the_numpy_fallback_gives_identical_results():
    argv = ("run", "--people", "300", "--iterations", "600", "--seed", "17", "--workers", "1", "--json")
    slow = _python_m(*argv, env={"SIMLAB_NO_NUMBA": "1"})
    assert slow.returncode == 0, slow.stderr
    slow_result = json.loads(slow.stdout)
    assert slow_result["backend"] == "numpy"
    fast_result = run(Params(1000, 1000, 300, 6), 600, seed=17, workers=1)
    for key in ("mean", "sd", "se", "ci95"):
        assert slow_result[key] == fast_result[key]
