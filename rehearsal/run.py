"""One rehearsal: synthesize with the pinned CDK CLI, bootstrap and deploy every stack into a fresh moto server,
prove the job config names real resources and works with the project's client, destroy, and list what is left.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from rehearsal import landing, patches, studio
from rehearsal.emulator import ACCOUNT, REGION, Emulator, moto_server
from rehearsal.leftovers import classify, leftovers, unexpected
from rehearsal.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
PLATFORM = "rehearsal"
AMI_PARAMETER = "/rehearsal/ubuntu-ami"
CLI_TIMEOUT_SECONDS = 300
# Settings each mode is rehearsed with; every other key keeps its default. `ssm` access: moto has no
# CloudFront, and the VPC-origin lookup is a Custom::AWS Lambda that moto would run in Docker.
MODES: dict[str, dict[str, str]] = {
    "ec2": {"rstudio_mode": "ec2", "rstudio_access": "ssm", "rstudio_ami_parameter": AMI_PARAMETER},
    "none": {"rstudio_mode": "none"},
    # What moto cannot create is dropped from the copy (rehearsal/studio.py); the per-user access deploys.
    "sagemaker": {"rstudio_mode": "sagemaker", "rstudio_users": "alice:admin,bob"},
    # The ec2 workspace in a landing zone's VPC (rehearsal/landing.py adds its IDs, a boundary, a role path, cost
    # tags, interface_endpoints=none and a non-default bootstrap qualifier once the landing zone stands).
    "landing": {"rstudio_mode": "ec2", "rstudio_access": "ssm", "rstudio_ami_parameter": AMI_PARAMETER},
}
STUDIO_USERS = ["alice", "bob"]
STACKS = {"ec2": 4, "none": 3, "sagemaker": 4, "landing": 4}
# Modes synthesized only inside their emulator, once what they are given exists there.
SYNTH_IN_EMULATOR = ("landing",)


class RehearsalFailed(Exception):
    """A step whose result a real deploy would not accept."""


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Report:
    mode: str
    workdir: Path
    steps: list[Step] = field(default_factory=list)
    left: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)


def _cdk(args: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> subprocess.CompletedProcess[str]:
    command = [str(CDK), *args, "--no-notices", "--no-color"]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS)
    with log.open("a") as out:
        out.write(f"$ cdk {' '.join(args)}\n{result.stdout}{result.stderr}\nexit {result.returncode}\n\n")
    return result


def _require(result: subprocess.CompletedProcess[str], what: str, log: Path) -> None:
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RehearsalFailed(f"{what} exited {result.returncode}: {' | '.join(tail)} (full output: {log})")


def _seed_ami(emulator: Emulator) -> str:
    """Canonical's public AMI parameter does not exist in moto: publish one of moto's own images under a name
    of ours and pass it as rstudio_ami_parameter."""
    image = emulator.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    emulator.client("ssm").put_parameter(Name=AMI_PARAMETER, Value=image, Type="String")
    return str(image)


def _stacks(emulator: Emulator) -> dict[str, dict[str, Any]]:
    found = emulator.client("cloudformation").describe_stacks()["Stacks"]
    return {s["StackName"]: s for s in found if s["StackName"].startswith(f"{PLATFORM}-")}


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def check_job_config(emulator: Emulator, stacks: dict[str, dict[str, Any]]) -> list[str]:
    """Every ID in /<platform>/job-config names a resource the emulator holds, and matches the stack outputs
    it was assembled from across stacks. Returns one line per check."""
    from simulation.client.config import parse_config

    text = emulator.client("ssm").get_parameter(Name=f"/{PLATFORM}/job-config")["Parameter"]["Value"]
    config = parse_config(PLATFORM, text)
    ec2, ecr, iam, s3 = (emulator.client(s) for s in ("ec2", "ecr", "iam", "s3"))
    done = []

    def check(what: str, ok: bool) -> None:
        if not ok:
            raise RehearsalFailed(f"job config: {what}")
        done.append(what)

    def found(what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ClientError as error:
            raise RehearsalFailed(f"job config: {what} not found ({error.response['Error']['Code']})") from None

    repository, _, tag = config.image_uri.split("/", 1)[1].partition(":")
    image = f"image {repository}:{tag}"
    images = found(image, lambda: ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}]))
    check(f"image {repository}:{tag[:12]}... in ECR", len(images["imageDetails"]) == 1)
    role = config.execution_role_arn.rsplit("/", 1)[1]
    trust = found(f"role {role}", lambda: iam.get_role(RoleName=role))["Role"]["AssumeRolePolicyDocument"]
    check(f"execution role {role} trusts SageMaker", "sagemaker.amazonaws.com" in json.dumps(trust))
    found(f"bucket {config.bucket}", lambda: s3.head_bucket(Bucket=config.bucket))
    check(f"bucket {config.bucket}", True)
    subnets = found("subnets", lambda: ec2.describe_subnets(SubnetIds=list(config.subnet_ids)))["Subnets"]
    groups = found("security groups", lambda: ec2.describe_security_groups(GroupIds=list(config.security_group_ids)))[
        "SecurityGroups"
    ]
    check(f"{len(subnets)} job subnets", len(subnets) == len(config.subnet_ids) >= 2)
    check("security group in the subnets' VPC", {g["VpcId"] for g in groups} == {s["VpcId"] for s in subnets})
    user_repo = (config.ecr_repository_uri or "").split("/", 1)[1]
    described = found(user_repo, lambda: ecr.describe_repositories(repositoryNames=[user_repo]))["repositories"][0]
    check(f"user image repository {user_repo}", described["imageTagMutability"] == "IMMUTABLE")
    network, data, jobs = (_outputs(stacks[f"{PLATFORM}-{name}"]) for name in ("network", "data", "jobs"))
    check("subnets = network stack output SubnetIds", ",".join(config.subnet_ids) == network["SubnetIds"])
    check("bucket = data stack output Bucket", config.bucket == data["Bucket"])
    check("role = jobs stack output ExecutionRoleArn", config.execution_role_arn == jobs["ExecutionRoleArn"])
    return done


def check_workspace(emulator: Emulator, stacks: dict[str, dict[str, Any]]) -> list[str]:
    outputs = _outputs(stacks[f"{PLATFORM}-workspace"])
    reservations = emulator.client("ec2").describe_instances(InstanceIds=[outputs["RStudioInstanceId"]])
    instance = reservations["Reservations"][0]["Instances"][0]
    # moto's CloudFormation ignores an instance's MetadataOptions (its instances answer the defaults): check what
    # CloudFormation was given, the deployed template's.
    body = emulator.client("cloudformation").get_template(StackName=f"{PLATFORM}-workspace")["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    (host,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::Instance"]
    options = host["Properties"].get("MetadataOptions", {})
    if options.get("HttpTokens") != "required" or options.get("HttpPutResponseHopLimit") != 1:
        raise RehearsalFailed(f"RStudio host's metadata options are not IMDSv2 with hop limit 1: {options}")
    if "IamInstanceProfile" not in instance:
        raise RehearsalFailed("RStudio host has no instance profile")
    file_systems = emulator.client("efs").describe_file_systems()["FileSystems"]
    if len(file_systems) != 1:
        raise RehearsalFailed(f"expected one EFS file system, found {len(file_systems)}")
    return [
        f"RStudio host {instance['InstanceId']} {instance['State']['Name']}, IMDSv2 required, hop limit 1, "
        "instance profile",
        "EFS home file system",
    ]


def submit_job(emulator: Emulator) -> str:
    """The project's CLI submits the bundled simulation with the deployed job config; SageMaker (moto) must
    hold a job that uses the config's image, role, subnets and security group."""
    from simulation.client.config import parse_config

    command = [sys.executable, "-m", "simulation", "submit", "--platform", PLATFORM, "--iterations", "1000", "--json"]
    result = subprocess.run(
        command, env=emulator.environment(), capture_output=True, text=True, timeout=120, cwd=emulator.home
    )
    if result.returncode != 0:
        raise RehearsalFailed(f"simulation submit exited {result.returncode}: {result.stderr.strip()[-300:]}")
    job = json.loads(result.stdout)["job"]
    text = emulator.client("ssm").get_parameter(Name=f"/{PLATFORM}/job-config")["Parameter"]["Value"]
    config = parse_config(PLATFORM, text)
    described = emulator.client("sagemaker").describe_processing_job(ProcessingJobName=job)
    network = described["NetworkConfig"]["VpcConfig"]
    if (
        described["AppSpecification"]["ImageUri"] != config.image_uri
        or described["RoleArn"] != config.execution_role_arn
        or sorted(network["Subnets"]) != sorted(config.subnet_ids)
        or network["SecurityGroupIds"] != list(config.security_group_ids)
        or described["NetworkConfig"].get("EnableNetworkIsolation") is not True
    ):
        raise RehearsalFailed(f"job {job} does not use the deployed config: {described}")
    return f"{job} {described['ProcessingJobStatus']}"


