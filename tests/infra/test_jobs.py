"""Job infrastructure: image asset, user repository, execution role, job security group, submitter policy."""

from __future__ import annotations

import json

from stacks.jobs.access import JOB_METRIC_NAMESPACE
from stacks.jobs.construct import JOB_LOG_GROUP, KEEP_USER_IMAGES
from tests.infra.helpers import as_list, one, statements


def _role_policy(synthesized) -> list[dict]:
    _, policy = one(synthesized.template_json["jobs"], "AWS::IAM::Policy", "JobsExecutionRoleDefaultPolicy")
    return statements(policy["Properties"]["PolicyDocument"])


def _submitter(synthesized) -> dict[str, dict]:
    _, policy = one(synthesized.template_json["jobs"], "AWS::IAM::ManagedPolicy", "JobsSubmitterPolicy")
    return {s["Sid"]: s for s in statements(policy["Properties"]["PolicyDocument"])}


def test_job_image_is_built_from_container_dockerfile_with_the_repository_root(synthesized):
    manifest = json.loads((synthesized.cdk_out / "simlab-jobs.assets.json").read_text())
    (image,) = manifest["dockerImages"].values()
    assert image["source"]["dockerFile"] == "container/Dockerfile"
    staged = synthesized.cdk_out / image["source"]["directory"]
    assert (staged / "container" / "Dockerfile").is_file()
    assert (staged / "pyproject.toml").is_file()
    assert (staged / "simulation" / "__init__.py").is_file()
    assert not (staged / ".venv").exists()
    assert not (staged / "tests").exists()


def test_user_repository_scans_and_keeps_recent_images(synthesized):
    _, repo = one(synthesized.template_json["jobs"], "AWS::ECR::Repository")
    props = repo["Properties"]
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    # Kept on destroy (Retain): its lowercase name ends with the first group of the stack's UUID, so a
    # kept repository never blocks the next deploy of the same platform (a new stack has a new UUID).
    assert repo["DeletionPolicy"] == "Retain"
    name = props["RepositoryName"]["Fn::Join"]
    assert name[1][0] == "simlab-user-images-"
    assert "AWS::StackId" in json.dumps(name[1][1])
    # A tag names one image for good (CKV_AWS_51).
    assert props["ImageTagMutability"] == "IMMUTABLE"
    rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "any"]
    assert rules[-1]["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": KEEP_USER_IMAGES,
    }


