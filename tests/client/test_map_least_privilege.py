"""A map job (R's job_lapply, futures) on the submission path under ONLY a submitter policy, moto's IAM enforcement on
and every request evaluated with its conditions and ARNs (tests/client/iam_eval.py): the payload's upload, the job
(tagged kind=map), its progress and the job list need nothing the policy does not grant."""

from __future__ import annotations

from simulation.client import map as client_map
from simulation.client import results, status
from simulation.job import layout
from tests.client.test_least_privilege import enforce, submitter  # noqa: F401  (the policy fixtures)


def test_a_map_job_is_submitted_and_followed_under_only_the_submitter_policy(enforce, submitter, tmp_path):  # noqa: F811
    code = tmp_path / "payload"
    code.mkdir()
    (code / layout.MAP_PAYLOAD_FILE).write_bytes(b"R's serialization of FUN, X and the globals")
    (code / layout.MAP_RUNNER_FILE).write_text("# the runner\n")
    with enforce(submitter.policy) as platform:
        job = client_map.submit_map(str(code), elements=5, seed="42", resources={"instance_type": "ml.m5.4xlarge"})
        summary = results.job_results(job, str(tmp_path / "results"))
        assert (summary["kind"], summary["elements"], summary["blocks_done"]) == ("map", 5, 0)
        assert [row["kind"] for row in status.list_jobs() if row["job"] == job] == ["map"]
        keys = platform.client("s3").list_objects_v2(Bucket=platform.config["bucket"], Prefix=f"jobs/{job}/")
        assert sorted(k["Key"] for k in keys["Contents"]) == [
            f"jobs/{job}/code/{name}" for name in ("map.json", "map.rds", "map_host.R")
        ]
    assert platform.calls.seen
    assert platform.calls.denied_by(submitter.policy) == []
