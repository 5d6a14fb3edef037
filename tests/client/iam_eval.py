"""IAM's evaluation of an identity policy, for what moto server does not evaluate: condition keys (moto checks
none of ours) and resource ARNs outside S3/IAM/STS/SQS. A stateful fake of the documented rules, kept small:

- a request is allowed when some Allow statement matches its action, its resource and every condition (the
  policies here hold no Deny; anything this module does not know raises rather than guessing);
- `*` and `?` in actions and resources are wildcards (IAM User Guide, "IAM JSON policy elements: Resource");
  actions match case-insensitively, resources case-sensitively;
- condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators"): every operator in a
  block and every key in an operator must hold; any one of a key's listed values may match; a missing key
  fails a String/Arn/Bool/Numeric test, and passes a `ForAllValues:` test (hence the `Null` checks beside
  them in the submitter policy);
- what each client request is authorized as (`authorizations`): the action, the resource ARN and the request's
  condition keys, from the SageMaker, S3, CloudWatch Logs, SSM and ECR entries of the Service Authorization
  Reference. Tag-on-create: a CreateProcessingJob with Tags is also authorized as sagemaker:AddTags with the
  same request tags, and passing its role as iam:PassRole (SageMaker developer guide, "Provide permissions for
  tagging SageMaker AI resources"; IAM User Guide, "Granting a user permissions to pass a role").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Value = str | bool | int | float | list[str]

# S3 requests whose IAM action differs from the operation's name (Amazon S3 User Guide, "Actions for Amazon S3").
S3_ACTIONS = {
    "ListBuckets": "s3:ListAllMyBuckets",
    "HeadBucket": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
}
# Requests IAM does not authorize (STS API reference, GetCallerIdentity: "No permissions are required").
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, Value] = field(default_factory=dict)


def matches(pattern: str, value: str, *, case: bool = True) -> bool:
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, value, flags=0 if case else re.IGNORECASE) is not None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _single(key: str, value: Value | None) -> str | None:
    if isinstance(value, list):
        raise ValueError(f"{key} is multi-valued: use ForAllValues/ForAnyValue")
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def _holds(operator: str, key: str, expected: Any, context: Mapping[str, Value]) -> bool:
    actual = context.get(key)
    wanted = [str(item) for item in _listed(expected)]
    if operator == "ForAllValues:StringEquals":
        return all(str(item) in wanted for item in _listed(actual if actual is not None else []))
    if operator == "Null":
        (flag,) = wanted
        return (actual is None) == (flag == "true")
    value = _single(key, actual)
    if value is None:
        return False
    if operator in ("StringEquals", "ArnEquals"):
        return value in wanted
    if operator in ("StringLike", "ArnLike"):
        return any(matches(pattern, value) for pattern in wanted)
    if operator == "Bool":
        return value in wanted
    if operator == "NumericLessThanEquals":
        return any(float(value) <= float(limit) for limit in wanted)
    raise ValueError(f"iam_eval does not know the condition operator {operator}")


def statement_allows(statement: Mapping[str, Any], request: Request) -> bool:
    unknown = set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}
    if unknown or statement["Effect"] != "Allow":
        raise ValueError(f"iam_eval evaluates Allow statements with Action/Resource/Condition, got {statement}")
    if not any(matches(action, request.action, case=False) for action in _listed(statement["Action"])):
        return False
    if not any(matches(resource, request.resource) for resource in _listed(statement["Resource"])):
        return False
    conditions: Mapping[str, Mapping[str, Any]] = statement.get("Condition", {})
    return all(
        _holds(operator, key, expected, request.context)
        for operator, keys in conditions.items()
        for key, expected in keys.items()
    )


def allowed(policy: Mapping[str, Any], request: Request) -> bool:
    return any(statement_allows(statement, request) for statement in _listed(policy["Statement"]))


def authorizations(
    service: str, operation: str, params: Mapping[str, Any], *, account: str, region: str
) -> list[Request]:
    """What IAM checks for one API request (empty for requests IAM does not authorize)."""
    if f"{service}:{operation}" in NEEDS_NO_PERMISSION:
        return []
    arn = f"arn:aws:{service}:{region}:{account}"
    if service == "sagemaker":
        return _sagemaker(operation, params, arn)
    if service == "s3":
        return [_s3(operation, params)]
    if service == "logs":
        # Log-group actions are matched against "log-group:<name>:*" (CloudWatch Logs User Guide, "CloudWatch
        # Logs resources and operations"); events against the stream's ARN.
        group = f"{arn}:log-group:{params['logGroupName']}"
        if operation in ("DescribeLogStreams", "FilterLogEvents"):
            return [Request(f"logs:{operation}", f"{group}:*")]
        if operation == "GetLogEvents":
            return [Request("logs:GetLogEvents", f"{group}:log-stream:{params['logStreamName']}")]
    if service == "ssm" and operation == "GetParameter":
        return [Request("ssm:GetParameter", f"{arn}:parameter/{str(params['Name']).lstrip('/')}")]
    if service == "ecr":
        if operation == "GetAuthorizationToken":
            return [Request("ecr:GetAuthorizationToken", "*")]
        if operation == "DescribeImages":
            return [Request("ecr:DescribeImages", f"{arn}:repository/{params['repositoryName']}")]
    raise KeyError(f"iam_eval does not know how IAM authorizes {service}:{operation}")


def _sagemaker(operation: str, params: Mapping[str, Any], arn: str) -> list[Request]:
    if operation == "ListProcessingJobs":
        return [Request("sagemaker:ListProcessingJobs", "*")]
    if operation == "ListTags":
        return [Request("sagemaker:ListTags", str(params["ResourceArn"]))]
    # SageMaker ARNs carry resource names in lowercase.
    job = f"{arn}:processing-job/{str(params['ProcessingJobName']).lower()}"
    if operation in ("DescribeProcessingJob", "StopProcessingJob"):
        return [Request(f"sagemaker:{operation}", job)]
    if operation != "CreateProcessingJob":
        raise KeyError(f"iam_eval does not know how IAM authorizes sagemaker:{operation}")
    tags = {f"aws:RequestTag/{t['Key']}": str(t["Value"]) for t in params.get("Tags", [])}
    tag_keys: dict[str, Value] = {"aws:TagKeys": [str(t["Key"]) for t in params.get("Tags", [])]} if tags else {}
    resources = params["ProcessingResources"]["ClusterConfig"]
    network = params.get("NetworkConfig", {})
    vpc = network.get("VpcConfig")
    context: dict[str, Value] = {**tags, **tag_keys, "sagemaker:InstanceTypes": [str(resources["InstanceType"])]}
    if vpc:
        context["sagemaker:VpcSubnets"] = [str(s) for s in vpc["Subnets"]]
        context["sagemaker:VpcSecurityGroupIds"] = [str(s) for s in vpc["SecurityGroupIds"]]
    if "EnableNetworkIsolation" in network:
        context["sagemaker:NetworkIsolation"] = bool(network["EnableNetworkIsolation"])
    if "StoppingCondition" in params:
        context["sagemaker:MaxRuntimeInSeconds"] = int(params["StoppingCondition"]["MaxRuntimeInSeconds"])
    requests = [
        Request("sagemaker:CreateProcessingJob", job, context),
        Request("iam:PassRole", str(params["RoleArn"]), {"iam:PassedToService": "sagemaker.amazonaws.com"}),
    ]
    if tags:
        requests.append(Request("sagemaker:AddTags", job, {**tags, **tag_keys}))
    return requests


def _s3(operation: str, params: Mapping[str, Any]) -> Request:
    action = S3_ACTIONS.get(operation, f"s3:{operation}")
    if action == "s3:ListAllMyBuckets":
        return Request(action, "*")
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if action == "s3:ListBucket":
        context: dict[str, Value] = {"s3:prefix": str(params["Prefix"])} if "Prefix" in params else {}
        return Request(action, bucket, context)
    if "Key" in params:
        return Request(action, f"{bucket}/{params['Key']}")
    raise KeyError(f"iam_eval does not know how IAM authorizes s3:{operation}")
