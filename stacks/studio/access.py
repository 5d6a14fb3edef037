"""Per-user IAM in the SageMaker mode: what one user's RSessions and jobs may touch, and nothing of anyone else's.

For each user:
- a profile role (the user profile's execution role; RSessions run with it), holding that user's submitter
  policy from their `JobAccess` (stacks/jobs/access.py): job names `<platform>-<user>-*`, the S3 prefix
  `jobs/<platform>-<user>-*`, jobs tagged with both names, and the platform's user-image repository for
  `image build`;
- a job role (the execution role the user's jobs run with), confined to the same prefix. SageMaker copies a
  job's inputs with the role it is given, so a shared job role would let a user name another user's prefix as
  an input; only this user's profile role may pass this one;
- a job config parameter `/<platform>/job-config/<profile role name>` naming that job role, prefix and user.
  The client in an RSession finds it from its own role (sts:GetCallerIdentity), so nothing is set up by hand.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.jobs.access import SAGEMAKER_SERVICE, JobAccess, JobPlatform, JobScope
from stacks.users import RStudioUser


class UserAccess(Construct):
    """Exposes `profile_role`, `job_role`, `job_config`, `policy` and `access` (the user's JobAccess)."""

    def __init__(self, scope: Construct, construct_id: str, *, platform: JobPlatform, user: RStudioUser) -> None:
        super().__init__(scope, construct_id)
        self.profile_role = iam.Role(
            self,
            "ProfileRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_SERVICE),
            description=f"{platform.name}: {user.name}'s RSessions; their own jobs and S3 prefix only",
        )
        # The id "Default" is left out of logical IDs by CDK: the job role, config and policy keep theirs.
        self.access = JobAccess(
            self,
            "Default",
            platform=platform,
            job_scope=JobScope.for_user(platform.name, user.name),
            config_parameter_name=f"/{platform.name}/job-config/{self.profile_role.role_name}",
        )
        self.access.policy.attach_to_role(self.profile_role)
        self.job_role = self.access.job_role
        self.job_config = self.access.job_config
        self.policy = self.access.policy
