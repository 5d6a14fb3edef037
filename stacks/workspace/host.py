"""The RStudio Server host: a private Ubuntu instance, its role, its users' login secrets and its bootstrap.

The host role is the host's own identity, reachable by root only (the IMDS guard in host-setup.sh): Session
Manager, the package download, the login secrets, the EFS mount, the CloudFormation signal, and sts:AssumeRole on
the users' roles (identity.py) for the credential service. Users never act with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.users import RStudioUser
from stacks.workspace import bootstrap, posit

REPO_ROOT = Path(__file__).resolve().parents[2]
# What the host installs from this repository: the simulation package, the R wrapper, the welcome example and
# the host's own files (the second half of its bootstrap, the package check, the credential service).
HOST_FILES = (
    "stacks/workspace/host-setup.sh",
    "stacks/workspace/verify-deb.sh",
    "stacks/workspace/credential_service.py",
    "stacks/workspace/welcome.R",
)
PACKAGE_PATHS = ("simulation", "pyproject.toml", "R", *HOST_FILES)
UBUNTU_RELEASE = "24.04"
BOOTSTRAP_TIMEOUT = "PT40M"


def ubuntu_ami_parameter(arch: str) -> str:
    """Canonical's public SSM parameter for the current Ubuntu LTS image, present in every commercial region."""
    return f"/aws/service/canonical/ubuntu/server/{UBUNTU_RELEASE}/stable/current/{arch}/hvm/ebs-gp3/ami-id"


@dataclass(frozen=True)
class HostOptions:
    platform_name: str
    instance_type: str
    volume_gb: int
    users: tuple[RStudioUser, ...]
    # "cloudfront": RStudio listens on the VPC for the VPC origin, with secure cookies behind HTTPS;
    # "ssm": it listens on localhost only, reached through port forwarding.
    access: str
    # SIMLAB_JOB_CONFIG_PARAMETER of the users' sessions: `{role}` is filled in by the client.
    job_config_parameter_name: str
    ami_parameter: str = ""
    rstudio_version: str = posit.RSTUDIO_VERSION
    # Optional second pin: SHA-256 of the RStudio Server .deb for this host's architecture.
    rstudio_sha256: str = ""


def output_id(user: RStudioUser) -> str:
    """A CloudFormation-safe ID part for a Linux user name (which may hold '_' or '-'); the UID keeps it unique."""
    return "".join(part.capitalize() for part in re.split(r"[^a-z0-9]", user.name)) + str(user.uid)


