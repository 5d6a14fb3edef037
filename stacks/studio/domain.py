"""The SageMaker Domain running Posit Workbench (RStudioServerPro) in the platform's private subnets, and one
user profile per `rstudio_users` entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.studio.access import UserAccess
from stacks.studio.image import RSessionImage
from stacks.studio.network import DomainNetwork
from stacks.studio.versions import SERVER_INSTANCE_TYPE
from stacks.users import RStudioUser

USER_GROUPS = {True: "R_STUDIO_ADMIN", False: "R_STUDIO_USER"}
DOMAIN_EXECUTION_ACTIONS = (
    "license-manager:ExtendLicenseConsumption",
    "license-manager:ListReceivedLicenses",
    "license-manager:GetLicense",
    "license-manager:CheckoutLicense",
    "license-manager:CheckInLicense",
    "logs:CreateLogDelivery",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DeleteLogDelivery",
    "logs:Describe*",
    "logs:GetLogDelivery",
    "logs:GetLogEvents",
    "logs:ListLogDeliveries",
    "logs:PutLogEvents",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "sagemaker:CreateApp",
)


def relaunch_guard_statements(
    execution_role: iam.IRole, relaunch_guard: iam.IManagedPolicy, *, hold: bool
) -> list[iam.PolicyStatement]:
    """What a function needs to see whether the relaunch guard is on the domain execution role and to detach it, and
    with `hold` to attach it: only that policy, only on that role (handlers/common.py holds and releases it)."""
    actions = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"] if hold else ["iam:DetachRolePolicy"]
    return [
        iam.PolicyStatement(
            sid="ReadExecutionRole", actions=["iam:ListAttachedRolePolicies"], resources=[execution_role.role_arn]
        ),
        iam.PolicyStatement(
            sid="HoldRelaunch" if hold else "ReleaseRelaunch",
            actions=actions,
            resources=[execution_role.role_arn],
            conditions={"ArnEquals": {"iam:PolicyARN": relaunch_guard.managed_policy_arn}},
        ),
    ]


@dataclass(frozen=True)
class DomainOptions:
    platform_name: str
    auth: str  # "iam" or "sso"
    session_instance_type: str


class RStudioDomain(Construct):
    """Exposes `domain`, `execution_role` (the RStudioServerPro app's), `default_role`, `profiles` (user name ->
    AWS::SageMaker::UserProfile) and `default_user_settings` (what the version pin sets on the domain)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        options: DomainOptions,
        network: DomainNetwork,
        vpc_id: str,
        image: RSessionImage,
        users: tuple[RStudioUser, ...],
        access: dict[str, UserAccess],
    ) -> None:
        super().__init__(scope, construct_id)
        # The DomainExecution role exactly as AWS lists it ("Create an Amazon SageMaker Domain with RStudio using
        # the AWS CLI", domain-setting-policy.json): License Manager for the Posit licence, CloudWatch Logs for
        # RStudio's logs, and sagemaker:CreateApp, with which SageMaker relaunches the RStudioServerPro app when
        # it is Deleted or Failed. Not narrowed: AWS does not say which resources or which Describe calls
        # SageMaker makes with it, and a narrower role fails only on a real deploy.
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{options.platform_name}: the domain's RStudioServerPro app (Posit Workbench)",
        )
        self.execution_role.add_to_policy(
            iam.PolicyStatement(sid="RStudioServerPro", actions=list(DOMAIN_EXECUTION_ACTIONS), resources=["*"])
        )
        # Attached only while the server app must stay down (version upgrade, teardown; handlers/common.py): an
        # explicit deny of the CreateApp above, so SageMaker cannot relaunch the app meanwhile.
        self.relaunch_guard = iam.ManagedPolicy(
            self,
            "RelaunchGuard",
            description=f"{options.platform_name}: stops SageMaker relaunching the RStudioServerPro app",
            statements=[
                iam.PolicyStatement(
                    sid="NoServerRelaunch", effect=iam.Effect.DENY, actions=["sagemaker:CreateApp"], resources=["*"]
                )
            ],
        )
        # The domain requires a default execution role; every profile names its own, so this one holds nothing.
        self.default_role = iam.Role(
            self,
            "DefaultUserRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{options.platform_name}: the domain's default user role, with no permissions",
        )
        # The image, not an image version: new RSessions start from its latest version, so a rebuilt image never
        # changes (or, through a changed property, updates) the domain.
        r_session = sagemaker.CfnDomain.RSessionAppSettingsProperty(
            custom_images=[image.custom_image],
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                sage_maker_image_arn=image.image.attr_image_arn
            ),
        )
        # No image here: CloudFormation replaces a domain whose DefaultResourceSpec changes, and the homes live on
        # its EFS. The Workbench version is pinned and changed by Custom::WorkbenchVersion (stacks/studio/pin.py)
        # through UpdateDomain, as AWS documents. "system" is free (AWS, RStudio instance types).
        # Nor any setting that can change after the first deploy (the Connect and Package Manager URLs, the
        # RSessions' default instance type): CloudFormation's update of a domain always sends these RStudio settings
        # (its UpdateDomain request carries RStudioServerProDomainSettingsForUpdate whenever the template has any),
        # and SageMaker refuses that while the server app runs ("Unable to update Domain ... with InService App"),
        # which it always does. The pin sets them with the version, after taking the apps down
        # (`default_user_settings`, and the URLs it is given).
        server = sagemaker.CfnDomain.RStudioServerProDomainSettingsProperty(
            domain_execution_role_arn=self.execution_role.role_arn,
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(instance_type=SERVER_INSTANCE_TYPE),
        )
        # UpdateDomain's DefaultUserSettings as the pin sends them: the domain's own, plus the default instance type.
        self.default_user_settings: dict[str, Any] = {
            "ExecutionRole": self.default_role.role_arn,
            "SecurityGroups": [network.security_group.security_group_id],
            "RSessionAppSettings": {
                "CustomImages": [
                    {
                        "ImageName": image.custom_image.image_name,
                        "AppImageConfigName": image.custom_image.app_image_config_name,
                    }
                ],
                "DefaultResourceSpec": {
                    "InstanceType": options.session_instance_type,
                    "SageMakerImageArn": image.image.attr_image_arn,
                },
            },
        }
        self.domain = sagemaker.CfnDomain(
            self,
            "Domain",
            domain_name=f"{options.platform_name}-rstudio",
            auth_mode=options.auth.upper(),
            vpc_id=vpc_id,
            subnet_ids=network.subnet_ids,
            app_network_access_type="VpcOnly",
            # RStudio in VpcOnly mode requires SageMaker to manage the NFS security groups.
            app_security_group_management="Service",
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=self.default_role.role_arn,
                security_groups=[network.security_group.security_group_id],
                r_session_app_settings=r_session,
            ),
            domain_settings=sagemaker.CfnDomain.DomainSettingsProperty(
                security_group_ids=[network.security_group.security_group_id],
                r_studio_server_pro_domain_settings=server,
            ),
        )
        # CloudFormation must not create the domain before its roles' policies exist.
        self.domain.node.add_dependency(self.execution_role, self.default_role, image.version, image.app_image_config)

        self.profiles: dict[str, sagemaker.CfnUserProfile] = {}
        for user in users:
            sso = options.auth == "sso"
            profile = sagemaker.CfnUserProfile(
                self,
                f"Profile{user.name}",
                domain_id=self.domain.attr_domain_id,
                user_profile_name=user.name,
                single_sign_on_user_identifier="UserName" if sso else None,
                single_sign_on_user_value=user.name if sso else None,
                user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(
                    execution_role=access[user.name].profile_role.role_arn,
                    security_groups=[network.security_group.security_group_id],
                    r_studio_server_pro_app_settings=sagemaker.CfnUserProfile.RStudioServerProAppSettingsProperty(
                        access_status="ENABLED",
                        user_group=USER_GROUPS[user.admin],
                    ),
                ),
            )
            profile.node.add_dependency(access[user.name].policy)
            self.profiles[user.name] = profile

    @property
    def console_url(self) -> str:
        region = cdk.Aws.REGION
        return (
            f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
            f"#/studio/{self.domain.attr_domain_id}"
        )
