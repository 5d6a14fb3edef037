"""Home directories on EFS: the user's work survives a replaced or terminated host."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.removal import removal_policy


class HomeDirectories(Construct):
    """Encrypted EFS with automatic backups; its security group starts with no inbound rule (the host adds
    NFS from its own group). Kept on destroy unless `delete_on_destroy`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        delete_on_destroy: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        # An NFS server never opens connections, so its group needs no outbound rule either.
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="EFS home directories: NFS from the RStudio host only",
        )
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=subnets,
            security_group=self.security_group,
            encrypted=True,
            enable_automatic_backups=True,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            lifecycle_policy=efs.LifecyclePolicy.AFTER_30_DAYS,
            out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
            removal_policy=removal_policy(delete_on_destroy),
            # Replaces EFS's default policy (any NFS client in the network may mount): every client must use TLS
            # and be allowed by IAM (the host mounts with `tls,iam` as its role; see grant_mount).
            file_system_policy=iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        sid="DenyWithoutTls",
                        effect=iam.Effect.DENY,
                        principals=[iam.AnyPrincipal()],
                        actions=["*"],
                        conditions={"Bool": {"aws:SecureTransport": "false"}},
                    )
                ]
            ),
        )

    def grant_mount(self, role: iam.IGrantable) -> None:
        """Mount, write, and act as root (the bootstrap creates and chowns the users' homes) over IAM."""
        self.file_system.grant(
            role,
            "elasticfilesystem:ClientMount",
            "elasticfilesystem:ClientWrite",
            "elasticfilesystem:ClientRootAccess",
        )
