"""The domain's Posit Workbench version: the region's RStudioServerPro image of the chosen version, set and changed
on the domain by Custom::WorkbenchVersion (handlers/upgrade.py) through UpdateDomain, never through the domain
resource itself (CloudFormation would replace the domain, and with it the users' homes)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.settings import SettingsError
from stacks.studio.domain import relaunch_guard_statements
from stacks.studio.functions import polled_provider
from stacks.studio.versions import IMAGE_ACCOUNTS, VersionRefused, WorkbenchRelease, image_account

# An upgrade deletes apps (minutes each), waits for UpdateDomain and for the new server app to start.
PIN_TIMEOUT = cdk.Duration.hours(1)
PIN_POLL = cdk.Duration.seconds(30)
SHARED_SERVER_APP = "domain-shared/RStudioServerPro/default"


def server_image_arn(scope: Construct, image_name: str) -> str:
    """The region's RStudioServerPro image `image_name`. A region known at synth must be in AWS's table (else a
    SettingsError: exit 2); a region-agnostic template carries the table and a rule that refuses other regions
    before CloudFormation creates anything."""
    region = cdk.Stack.of(scope).region
    if not cdk.Token.is_unresolved(region):
        try:
            account = image_account(region)
        except VersionRefused as refused:
            raise SettingsError(
                f"deploy region '{region}' has no RStudio on SageMaker image account in AWS's list; allowed: {refused}"
            ) from None
        # Every region AWS lists is in the commercial partition.
        return f"arn:aws:sagemaker:{region}:{account}:image/{image_name}"
    accounts = cdk.CfnMapping(scope, "ImageAccounts", mapping={r: {"Account": a} for r, a in IMAGE_ACCOUNTS.items()})
    cdk.CfnRule(
        scope,
        "ImageRegion",
        assertions=[
            cdk.CfnRuleAssertion(
                assert_=cdk.Fn.condition_contains(list(IMAGE_ACCOUNTS), cdk.Aws.REGION),
                assert_description="RStudio on SageMaker: AWS lists no RStudioServerPro image account for this "
                "region (stacks/studio/versions.py)",
            )
        ],
    )
    account = accounts.find_in_map(cdk.Aws.REGION, "Account")
    return f"arn:{cdk.Aws.PARTITION}:sagemaker:{cdk.Aws.REGION}:{account}:image/{image_name}"


class WorkbenchPin(Construct):
    """Custom::WorkbenchVersion on `domain`. Exposes `server_image_arn`, `resource`, `provider` and the two
    handler functions (`on_event`, `is_complete`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        release: WorkbenchRelease,
        domain: sagemaker.CfnDomain,
        execution_role: iam.Role,
        default_role: iam.IRole,
        relaunch_guard: iam.ManagedPolicy,
        connect_url: str,
        package_manager_url: str,
        default_user_settings: dict[str, Any],
        domain_digest: str,
    ) -> None:
        super().__init__(scope, construct_id)
        assert release.image_name is not None  # settings refuse versions without an image
        stack = cdk.Stack.of(self)
        self.server_image_arn = server_image_arn(self, release.image_name)
        domain_id = domain.attr_domain_id
        self.apps_arn = stack.format_arn(service="sagemaker", resource="app", resource_name=f"{domain_id}/*")
        statements = [
            # The tags: the count of this deploy's UpdateDomain calls (handlers/upgrade.py, ATTEMPTS_TAG).
            iam.PolicyStatement(
                sid="UpdateDomain",
                actions=[
                    "sagemaker:DescribeDomain",
                    "sagemaker:UpdateDomain",
                    "sagemaker:ListTags",
                    "sagemaker:AddTags",
                ],
                resources=[stack.format_arn(service="sagemaker", resource="domain", resource_name=domain_id)],
            ),
            iam.PolicyStatement(
                sid="StopApps", actions=["sagemaker:DescribeApp", "sagemaker:DeleteApp"], resources=[self.apps_arn]
            ),
            iam.PolicyStatement(
                sid="StartServerApp",
                actions=["sagemaker:CreateApp"],
                resources=[
                    stack.format_arn(
                        service="sagemaker", resource="app", resource_name=f"{domain_id}/{SHARED_SERVER_APP}"
                    )
                ],
            ),
            # ListApps has no resource type.
            iam.PolicyStatement(sid="ListApps", actions=["sagemaker:ListApps"], resources=["*"]),
            # UpdateDomain names the execution role again (a required field of the RStudio settings), and the
            # domain's default user role (in the DefaultUserSettings it sends whole; that role holds nothing).
            iam.PolicyStatement(
                sid="PassExecutionRole",
                actions=["iam:PassRole"],
                resources=[execution_role.role_arn, default_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            *relaunch_guard_statements(execution_role, relaunch_guard, hold=True),
        ]
        polled = polled_provider(
            self,
            module="upgrade",
            starts="Pins the domain's Posit Workbench version (AWS's upgrade procedure)",
            continues="Continues the domain's Posit Workbench upgrade until the server app runs again",
            statements=statements,
            poll=PIN_POLL,
            timeout=PIN_TIMEOUT,
        )
        self.on_event, self.is_complete, self.provider = polled.on_event, polled.is_complete, polled.provider
        properties = {
            "DomainId": domain_id,
            "DomainArn": domain.attr_domain_arn,
            "WorkbenchVersion": release.version,
            "ServerImageArn": self.server_image_arn,
            "ExecutionRoleArn": execution_role.role_arn,
            "ExecutionRoleName": execution_role.role_name,
            "RelaunchGuardArn": relaunch_guard.managed_policy_arn,
            # The domain's settings that can change after the first deploy live here, not on the domain resource
            # (domain.py says why); the pin applies them with the version.
            "DefaultUserSettings": default_user_settings,
        }
        # A change to the domain resource itself runs the pin right after it: Custom::DomainQuiesce (quiesce.py) took
        # the apps down before CloudFormation's UpdateDomain, which may also have reset the server image (its RStudio
        # settings name no image); the pin re-pins if needed and brings the server app back. The version is not in
        # the digest: the domain resource never names it.
        properties["DomainDigest"] = domain_digest
        if connect_url:
            properties["ConnectUrl"] = connect_url
        if package_manager_url:
            properties["PackageManagerUrl"] = package_manager_url
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::WorkbenchVersion",
            properties=properties,
        )
        # The functions' policies must exist before CloudFormation calls them.
        self.resource.node.add_dependency(self.on_event.role, self.is_complete.role)
