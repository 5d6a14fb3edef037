"""Which interface endpoints each mode needs (names only, no CDK: `cost --platform` reads this too).

Who calls AWS from inside the VPC, per mode:
- Jobs: nobody. Processing jobs run with network isolation, so their containers make no calls at all; SageMaker
  pulls the job image from ECR itself ("You don't need to specify the subnet for the processing container.
  Amazon SageMaker AI automatically pulls the processing container from Amazon ECR", SageMaker developer guide,
  "Give SageMaker AI Processing Jobs Access to Resources in Your Amazon VPC", process-vpc.html) and only the S3
  download and upload of the job's data is "routed through your VPC subnet" ("Run Training and Inference
  Containers in Internet-Free Mode", section "Network isolation with a VPC"). Jobs need the S3 gateway alone.
- The client, wherever users run it inside the VPC (the RStudio host, RSessions): SageMaker API, STS, SSM (the
  job config), CloudWatch Logs (job logs), ECR api + dkr (`image build`), plus S3 (simulation/client/).
- The ec2 host besides: Secrets Manager (each login password at boot), and Session Manager's SSM messages and
  EC2 messages channels.
- The SageMaker domain besides: License Manager and the SageMaker runtime, which the studio stack creates next
  to the domain (stacks/studio/network.py) with these same subnets and policies.
So rstudio_mode=none creates no interface endpoint, ec2 the nine it always had, sagemaker six here plus two.
"""

from __future__ import annotations

CLIENT = ("SageMakerApi", "Sts", "Logs", "EcrApi", "EcrDocker", "Ssm")
NETWORK_SERVICES: dict[str, tuple[str, ...]] = {
    "none": (),
    "ec2": (*CLIENT, "SecretsManager", "SsmMessages", "Ec2Messages"),
    "sagemaker": CLIENT,
}
STUDIO_SERVICES = ("LicenseManager", "SageMakerRuntime")


def required_services(mode: str) -> tuple[str, ...]:
    """Every interface endpoint `mode` needs, the studio's included: what interface_endpoints=none must find."""
    return NETWORK_SERVICES[mode] + (STUDIO_SERVICES if mode == "sagemaker" else ())


def created_services(mode: str, interface_endpoints: str) -> tuple[str, ...]:
    """The interface endpoints the platform creates (network and studio stacks) for these settings."""
    return required_services(mode) if interface_endpoints == "all" else ()
