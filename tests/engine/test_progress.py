"""The progress bar: silent for short runs, one updating line otherwise."""

from __future__ import annotations

from simulation.engine import ProgressBar


def test_short_runs_show_no_bar(capsys):
    bar = ProgressBar(delay=60.0)
    bar(10, 100)
    bar(100, 100)
    assert capsys.readouterr().err == ""


def test_long_runs_show_a_bar_that_ends_the_line(capsys):
    bar = ProgressBar(delay=0.0, width=10)
    bar(50, 100)
    bar(100, 100)
    err = capsys.readouterr().err
    assert "\r[#####-----] 50/100 iterations" in err
    assert "\r[##########] 100/100 iterations" in err
    assert err.endswith("\n")
    assert err.count("\n") == 1
