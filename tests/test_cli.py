"""The CLI front door without the optional client extras (the job image ships no boto3)."""

import json
import re
import subprocess
import sys

# `sys.modules[name] = None` makes `import name` raise ModuleNotFoundError, as on an install without boto3.
WITHOUT_BOTO = (
    "import sys\n"
    "sys.modules.update(boto3=None, botocore=None)\n"
    "from simulation.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run_without_boto(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_BOTO, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_engine_commands_work_without_the_client_extras():
    completed = run_without_boto("run", "--iterations", "20", "--seed", "7", "--workers", "1", "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["iterations"] == 20


def test_client_commands_say_what_to_install():
    completed = run_without_boto("submit", "--people", "100")
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(
        r"error: 'submit' needs (boto3|botocore), which is not installed here: pip install 'simulation\[client\]'",
        lines[0],
    )
