"""The deploy rehearsal (docs/rehearsal.md): the pinned CDK CLI bootstraps, deploys and destroys every stack in
moto server, for each rstudio mode. Selectable with `-m rehearsal`; about 25 s for both modes."""

from __future__ import annotations

import json

import pytest

from rehearsal.emulator import moto_server
from rehearsal.run import MODES, PLATFORM, STACKS, RehearsalFailed, check_job_config, rehearse_all

pytestmark = pytest.mark.rehearsal

STEPS = ["synth", "patch copy", "bootstrap", "deploy", "job config", "submit job", "destroy"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    found = rehearse_all(list(MODES), tmp_path_factory.mktemp("rehearsal"), say=lambda _: None)
    return {report.mode: report for report in found}


@pytest.mark.parametrize("mode", list(MODES))
def test_every_step_succeeds(reports, mode):
    report = reports[mode]
    failed = [f"{s.name}: {s.detail}" for s in report.steps if not s.ok]
    assert failed == []
    extra = ["submit as user"] if mode == "sagemaker" else []
    expected = [*STEPS[:-1], *extra, STEPS[-1]]
    if mode == "landing":  # the landing zone stands first; governance is checked after the job config
        expected = ["landing zone", *STEPS[:5], "governance", *STEPS[5:]]
    assert [s.name for s in report.steps] == expected
    stacks = STACKS[mode]
    deploy = next(s for s in report.steps if s.name == "deploy")
    assert deploy.detail == f"{stacks} stacks CREATE_COMPLETE"


@pytest.mark.parametrize("mode", list(MODES))
def test_destroy_leaves_what_is_kept_by_design_and_what_moto_cannot_delete(reports, mode):
    left = reports[mode].left
    # delete_data_on_destroy=false (the default): the bucket, its access-log bucket and the users' image
    # repository stay; so does the home file system in ec2 mode.
    assert len(left["buckets"]) == 2
    assert [r.startswith(f"{PLATFORM}-user-images-") for r in left["ecr repositories"]] == [True]
    assert len(left.get("efs file systems", [])) == (1 if mode in ("ec2", "landing") else 0)
    # moto cannot delete a VPC's dependents (docs/rehearsal.md); every stack record is gone nonetheless. In the
    # landing mode the platform made no VPC: the one left is the landing zone's, listed apart as never the platform's.
    if mode == "landing":
        assert "vpcs" not in left
        assert len(left["vpcs of the landing zone"]) == 1
    else:
        assert len(left["vpcs"]) == 1
        assert not any(kind.endswith(" of the landing zone") for kind in left)
    assert "stacks" not in left


def test_patches_touch_only_the_copy(reports):
    """The moto edits went into cdk.out.moto; the synthesized templates keep the secret and the tags."""
    report = reports["ec2"]
    patch = next(s for s in report.steps if s.name == "patch copy")
    assert "removed Tags of AWS::SSM::Parameter" in patch.detail
    assert "AWS::SecretsManager::Secret" in patch.detail
    real = (report.workdir / "cdk.out" / f"{PLATFORM}-workspace.template.json").read_text()
    copy = (report.workdir / "cdk.out.moto" / f"{PLATFORM}-workspace.template.json").read_text()
    assert '"AWS::SecretsManager::Secret"' in real
    assert '"AWS::SecretsManager::Secret"' not in copy


def test_job_config_check_fails_on_an_id_the_emulator_lacks(tmp_path):
    """The check has teeth: a config naming an image that was never published is refused."""
    with moto_server(tmp_path / "emulator") as emulator:
        emulator.client("ecr").create_repository(repositoryName="assets")
        config = {
            "platform": PLATFORM,
            "region": "eu-west-1",
            "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/assets:missing",
            "execution_role_arn": "arn:aws:iam::123456789012:role/absent",
            "bucket": "absent",
            "subnet_ids": ["subnet-1", "subnet-2"],
            "security_group_ids": ["sg-1"],
            "allowed_instance_types": ["ml.c5.xlarge"],
            "default_instance_type": "ml.c5.xlarge",
            "max_instances": 2,
            "max_runtime_seconds": 3600,
        }
        emulator.client("ssm").put_parameter(Name=f"/{PLATFORM}/job-config", Value=json.dumps(config), Type="String")
        with pytest.raises(RehearsalFailed, match="image assets:missing not found"):
            check_job_config(emulator, {})


def test_sagemaker_mode_deploys_per_user_access_and_a_user_submits_with_their_own_config(reports):
    """What moto cannot create (domain, profiles, image, custom resources) is dropped from the copy only; each
    user's roles and job config deploy, and the CLI run with bob's profile-role credentials finds bob's config."""
    report = reports["sagemaker"]
    patch = next(s for s in report.steps if s.name == "patch copy")
    assert "dropped 1 AWS::SageMaker::Domain" in patch.detail
    assert "dropped 2 AWS::SageMaker::UserProfile" in patch.detail
    real = (report.workdir / "cdk.out" / f"{PLATFORM}-workspace.template.json").read_text()
    assert '"AWS::SageMaker::Domain"' in real
    config = next(s for s in report.steps if s.name == "job config")
    assert "alice: config under profile role, own job role, prefix rehearsal-alice" in config.detail
    submitted = next(s for s in report.steps if s.name == "submit as user")
    assert submitted.detail.startswith("rehearsal-bob-sim-")
    assert submitted.detail.endswith(" as bob: own job role, prefix and tag")


def test_the_landing_zone_mode_deploys_into_the_given_vpc_with_boundary_tags_and_own_qualifier(reports):
    report = reports["landing"]
    detail = {s.name: s.detail for s in report.steps}
    assert detail["bootstrap"].startswith("CDKToolkit (qualifier lz42rehe)")
    assert "image cdk-lz42rehe-container-assets-" in detail["job config"]
    # 7: the five of the platform and the ec2 workspace, plus its one user's own role and job role (identity.py)
    assert detail["governance"].startswith("7 roles with boundary LandingZoneBoundary and path /rehearsal/")
    assert "no VPC, subnet, NAT, gateway, route or flow log of the platform's" in detail["governance"]
    assert "Custom::LandingZoneNetwork replaced by the network check's answer" in detail["patch copy"]
    assert "interface_endpoints=none" in detail["synth"]
