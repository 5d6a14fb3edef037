"""Deployment unit for RStudio Server on EC2: the host, its home directories, how users reach it, idle stop."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.data.construct import Data
from stacks.jobs.construct import Jobs
from stacks.network.construct import Network
from stacks.settings import Settings
from stacks.workspace.access import RSTUDIO_PORT, CloudFrontAccess
from stacks.workspace.home import HomeDirectories
from stacks.workspace.host import HostOptions, RStudioHost, output_id
from stacks.workspace.identity import CONFIG_PARAMETER, UserIdentities, role_arn
from stacks.workspace.idle import IdleStop

PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSession"


class RStudioEc2Stack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: Network,
        data: Data,
        jobs: Jobs,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"{settings.platform_name}: RStudio Server on EC2 ({settings.rstudio_access})",
            **kwargs,
        )
        # Users reach the bucket through their own roles (identity.py); the host needs nothing of it.
        del data
        self.home = HomeDirectories(
            self,
            "Home",
            vpc=network.vpc,
            subnets=network.workspace_subnets,
            delete_on_destroy=settings.delete_data_on_destroy,
        )
        self.host = RStudioHost(
            self,
            "RStudio",
            options=HostOptions(
                platform_name=settings.platform_name,
                instance_type=settings.rstudio_instance_type,
                volume_gb=settings.rstudio_volume_gb,
                users=settings.users,
                access=settings.rstudio_access,
                job_config_parameter_name=CONFIG_PARAMETER.format(platform=settings.platform_name, role="{role}"),
                ami_parameter=settings.rstudio_ami_parameter,
                rstudio_version=settings.rstudio_server_version,
                rstudio_sha256=settings.rstudio_server_sha256,
            ),
            vpc=network.vpc,
            subnets=network.workspace_subnets,
            home=self.home.file_system,
            user_role_arn_pattern=role_arn(self, settings.platform_name, "{user}", settings.iam_role_path),
        )
        self.identities = UserIdentities(
            self, "Users", platform=jobs.platform, users=settings.users, host_role=self.host.role
        )
        self.home.grant_mount(self.host.role)
        instance_id = self.host.instance.instance_id
        region = cdk.Aws.REGION
        self.access: CloudFrontAccess | None = None
        self.port_forwarding: iam.ManagedPolicy | None = None
        # Every session of this account's callers: the OwnSessions statement of the port-forwarding policy.
        self.port_forwarding_sessions = self.format_arn(
            service="ssm", resource="session", resource_name="${aws:username}-*"
        )
        # The data channels of the caller's own sessions: the OwnDataChannels statement.
        self.port_forwarding_channels = self.format_arn(
            service="ssm", resource="session", resource_name="${aws:userid}-*"
        )
        if settings.rstudio_access == "cloudfront":
            self.access = CloudFrontAccess(
                self,
                "Access",
                instance=self.host.instance,
                host_security_group=self.host.security_group,
                vpc=network.vpc,
                allowed_cidrs=settings.rstudio_allowed_cidrs,
                domain_name=settings.rstudio_domain_name,
                certificate_arn=settings.rstudio_certificate_arn,
            )
            url = self.access.url
        else:
            url = f"http://localhost:{RSTUDIO_PORT}"
            self.port_forwarding = self._port_forwarding_policy(settings.platform_name, instance_id)
            cdk.CfnOutput(
                self,
                "RStudioPortForwardingPolicyArn",
                description="Attach to the people who may reach RStudio: port forwarding to it, and no shell",
                value=self.port_forwarding.managed_policy_arn,
            )
            cdk.CfnOutput(
                self,
                "RStudioPortForwardCommand",
                description="Run this, keep it open, then browse to RStudioURL",
                value=(
                    f"aws ssm start-session --region {region} --target {instance_id} "
                    f"--document-name {PORT_FORWARDING_DOCUMENT} --parameters "
                    f'\'{{"portNumber":["{RSTUDIO_PORT}"],"localPortNumber":["{RSTUDIO_PORT}"]}}\''
                ),
            )
        self.idle_stop: IdleStop | None = None
        if settings.rstudio_idle_stop_minutes > 0:
            self.idle_stop = IdleStop(
                self,
                "IdleStop",
                instance=self.host.instance,
                minutes=settings.rstudio_idle_stop_minutes,
                cpu_percent=settings.rstudio_idle_cpu_percent,
            )

        cdk.CfnOutput(self, "RStudioURL", value=url, description="RStudio Server")
        cdk.CfnOutput(
            self,
            "RStudioUsers",
            value=", ".join(f"{user.name} ({user.role})" for user in settings.users),
            description="RStudio logins (admins have sudo); each has its own password output",
        )
        for user in settings.users:
            secret = self.host.login_secrets[user.name]
            cdk.CfnOutput(
                self,
                f"RStudioPasswordCommand{output_id(user)}",
                description=f"Prints the RStudio login password of {user.name} ({user.role})",
                value=(
                    f"aws secretsmanager get-secret-value --region {region} "
                    f"--secret-id {secret.secret_arn} --query SecretString --output text"
                ),
            )
        cdk.CfnOutput(self, "RStudioInstanceId", value=instance_id, description="The RStudio host")
        cdk.CfnOutput(
            self,
            "RStudioStartCommand",
            description="Starts the host after an idle stop",
            value=f"aws ec2 start-instances --region {region} --instance-ids {instance_id}",
        )

    def _port_forwarding_policy(self, platform_name: str, instance_id: str) -> iam.ManagedPolicy:
        """Session Manager to this host for RStudio's port only: StartSession with the port-forwarding document,
        never a shell. Without ssm:SessionDocumentAccessCheck, StartSession on an instance also allows a session
        with the default shell document (SSM-SessionManagerRunShell) that the policy does not name (Systems
        Manager user guide, "Start a default shell session by specifying the default session document in IAM
        policies"). AWS-StartPortForwardingSessionToRemoteHost is not allowed: the agent runs as root, and a
        remote host of 169.254.169.254 would hand out the host role."""
        return iam.ManagedPolicy(
            self,
            "PortForwardingPolicy",
            description=f"{platform_name}: port forwarding to the RStudio host (Session Manager), no shell",
            statements=[
                iam.PolicyStatement(
                    sid="PortForwardingToTheRStudioHost",
                    actions=["ssm:StartSession"],
                    resources=[
                        self.format_arn(service="ec2", resource="instance", resource_name=instance_id),
                        self.format_arn(
                            service="ssm", account="", resource="document", resource_name=PORT_FORWARDING_DOCUMENT
                        ),
                    ],
                    conditions={"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}},
                ),
                # Session IDs start with the caller's name: each person ends and resumes their own sessions only.
                iam.PolicyStatement(
                    sid="OwnSessions",
                    actions=["ssm:TerminateSession", "ssm:ResumeSession"],
                    resources=[self.port_forwarding_sessions],
                ),
                # Session Manager's current sample end-user policies also let the caller open the data channel of
                # their own sessions, by aws:userid, which federated (SSO) callers have too (Systems Manager user
                # guide, "Sample IAM policies for Session Manager", quickstart end user policies).
                iam.PolicyStatement(
                    sid="OwnDataChannels",
                    actions=["ssmmessages:OpenDataChannel"],
                    resources=[self.port_forwarding_channels],
                ),
            ],
        )
