"""Where job code, inputs and results live, and the log of who touched them."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.removal import removal_policy

NONCURRENT_VERSION_DAYS = 30
INCOMPLETE_UPLOAD_DAYS = 7
ACCESS_LOG_DAYS = 365


class Data(Construct):
    """The data bucket plus the bucket receiving its server access logs.

    SSE-S3 rather than KMS: every reader (execution role, RStudio users) is already confined by IAM and
    the bucket policy, and a customer key would add a monthly key charge, per-request KMS charges on
    every block a job writes, and key grants for each principal, without narrowing who can read.
    """

    def __init__(self, scope: Construct, construct_id: str, *, delete_on_destroy: bool) -> None:
        super().__init__(scope, construct_id)
        # Log delivery through a bucket policy instead of the legacy LogDeliveryWrite ACL, so ACLs stay off
        # (BucketOwnerEnforced). Set here, before any child exists, to hold whatever cdk.json says.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        removal = removal_policy(delete_on_destroy)
        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Versioned so a deleted or overwritten log object can be recovered for the same 30 days as data.
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=cdk.Duration.days(ACCESS_LOG_DAYS),
                    noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_VERSION_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                    expired_object_delete_marker=False,
                )
            ],
            removal_policy=removal,
            auto_delete_objects=delete_on_destroy,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-versions-and-uploads",
                    noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_VERSION_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(INCOMPLETE_UPLOAD_DAYS),
                    expired_object_delete_marker=True,
                ),
            ],
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="data-bucket/",
            removal_policy=removal,
            auto_delete_objects=delete_on_destroy,
        )
        # A kept bucket keeps its policy too: otherwise `cdk destroy` strips the TLS-only rule from the
        # data bucket and the log-delivery grant from the access-log bucket while the data stays.
        for bucket in (self.access_logs_bucket, self.bucket):
            assert bucket.policy is not None  # enforce_ssl creates it
            bucket.policy.apply_removal_policy(removal)
