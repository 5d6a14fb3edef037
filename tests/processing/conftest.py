"""Helpers for the processing tests: an /opt/ml tree per emulated host, and the entrypoint run in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def engine_args(params: dict, iterations: int, seed: int) -> list[str]:
    return [*(f"--{k}={v}" for k, v in params.items()), f"--iterations={iterations}", f"--seed={seed}"]


def make_tree(root: Path, host: str, hosts: list[str]) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "config" / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
    return root


def entrypoint(tree: Path, *args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simulation.processing", *args],
        env={**os.environ, "OPT_ML_ROOT": str(tree), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def run_entrypoint(tree: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    process = entrypoint(tree, *args, env=env)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:") or "Traceback" in line]


class Helpers:
    """pytest's importlib mode cannot import conftest from a test: the helpers come in as a fixture."""

    engine_args = staticmethod(engine_args)
    make_tree = staticmethod(make_tree)
    entrypoint = staticmethod(entrypoint)
    run_entrypoint = staticmethod(run_entrypoint)
    error_lines = staticmethod(error_lines)


@pytest.fixture
def h() -> type[Helpers]:
    return Helpers


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "opt-ml", "algo-1", ["algo-1"])
