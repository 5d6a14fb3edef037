"""Custom resource that stops a deploy before the SageMaker Domain when no Posit Workbench licence is usable.

RStudio on SageMaker needs a Posit licence granted to the account through AWS License Manager and accepted
there; without one the domain's creation fails late and obscurely. On Create and Update this handler lists the
licences received in the stack's region and requires one whose ProductName is ResourceProperties
`ProductName` (default RSW-SageMaker) with Status AVAILABLE and ReceivedMetadata.ReceivedStatus ACTIVE.
Otherwise it raises one message saying what is missing and what to do; CloudFormation shows it as the
failure reason. Delete does nothing. Plain boto3, no other dependency.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

DEFAULT_PRODUCT = "RSW-SageMaker"
# AWS, "RStudio license" (rstudio-license.html): two ways to a licence, both ending in License Manager.
HOW_TO_GET = (
    "RStudio on SageMaker needs a Posit Workbench licence, either from Posit directly (sales@posit.co; Posit grants "
    "it to this account through AWS License Manager, within about three business days) or by subscribing to Posit "
    "Workbench on AWS Marketplace (the subscription creates the licence in License Manager)"
)


class LicenceMissing(RuntimeError):
    """No usable licence; the message is what the admin sees in CloudFormation."""


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(event, boto3.client("license-manager"))


def handle_event(event: dict[str, Any], license_manager: Any) -> dict[str, Any]:
    product = str(event["ResourceProperties"].get("ProductName") or DEFAULT_PRODUCT)
    physical_id = f"licence-preflight-{product}"
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}
    licence = check_licence(received_licences(license_manager), product, license_manager.meta.region_name)
    LOG.info("licence %s for %s is usable", licence.get("LicenseArn"), product)
    return {"PhysicalResourceId": physical_id, "Data": {"LicenseArn": str(licence.get("LicenseArn", ""))}}


def received_licences(license_manager: Any) -> list[dict[str, Any]]:
    licences: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = license_manager.list_received_licenses(**kwargs)
        licences += page.get("Licenses", [])
        token = page.get("NextToken")
        if not token:
            return licences
        kwargs["NextToken"] = token


def check_licence(licences: list[dict[str, Any]], product: str, region: str) -> dict[str, Any]:
    """The usable licence for `product`, or LicenceMissing saying why none is (granted, accepted, enabled)."""
    candidates = [lic for lic in licences if lic.get("ProductName") == product]
    for licence in candidates:
        if licence.get("Status") == "AVAILABLE" and _received(licence) == "ACTIVE":
            return licence
    if not candidates:
        raise LicenceMissing(
            f"no '{product}' licence has been granted to this account in {region}. {HOW_TO_GET}; then accept "
            "and activate the grant in the License Manager console (Granted licenses) of this region"
        )
    states = ", ".join(
        f"{lic.get('LicenseArn', '?')}: status {lic.get('Status')}, grant {_received(lic)}" for lic in candidates
    )
    if any(_received(lic) in ("PENDING_ACCEPT", "PENDING_WORKFLOW") for lic in candidates):
        raise LicenceMissing(
            f"the '{product}' licence in {region} has been granted but not yet accepted ({states}): accept "
            "and activate it in the License Manager console, Granted licenses, then deploy again"
        )
    raise LicenceMissing(
        f"the '{product}' licence in {region} is disabled or not available ({states}): activate the grant "
        f"in the License Manager console, Granted licenses, or ask Posit to renew it. {HOW_TO_GET}"
    )


def _received(licence: dict[str, Any]) -> str:
    return str(licence.get("ReceivedMetadata", {}).get("ReceivedStatus", "UNKNOWN"))
