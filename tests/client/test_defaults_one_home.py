"""The run defaults have one home (simulation.defaults): what `cost` plans is what `submit` runs with the same
options, and a change of the home reaches every front door (engine, parsers, planner, client, job entrypoint)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulation import defaults
from simulation.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _sent_run(aws) -> dict[str, str]:
    """The `simulate --name value ...` arguments of the job just created, as a dict."""
    arguments = aws.recorder.request("CreateProcessingJob")["AppSpecification"]["ContainerArguments"]
    assert arguments[0] == "simulate"
    return dict(zip(arguments[1::2], arguments[2::2], strict=True))


@pytest.mark.parametrize(
    "options",
    [
        ["--people", "2000"],  # the case that drifted: cost planned 1,000 iterations, submit ran 10,000
        [],  # nothing given: both take every default
        ["--iterations", "500", "--radius", "3"],
    ],
)
def test_cost_plans_the_run_submit_starts(aws, capsys, options):
    assert main(["cost", *options, "--people", "2000", "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert main(["submit", *options, "--people", "2000", "--seed", "1", "--json"]) == 0
    capsys.readouterr()
    sent = _sent_run(aws)
    for name in ("width", "height", "radius"):
        assert float(sent[f"--{name}"]) == planned[name], name
    assert int(sent["--people"]) == planned["people"] == 2000
    assert int(sent["--iterations"]) == planned["iterations"]
    resources = aws.recorder.request("CreateProcessingJob")["ProcessingResources"]["ClusterConfig"]
    assert (resources["InstanceType"], resources["InstanceCount"]) == (
        planned["instance_type"],
        planned["instance_count"],
    )


def test_cost_without_options_plans_the_documented_defaults(aws, capsys):
    # the numbers of the original workflow (defaults.py cites them): 1000 x 1000, 1000 people, r = 6, 10,000
    assert main(["cost", "--people", "1000", "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert (planned["width"], planned["height"], planned["radius"], planned["iterations"]) == (1000, 1000, 6, 10_000)


# Every front door, in a fresh interpreter whose simulation.defaults was changed before anything else was
# imported: a module holding its own copy of a default would still show the old value.
PROBE = """
import argparse, dataclasses, json
from simulation import defaults
defaults.WIDTH, defaults.HEIGHT, defaults.PEOPLE, defaults.RADIUS, defaults.ITERATIONS = 321.0, 123.0, 77, 2.5, 4321
defaults.RUN.update(width=321.0, height=123.0, people=77, radius=2.5, iterations=4321)

from simulation.engine import Params
from simulation.client import local, request, plan_simulation
from simulation.cli import build_parser
from simulation.job.processing import build_parser as job_parser

def helps(parser, command):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {a.dest: a.help for a in sub._actions if a.help}

planned = plan_simulation("ml.c5.xlarge")
local_params, local_iterations = local.run_values(None, None, None, None, None)
cli = build_parser()
print(json.dumps({
    "params": dataclasses.asdict(Params()),
    "plan": [planned[k] for k in ("width", "height", "people", "radius", "iterations")],
    "simulate": request.simulate_arguments(**defaults.fill(), seed=1),
    "local": [*dataclasses.astuple(local_params), local_iterations],
    "helps": {c: helps(cli, c) for c in ("run", "local-job", "submit", "sweep", "cost")},
    "job_help": helps(job_parser(), "simulate"),
}))
"""


def test_changing_the_one_home_changes_every_front_door():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert seen["params"] == {"width": 321.0, "height": 123.0, "people": 77, "radius": 2.5}
    assert seen["plan"] == [321.0, 123.0, 77, 2.5, 4321]
    assert seen["local"] == [321.0, 123.0, 77, 2.5, 4321]  # R's run_simulation() and local_job()
    sent = dict(zip(seen["simulate"][1::2], seen["simulate"][2::2], strict=True))
    assert sent == {
        "--width": "321",
        "--height": "123",
        "--people": "77",
        "--radius": "2.5",
        "--iterations": "4321",
        "--seed": "1",
    }
    for command, helps in seen["helps"].items():
        for name, shown in (("width", "321"), ("height", "123"), ("people", "77"), ("radius", "2.5")):
            assert helps[name].endswith(f"(default: {shown})"), (command, name, helps[name])
        assert helps["iterations"].endswith("(default: 4321)"), (command, helps["iterations"])
    # the job entrypoint takes every value from its caller: the same options, required, no default shown
    assert set(seen["job_help"]) >= {"width", "height", "people", "radius", "iterations", "seed", "workers"}


def test_every_parser_declares_the_engine_options_alike():
    # one help text per option, whatever the command (a parser with its own copy would word it its own way)
    from simulation.cli import build_parser
    from simulation.job.processing import build_parser as job_parser
    from simulation.options import OPTIONS

    def actions(parser, command):
        import argparse

        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
        return {a.dest: a for a in sub._actions}

    cli = build_parser()
    found = {c: actions(cli, c) for c in ("run", "local-job", "submit", "sweep", "cost")}
    found["job simulate"] = actions(job_parser(), "simulate")
    for command, declared in found.items():
        for name, option in OPTIONS.items():
            if name in declared:
                assert declared[name].help.startswith(option.help), (command, name)
    assert {name for name in OPTIONS if name in found["run"]} == set(OPTIONS)


def test_r_reads_the_defaults_as_a_plain_dict():
    given = defaults.for_r()
    assert given == {"width": 1000.0, "height": 1000.0, "people": 1000, "radius": 6.0, "iterations": 10_000}
    given["iterations"] = 1  # a copy: R cannot change the home
    assert defaults.RUN["iterations"] == 10_000
