"""Every hint names the caller's own way: the shell's command, or, while the simjobs R package calls (it sets
SIMLAB_CALLER=r for the call), the R function. And an unseeded submission says its seed first. Against moto."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.client import resume, submit, sweep, watch
from simulation.errors import JobFailed, SimulationError
from simulation.job import layout, local_map, map_records

SEED_LINE = re.compile(r"seed (\d+) \(pass --seed \1 to reproduce this sample\)")
R_SEED_LINE = re.compile(r'seed (\d+) \(pass seed = "\1" to reproduce this sample\)')


def _sent_seed(aws, job: str) -> str:
    values = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)["AppSpecification"]
    arguments = values["ContainerArguments"]
    return arguments[arguments.index("--seed") + 1]


def test_an_unseeded_submit_says_its_seed_first_and_a_seeded_one_says_none(aws, capsys):
    assert main(["submit", "--iterations", "10"]) == 0
    captured = capsys.readouterr()
    job = captured.out.strip()
    lines = captured.err.splitlines()
    first = SEED_LINE.fullmatch(lines[0])
    assert first, lines  # before the plan: the old order was plan, submitted, ..., seed
    assert first.group(1) == _sent_seed(aws, job)
    assert lines[1].startswith("plan: ")
    assert sum(line.startswith(("seed ", "  seed ")) for line in lines) == 1

    assert main(["submit", "--iterations", "10", "--json"]) == 0
    captured = capsys.readouterr()
    said = SEED_LINE.fullmatch(captured.err.splitlines()[0])
    assert said
    assert said.group(1) == str(json.loads(captured.out)["seed"])

    assert main(["submit", "--iterations", "10", "--seed", "5"]) == 0
    assert not any("seed" in line for line in capsys.readouterr().err.splitlines())


def test_an_unseeded_sweep_says_its_seed_first(aws, capsys):
    assert main(["sweep", "--people", "10,20", "--iterations", "10"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert SEED_LINE.fullmatch(lines[0]), lines


def test_bad_input_to_an_unseeded_submit_is_still_one_line(aws, capsys):
    assert main(["submit", "--instance-count", "0"]) == 2
    assert capsys.readouterr().err == "error: instance count must be at least 1, got 0\n"


def test_hints_name_r_functions_while_r_calls(aws, monkeypatch, capsys):
    monkeypatch.setenv("SIMLAB_CALLER", "r")
    job = submit.submit_simulation(iterations=10, wait=True, logs=False)
    err = capsys.readouterr().err
    lines = err.splitlines()
    seed = R_SEED_LINE.fullmatch(lines[0])
    assert seed, lines
    assert seed.group(1) == _sent_seed(aws, job)
    assert f'  follow it: wait_for_job("{job}")' in lines
    assert f'fetch it with: job_results("{job}")' in err
    assert "python -m simulation" not in err
    assert "--" not in err

    with pytest.raises(SimulationError) as refused:
        resume.resume_job(job)
    assert str(refused.value) == f'job {job} completed: every block is done, nothing to resume (job_results("{job}"))'

    monkeypatch.setattr(watch, "describe", lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    stream = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        watch.watch(job, logs=False, err=stream)
    assert stream.getvalue() == f'stopped watching; {job} keeps running. Stop it with: stop_job("{job}")\n'

    sweep.run_sweep("10,20", iterations=10)
    assert R_SEED_LINE.fullmatch(capsys.readouterr().err.splitlines()[0])


def test_the_same_hints_name_shell_commands_in_the_shell(aws, monkeypatch, capsys):
    monkeypatch.delenv("SIMLAB_CALLER", raising=False)
    job = submit.submit_simulation(iterations=10, wait=True, logs=False)
    err = capsys.readouterr().err
    assert SEED_LINE.fullmatch(err.splitlines()[0])
    assert f"  follow it: python -m simulation watch {job}" in err.splitlines()
    assert f"fetch it with: python -m simulation results {job}" in err
    with pytest.raises(SimulationError, match=re.escape(f"(python -m simulation results {job})")):
        resume.resume_job(job)


def _failing_map(root: Path) -> Path:
    """A local map job whose payload is not R's: its host fails, and the job keeps what it has (nothing)."""
    job = root / "job"
    code = job / layout.CODE_PART
    code.mkdir(parents=True)
    (code / layout.MAP_PAYLOAD_FILE).write_bytes(b"not an R serialization")
    (code / layout.MAP_RUNNER_FILE).write_text('stop("this runner cannot read the payload")\n')
    map_records.write_spec(code, elements=2, mode="lapply", seed="1", block_size=None, cores=1)
    return job


@pytest.mark.r
@pytest.mark.parametrize(
    ("caller", "hint"),
    [(None, "python -m simulation local-job --map {job}"), ("r", 'resume_job("{job}")')],
)
def test_a_stopped_local_map_job_says_how_to_finish_it_in_the_caller_s_terms(caller, hint, tmp_path, monkeypatch):
    if caller:
        monkeypatch.setenv("SIMLAB_CALLER", caller)
    else:
        monkeypatch.delenv("SIMLAB_CALLER", raising=False)
    job = _failing_map(tmp_path).resolve()
    with pytest.raises(JobFailed) as failed:
        local_map.run_local_map(job, local_map.LocalMap(hosts=1, cores_per_host=1))
    assert str(failed.value).endswith(f"; {hint.format(job=job)} computes only the rest")
    assert "run it again" not in str(failed.value)
