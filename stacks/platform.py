"""Assemble the platform's stacks (deployment units) from settings. Used by app.py and by the tests."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from stacks.data.stack import DataStack
from stacks.governance import govern
from stacks.jobs.stack import JobsStack
from stacks.nag import apply_nag
from stacks.network.stack import NetworkStack
from stacks.settings import Settings


@dataclass
class Platform:
    network: NetworkStack
    data: DataStack
    jobs: JobsStack
    workspace: cdk.Stack | None

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [s for s in (self.network, self.data, self.jobs, self.workspace) if s is not None]


CROSS_STACK_REFERENCES = "@aws-cdk/core:defaultCrossStackReferences"


def build_platform(app: cdk.App, settings: Settings, *, env: cdk.Environment | None = None) -> Platform:
    prefix = settings.platform_name
    # Stacks share the VPC, bucket and role through CloudFormation exports. "strong" (CDK's current default,
    # stated so CDK stops warning) keeps CloudFormation from deleting an export a deployed stack still uses.
    if app.node.try_get_context(CROSS_STACK_REFERENCES) is None:
        app.node.set_context(CROSS_STACK_REFERENCES, "strong")
    data = DataStack(app, f"{prefix}-data", settings=settings, env=env)
    # The S3 gateway endpoint's policy names the platform bucket.
    network = NetworkStack(
        app, f"{prefix}-network", settings=settings, platform_bucket_arn=data.data.bucket.bucket_arn, env=env
    )
    jobs = JobsStack(app, f"{prefix}-jobs", settings=settings, network=network.network, data=data.data, env=env)
    workspace: cdk.Stack | None = None
    if settings.rstudio_mode == "ec2":
        # Only the chosen mode's workspace stack is built. Its code is loaded in every mode all the same:
        # stacks.nag (imported above) imports both workspace stacks to find their resources.
        from stacks.workspace.stack import RStudioEc2Stack

        workspace = RStudioEc2Stack(
            app,
            f"{prefix}-workspace",
            settings=settings,
            network=network.network,
            data=data.data,
            jobs=jobs.jobs,
            env=env,
        )
    elif settings.rstudio_mode == "sagemaker":
        from stacks.studio.stack import RStudioSageMakerStack

        workspace = RStudioSageMakerStack(
            app,
            f"{prefix}-workspace",
            settings=settings,
            network=network.network,
            data=data.data,
            jobs=jobs.jobs,
            env=env,
        )
    platform = Platform(network=network, data=data, jobs=jobs, workspace=workspace)
    if settings.vpc_id:
        # A given VPC is referenced by its literal IDs, which leaves no implicit order: the network stack's
        # deploy-time check must pass before anything is placed in the landing zone's subnets.
        for stack in (jobs, workspace):
            if stack is not None:
                stack.add_stack_dependency(network, "the network check passes first")
    govern(platform.stacks, settings)
    apply_nag(app)
    return platform
