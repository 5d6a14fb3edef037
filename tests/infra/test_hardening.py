"""Settings that only a hardened deployment shows: one extra synth with a custom domain + certificate,
a budget and a pinned RStudio digest; plus the bounds on viewer networks and the default's warnings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk.assertions import Annotations, Match

from stacks.settings import Settings
from tests.conftest import synthesize
from tests.infra.helpers import one, render_join

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "0123456789abcdef" * 4
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
HARDENED = {
    "rstudio_allowed_cidrs": "203.0.113.0/24",
    "rstudio_domain_name": "rstudio.example.org",
    "rstudio_certificate_arn": CERTIFICATE,
    "rstudio_server_sha256": DIGEST,
    "budget_monthly_usd": "500",
    "budget_alert_email": "ops@example.org",
}


@pytest.fixture(scope="module")
def hardened(tmp_path_factory):
    # Synth runs cdk-nag (all three packs): reaching the templates means no new finding in this variant either.
    return synthesize(HARDENED, tmp_path_factory.mktemp("hardened.out"))


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "2001:db8::/32", "203.0.113.7/32"])
def test_the_broadest_allowed_networks_are_accepted(cidr):
    assert Settings.from_context({"rstudio_allowed_cidrs": cidr}).rstudio_allowed_cidrs == (cidr,)


@pytest.mark.parametrize("cidr", ["10.0.0.0/7", "2001:db8::/31"])
def test_one_bit_broader_is_refused(cidr):
    with pytest.raises(ValueError, match="/8 or narrower"):
        Settings.from_context({"rstudio_allowed_cidrs": cidr})


def test_every_response_carries_security_headers(synthesized):
    template = synthesized.template_json["workspace"]
    policy_id, policy = one(template, "AWS::CloudFront::ResponseHeadersPolicy")
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 730 * 86400
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "SAMEORIGIN"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    _, distribution = one(template, "AWS::CloudFront::Distribution")
    behavior = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def test_custom_domain_gets_its_certificate_and_tls_1_2(hardened):
    _, distribution = one(hardened.template_json["workspace"], "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["rstudio.example.org"]
    assert config["ViewerCertificate"]["AcmCertificateArn"] == CERTIFICATE
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    outputs = hardened.template_json["workspace"]["Outputs"]
    assert outputs["RStudioURL"]["Value"] == "https://rstudio.example.org"


def test_budget_alerts_on_the_platform_tag(hardened, synthesized):
    _, budget = one(hardened.template_json["jobs"], "AWS::Budgets::Budget")
    data = budget["Properties"]["Budget"]
    assert data["BudgetLimit"] == {"Amount": 500, "Unit": "USD"}
    assert data["CostFilters"] == {"TagKeyValue": ["user:platform$simlab"]}
    notes = budget["Properties"]["NotificationsWithSubscribers"]
    assert [(n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in notes] == [
        ("ACTUAL", 80),
        ("FORECASTED", 100),
    ]
    assert all(n["Subscribers"] == [{"SubscriptionType": "EMAIL", "Address": "ops@example.org"}] for n in notes)
    assert "AWS::Budgets::Budget" not in json.dumps(synthesized.template_json["jobs"])


def _user_data(template):
    _, instance = next((k, v) for k, v in template["Resources"].items() if v["Type"] == "AWS::EC2::Instance")
    return render_join(instance["Properties"]["UserData"]["Fn::Base64"])


def test_pinned_digest_reaches_the_host_as_a_second_pin_and_the_default_needs_none(hardened, synthesized):
    assert f"export SIMLAB_RSTUDIO_SHA256='{DIGEST}'" in _user_data(hardened.template_json["workspace"])
    assert "export SIMLAB_RSTUDIO_SHA256=''" in _user_data(synthesized.template_json["workspace"])
    # Posit's signature is checked either way (tests/workspace/test_rstudio_package.py): no digest, no warning.
    for platform in (synthesized.platform, hardened.platform):
        assert Annotations.from_stack(platform.workspace).find_warning("*", Match.string_like_regexp("SHA-256")) == []


SETUP = ROOT / "stacks" / "workspace" / "host-setup.sh"


def test_the_package_is_always_signature_checked_and_the_digest_only_when_pinned():
    script = SETUP.read_text()
    fetch = re.search(r"^fetch_rstudio\(\) \{\n.*?^\}\n", script, re.M | re.S).group(0)  # type: ignore[union-attr]
    # verify-deb.sh runs unconditionally on every download; the SHA-256 only as the optional second pin
    assert '"$SRC/stacks/workspace/verify-deb.sh" --fingerprint "$SIMLAB_RSTUDIO_KEY_FINGERPRINT"' in fetch
    assert fetch.index("verify-deb.sh") < fetch.index('if [ -n "$SIMLAB_RSTUDIO_SHA256" ]')
    assert "sha256sum --check --strict -" in fetch
    # and the package is installed only from where the checks left it
    install = re.search(r"^install_rstudio\(\) \{\n.*?^\}\n", script, re.M | re.S).group(0)  # type: ignore[union-attr]
    assert 'gdebi -n "$RSTUDIO_DEB"' in install
    assert "curl" not in install


def test_home_file_system_refuses_clients_without_tls_and_the_host_mounts_with_tls_and_iam(synthesized):
    template = synthesized.template_json["workspace"]
    fs_id, fs = one(template, "AWS::EFS::FileSystem")
    (deny,) = fs["Properties"]["FileSystemPolicy"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    grants = [
        s
        for _, policy in template["Resources"].items()
        if policy["Type"] == "AWS::IAM::Policy" and "RStudioRole" in json.dumps(policy["Properties"]["Roles"])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "elasticfilesystem:ClientMount" in json.dumps(s["Action"])
    ]
    assert len(grants) == 1
    assert set(grants[0]["Action"]) == {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
        "elasticfilesystem:ClientRootAccess",
    }
    assert fs_id in json.dumps(grants[0]["Resource"])
    script = SETUP.read_text()
    # The production values (the boot rehearsal puts a bind mount of a volume in their place).
    assert 'SIMLAB_HOME_OPTIONS="${SIMLAB_HOME_OPTIONS:-_netdev,noresvport,tls,iam}"' in script
    assert 'SIMLAB_HOME_FSTYPE="${SIMLAB_HOME_FSTYPE:-efs}"' in script
    assert 'SIMLAB_HOME_SOURCE="${SIMLAB_HOME_SOURCE:-$SIMLAB_FILE_SYSTEM_ID:/}"' in script
    assert " nfs4 %s" not in script  # no plain NFS mount left
    # efs-utils built only from the pinned commit of v1.36.0
    assert "readonly EFS_UTILS_COMMIT=c87d19f3e1db26532f09a7fed338347aacb90e10" in script
    assert '[ "$(git -C "$src" rev-parse HEAD)" = "$EFS_UTILS_COMMIT" ]' in script
