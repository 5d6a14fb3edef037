"""rstudio_workbench_version: the facts it draws on (stacks/studio/versions.py), what it refuses and when, and how a
synth carries it: the RStudioServerPro image of that version in the region (pinned by Custom::WorkbenchVersion),
the RSession image built for it, and an AWS::SageMaker::Domain whose properties never mention it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.settings import Settings, SettingsError
from stacks.studio import versions
from stacks.studio.pin import server_image_arn
from tests.conftest import synthesize
from tests.infra.helpers import one, render_join

ROOT = Path(__file__).resolve().parents[2]
LATEST, PREVIOUS = "2026.08.2+200.pro1", "2025.05.1+513.pro3"
# Before the previous version's deprecation (2026-12-05), when AWS supported both.
BOTH_SUPPORTED = date(2026, 12, 1)


# ------------------------------------------------------------------ the facts (written from AWS's page by hand)
def test_the_example_arn_on_aws_page_is_what_the_table_gives():
    """A26 gives this example for London; the table must reproduce it."""
    release = versions.RELEASES[LATEST]
    arn = f"arn:aws:sagemaker:eu-west-2:{versions.image_account('eu-west-2')}:image/{release.image_name}"
    assert arn == "arn:aws:sagemaker:eu-west-2:712779665605:image/rstudio-workbench-2026.08-sagemaker-1.0"


def test_the_tables_are_well_formed():
    assert len(versions.IMAGE_ACCOUNTS) == 19
    assert all(len(a) == 12 and a.isdigit() for a in versions.IMAGE_ACCOUNTS.values())
    assert versions.DEFAULT_WORKBENCH_VERSION == LATEST
    assert versions.RELEASES[LATEST].deb_version == "2026.08.2-200.pro1"  # Posit's .deb file names
    for release in versions.RELEASES.values():
        assert release.source.startswith("https://")


@pytest.mark.parametrize(
    ("version", "day", "supported"),
    [
        (LATEST, date(2026, 12, 6), True),
        (LATEST, date(2028, 1, 31), True),  # the deprecation date is the last day
        (LATEST, date(2028, 2, 1), False),
        (PREVIOUS, date(2026, 12, 5), True),
        (PREVIOUS, date(2026, 12, 6), False),
        ("2024.04.2+764.pro1", date(2026, 4, 30), True),
        ("2024.04.2+764.pro1", date(2026, 5, 1), False),
        ("2023.03.2-547.pro5", date(2020, 1, 1), False),  # no image, no date: listed as unsupported
    ],
)
def test_support_ends_after_awss_deprecation_date(version, day, supported):
    assert versions.RELEASES[version].supported_on(day) is supported


# ------------------------------------------------------------------ refusals (exit 2, one line)
def test_refusals_name_the_key_the_value_and_what_aws_supports(monkeypatch):
    monkeypatch.setattr(versions, "today", lambda: date(2026, 12, 6))
    cases = {
        PREVIOUS: "allowed: a version AWS still supports: 2026.08.2+200.pro1 (AWS deprecated 2025.05.1+513.pro3 on "
        "2026-12-05)",
        "2022.02.2-485.pro2": "(AWS lists 2022.02.2-485.pro2 as no longer supported)",
        "latest": "allowed: a version AWS lists for RStudio on SageMaker and still supports: 2026.08.2+200.pro1",
        "2026.09.1+10.pro1": "(a newer one goes into stacks/studio/versions.py with its image name and source)",
    }
    for value, says in cases.items():
        with pytest.raises(SettingsError) as caught:
            Settings.from_context({"rstudio_mode": "sagemaker", "rstudio_workbench_version": value})
        line = str(caught.value)
        assert line.startswith(f"context key 'rstudio_workbench_version': got '{value}'; ")
        assert says in line
        assert "\n" not in line


def test_the_default_is_judged_only_where_it_is_used(monkeypatch):
    """The day AWS retires the default, sagemaker synths refuse it; an ec2 deploy that never uses it does not."""
    monkeypatch.setattr(versions, "today", lambda: date(2028, 2, 1))
    Settings.from_context({"rstudio_mode": "ec2"})
    with pytest.raises(SettingsError, match="AWS deprecated 2026.08.2\\+200.pro1 on 2028-01-31"):
        Settings.from_context({"rstudio_mode": "sagemaker"})


def test_a_region_without_an_image_account_is_refused_at_synth_with_exit_2(tmp_path):
    env = {
        **os.environ,
        "CDK_DEFAULT_REGION": "me-south-1",
        "CDK_CONTEXT_JSON": json.dumps({"rstudio_mode": "sagemaker"}),
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
    }
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "error: deploy region 'me-south-1' has no RStudio on SageMaker image account in AWS's list; allowed: one of "
        "the regions AWS lists an RStudio image account for: us-east-1, "
    )


def test_a_known_region_gets_the_literal_arn_and_an_unknown_one_a_settings_error():
    app = cdk.App()
    london = cdk.Stack(app, "London", env=cdk.Environment(region="eu-west-2"))
    assert server_image_arn(london, "rstudio-workbench-2026.08-sagemaker-1.0") == (
        "arn:aws:sagemaker:eu-west-2:712779665605:image/rstudio-workbench-2026.08-sagemaker-1.0"
    )
    bahrain = cdk.Stack(app, "Bahrain", env=cdk.Environment(region="me-south-1"))
    with pytest.raises(SettingsError, match="deploy region 'me-south-1'"):
        server_image_arn(bahrain, "x")


# ------------------------------------------------------------------ two synths that differ only in the version
@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setattr(versions, "today", lambda: BOTH_SUPPORTED)
    try:
        context = {"rstudio_mode": "sagemaker", "rstudio_users": "alice:admin,bob"}
        synths = {
            version: synthesize(
                {**context, "rstudio_workbench_version": version}, tmp_path_factory.mktemp(f"v{version[:7]}")
            )
            for version in (PREVIOUS, LATEST)
        }
    finally:
        patch.undo()
    return synths


def _domain(synth):
    return one(synth.template_json["workspace"], "AWS::SageMaker::Domain")


def test_a_version_change_leaves_the_domain_resource_untouched(two_versions):
    """CloudFormation replaces a domain whose DefaultResourceSpec changes: the domain must not see the version."""
    (old_id, old), (new_id, new) = (_domain(two_versions[v]) for v in (PREVIOUS, LATEST))
    assert old_id == new_id
    assert old == new
    assert "rstudio-workbench" not in json.dumps(new)
    # nor does the digest of the domain resource that the pin and the quiesce carry (it would stop every app for
    # nothing before the domain's update)
    digests = {
        one(two_versions[v].template_json["workspace"], kind)[1]["Properties"]["DomainDigest"]
        for v in (PREVIOUS, LATEST)
        for kind in ("Custom::WorkbenchVersion", "Custom::DomainQuiesce")
    }
    assert len(digests) == 1


def test_the_pin_and_the_rsession_image_carry_the_version(two_versions):
    for version, image_name in (
        (PREVIOUS, "rstudio-workbench-2025.05-sagemaker-1.1"),
        (LATEST, "rstudio-workbench-2026.08-sagemaker-1.0"),
    ):
        synth = two_versions[version]
        template = synth.template_json["workspace"]
        _, pin = one(template, "Custom::WorkbenchVersion")
        props = pin["Properties"]
        assert props["WorkbenchVersion"] == version
        # Region-agnostic synth: the account comes from the template's copy of AWS's table.
        assert render_join(props["ServerImageArn"]).endswith(f":image/{image_name}")
        assert {"Fn::FindInMap": [next(iter(template["Mappings"])), {"Ref": "AWS::Region"}, "Account"]} in props[
            "ServerImageArn"
        ]["Fn::Join"][1]
        assets = json.loads((synth.cdk_out / "simlab-workspace.assets.json").read_text())["dockerImages"]
        (image,) = [a for a in assets.values() if a["source"].get("dockerFile") == "stacks/studio/image/Dockerfile"]
        assert image["source"]["dockerBuildArgs"]["RSW_VERSION"] == version


def test_a_region_agnostic_template_refuses_other_regions_before_creating_anything(two_versions):
    template = two_versions[LATEST].template_json["workspace"]
    (mapping,) = template["Mappings"].values()
    assert {region: row["Account"] for region, row in mapping.items()} == versions.IMAGE_ACCOUNTS
    rules = [r for name, r in template["Rules"].items() if name != "CheckBootstrapVersion"]
    (rule,) = rules
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Contains": [list(versions.IMAGE_ACCOUNTS), {"Ref": "AWS::Region"}]}


def test_the_pin_runs_after_the_domain_and_the_rsession_image_version(two_versions):
    template = two_versions[LATEST].template_json["workspace"]
    pin_id, pin = one(template, "Custom::WorkbenchVersion")
    domain_id, _ = _domain(two_versions[LATEST])
    version_id, _ = one(template, "AWS::SageMaker::ImageVersion")
    assert {domain_id, version_id} <= set(pin["DependsOn"])
    assert pin["Properties"]["DomainId"] == {"Fn::GetAtt": [domain_id, "DomainId"]}
