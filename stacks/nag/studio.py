"""Acknowledgements of RStudio on a SageMaker Domain (rstudio_mode=sagemaker)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import custom_resources as cr
from constructs import IConstruct

from stacks.nag.common import LAMBDA_BASIC, ProviderFramework, acknowledge, acknowledge_compliance, flat
from stacks.studio.functions import HandlerFunction
from stacks.studio.stack import RStudioSageMakerStack


# ------------------------------------------------------------------------- studio: RStudio on SageMaker
def studio(stack: RStudioSageMakerStack) -> None:
    acknowledge(
        stack.studio.execution_role,
        "IAM5[Resource::*]",
        "The RStudio domain execution role holds exactly the policy AWS lists for it (License Manager, log delivery, "
        "sagemaker:CreateApp on Resource *); AWS does not say which resources SageMaker reaches with it.",
    )
    acknowledge(
        stack.studio.execution_role,
        "IAM5[Action::logs:Describe*]",
        "logs:Describe* is in AWS's listed DomainExecution policy as written; AWS does not say which Describe "
        "calls RStudio's log delivery makes, so a narrower list could fail only on a real deploy.",
    )
    acknowledge(
        stack.image.role,
        "IAM5[Resource::*]",
        "SageMaker needs ecr:GetAuthorizationToken (no resource type) to read the RSession image from the CDK assets "
        "repository; pulls are limited to that repository.",
    )
    functions = [
        stack.licence.handler,
        stack.teardown.on_event,
        stack.teardown.is_complete,
        stack.pin.on_event,
        stack.pin.is_complete,
        stack.quiesce.on_event,
        stack.quiesce.is_complete,
        stack.watchdog.handler,
    ]
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
        stack.licence.handler.role,
        "IAM5[Resource::*]",
        "license-manager:ListReceivedLicenses has no resource type; the preflight only reads the licence list.",
    )
    domain_id = stack.studio.domain.attr_domain_id
    for function in (stack.teardown.on_event, stack.teardown.is_complete):
        policy = function.role
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
            f"Teardown ({function.node.id}): the SageMaker List actions and ec2:DescribeSecurityGroups have no "
            "resource type; they only read.",
        )
        if stack.teardown.security_groups_arn is not None:
            acknowledge(
                policy,
                f"IAM5[Resource::{flat(stack, stack.teardown.security_groups_arn)}]",
                f"Teardown ({function.node.id}) removes the two NFS security groups SageMaker created for the domain "
                "(IDs unknown to CloudFormation), held to this platform's VPC by the ec2:Vpc condition.",
            )
    for function in (stack.pin.on_event, stack.pin.is_complete):
        acknowledge(
            function.role,
            f"IAM5[Resource::{flat(stack, stack.pin.apps_arn)}]",
            f"Workbench upgrade ({function.node.id}) stops the RSessions and the RStudioServerPro app of this "
            "platform's domain, as AWS's upgrade procedure says; users name their sessions, the domain ID scopes it.",
        )
        acknowledge(
            function.role,
            "IAM5[Resource::*]",
            f"Workbench upgrade ({function.node.id}): sagemaker:ListApps has no resource type; it only reads.",
        )
    if stack.reaper is not None:
        policy = stack.reaper.handler.role
        acknowledge(
            policy,
            f"IAM5[Resource::{flat(stack, stack.reaper.apps_arn)}]",
            "The idle reaper deletes RSession apps of this domain only; users name their sessions.",
        )
        acknowledge(
            policy,
            f"IAM5[Resource::{flat(stack, stack.reaper.log_streams_arn)}]",
            "The idle reaper reads the last event of this domain's RSession log streams only (stream names start "
            "with the domain ID; SageMaker names them per user and app).",
        )
        acknowledge(
            policy, "IAM5[Resource::*]", "The idle reaper's sagemaker:ListApps has no resource type (read-only)."
        )
    _studio_compliance(stack, functions)
    _provider(stack, stack.licence.provider, [stack.licence.handler])
    _provider(stack, stack.teardown.provider, [stack.teardown.on_event, stack.teardown.is_complete])
    _provider(stack, stack.pin.provider, [stack.pin.on_event, stack.pin.is_complete])
    _waiter(stack, stack.teardown.provider, "stack delete")
    _provider(stack, stack.quiesce.provider, [stack.quiesce.on_event, stack.quiesce.is_complete])
    _waiter(stack, stack.pin.provider, "a change of the Workbench version")
    _waiter(stack, stack.quiesce.provider, "a change to the domain resource")


def _waiter(stack: RStudioSageMakerStack, provider: cr.Provider, runs_on: str) -> None:
    framework = ProviderFramework.of(provider)
    waiter = framework.waiter
    assert waiter is not None  # these providers wait for their is-complete check
    acknowledge(
        waiter,
        "SF1",
        f"CDK's provider waiter for {runs_on} only loops over the is-complete check; each check logs what it "
        "requested and what remains in its own function's log group.",
    )
    acknowledge(
        waiter,
        "SF2",
        f"X-Ray tracing of CDK's provider waiter would trace a polling loop that runs only on {runs_on}.",
    )
    assert framework.waiter_role is not None
    for name in ("isComplete", "onTimeout"):
        acknowledge(
            framework.waiter_role,
            f"IAM5[Resource::{flat(stack, framework.function(name).function_arn)}:*]",
            f"The waiter for {runs_on} invokes CDK's framework-{name} function of its own provider (any version).",
        )


def _studio_compliance(stack: RStudioSageMakerStack, functions: list[Any]) -> None:
    """The domain stack's control-plane functions (licence preflight, version pin, teardown, idle reaper) and CDK's
    provider framework around them: HIPAA / NIST findings that do not fit functions run by CloudFormation or a
    schedule."""
    providers = [
        ProviderFramework.of(provider)
        for provider in (stack.licence.provider, stack.teardown.provider, stack.pin.provider, stack.quiesce.provider)
    ]
    framework = [function for provider in providers for function in provider.functions]
    for function in [f.function for f in functions] + framework:
        acknowledge_compliance(
            function,
            "LambdaConcurrency",
            f"{function.node.path} runs at deploy, delete or on a schedule, one invocation at a time; "
            "reserved concurrency would only hold back account capacity.",
        )
        acknowledge_compliance(
            function,
            "LambdaDLQ",
            f"{function.node.path} is invoked synchronously (CloudFormation, the provider framework, or a "
            "scheduled rule that retries); failures surface there and in its log group, no event is lost.",
        )
        acknowledge_compliance(
            function,
            "LambdaInsideVPC",
            f"{function.node.path} calls only AWS control-plane APIs (SageMaker, License Manager, EFS, EC2); "
            "a VPC placement would add ENIs and endpoints, and no isolation.",
        )
    for function in functions:
        acknowledge_compliance(
            function.log_group,
            "CloudWatchLogGroupEncrypted",
            f"{function.node.path}'s log holds only what it created or deleted, encrypted by CloudWatch Logs' "
            "own keys; a customer key would add a key charge and grants, not narrow readers.",
        )
    roles: list[IConstruct] = [function.role for function in functions]
    roles += [role for provider in providers for role in provider.roles]
    roles += [provider.waiter_role for provider in providers if provider.waiter_role is not None]
    roles += [stack.studio.execution_role, stack.image.role]
    for role in roles:
        acknowledge_compliance(
            role,
            "IAMNoInlinePolicy",
            f"{role.node.path}'s own policy, belonging to that one role and created and deleted with it; a "
            "managed policy would only add a reusable copy.",
        )


def _provider(stack: cdk.Stack, provider: cr.Provider, functions: list[HandlerFunction]) -> None:
    """CDK's provider framework: its functions' roles use the basic execution policy and invoke ours."""
    for child in ProviderFramework.of(provider).roles:
        acknowledge(
            child,
            f"IAM4[Policy::{LAMBDA_BASIC}]",
            f"{child.node.path}: a CDK provider framework function writes only its own logs; the managed policy "
            "grants exactly that.",
        )
        for function in functions:
            acknowledge(
                child,
                f"IAM5[Resource::{flat(stack, function.function.function_arn)}:*]",
                f"{child.node.path} invokes {function.node.path} (any version), the handler it exists for.",
            )
