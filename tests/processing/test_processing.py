"""The Processing entrypoint, the merge and the local emulation, run as real processes over real files."""

from __future__ import annotations

import json
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from simulation import engine
from simulation.errors import JobFailed, SimulationError
from simulation.job import hosts as job_hosts
from simulation.job import layout, local_job, merge, records

SMALL = {"width": 1000.0, "height": 1000.0, "people": 1000, "radius": 6.0}  # block_size 1000
PARAMS = engine.Params(**SMALL)


def reference(params: engine.Params, iterations: int, seed: int) -> tuple[dict, np.ndarray]:
    """What `simulation run` gives, and the pair counts of every block in order."""
    counts = np.concatenate(
        [
            engine.simulate_block(params, seed, k, engine.block_iterations(k, iterations, params.people))
            for k in range(engine.block_count(iterations, params.people))
        ]
    )
    return engine.run(params, iterations, seed, workers=1), counts


STATS = ("mean", "sd", "se", "ci95", "iterations", "seed", "width", "height", "people", "radius", "analytic_mean")


# --- the pure parts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hosts", [1, 2, 3, 7])
@pytest.mark.parametrize("count", [0, 1, 5, 23])
def test_every_block_goes_to_exactly_one_host(hosts, count):
    names = [f"algo-{i}" for i in range(1, hosts + 1)]
    shares = [list(job_hosts.assigned(count, job_hosts.Cluster(h, tuple(names)))) for h in names]
    assert sorted(k for share in shares for k in share) == list(range(count))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_hosts_rank_algo_10_after_algo_9():
    text = json.dumps({"current_host": "algo-10", "hosts": [f"algo-{i}" for i in range(10, 0, -1)]})
    cluster = job_hosts.parse_cluster(text, "rc")
    assert cluster.hosts[:2] == ("algo-1", "algo-2")
    assert cluster.index == 9


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"hosts": ["algo-1"]}', "current_host must be"),
        ('{"current_host": "algo-1", "hosts": []}', "hosts must be a non-empty list"),
        ('{"current_host": "algo-1", "hosts": ["algo-1", "algo-1"]}', "twice"),
        ('{"current_host": "algo-9", "hosts": ["algo-1", "algo-2"]}', "'algo-9' is not one of hosts"),
    ],
)
def test_bad_resource_config_is_named(text, needle):
    with pytest.raises(SimulationError, match=needle):
        job_hosts.parse_cluster(text, "resourceconfig.json")


# --- results: hosts do not change a bit ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_reference():
    return reference(PARAMS, 2500, 7)


@pytest.mark.parametrize("hosts", [1, 3])
def test_local_job_equals_run(tmp_path, small_reference, hosts):
    expected, counts = small_reference
    result = local_job.run_local_job(PARAMS, 2500, 7, hosts=hosts, output=tmp_path / "out")
    for key in STATS:
        assert result.merged.summary[key] == expected[key], key
    np.testing.assert_array_equal(result.merged.pair_counts, counts)
    assert result.merged.summary["hosts"] == [f"algo-{i}" for i in range(1, hosts + 1)]
    manifest = result.merged.summary["manifest"]
    assert manifest["blocks_by_host"] == {f"algo-{h + 1}": list(range(h, 3, hosts)) for h in range(hosts)}
    # the original R job's one number, full precision
    assert float((tmp_path / "out" / layout.MEAN_FILE).read_text()) == expected["mean"]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["mean"] == expected["mean"]
    assert not [p for p in (tmp_path / "out").rglob(".*")], "no temporary file may reach the output"


