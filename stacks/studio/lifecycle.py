"""Custom work around the domain's life: a licence check before it, a teardown before its delete, a scheduled
reaper of idle RSessions, and a scheduled watchdog that restarts a server app a failed deploy left stopped. The code
is in handlers/ (plain Python, tested without AWS)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.studio.domain import relaunch_guard_statements
from stacks.studio.functions import HandlerFunction, polled_provider

# App deletion takes minutes per app; a domain with many users and spaces needs a generous ceiling.
TEARDOWN_TIMEOUT = cdk.Duration.hours(2)
TEARDOWN_POLL = cdk.Duration.seconds(30)


def _domain_arn(scope: Construct, resource: str, name: str) -> str:
    return cdk.Stack.of(scope).format_arn(service="sagemaker", resource=resource, resource_name=name)


class LicencePreflight(Construct):
    """Fails the deploy, before the domain exists, when no accepted Posit licence is usable in this region."""

    def __init__(self, scope: Construct, construct_id: str, *, product_name: str) -> None:
        super().__init__(scope, construct_id)
        self.handler = HandlerFunction(
            self,
            "Check",
            handler="licence.on_event",
            description="Checks for an accepted Posit Workbench licence in License Manager",
            timeout=cdk.Duration.minutes(1),
        )
        # ListReceivedLicenses has no resource type.
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="ListLicences", actions=["license-manager:ListReceivedLicenses"], resources=["*"])
        )
        self.provider = cr.Provider(self, "Provider", on_event_handler=self.handler.function)
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::PositLicence",
            properties={"ProductName": product_name},
        )


class DomainTeardown(Construct):
    """On delete, empties and deletes the domain (handlers/teardown.py says in which order, and how the server app
    is kept from relaunching) and, with `delete_data`, removes its home EFS and NFS security groups. It must
    depend on the domain and every profile, so CloudFormation deletes it first."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_id: str,
        home_file_system_id: str,
        delete_data: bool,
        vpc_arn: str,
        execution_role: iam.IRole,
        relaunch_guard: iam.IManagedPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        app_arn = _domain_arn(self, "app", f"{domain_id}/*")
        statements = [
            iam.PolicyStatement(
                sid="EmptyDomain",
                actions=[
                    "sagemaker:DescribeDomain",
                    "sagemaker:DeleteDomain",
                    "sagemaker:DescribeApp",
                    "sagemaker:DeleteApp",
                    "sagemaker:DeleteSpace",
                    "sagemaker:DeleteUserProfile",
                ],
                resources=[
                    _domain_arn(self, "domain", domain_id),
                    app_arn,
                    _domain_arn(self, "space", f"{domain_id}/*"),
                    _domain_arn(self, "user-profile", f"{domain_id}/*"),
                ],
            ),
            # The List actions have no resource type.
            iam.PolicyStatement(
                sid="ListDomainContents",
                actions=["sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListUserProfiles"],
                resources=["*"],
            ),
            *relaunch_guard_statements(execution_role, relaunch_guard, hold=True),
        ]
        # Kept for stacks/nag.py, which names these wildcards in its acknowledgements.
        self.security_groups_arn: str | None = None
        if delete_data:
            stack = cdk.Stack.of(self)
            self.security_groups_arn = stack.format_arn(service="ec2", resource="security-group", resource_name="*")
            statements += [
                # The home EFS SageMaker created for this domain, named by the domain's own attribute.
                iam.PolicyStatement(
                    sid="DeleteHomeFileSystem",
                    actions=[
                        "elasticfilesystem:DescribeMountTargets",
                        "elasticfilesystem:DescribeFileSystems",
                        "elasticfilesystem:DeleteMountTarget",
                        "elasticfilesystem:DeleteFileSystem",
                    ],
                    resources=[
                        stack.format_arn(
                            service="elasticfilesystem", resource="file-system", resource_name=home_file_system_id
                        )
                    ],
                ),
                iam.PolicyStatement(
                    sid="FindNfsSecurityGroups", actions=["ec2:DescribeSecurityGroups"], resources=["*"]
                ),
                iam.PolicyStatement(
                    sid="DeleteNfsSecurityGroups",
                    actions=[
                        "ec2:RevokeSecurityGroupIngress",
                        "ec2:RevokeSecurityGroupEgress",
                        "ec2:DeleteSecurityGroup",
                    ],
                    # Group IDs are SageMaker's; only groups of the platform's VPC, and the handler picks the two
                    # by their SageMaker names.
                    resources=[self.security_groups_arn],
                    conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
                ),
            ]
        polled = polled_provider(
            self,
            module="teardown",
            starts="Starts emptying the SageMaker domain before CloudFormation deletes it",
            continues="Continues emptying the SageMaker domain until nothing is left",
            statements=statements,
            poll=TEARDOWN_POLL,
            timeout=TEARDOWN_TIMEOUT,
        )
        self.on_event, self.is_complete, self.provider = polled.on_event, polled.is_complete, polled.provider
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::DomainTeardown",
            properties={
                "DomainId": domain_id,
                "DeleteData": "true" if delete_data else "false",
                "HomeFileSystemId": home_file_system_id,
                "ExecutionRoleName": execution_role.role_name,
                "RelaunchGuardArn": relaunch_guard.managed_policy_arn,
            },
        )


