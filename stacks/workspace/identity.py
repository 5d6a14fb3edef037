"""One AWS identity per Linux user on the RStudio host, confined like a SageMaker-mode user.

For each user:
- a role `<platform>-<user>-rstudio` that only the host role may assume. The host's credential service
  (credential_service.py) assumes it for that Linux user alone, so the user's R sessions and shells act as it;
- that user's `JobAccess` (stacks/jobs/access.py): their job role, their job config
  `/<platform>/job-config/<role name>` and their submitter policy, attached to the role. Job names
  `<platform>-<user>-*`, the S3 prefix `jobs/<platform>-<user>-*`, jobs tagged with both names.
The client finds the job config from its role (sts:GetCallerIdentity) through SIMLAB_JOB_CONFIG_PARAMETER
`/<platform>/job-config/{role}`, as in the SageMaker mode.

Role names are fixed so that the host can name each user's role without one CloudFormation token per user in
the user data (16 KB): the bootstrap gets one pattern, role_arn() with `{user}` left in.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.jobs.access import JobAccess, JobPlatform, JobScope
from stacks.users import RStudioUser

ROLE_NAME = "{platform}-{user}-rstudio"
CONFIG_PARAMETER = "/{platform}/job-config/{role}"


def role_name(platform_name: str, user: str) -> str:
    return ROLE_NAME.format(platform=platform_name, user=user)


def role_arn(scope: Construct, platform_name: str, user: str, path: str = "") -> str:
    """The ARN of `user`'s role (`{user}` gives the bootstrap's pattern); `path`: the roles' IAM path
    (iam_role_path, set on every role by stacks/governance.py), which is part of a role's ARN."""
    name = path.lstrip("/") + role_name(platform_name, user)
    return cdk.Stack.of(scope).format_arn(service="iam", region="", resource="role", resource_name=name)


class UserIdentities(Construct):
    """Exposes `roles` and `access`: user name -> the user's role / JobAccess."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: JobPlatform,
        users: Sequence[RStudioUser],
        host_role: iam.IRole,
    ) -> None:
        super().__init__(scope, construct_id)
        self.roles: dict[str, iam.Role] = {}
        self.access: dict[str, JobAccess] = {}
        for user in users:
            name = role_name(platform.name, user.name)
            role = iam.Role(
                self,
                f"Role{user.name}",
                role_name=name,
                assumed_by=iam.ArnPrincipal(host_role.role_arn),
                description=f"{platform.name}: {user.name} on the RStudio host; their own jobs and S3 prefix only",
                max_session_duration=cdk.Duration.hours(1),
            )
            access = JobAccess(
                self,
                f"Access{user.name}",
                platform=platform,
                job_scope=JobScope.for_user(platform.name, user.name),
                config_parameter_name=CONFIG_PARAMETER.format(platform=platform.name, role=name),
            )
            access.policy.attach_to_role(role)
            # The host role may assume exactly these roles (its policy names each one).
            role.grant_assume_role(host_role)
            self.roles[user.name] = role
            self.access[user.name] = access
