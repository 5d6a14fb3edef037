"""The SageMaker Domain running Posit Workbench (RStudioServerPro) in the platform's private subnets, and one
user profile per `rstudio_users` entry."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.studio.access import UserAccess
from stacks.studio.image import RSessionImage
from stacks.studio.network import DomainNetwork
from stacks.users import RStudioUser

# The RStudioServerPro app (Posit Workbench itself) runs on SageMaker's "system" instance (ml.t3.medium class).
SERVER_INSTANCE_TYPE = "system"
USER_GROUPS = {True: "R_STUDIO_ADMIN", False: "R_STUDIO_USER"}


@dataclass(frozen=True)
class DomainOptions:
    platform_name: str
    auth: str  # "iam" or "sso"
    session_instance_type: str
    connect_url: str
    package_manager_url: str


class RStudioDomain(Construct):
    """Exposes `domain`, `execution_role` (the RStudioServerPro app's), `default_role` and `profiles`
    (user name -> AWS::SageMaker::UserProfile)."""

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
        # What the RStudio docs list for the domain execution role: License Manager consumption of the Posit
        # licence, delivery of RStudio's logs, and sagemaker:CreateApp to start RSessions. None of these
        # actions names a resource that exists before the domain.
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{options.platform_name}: the domain's RStudioServerPro app (Posit Workbench)",
        )
        self.execution_role.add_to_policy(
            iam.PolicyStatement(
                sid="RStudioServerPro",
                actions=[
                    "license-manager:ExtendLicenseConsumption",
                    "license-manager:ListReceivedLicenses",
                    "license-manager:GetLicense",
                    "license-manager:CheckoutLicense",
                    "license-manager:CheckInLicense",
                    "logs:CreateLogDelivery",
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DeleteLogDelivery",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:DescribeResourcePolicies",
                    "logs:GetLogDelivery",
                    "logs:GetLogEvents",
                    "logs:ListLogDeliveries",
                    "logs:PutLogEvents",
                    "logs:PutResourcePolicy",
                    "logs:UpdateLogDelivery",
                    "sagemaker:CreateApp",
                ],
                resources=["*"],
            )
        )
        # The domain requires a default execution role; every profile names its own, so this one holds nothing.
        self.default_role = iam.Role(
            self,
            "DefaultUserRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{options.platform_name}: the domain's default user role, with no permissions",
        )
        r_session = sagemaker.CfnDomain.RSessionAppSettingsProperty(
            custom_images=[image.custom_image],
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                instance_type=options.session_instance_type,
                sage_maker_image_arn=image.image.attr_image_arn,
                sage_maker_image_version_arn=image.version.attr_image_version_arn,
            ),
        )
        server = sagemaker.CfnDomain.RStudioServerProDomainSettingsProperty(
            domain_execution_role_arn=self.execution_role.role_arn,
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(instance_type=SERVER_INSTANCE_TYPE),
            r_studio_connect_url=options.connect_url or None,
            r_studio_package_manager_url=options.package_manager_url or None,
        )
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