class IdleReaper(Construct):
    """Every `interval`, deletes RSession apps whose own log has been silent for longer than `minutes`
    (handlers/reaper.py says why that signal and not DescribeApp's activity time)."""

    def __init__(self, scope: Construct, construct_id: str, *, domain_id: str, minutes: int) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.handler = HandlerFunction(
            self,
            "Reap",
            handler="reaper.handler",
            description=f"Deletes RSession apps with nothing logged for more than {minutes} minutes",
            timeout=cdk.Duration.minutes(5),
        )
        self.apps_arn = _domain_arn(self, "app", f"{domain_id}/*")
        # The RSession streams of this domain: /aws/sagemaker/studio, <domain>/<user>/RSession/<app>.
        self.log_streams_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/studio:log-stream:{domain_id}/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="ReapSessions", actions=["sagemaker:DeleteApp"], resources=[self.apps_arn])
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="ReadSessionLogs", actions=["logs:GetLogEvents"], resources=[self.log_streams_arn])
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="ListApps", actions=["sagemaker:ListApps"], resources=["*"])
        )
        self.interval = cdk.Duration.minutes(max(5, min(60, minutes // 4)))
        self.rule = events.Rule(
            self,
            "Schedule",
            description=f"Looks for idle RSessions every {self.interval.to_minutes()} minutes",
            schedule=events.Schedule.rate(self.interval),
            # The schedule's event carries the settings (no environment variables to encrypt).
            targets=[
                targets.LambdaFunction(
                    self.handler.function,
                    event=events.RuleTargetInput.from_object({"domain_id": domain_id, "idle_minutes": minutes}),
                )
            ],
        )


class RelaunchWatchdog(Construct):
    """Every WATCH_INTERVAL, outside CloudFormation operations on this stack, detaches a relaunch deny left on the
    domain execution role and starts the server app if it is gone (handlers/watchdog.py says which ends leave it so)."""

    WATCH_INTERVAL = cdk.Duration.minutes(15)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_id: str,
        execution_role: iam.IRole,
        relaunch_guard: iam.IManagedPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.handler = HandlerFunction(
            self,
            "Watch",
            handler="watchdog.handler",
            description="Starts the domain's RStudio server again when a deploy left it stopped",
            timeout=cdk.Duration.minutes(1),
        )
        server_app = _domain_arn(self, "app", f"{domain_id}/domain-shared/RStudioServerPro/default")
        statements = [
            iam.PolicyStatement(
                sid="StackStatus", actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id]
            ),
            iam.PolicyStatement(
                sid="DomainStatus",
                actions=["sagemaker:DescribeDomain"],
                resources=[_domain_arn(self, "domain", domain_id)],
            ),
            iam.PolicyStatement(
                sid="ServerApp", actions=["sagemaker:DescribeApp", "sagemaker:CreateApp"], resources=[server_app]
            ),
            *relaunch_guard_statements(execution_role, relaunch_guard, hold=False),
        ]
        for statement in statements:
            self.handler.role.add_to_policy(statement)
        self.rule = events.Rule(
            self,
            "Schedule",
            description="Looks for an RStudio server a deploy left stopped",
            schedule=events.Schedule.rate(self.WATCH_INTERVAL),
            targets=[
                targets.LambdaFunction(
                    self.handler.function,
                    event=events.RuleTargetInput.from_object(
                        {
                            "stack_name": stack.stack_name,
                            "domain_id": domain_id,
                            "execution_role_name": execution_role.role_name,
                            "relaunch_guard_arn": relaunch_guard.managed_policy_arn,
                        }
                    ),
                )
            ],
        )
