"""The RSession image: Posit's session image with the Workbench session components of the domain's version and the
job client preinstalled (image/Dockerfile), built by `cdk deploy` as a CDK image asset and attached to the domain
as a SageMaker image (Image, ImageVersion, AppImageConfig) that RSessions start from by default."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.workspace import posit

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "stacks/studio/image/Dockerfile"


def sdk_requirement() -> str:
    """requirements.txt's `sagemaker==...` line: RSessions get the SDK version the client's tests ran against
    (the EC2 host's bootstrap reads the same line)."""
    lines = (REPOSITORY_ROOT / "requirements.txt").read_text().splitlines()
    (line,) = [line.strip() for line in lines if line.startswith("sagemaker==")]
    return line


def build_args(
    *, platform_name: str, workbench_version: str, idle_minutes: int, connect_url: str, package_manager_url: str
) -> dict[str, str]:
    """The Dockerfile's build args from the settings; the tests build the image with these plus stand-ins."""
    args = {
        "SIMLAB_PLATFORM": platform_name,
        "RSW_VERSION": workbench_version,
        # The .deb of RSW_VERSION is installed only if Posit's signature verifies against this key (the Dockerfile
        # runs stacks/workspace/verify-deb.sh, as the EC2 host does for RStudio Server).
        "POSIT_KEY_URL": posit.KEY_URL,
        "POSIT_KEY_FINGERPRINT": posit.SIGNING_KEY_FINGERPRINT,
        "RSESSION_TIMEOUT_MINUTES": str(idle_minutes),
        "RSTUDIO_CONNECT_URL": connect_url,
        # AWS's list asks for the SDK with its [local] extra.
        "SAGEMAKER_REQUIREMENT": sdk_requirement().replace("sagemaker==", "sagemaker[local]==", 1),
    }
    if package_manager_url:
        args["RSTUDIO_PACKAGE_MANAGER_URL"] = package_manager_url
    return args


class RSessionImage(Construct):
    """Exposes `asset`, `image` (AWS::SageMaker::Image), `version`, `app_image_config` and `custom_image`
    (the RSessionAppSettings.CustomImages entry)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform_name: str,
        workbench_version: str,
        idle_minutes: int,
        connect_url: str,
        package_manager_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.build_args = build_args(
            platform_name=platform_name,
            workbench_version=workbench_version,
            idle_minutes=idle_minutes,
            connect_url=connect_url,
            package_manager_url=package_manager_url,
        )
        self.asset = ecr_assets.DockerImageAsset(
            self,
            "Asset",
            directory=str(REPOSITORY_ROOT),
            file=DOCKERFILE,
            platform=ecr_assets.Platform.LINUX_AMD64,
            build_args=self.build_args,
            exclude=[".venv", "node_modules", "cdk.out", ".git", "out"],
        )
        # SageMaker reads the image from ECR with this role when a version is created.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{platform_name}: lets SageMaker read the RSession image from ECR",
        )
        self.asset.repository.grant_pull(self.role)
        self.image = sagemaker.CfnImage(
            self,
            "Image",
            image_name=f"{platform_name}-rsession",
            image_role_arn=self.role.role_arn,
            image_display_name=f"{platform_name} R session",
            image_description="Posit session image with Workbench session components and the job client",
        )
        self.image.node.add_dependency(self.role)
        self.version = sagemaker.CfnImageVersion(
            self, "Version", image_name=self.image.image_name, base_image=self.asset.image_uri
        )
        self.version.node.add_dependency(self.image)
        self.app_image_config = sagemaker.CfnAppImageConfig(
            self, "AppImageConfig", app_image_config_name=f"{platform_name}-rsession"
        )
        self.custom_image = sagemaker.CfnDomain.CustomImageProperty(
            app_image_config_name=self.app_image_config.app_image_config_name,
            image_name=self.image.image_name,
        )
