"""HTTPS access to the private host without owning a domain: CloudFront with a VPC origin, viewers limited
to the allowed networks by a CloudFront Function."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ec2 as ec2
from aws_cdk import custom_resources as cr
from constructs import Construct

ALLOWLIST_SOURCE = Path(__file__).with_name("viewer_allowlist.js")
RSTUDIO_PORT = 8787
# CloudFront's longest origin timeouts without a quota increase; RStudio long-polls for events.
ORIGIN_TIMEOUT = cdk.Duration.seconds(60)
# Created by CloudFront in the VPC when the first VPC origin is; CloudFormation does not return its ID.
VPC_ORIGIN_SERVICE_GROUP = "CloudFront-VPCOrigins-Service-SG"
# Two years, the value the HSTS preload list asks for.
HSTS_MAX_AGE = cdk.Duration.days(730)
# CloudFront Functions hold at most 10 KB of code.
MAX_FUNCTION_BYTES = 10_240


def _network_entry(cidr: str) -> dict[str, object]:
    network = ipaddress.ip_network(cidr, strict=True)
    raw = network.network_address.packed
    words = [raw[i] * 256 + raw[i + 1] for i in range(0, len(raw), 2)]
    return {"v": network.version, "b": network.prefixlen, "w": words + [0] * (8 - len(words))}


def allowlist_code(allowed_cidrs: Sequence[str]) -> str:
    """The viewer-request function with the allowed networks and the message for everyone else."""
    if allowed_cidrs:
        message = (
            "Forbidden: your address {ip} is not in this RStudio workspace's allowed networks. "
            "Ask the platform admin to add it to rstudio_allowed_cidrs and redeploy."
        )
    else:
        message = (
            "Forbidden: this RStudio workspace admits no network yet. The platform admin sets "
            "rstudio_allowed_cidrs (in cdk.json, or cdk deploy -c rstudio_allowed_cidrs=203.0.113.0/24) "
            "and redeploys. Your address is {ip}."
        )
    entries = json.dumps([_network_entry(c) for c in allowed_cidrs], separators=(",", ":"))
    # A comment naming the networks keeps the template readable and lets a reviewer grep for a CIDR.
    listing = "// Allowed networks: " + (", ".join(allowed_cidrs) or "none") + "\n"
    code = listing + (
        ALLOWLIST_SOURCE.read_text().replace("__ALLOWED__", entries).replace("__DENIED_MESSAGE__", json.dumps(message))
    )
    if len(code.encode()) > MAX_FUNCTION_BYTES:
        raise ValueError(
            f"{len(allowed_cidrs)} allowed CIDRs make the CloudFront Function larger than 10 KB; "
            "use fewer, wider networks"
        )
    return code


class CloudFrontAccess(Construct):
    """Exposes `distribution` and `url`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance: ec2.Instance,
        host_security_group: ec2.ISecurityGroup,
        vpc: ec2.IVpc,
        allowed_cidrs: Sequence[str],
        domain_name: str = "",
        certificate_arn: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        # Browser-side hardening on every response. No Content-Security-Policy: RStudio's IDE builds its UI
        # from inline scripts and frames of its own origin, which a useful CSP would break.
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="RStudio: HSTS, no MIME sniffing, same-origin frames, no referrer to other sites",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=False, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.SAMEORIGIN, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
            ),
        )
        # The default *.cloudfront.net certificate accepts TLS 1.0 clients and its policy cannot be changed;
        # with the admin's own domain and ACM certificate, viewers need TLS 1.2 or later.
        custom_domain: dict[str, object] = {}
        if domain_name:
            custom_domain = {
                "domain_names": [domain_name],
                "certificate": acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn),
                "minimum_protocol_version": cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            }
        allowlist = cloudfront.Function(
            self,
            "ViewerAllowList",
            code=cloudfront.FunctionCode.from_inline(allowlist_code(allowed_cidrs)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Admits only viewers from rstudio_allowed_cidrs",
        )
        origin = origins.VpcOrigin.with_ec2_instance(
            instance,
            http_port=RSTUDIO_PORT,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTP_ONLY,
            read_timeout=ORIGIN_TIMEOUT,
            keepalive_timeout=ORIGIN_TIMEOUT,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"RStudio Server ({cdk.Stack.of(self).stack_name})",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                # An IDE session: nothing may be cached, and RStudio needs every header (WebSocket upgrade,
                # its CSRF token), cookie and query string.
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER,
                compress=False,
                response_headers_policy=headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=allowlist,
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                    )
                ],
            ),
            **custom_domain,  # type: ignore[arg-type]
        )
        self.url = f"https://{domain_name or self.distribution.distribution_domain_name}"
        self._admit_vpc_origin(vpc, host_security_group)

    def _admit_vpc_origin(self, vpc: ec2.IVpc, host_security_group: ec2.ISecurityGroup) -> None:
        """Open the RStudio port to CloudFront's VPC-origin security group only. Its ID exists once the VPC
        origin does, so a lookup after the distribution supplies it to a separate ingress rule."""
        call = cr.AwsSdkCall(
            service="ec2",
            action="describeSecurityGroups",
            parameters={
                "Filters": [
                    {"Name": "vpc-id", "Values": [vpc.vpc_id]},
                    {"Name": "group-name", "Values": [VPC_ORIGIN_SERVICE_GROUP]},
                ]
            },
            physical_resource_id=cr.PhysicalResourceId.from_response("SecurityGroups.0.GroupId"),
            output_paths=["SecurityGroups.0.GroupId"],
        )
        lookup = cr.AwsCustomResource(
            self,
            "VpcOriginSecurityGroup",
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE),
            install_latest_aws_sdk=False,
        )
        lookup.node.add_dependency(self.distribution)
        self.origin_group_lookup = lookup
        ec2.CfnSecurityGroupIngress(
            self,
            "FromVpcOrigin",
            group_id=host_security_group.security_group_id,
            ip_protocol="tcp",
            from_port=RSTUDIO_PORT,
            to_port=RSTUDIO_PORT,
            source_security_group_id=lookup.get_response_field("SecurityGroups.0.GroupId"),
            description="RStudio from the CloudFront VPC origin only",
        )
