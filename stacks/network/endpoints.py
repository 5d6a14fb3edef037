"""The interface endpoints the platform creates (which ones each mode needs: services.py), and the policies on every
endpoint: interface endpoints open to this account's principals only, the S3 gateway to the platform's buckets."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import IConstruct

SERVICES: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "Ec2Messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    "LicenseManager": ec2.InterfaceVpcEndpointAwsService.LICENSE_MANAGER,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
}
# How each service's endpoint is named (com.amazonaws.<region>.<short name>): what the deploy-time DNS check
# resolves and the docs list for the network team.
SHORT_NAMES = {name: service.short_name for name, service in SERVICES.items()}

# ECR keeps image layers in this AWS-owned bucket per region: pulls through a VPC endpoint need it in the S3
# gateway's policy (Amazon ECR user guide, "Amazon ECR interface VPC endpoints (AWS PrivateLink)", section
# "Minimum Amazon S3 bucket permissions for Amazon ECR": arn:aws:s3:::prod-region-starport-layer-bucket/*).
ECR_LAYER_BUCKET = "prod-${AWS::Region}-starport-layer-bucket"
# CDK's bootstrap bucket; the qualifier is `cdk bootstrap --qualifier`, told to the app by this context key.
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"


def account_only(endpoint: ec2.InterfaceVpcEndpoint) -> None:
    """Only this account's principals may use the endpoint: credentials from another account that reach the VPC
    (a compromised package, a stolen key) cannot carry data out through it."""
    endpoint.add_to_policy(
        iam.PolicyStatement(
            sid="ThisAccountOnly",
            principals=[iam.AnyPrincipal()],
            actions=["*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:PrincipalAccount": cdk.Stack.of(endpoint).account}},
        )
    )


def assets_bucket_name(scope: IConstruct) -> str:
    qualifier = scope.node.try_get_context(QUALIFIER_CONTEXT) or cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
    template = cdk.DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace("${Qualifier}", qualifier)
    return cdk.Fn.sub(template)


def s3_gateway_statements(scope: IConstruct, platform_bucket_arn: str) -> list[iam.PolicyStatement]:
    """S3 through the gateway reaches three buckets: the platform's (jobs' data, users' code and results), CDK's
    assets bucket (what a deploy hands to the RStudio host) and the region's ECR layer bucket (image pulls)."""
    partition = cdk.Aws.PARTITION
    assets = f"arn:{partition}:s3:::{assets_bucket_name(scope)}"
    layers = f"arn:{partition}:s3:::{cdk.Fn.sub(ECR_LAYER_BUCKET)}"
    anyone = [iam.AnyPrincipal()]
    return [
        iam.PolicyStatement(
            sid="PlatformBucket",
            principals=anyone,
            actions=["s3:*"],
            resources=[platform_bucket_arn, f"{platform_bucket_arn}/*"],
        ),
        iam.PolicyStatement(
            sid="CdkAssets",
            principals=anyone,
            actions=["s3:GetObject", "s3:GetBucketLocation", "s3:ListBucket"],
            resources=[assets, f"{assets}/*"],
        ),
        iam.PolicyStatement(sid="EcrLayers", principals=anyone, actions=["s3:GetObject"], resources=[f"{layers}/*"]),
    ]


# The hostnames the SDKs call by default, which an endpoint's private DNS (or the landing zone's private hosted
# zone) must answer with private addresses: AWS PrivateLink guide, "AWS services that integrate with AWS
# PrivateLink" (each service's private DNS name; ECR's registry is <account>.dkr.ecr.<region>.amazonaws.com).
HOSTNAMES = {
    "SageMakerApi": "api.sagemaker.${AWS::Region}.${AWS::URLSuffix}",
    "SageMakerRuntime": "runtime.sagemaker.${AWS::Region}.${AWS::URLSuffix}",
    "EcrApi": "api.ecr.${AWS::Region}.${AWS::URLSuffix}",
    "EcrDocker": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}",
}


def hostname(name: str) -> str:
    """The default hostname of one service of SERVICES, as a CloudFormation string."""
    return cdk.Fn.sub(HOSTNAMES.get(name, f"{SHORT_NAMES[name]}.${{AWS::Region}}.${{AWS::URLSuffix}}"))