def rehearse_all(modes: list[str], root: Path, say: Callable[[str], None] = print) -> list[Report]:
    """Synthesize every mode (root/<mode>/cdk.out) in this process, then rehearse the modes side by side, each
    against its own moto server: their steps mostly wait on the CLI."""
    start = time.monotonic()
    contexts = {mode: {"platform_name": PLATFORM, **MODES[mode]} for mode in modes}
    try:
        synthesize({m: c for m, c in contexts.items() if m not in SYNTH_IN_EMULATOR}, root)
        synth = Step("synth", True, "", time.monotonic() - start)
    except Exception as error:  # a synth error is the rehearsal's finding: into the table, not a traceback
        synth = Step("synth", False, f"{type(error).__name__}: {error}", time.monotonic() - start)
    say(f"synth: {'ok' if synth.ok else 'FAILED - ' + synth.detail} ({synth.seconds:.1f} s)")

    def one(mode: str) -> Report:
        context = " ".join(f"{k}={v}" for k, v in contexts[mode].items())
        first = Step(synth.name, synth.ok, synth.detail or context, synth.seconds)
        if not synth.ok:
            return Report(mode, root / mode, [first])
        if mode in SYNTH_IN_EMULATOR:
            return rehearse(mode, root / mode, first=None, context=contexts[mode], say=say)
        return rehearse(mode, root / mode, first=first, say=say)

    with ThreadPoolExecutor(max_workers=len(modes)) as pool:
        return list(pool.map(one, modes))


