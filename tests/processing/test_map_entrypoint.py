"""`python -m simulation.processing map`: one host's share of an R map job, with the real R runner.

Payloads are written here by plain R (saveRDS of the fields the runner reads), not by simjobs, so these tests pin
the contract between the entrypoint, the runner and its files: blocks shared k mod H, each block's values and its
record, failed elements recorded and the others kept, a stop that keeps finished blocks, resuming, refusals in one
line. Expected values come from R evaluating the same function directly with the streams derived by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from simulation.job import layout, map_records

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "R" / "simjobs" / "inst" / "map" / "map_host.R"
pytestmark = [
    pytest.mark.r,
    pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R: apt-get install r-base-core"),
]


def r(code: str, cwd: Path) -> str:
    done = subprocess.run(["Rscript", "-e", code], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def make_code(code: Path, fun: str, elements: int, block_size: int, seed: int | None = 42, packages: str = "") -> None:
    """A map payload as simjobs writes it (FUN, X = 1..n, the first L'Ecuyer-CMRG stream made from `seed`)."""
    code.mkdir(parents=True)
    first = f'{{RNGkind("L\'Ecuyer-CMRG"); set.seed({seed}); .Random.seed}}' if seed is not None else "NULL"
    r(
        f"""
payload <- list(format = 1L, mode = "lapply", FUN = {fun}, X = as.list(seq_len({elements})), args = list(),
                globals = list(), packages = c({packages}), namespaces = character(), seed = {first})
saveRDS(payload, "map.rds")
""",
        code,
    )
    shutil.copy(RUNNER, code / layout.MAP_RUNNER_FILE)
    map_records.write_spec(code, elements=elements, mode="lapply", seed=str(seed), block_size=block_size, cores=1)


def values_of(out: Path, blocks: int) -> list[str]:
    """Every element's value as R prints it (deparse), in element order, read from the block files."""
    text = r(
        f"""
for (b in seq_len({blocks}) - 1L) {{
  part <- readRDS(file.path("{out}", "blocks", sprintf("block-%06d.rds", b)))
  for (v in part$values) cat(if (inherits(v, "error")) "ERROR" else deparse(v, control = "digits17"), "\\n")
}}
""",
        out,
    )
    return text.split()


def host(h, tmp_path: Path, name: str, hosts: list[str], code: Path) -> Path:
    tree = h.make_tree(tmp_path / name, name, hosts)
    shutil.copytree(code, tree / "processing" / "input" / "code")
    return tree


NOISY = "function(i) i + runif(1)"


def expected_noisy(tmp_path: Path, elements: int, seed: int) -> list[str]:
    """Element i's value with the stream derived by hand: nextRNGSubStream of the i-th stream of the chain."""
    text = r(
        f"""
RNGkind("L'Ecuyer-CMRG"); set.seed({seed}); stream <- .Random.seed
for (i in seq_len({elements})) {{
  assign(".Random.seed", parallel::nextRNGSubStream(stream), envir = globalenv())
  cat(deparse(i + runif(1), control = "digits17"), "\\n")
  stream <- parallel::nextRNGStream(stream)
}}
""",
        tmp_path,
    )
    return text.split()


def test_two_hosts_share_the_blocks_and_every_element_has_its_own_stream(h, tmp_path):
    code = tmp_path / "code"
    make_code(code, NOISY, elements=10, block_size=3, seed=42)  # blocks 0..3, the last of one element
    hosts = ["algo-1", "algo-2"]
    outputs = []
    for name in hosts:
        tree = host(h, tmp_path, name, hosts, code)
        done = h.run_entrypoint(tree, "map", "--workers", "2")
        assert done.returncode == 0, done.stderr
        assert f"{name}: 2 of 4 blocks of 10 elements are this host's (0 already done), 2 core(s)" in done.stderr
        outputs.append(tree / "processing" / "output")
    merged = tmp_path / "merged"
    for out in outputs:
        shutil.copytree(out, merged, dirs_exist_ok=True)
    records = {b: json.loads(layout.block_path(merged, b).read_text()) for b in range(4)}
    assert {b: rec["host"] for b, rec in records.items()} == {0: "algo-1", 1: "algo-2", 2: "algo-1", 3: "algo-2"}
    assert [(rec["first"], rec["count"]) for rec in records.values()] == [(1, 3), (4, 3), (7, 3), (10, 1)]
    assert values_of(merged, 4) == expected_noisy(tmp_path, 10, 42)
    summary = map_records.summarize(merged)
    assert (summary["complete"], summary["elements_done"], summary["failed"]) == (True, 10, [])


def test_failed_elements_are_recorded_with_their_messages_and_the_others_kept(h, tmp_path):
    code = tmp_path / "code"
    fun = 'function(i) { if (i == 2) stop("two is \\"bad\\"\\nreally"); if (i == 4) quit("no"); i * 10 }'
    make_code(code, fun, elements=5, block_size=5, seed=None)
    tree = host(h, tmp_path, "algo-1", ["algo-1"], code)
    done = h.run_entrypoint(tree, "map", "--workers", "1")
    assert done.returncode == 0, done.stderr
    out = tree / "processing" / "output"
    record = json.loads(layout.block_path(out, 0).read_text())
    assert record["failed"] == [
        [2, 'two is "bad"\nreally'],
        [4, "the element called quit(); a map element cannot end its R process"],
    ]
    assert values_of(out, 1) == ["10", "ERROR", "30", "ERROR", "50"]
    assert [f["element"] for f in map_records.summarize(out)["failed"]] == [2, 4]


def test_an_element_that_kills_its_process_is_named_and_the_others_of_its_block_kept(h, tmp_path):
    code = tmp_path / "code"
    make_code(code, "function(i) { if (i == 3) tools::pskill(Sys.getpid(), 9L); i }", elements=4, block_size=4)
    tree = host(h, tmp_path, "algo-1", ["algo-1"], code)
    done = h.run_entrypoint(tree, "map", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "block 0 ended its R process; its elements run one by one" in done.stderr
    out = tree / "processing" / "output"
    assert values_of(out, 1) == ["1", "2", "ERROR", "4"]
    (failed,) = map_records.summarize(out)["failed"]
    assert failed == {"element": 3, "message": "the element ended its R process (a crash or an exit)"}


def test_sigterm_keeps_finished_blocks_and_a_rerun_computes_only_the_rest(h, tmp_path):
    code = tmp_path / "code"
    make_code(code, "function(i) { Sys.sleep(0.4); i }", elements=8, block_size=1)
    tree = host(h, tmp_path, "algo-1", ["algo-1"], code)
    process = h.entrypoint(tree, "map", "--workers", "1")
    out = tree / "processing" / "output"
    deadline = time.monotonic() + 60
    while not layout.block_path(out, 1).exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    kept = sorted(b for b in range(8) if map_records.read_block(out, map_records.read_spec(code), b) is not None)
    assert 2 <= len(kept) < 8
    assert f"stopped by SIGTERM on algo-1: {len(kept)} of its 8 blocks are done and kept" in err
    manifest = json.loads(layout.host_manifest_path(out, "algo-1").read_text())
    assert manifest["status"] == "stopped by SIGTERM"
    assert manifest["blocks_done"] == kept
    again = h.run_entrypoint(tree, "map", "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert f"({len(kept)} already done)" in again.stderr
    assert values_of(out, 8) == [str(i) for i in range(1, 9)]


def test_resume_from_takes_blocks_over_unchanged_and_refuses_another_payload(h, tmp_path):
    code = tmp_path / "code"
    make_code(code, NOISY, elements=6, block_size=2, seed=5)
    old = host(h, tmp_path, "algo-2", ["algo-1", "algo-2"], code)  # only algo-2 ran: block 1
    assert h.run_entrypoint(old, "map", "--workers", "1").returncode == 0
    previous = old / "processing" / "output"
    new = host(h, tmp_path, "algo-1", ["algo-1"], code)
    done = h.run_entrypoint(new, "map", "--workers", "1", "--resume-from", str(previous))
    assert done.returncode == 0, done.stderr
    assert "took over 1 finished block(s)" in done.stderr
    out = new / "processing" / "output"
    assert layout.map_values_path(out, 1).read_bytes() == layout.map_values_path(previous, 1).read_bytes()
    assert json.loads(layout.block_path(out, 1).read_text())["host"] == "algo-2"
    assert values_of(out, 3) == expected_noisy(tmp_path, 6, 5)

    other = tmp_path / "other"
    make_code(other, NOISY, elements=6, block_size=2, seed=6)
    third = host(h, tmp_path / "third", "algo-1", ["algo-1"], other)
    refused = h.run_entrypoint(third, "map", "--workers", "1", "--resume-from", str(previous))
    assert refused.returncode == 2
    assert h.error_lines(refused.stderr) == [
        f"error: {previous / 'run.json'} describes another run than this job's; refusing to mix their blocks"
    ]


def test_refusals_are_one_line(h, tmp_path):
    code = tmp_path / "code"
    make_code(code, "function(i) i", elements=3, block_size=3, packages='"simjobsNoSuchPackage"')
    tree = host(h, tmp_path, "algo-1", ["algo-1"], code)
    done = h.run_entrypoint(tree, "map", "--workers", "1")
    assert done.returncode == 1
    assert h.error_lines(done.stderr) == [
        "error: algo-1: R package 'simjobsNoSuchPackage' is not installed in this job's image; build one that has it "
        'with simjobs::build_image(r_packages = c("simjobsNoSuchPackage"))'
    ]
    assert not (tree / "processing" / "output" / "blocks").exists() or not any(
        (tree / "processing" / "output" / "blocks").glob("*.json")
    )
    # a payload that is not the one map.json describes (tampered, or a partial upload)
    spec = json.loads((code / layout.MAP_SPEC_FILE).read_text())
    tampered = host(h, tmp_path / "t", "algo-1", ["algo-1"], code)
    payload = tampered / "processing" / "input" / "code" / layout.MAP_PAYLOAD_FILE
    payload.write_bytes(payload.read_bytes()[:-1])
    done = h.run_entrypoint(tampered, "map", "--workers", "1")
    assert done.returncode == 2
    (line,) = h.error_lines(done.stderr)
    assert line.startswith(f"error: {payload} is not the payload map.json describes (sha256 ")
    assert spec["payload_sha256"][:12] in line
    # no code input at all
    bare = h.make_tree(tmp_path / "bare", "algo-1", ["algo-1"])
    done = h.run_entrypoint(bare, "map")
    assert done.returncode == 2
    assert h.error_lines(done.stderr) == [f"error: {bare / 'processing/input/code/map.json'} is missing"]


def test_without_r_a_map_job_says_so(h, tmp_path):
    code = tmp_path / "code"
    make_code(code, "function(i) i", elements=1, block_size=1)
    tree = host(h, tmp_path, "algo-1", ["algo-1"], code)
    python_only = tmp_path / "bin"
    python_only.mkdir()
    os.symlink(shutil.which("python3") or "/usr/bin/python3", python_only / "python3")
    done = h.run_entrypoint(tree, "map", env={"PATH": str(python_only)})
    assert done.returncode == 2
    assert h.error_lines(done.stderr) == ["error: Rscript is not installed in this image: a map job needs R"]
