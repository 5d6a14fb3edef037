"""cdk-nag over the whole app (AwsSolutions, HIPAA Security, NIST 800-53 R5), and every acknowledgement of a
finding, each with its reason. The platform's users are in healthcare and finance, hence the two compliance packs.

One module per component (foundation: network, data, jobs; workspace; studio), `common` for how an
acknowledgement is written. Each takes its stack and acknowledges on the narrowest construct that carries the
finding. Finding IDs name the exact wildcard (`AwsSolutions-IAM5[Resource::...]`), so a
new wildcard fails synth until someone decides about it here.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from stacks.data.stack import DataStack
from stacks.jobs.stack import JobsStack
from stacks.nag import access, foundation, studio, workspace
from stacks.network.stack import NetworkStack
from stacks.studio.stack import RStudioSageMakerStack
from stacks.workspace.stack import RStudioEc2Stack


def apply_nag(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))
    given_vpc = any(isinstance(s, NetworkStack) and s.network.check is not None for s in app.node.children)
    for stack in app.node.children:
        if isinstance(stack, NetworkStack):
            foundation.network(stack)
        elif isinstance(stack, DataStack):
            foundation.data(stack)
        elif isinstance(stack, JobsStack):
            foundation.jobs(stack)
        elif isinstance(stack, RStudioEc2Stack):
            workspace.workspace(stack)
        elif isinstance(stack, RStudioSageMakerStack):
            studio.studio(stack)
        if given_vpc and isinstance(stack, cdk.Stack):
            foundation.given_zones(stack)
    access.job_accesses(app)