def test_execution_role_is_for_sagemaker_without_managed_policies(synthesized):
    _, role = one(synthesized.template_json["jobs"], "AWS::IAM::Role", "JobsExecutionRole")
    (trust,) = statements(role["Properties"]["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert "ManagedPolicyArns" not in role["Properties"]


def test_execution_role_s3_access_is_confined_to_the_job_prefix(synthesized):
    s3 = [s for s in _role_policy(synthesized) if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    by_sid = {s["Sid"]: s for s in s3}
    assert set(by_sid) == {"JobObjects", "ListJobPrefix", "BucketLocation"}
    assert by_sid["BucketLocation"]["Action"] == "s3:GetBucketLocation"
    assert json.dumps(by_sid["JobObjects"]["Resource"]).endswith('"/jobs/*"]]}')
    assert by_sid["ListJobPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["jobs/*"]}}


def test_execution_role_pulls_both_images_and_writes_only_processing_logs(synthesized):
    pulls = [s for s in _role_policy(synthesized) if "ecr:BatchGetImage" in as_list(s["Action"])]
    targets = json.dumps([s["Resource"] for s in pulls])
    assert "container-assets" in targets
    assert "JobsUserImages" in targets
    (logs,) = [s for s in _role_policy(synthesized) if s.get("Sid") == "JobLogs"]
    assert all(JOB_LOG_GROUP in json.dumps(r) for r in as_list(logs["Resource"]))


def test_job_security_group_lets_job_instances_talk_and_nothing_else_in(synthesized):
    t = synthesized.template_json["jobs"]
    group_id, group = one(t, "AWS::EC2::SecurityGroup", "JobsJobSecurityGroup")
    assert "SecurityGroupIngress" not in group["Properties"]
    (_, ingress) = one(t, "AWS::EC2::SecurityGroupIngress")
    assert ingress["Properties"]["IpProtocol"] == "-1"
    assert ingress["Properties"]["SourceSecurityGroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    egress = as_list(group["Properties"]["SecurityGroupEgress"])
    assert [(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress] == [("tcp", 443, 443)]


def test_submitter_can_only_create_confined_jobs(synthesized):
    settings = synthesized.settings
    create = _submitter(synthesized)["CreateConfinedProcessingJobs"]
    assert create["Action"] == "sagemaker:CreateProcessingJob"
    # Only jobs named with the platform prefix, and only when tagged with the platform.
    assert json.dumps(create["Resource"]).endswith(':processing-job/simlab-*"]]}')
    cond = create["Condition"]
    assert cond["StringEquals"] == {"aws:RequestTag/platform": "simlab"}
    assert cond["Bool"] == {"sagemaker:NetworkIsolation": "true"}
    assert cond["NumericLessThanEquals"] == {"sagemaker:MaxRuntimeInSeconds": str(settings.job_max_runtime_seconds)}
    all_values = cond["ForAllValues:StringEquals"]
    assert all_values["sagemaker:InstanceTypes"] == list(settings.job_instance_types)
    assert len(all_values["sagemaker:VpcSubnets"]) == 2
    assert all("jobsSubnet" in json.dumps(s) for s in all_values["sagemaker:VpcSubnets"])
    assert all_values["sagemaker:VpcSecurityGroupIds"] == [
        {"Fn::GetAtt": [one(synthesized.template_json["jobs"], "AWS::EC2::SecurityGroup")[0], "GroupId"]}
    ]
    # Without these, ForAllValues would let a request that omits the key through.
    assert cond["Null"] == {
        k: "false"
        for k in (
            "sagemaker:VpcSubnets",
            "sagemaker:VpcSecurityGroupIds",
            "sagemaker:InstanceTypes",
            "sagemaker:MaxRuntimeInSeconds",
        )
    }


def test_submitter_manages_jobs_reads_logs_config_and_bucket(synthesized):
    sids = _submitter(synthesized)
    assert set(as_list(sids["ManageProcessingJobs"]["Action"])) == {
        "sagemaker:DescribeProcessingJob",
        "sagemaker:StopProcessingJob",
        "sagemaker:ListTags",  # list_jobs keeps to this platform's jobs by their `platform` tag
    }
    assert json.dumps(sids["ManageProcessingJobs"]["Resource"]).endswith(':processing-job/simlab-*"]]}')
    # Tags only on the platform's own jobs, and only with the platform's own tag value.
    tagging = sids["TagOwnJobsWithOwnTags"]
    assert tagging["Action"] == "sagemaker:AddTags"
    assert tagging["Resource"] == sids["ManageProcessingJobs"]["Resource"]
    assert tagging["Condition"] == {"StringEquals": {"aws:RequestTag/platform": "simlab"}}
    assert sids["ListProcessingJobs"]["Action"] == "sagemaker:ListProcessingJobs"
    # Events only from this platform's jobs' streams; the group-level call returns stream names only.
    assert sids["ReadJobLogs"]["Action"] == "logs:GetLogEvents"
    assert _flat(sids["ReadJobLogs"]["Resource"]).endswith(f":log-group:{JOB_LOG_GROUP}:log-stream:simlab-*")
    assert sids["ListJobLogStreams"]["Action"] == "logs:DescribeLogStreams"
    assert sids["ReadJobConfig"]["Action"] == "ssm:GetParameter"
    assert "JobsJobConfig" in json.dumps(sids["ReadJobConfig"]["Resource"])
    assert {"s3:GetObject", "s3:PutObject"} <= set(sids["ReadWriteObjects"]["Action"])


def test_submitter_passes_only_the_execution_role_only_to_sagemaker(synthesized):
    pass_role = _submitter(synthesized)["PassExecutionRole"]
    role_id = one(synthesized.template_json["jobs"], "AWS::IAM::Role", "JobsExecutionRole")[0]
    assert pass_role["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def _flat(value) -> str:
    """An ARN as text, with Refs (region, account, partition) reduced to their names."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_flat(v) for v in value["Fn::Join"][1])
    return "<" + value.get("Ref", "?") + ">"


def test_log_permissions_use_the_log_group_arn_form_iam_matches(synthesized):
    # IAM evaluates DescribeLogStreams, CreateLogGroup and FilterLogEvents against "log-group:<name>:*";
    # the bare group ARN would deny them, so the logs of a job could be neither written nor read.
    wanted = f":logs:<AWS::Region>:<AWS::AccountId>:log-group:{JOB_LOG_GROUP}:*"
    (job_logs,) = [s for s in _role_policy(synthesized) if s.get("Sid") == "JobLogs"]
    read_logs = _submitter(synthesized)["ListJobLogStreams"]
    for statement in (job_logs, read_logs):
        assert [_flat(r).split("<AWS::Partition>", 1)[1] for r in as_list(statement["Resource"])] == [wanted]


def test_execution_role_publishes_only_the_jobs_metrics(synthesized):
    (metrics,) = [s for s in _role_policy(synthesized) if s.get("Sid") == "JobMetrics"]
    assert metrics["Action"] == "cloudwatch:PutMetricData"
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": JOB_METRIC_NAMESPACE}}


def test_job_network_interfaces_are_held_to_the_platform_vpc(synthesized):
    statements = {s.get("Sid"): s for s in _role_policy(synthesized)}
    enis = statements["VpcJobNetworkInterfaces"]
    assert all(a.startswith(("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface")) for a in enis["Action"])
    vpc = enis["Condition"]["ArnEquals"]["ec2:Vpc"]
    assert _flat(vpc).endswith(":vpc/<?>") or "ImportValue" in json.dumps(vpc)
    # The unscopable rest only reads.
    assert all(a.startswith("ec2:Describe") for a in statements["DescribeVpcResources"]["Action"])
