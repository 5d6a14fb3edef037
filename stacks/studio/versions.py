"""What AWS publishes about Posit Workbench (RStudio) on SageMaker, in one place, each fact with its source.

Nothing here was checked against a live AWS account; a correction is one line. Sources (as read in December 2026):

- A26: AWS developer guide, "RStudio Versioning", https://docs.aws.amazon.com/sagemaker/latest/dg/rstudio-version.html
  (late-2026 revision, "Starting September 30, 2026"): the versions, their SageMaker image names, which one new
  domains get, the deprecation dates and the region -> image-owner account table.
- A25: the same page's 2025 revision ("Starting October 31, 2025"; copy at
  https://docs.amazonaws.cn/sagemaker/latest/dg/rstudio-version.md): the same account table, the 2024.04 dates.
- A26U: https://docs.aws.amazon.com/sagemaker/latest/dg/rstudio-version-upgrade.html: how to pin and upgrade
  (DefaultResourceSpec.SageMakerImageArn with InstanceType "system", via update-domain).

Caveat from the project's fact sheet: no Posit source confirms a 2026.08.2 release (Posit's repositories seen end at
2026.07.1 and 2026.08.1). A26 is the one source for it; re-check the live page before relying on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

A26 = "https://docs.aws.amazon.com/sagemaker/latest/dg/rstudio-version.html (late 2026)"
A25 = "https://docs.amazonaws.cn/sagemaker/latest/dg/rstudio-version.md (2025 revision)"


@dataclass(frozen=True)
class WorkbenchRelease:
    """One Posit Workbench version AWS offers (or offered) for the RStudioServerPro app."""

    version: str
    image_name: str | None  # the SageMaker image of the RStudioServerPro app; None: AWS lists none any more
    supported_until: date | None  # AWS's deprecation date (last day of support); None: already unsupported
    source: str

    @property
    def deb_version(self) -> str:
        """The version as it appears in Posit's .deb file names (`+` becomes `-`)."""
        return self.version.replace("+", "-")

    def supported_on(self, day: date) -> bool:
        return self.image_name is not None and self.supported_until is not None and day <= self.supported_until


RELEASES: dict[str, WorkbenchRelease] = {
    release.version: release
    for release in (
        # "Latest": the default for domains created after 2026-09-30; deprecation 2028-01-31 (A26).
        WorkbenchRelease("2026.08.2+200.pro1", "rstudio-workbench-2026.08-sagemaker-1.0", date(2028, 1, 31), A26),
        # "Previous": creatable "until December 5, 2026 by explicitly pinning the version" (A26). A26 names image
        # ...-sagemaker-1.1; A25 named ...-sagemaker-1.0.
        WorkbenchRelease("2025.05.1+513.pro3", "rstudio-workbench-2025.05-sagemaker-1.1", date(2026, 12, 5), A26),
        # Deprecation 2026-04-30 (A25); "deprecated and no longer supported" (A26).
        WorkbenchRelease("2024.04.2+764.pro1", "rstudio-workbench-2024.04", date(2026, 4, 30), A25),
        # "deprecated, no longer supported" (A25, A26); no image listed.
        WorkbenchRelease("2023.03.2-547.pro5", None, None, A26),
        WorkbenchRelease("2022.02.2-485.pro2", None, None, A26),
    )
}

# The newest version AWS lists as supported (A26).
DEFAULT_WORKBENCH_VERSION = "2026.08.2+200.pro1"

# Region -> the AWS account that owns the RStudioServerPro images there (A26; the same IDs in A25). No other
# region is listed.
IMAGE_ACCOUNTS: dict[str, str] = {
    "us-east-1": "081325390199",
    "us-east-2": "429704687514",
    "us-west-1": "742091327244",
    "us-west-2": "236514542706",
    "af-south-1": "559312083959",
    "ap-east-1": "493642496378",
    "ap-south-1": "394103062818",
    "ap-northeast-2": "806072073708",
    "ap-southeast-1": "492261229750",
    "ap-southeast-2": "452832661640",
    "ap-northeast-1": "102112518831",
    "ca-central-1": "310906938811",
    "eu-central-1": "936697816551",
    "eu-west-1": "470317259841",
    "eu-west-2": "712779665605",
    "eu-west-3": "615547856133",
    "eu-north-1": "243637512696",
    "eu-south-1": "592751261982",
    "sa-east-1": "782484402741",
}

# The RStudioServerPro app's instance: "system" is translated to ml.t3.medium, free of charge (A26U, A26I).
SERVER_INSTANCE_TYPE = "system"


class VersionRefused(ValueError):
    """A Workbench version or region the platform cannot use; the message is what follows 'allowed: '."""


def today() -> date:
    """The day at synth, in UTC (a seam for tests)."""
    return datetime.now(timezone.utc).date()


def supported_versions(day: date) -> list[str]:
    return [v for v, release in RELEASES.items() if release.supported_on(day)]


def check_version(version: str, day: date) -> WorkbenchRelease:
    """The release for `version`, or VersionRefused saying which versions AWS supports on `day`."""
    supported = ", ".join(supported_versions(day)) or "none (update stacks/studio/versions.py from the AWS page)"
    release = RELEASES.get(version)
    if release is None:
        raise VersionRefused(
            f"a version AWS lists for RStudio on SageMaker and still supports: {supported} (a newer one goes "
            "into stacks/studio/versions.py with its image name and source)"
        )
    if not release.supported_on(day):
        if release.supported_until is None:
            why = f"AWS lists {version} as no longer supported"
        else:
            why = f"AWS deprecated {version} on {release.supported_until.isoformat()}"
        raise VersionRefused(f"a version AWS still supports: {supported} ({why})")
    return release


def image_account(region: str) -> str:
    """The account owning the RStudioServerPro images in `region`, or VersionRefused."""
    account = IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise VersionRefused(f"one of the regions AWS lists an RStudio image account for: {', '.join(IMAGE_ACCOUNTS)}")
    return account
