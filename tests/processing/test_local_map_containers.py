"""A local map job in containers (R's job_lapply(local = TRUE, container =), `local-job --map DIR --container`)
prepares its engine as `local-job --container` does: one probe, and a missing image or a broken podman
configuration is the same one line, said before any host starts or any state is written. Real podman."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.errors import SimulationError
from simulation.job import containers, layout, local_map, map_records

MISSING = "localhost/polish-no-such-image:none"
needs_podman = pytest.mark.skipif(shutil.which("podman") is None, reason="needs podman: apt-get install podman runc")


def missing_line(engine: str, image: str) -> str:
    # as docs/bad-input.md writes it for `local-job --container`, independently of the code
    return (
        f"no image '{image}' in {engine}'s local images; build it first: {engine} build -f container/Dockerfile "
        f"-t {image} . (see docs/cli.md#local-jobs-and-the-job-image)"
    )


def map_folder(root: Path) -> Path:
    job = root / "job"
    code = job / layout.CODE_PART
    code.mkdir(parents=True)
    (code / layout.MAP_PAYLOAD_FILE).write_bytes(b"a payload")
    (code / layout.MAP_RUNNER_FILE).write_text("# the runner\n")
    map_records.write_spec(code, elements=4, mode="lapply", seed="1", block_size=None, cores=1)
    return job


@needs_podman
def test_a_missing_image_stops_the_map_before_anything_is_written(tmp_path):
    job = map_folder(tmp_path)
    settings = local_map.LocalMap(hosts=2, container=MISSING, engine="podman")
    for start in (local_map.run_local_map, local_map.start_local_map):
        with pytest.raises(SimulationError) as caught:
            start(job, settings)
        assert str(caught.value) == missing_line("podman", MISSING)
        assert not (job / local_map.LOCAL_FILE).exists()  # no state: nothing ran, nothing runs in the background
        assert not (job / layout.OUTPUT_PART).exists()
        assert not (job / layout.STAGING_DIR).exists()


@needs_podman
def test_the_image_s_r_packages_and_r_s_check_say_the_same_line():
    for ask in (local_map.image_r_packages, local_map.check_container):
        with pytest.raises(SimulationError) as caught:
            ask(MISSING, "podman")
        assert str(caught.value) == missing_line("podman", MISSING)


@needs_podman
def test_a_broken_podman_configuration_is_one_line_for_a_map(tmp_path):
    job = map_folder(tmp_path)
    conf = tmp_path / "containers.conf"
    conf.write_text("[engine\nruntime = 'runc'\n")
    done = subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", "--map", str(job), "--container", MISSING],
        env={**os.environ, "CONTAINERS_CONF": str(conf)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f'error: podman\'s configuration is broken (reading system config "{conf}": ')
    assert line.endswith("fix it or unset CONTAINERS_CONF, see docs/cli.md#local-jobs-and-the-job-image")


def test_hosts_run_with_the_engine_the_probe_chose(tmp_path):
    # when only runc could start the probe, every host must get runc too, as local-job's hosts do
    with_runc = containers.Engine("podman", ("--runtime", "runc"))
    settings = local_map.LocalMap(hosts=1, cores_per_host=2, container="img")
    command = local_map.host_command(tmp_path, settings, with_runc)
    assert command[:4] == ["podman", "--runtime", "runc", "run"]
    assert f"--volume={tmp_path}:/opt/ml" in command
    assert command[command.index("img") + 1 :] == [layout.MAP_COMMAND, "--workers=2"]
    assert any(option.startswith("--ulimit=nofile=") for option in command)
    assert local_map.host_command(tmp_path, local_map.LocalMap(hosts=1, cores_per_host=2)) == [
        sys.executable,
        "-m",
        "simulation.processing",
        layout.MAP_COMMAND,
        "--workers=2",
    ]