class RStudioHost(Construct):
    """Exposes `instance`, `security_group`, `role`, `login_secrets` (user name -> secret) and `package`.

    `user_role_arn_pattern`: the users' role ARN with `{user}` for the name (identity.py); the stack grants the
    host role sts:AssumeRole on each of those roles."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        options: HostOptions,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        home: efs.FileSystem,
        user_role_arn_pattern: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.login_secrets = self._login_secrets(options)
        self.package = self._package()
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=True,
            description="RStudio host: no inbound except RStudio from the CloudFront VPC origin (if enabled)",
        )
        self.role = self._role()
        self.instance = self._instance(options, vpc, subnets, home, user_role_arn_pattern)
        # The first boot mounts /home: the mount targets must answer before the host starts.
        self.instance.node.add_dependency(home.mount_targets_available)
        home.connections.allow_default_port_from(self.security_group, "NFS from the RStudio host")

    def _login_secrets(self, options: HostOptions) -> dict[str, secretsmanager.Secret]:
        """One generated password per user, each in its own secret; the first user keeps the single-user
        release's construct ID, so an existing deployment keeps its password."""
        return {
            user.name: secretsmanager.Secret(
                self,
                "Login" if index == 0 else f"Login{output_id(user)}",
                description=f"{options.platform_name}: RStudio login password of user {user.name}",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=24,
                    exclude_punctuation=True,
                    include_space=False,
                ),
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            for index, user in enumerate(options.users)
        }

    def _package(self) -> s3_assets.Asset:
        """This repository's simulation package, R wrapper and welcome example, for the bootstrap to install."""
        return s3_assets.Asset(
            self,
            "Package",
            path=str(REPO_ROOT),
            ignore_mode=cdk.IgnoreMode.GLOB,
            exclude=[
                "*",
                ".*",
                *(f"!{p}" for p in PACKAGE_PATHS),
                *(f"!{p}/**" for p in PACKAGE_PATHS),
                "!stacks",
                "!stacks/workspace",
                "**/__pycache__",
                "**/*.pyc",
            ],
        )

    def _role(self) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="RStudio host (root only): SSM, its package, login secrets, EFS, signal, users' roles",
        )
        # Session Manager (the only shell and the port forwarding) needs exactly these (Session Manager user
        # guide, "Verify or add instance permissions for Session Manager"). AmazonSSMManagedInstanceCore would
        # also grant ssm:GetParameter(s) on every parameter in the account, SecureStrings included.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="SessionManager",
                actions=[
                    "ssm:UpdateInstanceInformation",
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                resources=["*"],
            )
        )
        for secret in self.login_secrets.values():
            secret.grant_read(role)
        # The one object the bootstrap downloads, not the whole CDK assets bucket that `grant_read` opens.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.package.bucket.arn_for_objects(self.package.s3_object_key)],
            )
        )
        return role

    def _bootstrap_values(
        self, options: HostOptions, arch: str, home: efs.FileSystem, user_role_arn_pattern: str
    ) -> dict[str, str]:
        """The deployment's values the bootstrap script reads (its SIMLAB_* variables); nothing secret."""
        stack = cdk.Stack.of(self)
        cloudfront = options.access == "cloudfront"
        return {
            "SIMLAB_REGION": stack.region,
            "SIMLAB_PLATFORM": options.platform_name,
            "SIMLAB_JOB_CONFIG_PARAMETER": options.job_config_parameter_name,
            # `name:role:uid:secret-arn` per user, space-separated (names never hold ':' or spaces).
            "SIMLAB_USERS": " ".join(
                f"{u.name}:{u.role}:{u.uid}:{self.login_secrets[u.name].secret_arn}" for u in options.users
            ),
            "SIMLAB_USER_ROLE_ARN": user_role_arn_pattern,
            "SIMLAB_FILE_SYSTEM_ID": home.file_system_id,
            "SIMLAB_PACKAGE_S3_URL": self.package.s3_object_url,
            "SIMLAB_STACK_NAME": stack.stack_name,
            "SIMLAB_RSTUDIO_VERSION": posit.file_version(options.rstudio_version),
            "SIMLAB_RSTUDIO_DEB_URL": posit.deb_url(options.rstudio_version, arch),
            "SIMLAB_RSTUDIO_KEY_URL": posit.KEY_URL,
            "SIMLAB_RSTUDIO_KEY_FINGERPRINT": posit.SIGNING_KEY_FINGERPRINT,
            "SIMLAB_RSTUDIO_SHA256": options.rstudio_sha256,
            "SIMLAB_ARCH": arch,
            "SIMLAB_LISTEN_ADDRESS": "0.0.0.0" if cloudfront else "127.0.0.1",
            "SIMLAB_SECURE_COOKIES": "1" if cloudfront else "0",
            "SIMLAB_PIP_CONSTRAINTS": bootstrap.pip_constraints(),
        }

    def _instance(
        self,
        options: HostOptions,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        home: efs.FileSystem,
        user_role_arn_pattern: str,
    ) -> ec2.Instance:
        """The host, bootstrapped by user data that signals CloudFormation when RStudio answers."""
        stack = cdk.Stack.of(self)
        arch = bootstrap.architecture(options.instance_type)
        machine_image = ec2.MachineImage.from_ssm_parameter(
            options.ami_parameter or ubuntu_ami_parameter(arch),
            os=ec2.OperatingSystemType.LINUX,
        )
        # The digest in the ID makes a changed script or package replace the host (cloud-init runs user
        # data once per instance); the home directories survive on EFS.
        host_id = "Host" + bootstrap.fingerprint(
            self.package.asset_hash,
            options.platform_name,
            options.instance_type,
            options.access,
            " ".join(f"{u.name}:{u.role}:{u.uid}" for u in options.users),
            arch,
            posit.file_version(options.rstudio_version),
            options.rstudio_sha256,
            bootstrap.pip_constraints(),
        )
        values = self._bootstrap_values(options, arch, home, user_role_arn_pattern)
        # The logical ID is known before the user data exists (it depends on host_id only), so the script
        # can name the resource it signals without a cycle.
        instance = ec2.Instance(
            self,
            host_id,
            vpc=vpc,
            vpc_subnets=subnets,
            instance_type=ec2.InstanceType(options.instance_type),
            machine_image=machine_image,
            security_group=self.security_group,
            role=self.role,
            associate_public_ip_address=False,
            # IMDSv2 only, and one hop: a container on the host (Docker, admins only) cannot reach the metadata
            # service at all; on the host itself, only root can (the IMDS guard in host-setup.sh).
            http_tokens=ec2.HttpTokens.REQUIRED,
            http_put_response_hop_limit=1,
            http_endpoint=True,
            # The guard covers the IPv4 endpoint only; the IPv6 one stays off, stated rather than left to a default.
            http_protocol_ipv6=False,
            detailed_monitoring=True,
            ssm_session_permissions=False,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/sda1",
                    volume=ec2.BlockDeviceVolume.ebs(
                        options.volume_gb,
                        encrypted=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        cfn_instance = instance.node.default_child
        assert isinstance(cfn_instance, ec2.CfnInstance)
        values["SIMLAB_LOGICAL_ID"] = stack.get_logical_id(cfn_instance)
        instance.add_user_data(bootstrap.render(values).partition("\n")[2])
        cfn_instance.cfn_options.creation_policy = cdk.CfnCreationPolicy(
            resource_signal=cdk.CfnResourceSignal(count=1, timeout=BOOTSTRAP_TIMEOUT),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudformation:SignalResource"],
                resources=[stack.stack_id],
            )
        )
        return instance
