"""Deployment unit for job infrastructure; the workspace stack takes `JobsStack.jobs`."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.data.construct import Data
from stacks.jobs.budget import PlatformBudget
from stacks.jobs.construct import JobLimits, Jobs
from stacks.network.construct import Network
from stacks.settings import Settings

# Job-config fields whose values another stack owns: that stack outputs them (an output here would only
# re-export an import, cfn-lint W6001).
OUTPUTS_ELSEWHERE = {"bucket": "DataStack output Bucket", "subnet_ids": "NetworkStack output SubnetIds"}


class JobsStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, network: Network, data: Data, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"{settings.platform_name}: job images, roles, policies and job config",
            **kwargs,
        )
        limits = JobLimits(
            platform_name=settings.platform_name,
            instance_types=settings.job_instance_types,
            default_instance_type=settings.job_default_instance_type,
            max_instances=settings.job_max_instances,
            max_runtime_seconds=settings.job_max_runtime_seconds,
            config_parameter_name=settings.job_config_parameter_name,
            delete_on_destroy=settings.delete_data_on_destroy,
        )
        self.jobs = Jobs(
            self, "Jobs", limits=limits, vpc=network.vpc, job_subnets=network.job_subnets, bucket=data.bucket
        )
        for key, value in self.jobs.config_fields.items():
            if key in OUTPUTS_ELSEWHERE:
                continue
            cdk.CfnOutput(self, _output_id(key), value=_output_value(value), description=f"job-config field {key}")
        if settings.budget_monthly_usd > 0:
            PlatformBudget(
                self,
                "Budget",
                platform_name=settings.platform_name,
                monthly_usd=settings.budget_monthly_usd,
                email=settings.budget_alert_email,
            )
        cdk.CfnOutput(
            self,
            "JobConfigParameter",
            value=self.jobs.job_config.parameter_name,
            description="SSM parameter holding the job config JSON",
        )
        cdk.CfnOutput(
            self,
            "SubmitterPolicyArn",
            value=self.jobs.submitter_policy.managed_policy_arn,
            description="Managed policy to attach to the users (roles) who submit jobs",
        )


def _output_value(value: object) -> str:
    # Outputs are strings: lists become comma-separated (tokens included), numbers their decimal form.
    if isinstance(value, list):
        return cdk.Fn.join(",", value)
    return str(value)


def _output_id(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))