def rehearse(
    mode: str,
    workdir: Path,
    *,
    first: Step | None,
    context: dict[str, str] | None = None,
    say: Callable[[str], None] = print,
) -> Report:
    """Every step after synth for one mode, whose assembly is workdir/cdk.out. A failing step ends the mode;
    destroy still runs once bootstrap has. Without `first`, the landing zone is made and `context` synthesized
    here first."""
    report = Report(mode, workdir, [first] if first else [])
    workdir.mkdir(parents=True, exist_ok=True)
    given: dict[str, str] = {}
    answer: dict[str, str] = {}
    log = workdir / "cdk.log"
    log.write_text("")
    synthesized = workdir / "cdk.out"
    deployed = workdir / "cdk.out.moto"
    with moto_server(workdir / "emulator") as emulator:
        env = emulator.environment()

        def step(name: str, action: Callable[[], str]) -> None:
            start = time.monotonic()
            try:
                detail, ok = action(), True
            except RehearsalFailed as error:
                detail, ok = str(error), False
            report.steps.append(Step(name, ok, detail, time.monotonic() - start))
            say(f"[{mode}] {name}: {'ok' if ok else 'FAILED'} - {detail}")
            if not ok:
                raise RehearsalFailed(detail)

        def landing_zone() -> str:
            given.update(landing.deploy_landing_zone(emulator))
            answer.update(landing.network_check(emulator, given))
            return f"stack {landing.LANDING_STACK}: {given['vpc_id']}; network check passed: {answer}"

        def synth() -> str:
            synthesize({mode: {**(context or {}), **given}}, workdir.parent)
            return " ".join(f"{k}={v}" for k, v in {**(context or {}), **given}.items())

        def prepare() -> str:
            patches.copy_assembly(synthesized, deployed)
            edits = patches.patch_for_moto(deployed, emulator).edits
            if answer:
                for path in patches.templates(deployed):
                    body = json.loads(path.read_text())
                    lines = landing.stand_in_check(body, answer)
                    if lines:
                        path.write_text(json.dumps(body, indent=1))
                        edits += [f"{path.name}: {line}" for line in lines]
            if mode == "sagemaker":
                for path in patches.templates(deployed):
                    body = json.loads(path.read_text())
                    lines = studio.drop_unsupported(body)
                    if lines:
                        path.write_text(json.dumps(body, indent=1))
                        edits += [f"{path.name}: {line}" for line in lines]
            return f"{len(edits)} edits to the copy: " + "; ".join(e.split(": ", 1)[1] for e in edits)

        def bootstrap() -> str:
            args = ["bootstrap", f"aws://{ACCOUNT}/{REGION}", "--app", str(deployed)]
            qualifier = given.get(landing.QUALIFIER_CONTEXT)
            if qualifier:
                args += ["--qualifier", qualifier]
            _require(_cdk(args, cwd=workdir, env=env, log=log), "cdk bootstrap", log)
            images = patches.publish_images_as_manifests(deployed, emulator)
            ec2_host = MODES[mode].get("rstudio_mode") == "ec2"
            seeded = f"; AMI parameter {AMI_PARAMETER} -> {_seed_ami(emulator)}" if ec2_host else ""
            named = f" (qualifier {qualifier})" if qualifier else ""
            return f"CDKToolkit{named}; {len(images)} image manifest(s) put{seeded}"

        def deploy() -> str:
            args = ["deploy", "--all", "--app", str(deployed), "--method=direct", "--require-approval", "never"]
            _require(_cdk(args, cwd=workdir, env=env, log=log), "cdk deploy --all", log)
            statuses = {name: s["StackStatus"] for name, s in _stacks(emulator).items()}
            expected = STACKS[mode]
            if len(statuses) != expected or set(statuses.values()) != {"CREATE_COMPLETE"}:
                raise RehearsalFailed(f"stack statuses {statuses}")
            return f"{expected} stacks CREATE_COMPLETE"

        def config() -> str:
            stacks = _stacks(emulator)
            lines = check_job_config(emulator, stacks)
            if MODES[mode].get("rstudio_mode") == "ec2":
                lines += check_workspace(emulator, stacks)
            if mode == "sagemaker":
                lines += studio.check_users(emulator, PLATFORM, STUDIO_USERS)
            return f"{len(lines)} checks: " + "; ".join(lines)

        def destroy() -> str:
            stacks = sorted(_stacks(emulator))
            args = ["destroy", "--all", "--app", str(deployed), "--force"]
            first = _cdk(args, cwd=workdir, env=env, log=log).returncode
            # The CLI stops at the first stack that fails (moto cannot delete the VPC's dependents); destroy the rest
            # one by one so each is tried. The exit codes are in the log; what counts is what is left.
            for name in sorted(_stacks(emulator), reverse=True):
                _cdk(["destroy", name, "--app", str(deployed), "--force"], cwd=workdir, env=env, log=log)
            network = landing.landing_zone_ids(emulator) if given.get("vpc_id") else set()
            report.left = leftovers(emulator, PLATFORM, ours=(AMI_PARAMETER,), landing_zone=network)
            wrong = unexpected(report.left)
            if wrong:
                found = "; ".join(f"{kind}: {', '.join(ids)}" for kind, ids in wrong.items())
                raise RehearsalFailed(f"destroy left what it should delete: {found} (full output: {log})")
            how = "" if first == 0 else " (one by one after destroy --all stopped)"
            counts: dict[str, int] = {}  # by the group's short name: two groups are "kept by design"
            for title, kinds in classify(report.left).items():
                short = title.split(" (")[0]
                counts[short] = counts.get(short, 0) + sum(map(len, kinds.values()))
            kept = ", ".join(f"{n} {short}" for short, n in counts.items())
            return f"{len(stacks)} stacks deleted{how}; left: {kept or 'nothing'} (listed below)"

        steps: list[tuple[str, Callable[[], str]]] = []
        if first is None:
            steps += [("landing zone", landing_zone), ("synth", synth)]
        steps += [
            ("patch copy", prepare),
            ("bootstrap", bootstrap),
            ("deploy", deploy),
            ("job config", config),
            ("submit job", lambda: submit_job(emulator)),
        ]
        if mode == "sagemaker":
            steps.append(("submit as user", lambda: studio.submit_as(emulator, PLATFORM, STUDIO_USERS[1])))
        if first is None:
            governance = ("governance", lambda: "; ".join(landing.check_governance(emulator, PLATFORM, given)))
            steps.insert(steps.index(("job config", config)) + 1, governance)
        try:
            for name, action in steps:
                step(name, action)
        except RehearsalFailed:
            pass
        finally:
            if any(s.name == "bootstrap" and s.ok for s in report.steps):
                try:
                    step("destroy", destroy)
                except RehearsalFailed:
                    pass
    return report
