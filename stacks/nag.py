"""cdk-nag AwsSolutions over the whole app, and every acknowledgement of a finding, each with its reason.

One section per component. Each section takes its stack and acknowledges on the narrowest construct
that carries the finding. Finding IDs name the exact wildcard (`AwsSolutions-IAM5[Resource::...]`), so a
new wildcard fails synth until someone decides about it here.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from simulation.layout import JOBS_PREFIX
from stacks.data.stack import DataStack
from stacks.jobs.stack import JobsStack
from stacks.network.stack import NetworkStack
from stacks.studio.stack import RStudioSageMakerStack
from stacks.workspace.stack import RStudioEc2Stack


def apply_nag(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    for stack in app.node.children:
        if isinstance(stack, NetworkStack):
            _network(stack)
        elif isinstance(stack, DataStack):
            _data(stack)
        elif isinstance(stack, JobsStack):
            _jobs(stack)
        elif isinstance(stack, RStudioEc2Stack):
            _workspace(stack)
        elif isinstance(stack, RStudioSageMakerStack):
            _studio(stack)


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (e.g. "IAM5[Resource::*]") on `scope` and its children."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions-{finding}", reason=reason))


def flat(scope: IConstruct, value: str) -> str:
    """How cdk-nag spells `value` in a finding ID: its stack-resolved form flattened, Refs as `<Name>`,
    GetAtts as `<Id.Attr>`. Resolving here keeps IDs right whether or not the CLI fixes a region or account
    (`cdk synth` with a default region writes "us-east-1" where a bare synth writes "<AWS::Region>")."""
    return _flatten(cdk.Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return str(delimiter).join(_flatten(item) for item in items)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return _flatten(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        return _flatten(node["Fn::ImportValue"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{_flatten(node['Ref'])}>"
    raise ValueError(f"cannot spell {node!r} as a cdk-nag finding")


def imported_name(owner: IConstruct, value: str) -> str:
    """How cdk-nag shows `value`, an attribute of `owner` (e.g. a bucket ARN), in another stack.

    The consuming stack sees `Fn::ImportValue <export name>`; asking the owner's stack for the export now
    returns the name CDK gives it later when it resolves the reference (the export is created only once).
    """
    producer = cdk.Stack.of(owner)
    return str(producer.resolve(producer.export_value(value))["Fn::ImportValue"])


# ---------------------------------------------------------------------------------------------- network
def _network(stack: NetworkStack) -> None:
    """The network raises no findings today (flow logs on, endpoint SG open to the VPC CIDR only)."""


# ------------------------------------------------------------------------------------------------- data
def _data(stack: DataStack) -> None:
    """The data bucket logs to the access-log bucket; that bucket raises no finding today."""


# ------------------------------------------------------------------------------------------------- jobs
def _jobs(stack: JobsStack) -> None:
    jobs = stack.jobs
    bucket_arn = imported_name(jobs.bucket, jobs.bucket.bucket_arn)
    log_streams = flat(stack, jobs.job_logs_arn)
    role_policy = jobs.execution_role.node.find_child("DefaultPolicy")
    acknowledge(
        role_policy,
        f"IAM5[Resource::{bucket_arn}/{JOBS_PREFIX}*]",
        "Jobs read code/inputs and write results under jobs/<job-name>/, names chosen per submission; "
        "the role is confined to the jobs/ prefix of the platform bucket.",
    )
    acknowledge(
        role_policy,
        "IAM5[Resource::*]",
        "ecr:GetAuthorizationToken and cloudwatch:PutMetricData (held to the jobs' metric namespace) "
        "have no resource type, and the EC2 network-interface and Describe actions SageMaker performs "
        "for VPC jobs are not scoped to resources it creates on the fly.",
    )
    acknowledge(
        role_policy,
        f"IAM5[Resource::{log_streams}]",
        "The fixed ProcessingJobs log group in the IAM form log-group:<name>:*; SageMaker names one log "
        "stream per job and host inside it.",
    )
    policy = jobs.submitter_policy
    acknowledge(
        policy,
        f"IAM5[Resource::{flat(stack, jobs.processing_jobs_arn)}]",
        "Users name their own jobs; creation is confined by the VPC, security group, network "
        "isolation, instance type and runtime conditions on the same statement.",
    )
    acknowledge(
        policy, "IAM5[Resource::*]", "sagemaker:ListProcessingJobs and ecr:GetAuthorizationToken have no resource type."
    )
    acknowledge(
        policy,
        f"IAM5[Resource::{log_streams}]",
        "Users read the log streams of their jobs (the ProcessingJobs group in the IAM form "
        "log-group:<name>:*); SageMaker names one stream per job and host.",
    )
    acknowledge(
        policy,
        f"IAM5[Resource::{bucket_arn}/*]",
        "The platform bucket exists for the users' code, inputs and results; they read and write "
        "objects of any name in it and nothing outside it.",
    )


# -------------------------------------------------------------------------------- workspace (issue 6)
# The lambda CDK deploys once per stack for every AwsCustomResource (here: the VPC-origin SG lookup).
_AWS_CUSTOM_RESOURCE_LAMBDA = "AWS679f53fac002430cb0da5b7982bd2287"
_LAMBDA_BASIC = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
_SSM_CORE = "arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"


def _workspace(stack: RStudioEc2Stack) -> None:
    host = stack.host
    for name, secret in host.login_secrets.items():
        acknowledge(
            secret,
            "SMG4",
            f"{name}'s RStudio password is a Linux account password set on the host at boot; a rotation Lambda "
            "cannot reach into the instance. To rotate: put a new value in the secret and reboot the host.",
        )
    acknowledge(
        host.role,
        f"IAM4[Policy::{_SSM_CORE}]",
        "AmazonSSMManagedInstanceCore is the documented minimum for Session Manager and port "
        "forwarding (the only shell access; there is no SSH key) and tracks SSM's API changes.",
    )
    acknowledge(
        host.role.node.find_child("DefaultPolicy"),
        "IAM5[Resource::*]",
        "ecr:GetAuthorizationToken (users push and pull their own images) has no resource type.",
    )
    acknowledge(
        host.instance,
        "EC29",
        "A single workspace host whose work lives on EFS: it is replaced on every bootstrap change and "
        "must go on cdk destroy, so termination protection would only block both.",
    )
    if stack.access is not None:
        distribution = stack.access.distribution
        acknowledge(
            distribution,
            "CFR1",
            "Viewers are limited to rstudio_allowed_cidrs by the viewer-request CloudFront Function, "
            "narrower than any country restriction.",
        )
        acknowledge(
            distribution,
            "CFR2",
            "A CloudFront web ACL must be created in us-east-1 (a second stack and region); the CIDR "
            "allow-list function plus RStudio's own login protect this single-team IDE.",
        )
        acknowledge(
            distribution,
            "CFR3",
            "Standard logging needs an ACL-enabled log bucket; viewer access is limited to known "
            "networks and RStudio records sign-ins on the host.",
        )
        acknowledge(
            distribution,
            "CFR4",
            "No custom domain: the default *.cloudfront.net certificate's TLS policy is fixed by "
            "CloudFront; viewers are redirected to HTTPS and modern browsers negotiate TLS 1.2+.",
        )
        lookup = stack.access.node.find_child("VpcOriginSecurityGroup")
        acknowledge(
            lookup,
            "IAM5[Resource::*]",
            "ec2:DescribeSecurityGroups has no resource-level permissions; the lookup only reads the "
            "ID of CloudFront's VPC-origin security group.",
        )
        acknowledge(
            stack.node.find_child(_AWS_CUSTOM_RESOURCE_LAMBDA),
            f"IAM4[Policy::{_LAMBDA_BASIC}]",
            "CDK's AwsCustomResource function only writes its own logs; the managed policy grants exactly that.",
        )


# ------------------------------------------------------------------------- studio: RStudio on SageMaker
def _studio(stack: RStudioSageMakerStack) -> None:
    bucket = stack.data_bucket
    bucket_arn = imported_name(bucket, bucket.bucket_arn)
    for name, access in stack.access.items():
        objects = f"IAM5[Resource::{bucket_arn}/{access.object_pattern}]"
        job_logs = f"IAM5[Resource::{flat(stack, access.job_logs_arn)}]"
        job_policy = access.job_role.node.find_child("DefaultPolicy")
        acknowledge(
            job_policy,
            objects,
            f"{name}'s jobs read inputs and write results under jobs/<job-name>/ for their own job names only "
            f"({access.object_pattern}); each job picks its own name.",
        )
        acknowledge(
            job_policy,
            job_logs,
            f"{name}'s jobs write to the fixed ProcessingJobs log group (IAM form log-group:<name>:*); SageMaker "
            "names one stream per job and host.",
        )
        acknowledge(
            job_policy,
            "IAM5[Resource::*]",
            f"{name}'s job role: ecr:GetAuthorizationToken and cloudwatch:PutMetricData (held to the jobs' metric "
            "namespace) have no resource type; the VPC network-interface actions SageMaker performs are not scoped.",
        )
        acknowledge(
            access.policy,
            objects,
            f"{name} reads and writes only objects under their own job prefix ({access.object_pattern}) from RStudio.",
        )
        acknowledge(
            access.policy,
            f"IAM5[Resource::{flat(stack, access.jobs_arn)}]",
            f"{name} names their own jobs, all starting {access.prefix}-; creation is further confined by VPC, "
            "security group, isolation, instance type, runtime and user-tag conditions.",
        )
        acknowledge(
            access.policy,
            f"IAM5[Resource::{flat(stack, access.log_streams_arn)}]",
            f"{name} reads the log streams of their own jobs only (stream names start with the job name).",
        )
        acknowledge(
            access.policy,
            job_logs,
            f"{name} lists stream names in the ProcessingJobs group to find their jobs' streams (DescribeLogStreams "
            "is a log-group action); reading lines is limited to their own streams.",
        )
        acknowledge(
            access.policy,
            "IAM5[Resource::*]",
            f"{name}: sagemaker:ListProcessingJobs has no resource type; the client keeps to {access.prefix}- jobs.",
        )
    acknowledge(
        stack.studio.execution_role.node.find_child("DefaultPolicy"),
        "IAM5[Resource::*]",
        "The RStudio domain execution role holds exactly the License Manager, log delivery and sagemaker:CreateApp "
        "actions the RStudio on SageMaker docs list; none of them names a resource that exists before the domain.",
    )
    acknowledge(
        stack.image.role.node.find_child("DefaultPolicy"),
        "IAM5[Resource::*]",
        "SageMaker needs ecr:GetAuthorizationToken (no resource type) to read the RSession image from the CDK assets "
        "repository; pulls are limited to that repository.",
    )
    functions = [stack.licence.handler, stack.teardown.on_event, stack.teardown.is_complete]
    if stack.reaper is not None:
        functions.append(stack.reaper.handler)
    for function in functions:
        acknowledge(
            function.function,
            "L1",
            f"{function.node.path}: Python 3.14 is the newest Lambda runtime this CDK version knows; cdk-nag's list "
            "may name a runtime Lambda does not offer in every region yet.",
        )
    acknowledge(
        stack.licence.handler.role.node.find_child("DefaultPolicy"),
        "IAM5[Resource::*]",
        "license-manager:ListReceivedLicenses has no resource type; the preflight only reads the licence list.",
    )
    domain_id = stack.studio.domain.attr_domain_id
    for function in (stack.teardown.on_event, stack.teardown.is_complete):
        policy = function.role.node.find_child("DefaultPolicy")
        for kind in ("app", "space", "user-profile"):
            arn = stack.format_arn(service="sagemaker", resource=kind, resource_name=f"{domain_id}/*")
            acknowledge(
                policy,
                f"IAM5[Resource::{flat(stack, arn)}]",
                f"Teardown ({function.node.id}) deletes every {kind} of this platform's domain, whose names users "
                "and SageMaker choose; the domain ID scopes it.",
            )
        acknowledge(
            policy,
            "IAM5[Resource::*]",
            f"Teardown ({function.node.id}): the SageMaker List actions, EFS and EC2 Describe actions have no "
            "resource type; deletes of the home EFS and NFS groups are held to SageMaker's tag and this VPC.",
        )
    if stack.reaper is not None:
        policy = stack.reaper.handler.role.node.find_child("DefaultPolicy")
        arn = stack.format_arn(service="sagemaker", resource="app", resource_name=f"{domain_id}/*")
        acknowledge(
            policy,
            f"IAM5[Resource::{flat(stack, arn)}]",
            "The idle reaper describes and deletes RSession apps of this domain only; users name their sessions.",
        )
        acknowledge(
            policy, "IAM5[Resource::*]", "The idle reaper's sagemaker:ListApps has no resource type (read-only)."
        )
    _provider(stack, stack.licence.provider, [stack.licence.handler])
    _provider(stack, stack.teardown.provider, [stack.teardown.on_event, stack.teardown.is_complete])
    waiter = stack.teardown.provider.node.find_child("waiter-state-machine")
    acknowledge(
        waiter,
        "SF1",
        "CDK's provider waiter only loops over the is-complete check; each check logs what it deleted and what "
        "remains in its own function's log group.",
    )
    acknowledge(
        waiter,
        "SF2",
        "X-Ray tracing of CDK's provider waiter would trace a polling loop that runs only on stack delete.",
    )
    for framework in ("framework-isComplete", "framework-onTimeout"):
        framework_function = stack.teardown.provider.node.find_child(framework)
        assert isinstance(framework_function, lambda_.Function)
        acknowledge(
            waiter.node.find_child("Role").node.find_child("DefaultPolicy"),
            f"IAM5[Resource::{flat(stack, framework_function.function_arn)}:*]",
            f"The waiter invokes CDK's {framework} function of this provider (any version of it).",
        )


def _provider(stack: cdk.Stack, provider: IConstruct, functions: list[Any]) -> None:
    """CDK's provider framework: its functions' roles use the basic execution policy and invoke ours."""
    for child in provider.node.find_all():
        if child.node.id != "ServiceRole":
            continue
        acknowledge(
            child,
            f"IAM4[Policy::{_LAMBDA_BASIC}]",
            f"{child.node.path}: a CDK provider framework function writes only its own logs; the managed policy "
            "grants exactly that.",
        )
        for function in functions:
            acknowledge(
                child,
                f"IAM5[Resource::{flat(stack, function.function.function_arn)}:*]",
                f"{child.node.path} invokes {function.node.path} (any version), the handler it exists for.",
            )
