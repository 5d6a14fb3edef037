"""Deployment unit for RStudio on a SageMaker Domain (Posit Workbench): licence check, network pieces, per-user
access, the RSession image, the domain and its profiles, teardown and idle reaper, and the outputs admins use."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.data.construct import Data
from stacks.governance import PLATFORM_TAG
from stacks.jobs.construct import Jobs
from stacks.network.construct import Network
from stacks.settings import Settings
from stacks.studio import versions
from stacks.studio.access import UserAccess
from stacks.studio.domain import DomainOptions, RStudioDomain
from stacks.studio.handlers.teardown import nfs_group_names
from stacks.studio.image import RSessionImage
from stacks.studio.lifecycle import DomainTeardown, IdleReaper, LicencePreflight, RelaunchWatchdog
from stacks.studio.network import DomainNetwork
from stacks.studio.pin import WorkbenchPin
from stacks.studio.quiesce import DomainQuiesce, domain_digest


class RStudioSageMakerStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: Network,
        data: Data,
        jobs: Jobs,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"{settings.platform_name}: RStudio on a SageMaker Domain (Posit Workbench)",
            **kwargs,
        )
        users = settings.users
        # Settings have refused a version AWS no longer supports.
        release = versions.check_version(settings.rstudio_workbench_version, versions.today())
        self.licence = LicencePreflight(self, "Licence", product_name=settings.rstudio_license_product)
        self.network = DomainNetwork(self, "Network", network=network)
        self.access = {
            user.name: UserAccess(self, f"User{user.name}", platform=jobs.platform, user=user) for user in users
        }
        self.image = RSessionImage(
            self,
            "SessionImage",
            platform_name=settings.platform_name,
            workbench_version=release.version,
            idle_minutes=settings.rstudio_idle_stop_minutes,
            connect_url=settings.rstudio_connect_url,
            package_manager_url=settings.rstudio_package_manager_url,
        )
        self.studio = RStudioDomain(
            self,
            "Studio",
            options=DomainOptions(
                platform_name=settings.platform_name,
                auth=settings.rstudio_auth,
                session_instance_type=settings.rstudio_session_instance_type,
            ),
            network=self.network,
            vpc_id=network.vpc.vpc_id,
            image=self.image,
            users=users,
            access=self.access,
        )
        domain = self.studio.domain
        domain.node.add_dependency(self.licence.resource, *self.network.endpoints.values())
        domain_id = domain.attr_domain_id
        digest = domain_digest(domain, {PLATFORM_TAG: settings.platform_name, **settings.tag_map})
        self.pin = WorkbenchPin(
            self,
            "Workbench",
            release=release,
            domain=domain,
            execution_role=self.studio.execution_role,
            default_role=self.studio.default_role,
            relaunch_guard=self.studio.relaunch_guard,
            connect_url=settings.rstudio_connect_url,
            package_manager_url=settings.rstudio_package_manager_url,
            default_user_settings=self.studio.default_user_settings,
            domain_digest=digest,
        )
        # Before the domain: any change to the domain resource itself first takes the RStudio apps down (SageMaker
        # refuses CloudFormation's UpdateDomain while they run); the pin, after the domain, brings them back.
        self.quiesce = DomainQuiesce(
            self,
            "Quiesce",
            domain=domain,
            digest=digest,
            execution_role=self.studio.execution_role,
            relaunch_guard=self.studio.relaunch_guard,
            pin_role=self.pin.on_event.role,
        )
        # After the image version it builds for: RSessions relaunched by an upgrade start from the new image.
        self.pin.resource.node.add_dependency(domain, self.image.version)
        self.teardown = DomainTeardown(
            self,
            "Teardown",
            domain_id=domain_id,
            home_file_system_id=domain.attr_home_efs_file_system_id,
            delete_data=settings.delete_data_on_destroy,
            vpc_arn=network.vpc.vpc_arn,
            execution_role=self.studio.execution_role,
            relaunch_guard=self.studio.relaunch_guard,
        )
        # Depending on the domain and every profile makes CloudFormation delete the teardown before them. The pin
        # comes after the teardown (its own delete does nothing): a first deploy whose pin fails rolls back through
        # the teardown, which empties the new domain; without it CloudFormation could not delete a domain whose
        # server app runs.
        self.teardown.resource.node.add_dependency(domain, *self.studio.profiles.values())
        self.pin.resource.node.add_dependency(self.teardown.resource)
        self.watchdog = RelaunchWatchdog(
            self,
            "Watchdog",
            domain_id=domain_id,
            execution_role=self.studio.execution_role,
            relaunch_guard=self.studio.relaunch_guard,
        )
        self.reaper: IdleReaper | None = None
        if settings.rstudio_idle_stop_minutes > 0:
            self.reaper = IdleReaper(
                self, "IdleReaper", domain_id=domain_id, minutes=settings.rstudio_idle_stop_minutes
            )
        self._outputs(settings, domain_id)

    def _outputs(self, settings: Settings, domain_id: str) -> None:
        region = cdk.Aws.REGION
        cdk.CfnOutput(self, "DomainId", value=domain_id, description="The SageMaker Domain running RStudio")
        cdk.CfnOutput(self, "DomainConsoleUrl", value=self.studio.console_url, description="The domain in the console")
        for user in settings.users:
            if settings.rstudio_auth == "iam":
                value = (
                    f"aws sagemaker create-presigned-domain-url --region {region} --domain-id {domain_id} "
                    f"--user-profile-name {user.name} --landing-uri app:RStudioServerPro: "
                    "--query AuthorizedUrl --output text"
                )
                description = f"Prints a one-time RStudio login URL for {user.name} (valid 5 minutes)"
            else:
                value = f"Sign in to the IAM Identity Center access portal as {user.name}, then open RStudio"
                description = f"How {user.name} reaches RStudio"
            cdk.CfnOutput(self, f"LoginUrlCommand{user.name}", value=value, description=description)
        home = self.studio.domain.attr_home_efs_file_system_id
        if settings.delete_data_on_destroy:
            cdk.CfnOutput(self, "HomeFileSystem", value=home, description="Users' homes; deleted on cdk destroy")
        else:
            inbound, outbound = nfs_group_names(domain_id)
            cdk.CfnOutput(
                self,
                "KeptOnDestroy",
                value=f"EFS {home}; security groups {inbound}, {outbound}",
                description="Kept by cdk destroy (delete_data_on_destroy=false): the users' homes and their NFS groups",
            )
