"""The data bucket: encrypted, TLS-only, private, versioned, lifecycled, logged, kept on destroy."""

from __future__ import annotations

from stacks.data.construct import INCOMPLETE_UPLOAD_DAYS, NONCURRENT_VERSION_DAYS
from tests.infra.helpers import as_list, one, resources, statements


def _bucket(synthesized) -> dict:
    return one(synthesized.template_json["data"], "AWS::S3::Bucket", "DataBucket")[1]


def test_bucket_is_encrypted_private_and_versioned(synthesized):
    props = _bucket(synthesized)["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_lifecycle_expires_old_versions_and_aborts_stale_uploads(synthesized):
    (rule,) = _bucket(synthesized)["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": NONCURRENT_VERSION_DAYS}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": INCOMPLETE_UPLOAD_DAYS}


def test_bucket_policy_denies_every_request_without_tls(synthesized):
    t = synthesized.template_json["data"]
    bucket_id = one(t, "AWS::S3::Bucket", "DataBucket")[0]
    (policy,) = [
        p["Properties"]
        for p in resources(t, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    denies = [
        s
        for s in statements(policy["PolicyDocument"])
        if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denies) == 1
    deny = denies[0]
    assert deny["Action"] == "s3:*"
    assert deny["Principal"] == {"AWS": "*"}
    covered = {str(r) for r in as_list(deny["Resource"])}
    assert any("Fn::GetAtt" in r and "/*" not in r for r in covered)
    assert any("/*" in r for r in covered)


def test_server_access_logs_go_to_the_log_bucket(synthesized):
    t = synthesized.template_json["data"]
    logs_id = one(t, "AWS::S3::Bucket", "DataAccessLogs")[0]
    logging = _bucket(synthesized)["Properties"]["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": logs_id}


def test_data_is_kept_on_destroy_by_default(synthesized):
    assert synthesized.settings.delete_data_on_destroy is False
    t = synthesized.template_json["data"]
    for bucket in resources(t, "AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    assert not resources(t, "Custom::S3AutoDeleteObjects")
    repo = one(synthesized.template_json["jobs"], "AWS::ECR::Repository")[1]
    assert repo["DeletionPolicy"] == "Retain"
    assert repo["Properties"]["EmptyOnDelete"] is False


def test_kept_buckets_keep_their_policies(synthesized):
    # Without this, `cdk destroy` deletes the policies of the kept buckets: the data bucket would stop
    # refusing requests without TLS, the access-log bucket would stop admitting log delivery.
    t = synthesized.template_json["data"]
    policies = resources(t, "AWS::S3::BucketPolicy").values()
    assert len(policies) == 2
    for policy in policies:
        bucket = t["Resources"][policy["Properties"]["Bucket"]["Ref"]]
        assert bucket["DeletionPolicy"] == "Retain"
        assert policy.get("DeletionPolicy") == bucket["DeletionPolicy"]
