"""The studio's Lambda functions: plain Python modules in handlers/, each with its own role and log group; and the
Start/Check pair with CDK's polling Provider that the custom resources doing minutes of work share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

STUDIO = Path(__file__).parent
# The asset is stacks/studio reduced to the `handlers` package, so its modules share code by relative import.
CODE_EXCLUDE = ["*", "!handlers", "!handlers/*.py"]
RUNTIME = lambda_.Runtime.PYTHON_3_14
# One pass of a polled custom resource (polled_provider).
PASS_TIMEOUT = cdk.Duration.minutes(5)


class HandlerFunction(Construct):
    """One function from handlers/<module>.py (`handler` is "<module>.<function>"). Its role may write its own log
    group and nothing else until the caller adds statements (no AWSLambdaBasicExecutionRole: that one may create
    any log group)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        timeout: cdk.Duration,
        environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="OwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}"],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            code=lambda_.Code.from_asset(str(STUDIO), exclude=CODE_EXCLUDE),
            handler=f"handlers.{handler}",
            description=description,
            timeout=timeout,
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
            environment=environment or {},
        )


@dataclass(frozen=True)
class Polled:
    on_event: HandlerFunction
    is_complete: HandlerFunction
    provider: cr.Provider


def polled_provider(
    scope: Construct,
    *,
    module: str,
    starts: str,
    continues: str,
    statements: Sequence[iam.PolicyStatement],
    poll: cdk.Duration,
    timeout: cdk.Duration,
) -> Polled:
    """handlers/<module>.py's `on_event` ("Start") and `is_complete` ("Check") in `scope`, both holding
    `statements`, and the Provider ("Provider") that calls Check every `poll` until it is done or `timeout` ends.
    Each call is one pass of work, so one function call never has to outlast Lambda's limit."""
    on_event = HandlerFunction(scope, "Start", handler=f"{module}.on_event", description=starts, timeout=PASS_TIMEOUT)
    is_complete = HandlerFunction(
        scope, "Check", handler=f"{module}.is_complete", description=continues, timeout=PASS_TIMEOUT
    )
    for function in (on_event, is_complete):
        for statement in statements:
            function.role.add_to_policy(statement)
    provider = cr.Provider(
        scope,
        "Provider",
        on_event_handler=on_event.function,
        is_complete_handler=is_complete.function,
        query_interval=poll,
        total_timeout=timeout,
    )
    return Polled(on_event, is_complete, provider)
