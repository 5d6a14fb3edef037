"""`--resume-from DIR` of the entrypoint (what `submit --resume` runs): a previous job's finished blocks taken over,
only the missing ones computed, the merged result the uninterrupted run's; another run's output refused; and the
host manifest's versions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from simulation import engine
from simulation.job import layout, local_job, merge

SMALL = {"width": 1000.0, "height": 1000.0, "people": 1000, "radius": 6.0}  # block_size 1000 (2e6 // 1000 > 1000)


def _blocks(out: Path) -> dict[int, dict]:
    return {int(p.stem[6:]): json.loads(p.read_text()) for p in sorted(out.glob("**/blocks/block-*.json"))}


def test_a_sweep_resumed_on_another_host_count_takes_over_blocks_and_equals_the_uninterrupted_sweep(h, tmp_path):
    spec = {"seed": 8, "iterations": 2500, "points": [SMALL, {**SMALL, "people": 500}]}  # 3 + 3 blocks
    (tmp_path / "sweep.json").write_text(json.dumps(spec))
    old = h.make_tree(tmp_path / "old", "algo-2", ["algo-1", "algo-2"])  # only algo-2 ran before the stop
    done = h.run_entrypoint(old, "sweep", "--spec", str(tmp_path / "sweep.json"), "--workers", "1")
    assert done.returncode == 0, done.stderr
    previous = old / "processing" / "output"
    # algo-2 had global blocks 1, 3, 5: point 0 block 1, point 1 blocks 0 and 2
    assert sorted(_blocks(previous / "points" / "point-000")) == [1]
    assert sorted(_blocks(previous / "points" / "point-001")) == [0, 2]
    (previous / "blocks").mkdir(exist_ok=True)
    (previous / "points" / "point-000" / "blocks" / ".block-000000.json.x1.tmp").write_text('{"block": 0')

    new = h.make_tree(tmp_path / "new", "algo-1", ["algo-1"])
    done = h.run_entrypoint(
        new, "sweep", "--spec", str(tmp_path / "sweep.json"), "--workers", "1", "--resume-from", str(previous)
    )
    assert done.returncode == 0, done.stderr
    assert "took over 3 finished block(s)" in done.stderr
    assert "(3 already done)" in done.stderr
    out = new / "processing" / "output"
    for point in ("point-000", "point-001"):
        for k, block in _blocks(out / "points" / point).items():
            old_file = previous / "points" / point / "blocks" / f"block-{k:06d}.json"
            if old_file.exists():  # taken over byte for byte
                assert (out / "points" / point / "blocks" / old_file.name).read_bytes() == old_file.read_bytes()
                assert block["host"] == "algo-2"
            else:
                assert block["host"] == "algo-1"
    for i, point in enumerate(merge.merge_sweep(out)):
        params = engine.Params(**spec["points"][i])
        expected = engine.run(params, 2500, 8, workers=1)
        assert point.summary["mean"] == expected["mean"]
        counts = [
            engine.simulate_block(params, 8, k, engine.block_iterations(k, 2500, params.people)) for k in (0, 1, 2)
        ]
        np.testing.assert_array_equal(point.pair_counts, np.concatenate(counts))


def test_the_output_of_another_run_is_refused_not_mixed(h, tmp_path):
    args = h.engine_args(SMALL, 2000, 4)
    old = h.make_tree(tmp_path / "old", "algo-1", ["algo-1"])
    assert h.run_entrypoint(old, "simulate", *args, "--workers=1").returncode == 0
    other = h.engine_args(SMALL, 2000, 5)  # another seed
    new = h.make_tree(tmp_path / "new", "algo-1", ["algo-1"])
    done = h.run_entrypoint(new, "simulate", *other, "--workers=1", "--resume-from", str(old / "processing" / "output"))
    assert done.returncode == 2
    assert h.error_lines(done.stderr) == [
        f"error: {old / 'processing' / 'output' / 'run.json'} describes another run than this job's; "
        "refusing to mix their blocks"
    ]
    assert not list((new / "processing" / "output").glob("blocks/*.json"))


def test_a_block_with_another_seed_is_not_taken_over(h, tmp_path):
    args = h.engine_args(SMALL, 2000, 4)
    old = h.make_tree(tmp_path / "old", "algo-1", ["algo-1"])
    assert h.run_entrypoint(old, "simulate", *args, "--workers=1").returncode == 0
    block = old / "processing" / "output" / "blocks" / "block-000001.json"
    block.write_text(json.dumps({**json.loads(block.read_text()), "seed": 99}))
    new = h.make_tree(tmp_path / "new", "algo-1", ["algo-1"])
    done = h.run_entrypoint(new, "simulate", *args, "--workers=1", "--resume-from", str(old / "processing" / "output"))
    assert done.returncode == 0, done.stderr
    assert "took over 1 finished block(s)" in done.stderr
    expected = engine.run(engine.Params(**SMALL), 2000, 4, workers=1)
    assert json.loads((new / "processing" / "output" / "summary.json").read_text())["mean"] == expected["mean"]


def test_host_manifest_and_merged_manifest_record_numpy_numba_and_r_versions(tmp_path):
    result = local_job.run_local_job(engine.Params(**SMALL), 1000, 3, hosts=1, output=tmp_path / "out")
    host = json.loads(layout.host_manifest_path(tmp_path / "out", "algo-1").read_text())
    versions = host["versions"]
    assert versions["numpy"] == np.__version__
    try:
        import numba
    except ImportError:
        assert versions["numba"] is None
    else:
        assert versions["numba"] == numba.__version__
    if shutil.which("Rscript"):
        import subprocess

        said = subprocess.run(["Rscript", "-e", "cat(as.character(getRversion()))"], capture_output=True, text=True)
        assert versions["r"] == said.stdout.strip()
    else:
        assert versions["r"] is None
    assert result.merged.summary["manifest"]["versions"] == [versions]
