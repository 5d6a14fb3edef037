"""What `make rehearse` prints, on reports made by hand (no emulator): a last line saying PASSED or FAILED, what destroy
left grouped by why (kept by design, the emulator's limits, unexpected), no destroy row that reads "ok" over a failed
command, and the work folder kept (and named) when something failed, since the failures point into it."""

from __future__ import annotations

from pathlib import Path

import rehearsal.__main__ as cli
from rehearsal.leftovers import classify, unexpected
from rehearsal.run import Report, Step

LEFT = {
    "vpcs": ["vpc-1"],
    "subnets": ["subnet-1", "subnet-2", "subnet-3", "subnet-4", "subnet-5"],
    "buckets": ["rehearsal-data-x", "rehearsal-logs-x"],
    "ecr repositories": ["rehearsal-user-images-1a2b"],
    "iam roles": ["rehearsal-JobsExecution"],
}


def report(mode: str, workdir: Path, failed: str | None = None, left: dict | None = None) -> Report:
    steps = [Step(name, name != failed, f"{name} detail", 1.0) for name in ("synth", "deploy", "destroy")]
    return Report(mode, workdir, steps, dict(LEFT if left is None else left))


def test_leftovers_are_grouped_by_why_they_are_there():
    grouped = classify({**LEFT, "instances": ["i-1"], "stacks": ["rehearsal-jobs (DELETE_FAILED)"]})
    assert grouped["kept by design (delete_data_on_destroy=false, as on AWS)"] == {
        "buckets": LEFT["buckets"],
        "ecr repositories": LEFT["ecr repositories"],
    }
    assert set(grouped["moto cannot delete (a real destroy does)"]) == {"vpcs", "subnets", "iam roles"}
    assert unexpected({**LEFT, "instances": ["i-1"], "stacks": ["s"]}) == {"instances": ["i-1"], "stacks": ["s"]}
    assert unexpected(LEFT) == {}


def test_a_passing_rehearsal_ends_with_one_pass_line(tmp_path):
    text = cli.table([report("ec2", tmp_path), report("none", tmp_path)])
    assert text.splitlines()[-1] == "rehearsal PASSED: ec2, none, every step ok"
    assert "destroy --all exit" not in text
    assert "  kept by design (delete_data_on_destroy=false, as on AWS):\n    buckets: 2 (rehearsal-data-x, " in text
    assert "    subnets: 5 (subnet-1, subnet-2, subnet-3, subnet-4, ...)" in text


def test_a_failed_step_is_the_last_line(tmp_path):
    text = cli.table([report("ec2", tmp_path, failed="deploy"), report("none", tmp_path)])
    assert text.splitlines()[-1] == "rehearsal FAILED: ec2 deploy: deploy detail"


def test_the_work_folder_is_kept_and_named_when_something_failed(tmp_path, monkeypatch, capsys):
    made: list[Path] = []

    def fake(modes: list[str], root: Path, say: object) -> list[Report]:
        made.append(root)
        (root / "ec2").mkdir(parents=True)
        (root / "ec2" / "cdk.log").write_text("what the CLI said\n")
        return [report("ec2", root / "ec2", failed="deploy")]

    monkeypatch.setattr(cli, "rehearse_all", fake)
    assert cli.main(["ec2"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"logs, cloud assemblies and cdk-nag's validation reports are kept in {made[0]}"
    assert (made[0] / "ec2" / "cdk.log").is_file()


def test_a_passing_run_cleans_its_temporary_folder(monkeypatch, capsys):
    made: list[Path] = []

    def fake(modes: list[str], root: Path, say: object) -> list[Report]:
        made.append(root)
        return [report("none", root)]

    monkeypatch.setattr(cli, "rehearse_all", fake)
    assert cli.main(["none"]) == 0
    assert not made[0].exists()
    assert capsys.readouterr().out.splitlines()[-1] == "rehearsal PASSED: none, every step ok"