def test_local_job_cli_json_has_run_keys_and_hosts(h, tmp_path, small_reference):
    expected, _ = small_reference
    out = tmp_path / "out"
    args = ["--hosts", "2", *h.engine_args(SMALL, 2500, 7), "--output", str(out), "--json"]
    done = subprocess.run([sys.executable, "-m", "simulation", "local-job", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert set(expected) <= set(printed)
    assert printed["hosts"] == ["algo-1", "algo-2"]
    assert printed["mean"] == expected["mean"]
    # a second run finds every block done: nothing recomputed, same answer
    again = subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", *args[:-1]], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "0 blocks computed now, 3 resumed" in again.stdout
    assert f"mean violations per person: {expected['mean']:.6f}" in again.stdout


def test_output_of_another_run_is_refused(tmp_path):
    local_job.run_local_job(PARAMS, 1200, 7, hosts=1, output=tmp_path / "out")
    with pytest.raises(SimulationError, match=r"different run \(iterations 1200 there vs 1300 now"):
        local_job.run_local_job(PARAMS, 1300, 7, hosts=1, output=tmp_path / "out")


def test_sweep_spreads_points_over_hosts(h, tmp_path):
    spec = {"seed": 3, "iterations": 1500, "points": [SMALL, {**SMALL, "radius": 9.0}]}
    (tmp_path / "sweep.json").write_text(json.dumps(spec))
    trees = {n: h.make_tree(tmp_path / n, n, ["algo-1", "algo-2"]) for n in ("algo-1", "algo-2")}
    for tree in trees.values():
        done = h.run_entrypoint(tree, "sweep", "--spec", str(tmp_path / "sweep.json"), "--workers", "1")
        assert done.returncode == 0, done.stderr
    out = tmp_path / "s3-prefix"
    local_job.gather(trees, out)
    points = merge.merge_sweep(out)
    for point, radius in zip(points, (6.0, 9.0), strict=True):
        expected, counts = reference(engine.Params(**{**SMALL, "radius": radius}), 1500, 3)
        assert point.summary["mean"] == expected["mean"]
        np.testing.assert_array_equal(point.pair_counts, counts)
    # 4 blocks in one global order, round-robin: each host did two
    assert sorted(h for p in points for h in p.summary["hosts"]) == ["algo-1", "algo-1", "algo-2", "algo-2"]
    with pytest.raises(SimulationError, match="is a sweep of 2 points"):
        merge.merge_output(out)


# --- stopping and resuming ----------------------------------------------------------------------------------------

SLOW = {"width": 1000.0, "height": 1000.0, "people": 20000, "radius": 45.0}  # block_size 100, ~0.1 s a block


def test_sigterm_keeps_finished_blocks_and_rerun_equals_uninterrupted(h, tmp_path):
    iterations, seed = 1000, 11
    tree = h.make_tree(tmp_path / "algo-2", "algo-2", ["algo-1", "algo-2"])
    blocks = tree / "processing" / "output" / "blocks"
    host = h.entrypoint(tree, "simulate", *h.engine_args(SLOW, iterations, seed), "--workers", "1")
    deadline = time.monotonic() + 60
    while not (blocks.is_dir() and any(blocks.glob("block-*.json"))) and time.monotonic() < deadline:
        time.sleep(0.01)
    host.send_signal(signal.SIGTERM)
    _, err = host.communicate(timeout=60)

    assert host.returncode == 1
    message = (tree / "output" / "message").read_text()
    assert message.startswith("stopped by SIGTERM on algo-2:")
    kept = sorted(int(p.stem.split("-")[1]) for p in blocks.glob("block-*.json"))
    assert kept, "the first block was finished before the signal"
    assert len(kept) < 5, f"stopped after the block in flight, kept {kept}"
    assert set(kept) <= {1, 3, 5, 7, 9}, "algo-2 of 2 owns the odd blocks"
    assert not list(blocks.glob(".*")), "an interrupted write must not leave a temporary file"
    params = engine.Params(**SLOW)
    for k in kept:
        record = records.load_block(tree / "processing" / "output", k, 100)
        assert record["host"] == "algo-2"
        np.testing.assert_array_equal(record["pair_counts"], engine.simulate_block(params, seed, k, 100))
    assert json.loads((tree / "processing/output/hosts/algo-2.json").read_text())["blocks_done"] == kept
    assert err.count("error:") == 1

    # the job's output prefix after the stopped job; the re-run computes only what is missing
    out = tmp_path / "s3-prefix"
    shutil.copytree(tree / "processing" / "output", out)
    result = local_job.run_local_job(params, iterations, seed, hosts=2, output=out, workers_per_host=1)
    assert result.blocks_computed == 10 - len(kept)
    expected = engine.run(params, iterations, seed, workers=2)
    for key in STATS:
        assert result.merged.summary[key] == expected[key], key


def test_local_job_interrupted_keeps_blocks_and_resumes(h, tmp_path):
    iterations, seed = 800, 5
    out = tmp_path / "out"
    command = [sys.executable, "-m", "simulation", "local-job", "--hosts", "2", "--workers-per-host", "1"]
    command += [*h.engine_args(SLOW, iterations, seed), "--output", str(out)]
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in job.stderr:  # the hosts report each finished block: stop once the first is in
        seen.append(line)
        if " done in " in line:
            break
    job.send_signal(signal.SIGTERM)
    _, err = job.communicate(timeout=60)
    assert job.returncode == 1, "".join(seen) + err
    assert "; resume with: python -m simulation local-job --hosts 2 " in err.splitlines()[-1]
    kept = len(list((out / "blocks").glob("block-*.json")))
    assert 0 < kept < 8
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{8 - kept} blocks computed now, {kept} resumed" in resumed.stdout
    expected = engine.run(engine.Params(**SLOW), iterations, seed, workers=1)
    assert json.loads((out / "summary.json").read_text())["mean"] == expected["mean"]


# --- bad configuration: one line, non-zero, nothing lost ---------------------------------------------------------


def _fails_with_one_line(h, tree: Path, needle: str, *args: str) -> None:
    done = h.run_entrypoint(tree, *args)
    assert done.returncode == 2, done.stderr
    assert h.error_lines(done.stderr) == [h.error_lines(done.stderr)[0]], done.stderr
    assert needle in h.error_lines(done.stderr)[0]
    assert needle in (tree / "output" / "message").read_text()


SIMULATE = ("simulate", "--width=1000", "--height=1000", "--people=1000", "--radius=6", "--iterations=100", "--seed=1")


def test_the_first_log_line_states_versions_and_kernel_source(h, tree):
    done = h.run_entrypoint(
        tree, "simulate", *h.engine_args({"width": 50, "height": 50, "people": 30, "radius": 2}, 5, 1)
    )
    assert done.returncode == 0, done.stderr
    first = done.stderr.splitlines()[0]
    assert re.fullmatch(
        rf"simulation \S+, Python {platform.python_version()}, numpy {np.__version__}, numba \S+, "
        r"kernel from (cache|compiled|numpy) \(loaded in \d+\.\d\d s\)",
        first,
    ), first


def test_missing_resource_config(h, tmp_path):
    _fails_with_one_line(h, tmp_path, "resourceconfig.json is missing", *SIMULATE)


def test_malformed_resource_config(h, tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "resourceconfig.json").write_text('{"current_host": "algo-1", "hosts": ')
    _fails_with_one_line(h, tmp_path, "is not valid JSON", *SIMULATE)


def test_current_host_not_in_hosts(h, tmp_path):
    h.make_tree(tmp_path, "algo-3", ["algo-1", "algo-2"])
    _fails_with_one_line(h, tmp_path, "current_host 'algo-3' is not one of hosts", *SIMULATE)


def test_unwritable_output(h, tree):
    (tree / "processing").mkdir()
    (tree / "processing" / "output").write_text("a file where the output folder should be")
    _fails_with_one_line(h, tree, "output folder", *SIMULATE)
    assert "is not a folder" in (tree / "output" / "message").read_text()


def test_bad_arguments_and_sweep_spec(h, tree, tmp_path):
    _fails_with_one_line(
        h, tree, "--people: must be at least 2, got '1'", "simulate", *h.engine_args({**SMALL, "people": 1}, 10, 1)
    )
    _fails_with_one_line(h, tree, "--iterations: must be at least 1, got '0'", "simulate", "--iterations=0")
    (tmp_path / "spec.json").write_text(json.dumps({"seed": 1, "iterations": 10, "points": []}))
    _fails_with_one_line(h, tree, "points must be a non-empty list", "sweep", "--spec", str(tmp_path / "spec.json"))


def test_local_job_refuses_an_unwritable_output(h, tmp_path):
    (tmp_path / "taken").write_text("")
    command = [sys.executable, "-m", "simulation", "local-job", "--hosts", "1", "--output", str(tmp_path / "taken")]
    done = subprocess.run(command + h.engine_args(SMALL, 100, 1), capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: output folder {tmp_path / 'taken'} is not a folder"]


# --- merge --------------------------------------------------------------------------------------------------------


def test_merge_names_missing_blocks(tmp_path):
    out = tmp_path / "out"
    local_job.run_local_job(engine.Params(**{**SMALL, "people": 4000}), 2600, 1, hosts=3, output=out)  # 6 blocks
    for k in (1, 2, 4):
        layout.block_path(out, k).unlink()
    with pytest.raises(SimulationError, match=r"3 of 6 blocks missing \(000001-000002, 000004\)"):
        merge.merge_output(out)
    done = subprocess.run([sys.executable, "-m", "simulation", "merge", str(out)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {out}: 3 of 6 blocks missing (000001-000002, 000004); re-run the job over this output to compute them"
    ]


def test_merge_cli_writes_the_result(tmp_path, small_reference):
    expected, _ = small_reference
    out = tmp_path / "out"
    local_job.run_local_job(PARAMS, 2500, 7, hosts=3, output=out)
    (out / "summary.json").unlink()
    (out / layout.MEAN_FILE).unlink()
    done = subprocess.run([sys.executable, "-m", "simulation", "merge", str(out), "--json"], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mean"] == expected["mean"]
    assert float((out / layout.MEAN_FILE).read_text()) == expected["mean"]


def test_merge_of_a_folder_that_is_no_output(tmp_path):
    with pytest.raises(SimulationError, match="has no run.json"):
        merge.merge_output(tmp_path)


@pytest.mark.parametrize(
    ("record", "complaint"),
    [
        ({"kind": "simulate"}, "malformed: iterations, seed, params, block_count missing"),
        ({"kind": "simulate", "params": [1], "iterations": 1, "seed": 1, "block_count": 1}, "params missing"),
        ({"kind": "simulate", "params": {"foo": 1}, "iterations": 1, "seed": 1, "block_count": 1}, "'foo'"),
        ({"kind": "simulate", "params": {"people": 1}, "iterations": 1, "seed": 1, "block_count": 1}, "people must"),
        ({"kind": "sweep", "points": 3, "iterations": 1, "seed": 1}, "malformed: points missing"),
    ],
)
def test_a_damaged_run_record_is_one_line_naming_it(tmp_path, capsys, record, complaint):
    from simulation.cli import main

    (tmp_path / "run.json").write_text(json.dumps({"format": 1, **record}))
    assert main(["merge", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'run.json'}")
    assert err.count("\n") == 1
    assert complaint in err


def test_hosts_that_disagree_are_a_collision(tmp_path):
    trees = {}
    for host, content in (("algo-1", "1"), ("algo-2", "2")):
        trees[host] = tmp_path / host
        (trees[host] / "processing" / "output").mkdir(parents=True)
        (trees[host] / "processing" / "output" / "run.json").write_text(content)
    with pytest.raises(JobFailed, match="hosts algo-1 and algo-2 both wrote run.json with different content"):
        local_job.gather(trees, tmp_path / "out")


# --- users' own R scripts -----------------------------------------------------------------------------------------

R_SCRIPT = """
library(doParallel)
# like the original workflow's `Rscript X.R --args ...`, the script sees c("--args", ...)
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2])
registerDoParallel(cores = 2)
squares <- foreach(i = 1:n, .combine = c) %dopar% { i * i }
write(sum(squares), file = file.path(Sys.getenv("OUTPUT_DIR"), "output_result_mean.txt"))
cat(Sys.getenv("CURRENT_HOST"), args[3], "\\n", file = file.path(Sys.getenv("OUTPUT_DIR"), "host.txt"))
"""


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R: apt-get install r-base-core r-cran-doparallel")
def test_r_script_job_writes_its_output(h, tree):
    code = tree / "processing" / "input" / "code"
    code.mkdir(parents=True)
    (code / "squares.R").write_text(R_SCRIPT)
    done = h.run_entrypoint(tree, "rscript", "--script", "squares.R", "--", "--args", "10", "hello")
    assert done.returncode == 0, done.stderr
    assert (tree / "processing" / "output" / "output_result_mean.txt").read_text().strip() == "385"
    assert (tree / "processing" / "output" / "host.txt").read_text().split() == ["algo-1", "hello"]


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R: apt-get install r-base-core")
def test_failing_r_script_reports_rs_error(h, tree):
    code = tree / "processing" / "input" / "code"
    code.mkdir(parents=True)
    (code / "broken.R").write_text('stop("the input table is empty")\n')
    done = h.run_entrypoint(tree, "rscript", "--script", "broken.R")
    assert done.returncode == 1
    message = (tree / "output" / "message").read_text()
    assert message.startswith("Rscript broken.R exited with status 1:")
    assert "the input table is empty" in message
    missing = h.run_entrypoint(tree, "rscript", "--script", "nope.R")
    assert missing.returncode == 2
    assert "R script 'nope.R' not found in" in h.error_lines(missing.stderr)[0]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SIMLAB_IMAGE_TAG": "v2"}, "v2"),
        # clients installed before the rename (docs/contracts.md, "Names") still set the old variable
        ({"SIMULATION_IMAGE_TAG": "v1"}, "v1"),
        ({"SIMLAB_IMAGE_TAG": "v2", "SIMULATION_IMAGE_TAG": "v1"}, "v2"),
    ],
)
def test_host_manifest_records_the_image_tag_the_client_set(h, tree, env, expected):
    clean = {"SIMLAB_IMAGE_TAG": "", "SIMULATION_IMAGE_TAG": "", **env}
    args = h.engine_args({"width": 100, "height": 100, "people": 10, "radius": 5}, 10, 1)
    done = h.run_entrypoint(tree, "simulate", *args, "--workers=1", env=clean)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tree / "processing" / "output" / "hosts" / "algo-1.json").read_text())
    assert manifest["image_tag"] == expected
