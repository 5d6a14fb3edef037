"""The boot rehearsal: the ec2 workspace deployed into moto, then its host's user data run in a systemd container
whose only network is its own loopback, where moto, the metadata service and the downloads are stand-ins.

Steps (each timed; docs/rehearsal.md): stand-ins, image, machine, deploy, first boot, host, as each user,
isolation, reboot, every boot, bad signature. The container, its volume and the stand-in processes go at the end;
the image stays (its layers are the cache).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import string
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehearsal import patches
from rehearsal.boot import checks, packages, pypi, userdata
from rehearsal.boot.aws import EC2_DELIVERY
from rehearsal.boot.checks import BootFailed, User
from rehearsal.boot.machine import Machine, MachineError, build_image, prepare_podman
from rehearsal.boot.signed_deb import make_key, stop_agent
from rehearsal.emulator import ACCOUNT, REGION, Emulator
from rehearsal.run import AMI_PARAMETER, _cdk, _require, _seed_ami
from rehearsal.synth import synthesize
from stacks.workspace import posit

PLATFORM = "rehearsal"
USERS = ("alice:admin", "bob")
CONTEXT = {
    "platform_name": PLATFORM,
    "rstudio_mode": "ec2",
    "rstudio_access": "ssm",
    "rstudio_ami_parameter": AMI_PARAMETER,
    "rstudio_users": ",".join(USERS),
}
# Ports inside the container's own network namespace, where nothing else listens.
MOTO_PORT = 5000
FILES_PORT = 8080
CACHE = Path(os.environ.get("EC2_BOOT_CACHE", Path.home() / ".cache" / "ec2-boot"))
USER_DATA = "/var/lib/cloud/instance/scripts/part-001"
# cloud-init's environment for user data: no HOME, the system PATH.
CLOUD_INIT_ENV = "env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8"


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Report:
    workdir: Path
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


@dataclass(frozen=True)
class Admin(Emulator):
    """moto through the relay, with the keys of an administrator created before IAM enforcement began."""

    key_id: str = ""
    secret: str = ""

    def client(self, service: str) -> Any:
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=self.key_id or "testing",
            aws_secret_access_key=self.secret or "testing",
            region_name=REGION,
        )
        return session.client(service, endpoint_url=self.url)


@dataclass
class Deployed:
    workspace: dict[str, Any]  # the patched template moto deployed
    stack_name: str
    instance_id: str
    logical_id: str
    host_role_arn: str
    bucket: str
    users: list[User]


def _password() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))


def _outputs(emulator: Emulator, stack: str) -> dict[str, str]:
    described = emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def deploy(workdir: Path, emulator: Emulator) -> Deployed:
    """Synthesize the ec2 mode and deploy it with the pinned CDK CLI, as the deploy rehearsal does."""
    assembly = synthesize({"boot": CONTEXT}, workdir)["boot"]
    deployed = patches.copy_assembly(assembly, workdir / "boot" / "cdk.out.moto")
    patches.patch_for_moto(deployed, emulator)
    env, log = emulator.environment(), workdir / "cdk.log"
    _require(_cdk(["bootstrap", f"aws://{ACCOUNT}/{REGION}", "--app", str(deployed)], cwd=workdir, env=env, log=log),
             "cdk bootstrap", log)  # fmt: skip
    patches.publish_images_as_manifests(deployed, emulator)
    _seed_ami(emulator)
    args = ["deploy", "--all", "--app", str(deployed), "--method=direct", "--require-approval", "never"]
    _require(_cdk(args, cwd=workdir, env=env, log=log), "cdk deploy --all", log)
    stack_name = f"{PLATFORM}-workspace"
    outputs, data = _outputs(emulator, stack_name), _outputs(emulator, f"{PLATFORM}-data")
    template = json.loads((deployed / f"{stack_name}.template.json").read_text())
    (logical_id,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::EC2::Instance"]
    instance = emulator.client("ec2").describe_instances(InstanceIds=[outputs["RStudioInstanceId"]])
    profile = instance["Reservations"][0]["Instances"][0]["IamInstanceProfile"]["Arn"].rsplit("/", 1)[1]
    (role,) = emulator.client("iam").get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]
    users = []
    for uid, entry in enumerate(USERS, start=2000):
        name, _, kind = entry.partition(":")
        command = next(v for k, v in outputs.items() if k.startswith("RStudioPasswordCommand") and name in k.lower())
        arn = re.search(r"--secret-id (\S+)", command).group(1)  # type: ignore[union-attr]
        users.append(User(name=name, admin=kind == "admin", uid=uid, password=_password(), secret_arn=arn))
    secrets_client = emulator.client("secretsmanager")
    for user in users:
        secrets_client.put_secret_value(SecretId=user.secret_arn, SecretString=user.password)
    return Deployed(template, stack_name, outputs["RStudioInstanceId"], logical_id, role["Arn"], data["Bucket"], users)


def create_admin(emulator: Emulator) -> Admin:
    iam = emulator.client("iam")
    iam.create_user(UserName=EC2_DELIVERY)
    iam.put_user_policy(
        UserName=EC2_DELIVERY,
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=EC2_DELIVERY)["AccessKey"]
    return Admin(port=emulator.port, home=emulator.home, key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])


def enforce_iam(emulator: Emulator) -> None:
    """moto's INITIAL_NO_AUTH_ACTION_COUNT, set to 0 from here on: every request is authorized against IAM."""
    request = urllib.request.Request(
        f"{emulator.url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        json.loads(answer.read())


def resolved_user_data(admin: Admin, deployed: Deployed) -> str:
    stack = admin.client("cloudformation")
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in stack.describe_stack_resources(StackName=deployed.stack_name)["StackResources"]
        if r.get("PhysicalResourceId")
    }
    stack_id = stack.describe_stacks(StackName=deployed.stack_name)["Stacks"][0]["StackId"]
    pseudo = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": deployed.stack_name,
        "AWS::StackId": stack_id,
    }
    exports = {e["Name"]: e["Value"] for e in stack.list_exports()["Exports"]}
    return userdata.user_data(deployed.workspace, deployed.logical_id, lambda n: pseudo.get(n) or physical[n], exports)


def standins(rstudio_fingerprint: str, cran_fingerprint: str) -> dict[str, str]:
    served = f"http://127.0.0.1:{FILES_PORT}"
    return {
        "SIMLAB_AWS_ENDPOINT_URL": f"http://127.0.0.1:{MOTO_PORT}",
        "SIMLAB_PIP_INDEX_URL": f"{served}/pypi/simple",
        "SIMLAB_EFS_UTILS_REPO": "file:///srv/standins/efs-utils.git",
        "SIMLAB_HOME_SOURCE": "/srv/efs-standin",
        "SIMLAB_HOME_FSTYPE": "none",
        "SIMLAB_HOME_OPTIONS": "bind",
        "SIMLAB_CRAN_URL": f"{served}/cran",
        "SIMLAB_CRAN_KEY_FINGERPRINT": cran_fingerprint,
        "SIMLAB_R_PACKAGES_URL": f"{served}/r-packages",
        "SIMLAB_RSTUDIO_DEB_URL": f"{served}/rstudio/rstudio-server.deb",
        "SIMLAB_RSTUDIO_KEY_URL": f"{served}/rstudio/signing-key.asc",
        # as `gpg --fingerprint` writes it, the way the stack writes Posit's
        "SIMLAB_RSTUDIO_KEY_FINGERPRINT": " ".join(rstudio_fingerprint[i : i + 4] for i in range(0, 40, 4)),
    }


def boot(machine: Machine, script: Path) -> tuple[int, float]:
    machine.run(f"mkdir -p {USER_DATA.rsplit('/', 1)[0]}")
    machine.copy_in(script, USER_DATA)
    machine.run(f"chmod 0700 {USER_DATA}")
    start = time.monotonic()
    done = machine.run(f"{CLOUD_INIT_ENV} {USER_DATA}", check=False, timeout=1800)
    return done.returncode, time.monotonic() - start


def rehearse_boot(workdir: Path, say: Callable[[str], None] = print) -> Report:
    report = Report(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    served = workdir / "served"
    state: dict[str, Any] = {}

    def step(name: str, action: Callable[[], str]) -> None:
        start = time.monotonic()
        try:
            detail, ok = action(), True
        except Exception as error:  # any error is the rehearsal's finding: into the table, not a traceback
            detail, ok = f"{type(error).__name__}: {error}", False
        report.steps.append(Step(name, ok, detail, time.monotonic() - start))
        say(f"[boot] {name}: {'ok' if ok else 'FAILED'} - {detail} ({time.monotonic() - start:.1f} s)")
        if not ok:
            raise BootFailed(detail)

    def make_standins() -> str:
        shutil.rmtree(workdir / "keys", ignore_errors=True)
        keys = state["keys"] = {
            "rstudio": make_key(workdir / "keys/rstudio", "rstudio"),
            "cran": make_key(workdir / "keys/cran", "cran"),
        }
        if served.exists():
            shutil.rmtree(served)
        (served / "rstudio").mkdir(parents=True)
        good, tampered = packages.rstudio_packages(workdir, keys["rstudio"], posit.RSTUDIO_VERSION)
        shutil.copyfile(good, served / "rstudio/rstudio-server.deb")
        shutil.copyfile(keys["rstudio"].public_key, served / "rstudio/signing-key.asc")
        state["tampered"] = tampered
        packages.cran_repository(served, keys["cran"], "bookworm")
        index = pypi.build(CACHE)
        (served / "pypi").symlink_to(index)
        state["efs_utils"] = packages.efs_utils_repository(CACHE)
        wheels = len(list((index / "wheels").glob("*.whl")))
        return f"RStudio stand-in {posit.RSTUDIO_VERSION} signed by a key of the run; CRAN repository; {wheels} wheels"

    def make_image() -> str:
        prepare_podman()
        image, cached = build_image()
        state["image"] = image
        return f"{image} ({'cached' if cached else 'built'})"

    def start_machine() -> str:
        machine = state["machine"] = Machine(state["image"], {state["efs_utils"]: "/srv/standins/efs-utils.git"})
        machine.start()
        machine.spawn(["-m", "rehearsal.boot.aws", str(MOTO_PORT)], workdir / "moto.log")
        machine.spawn(["-m", "rehearsal.boot.standins", "files", str(served), str(FILES_PORT)], workdir / "files.log")
        port = machine.relay(MOTO_PORT, workdir / "relay.log")
        state["emulator"] = Emulator(port=port, home=workdir / "emulator")
        deadline = time.monotonic() + 30
        while machine.run(f"curl -fsS -o /dev/null http://127.0.0.1:{MOTO_PORT}/moto-api/", check=False).returncode:
            if time.monotonic() > deadline:
                raise MachineError("moto did not answer inside the container")
            time.sleep(0.3)
        return f"systemd running; moto, files and the relay (port {port}) in its namespace"

    def deploy_step() -> str:
        emulator: Emulator = state["emulator"]
        deployed = state["deployed"] = deploy(workdir, emulator)
        admin = state["admin"] = create_admin(emulator)
        config = {
            "instance_id": deployed.instance_id, "region": REGION, "account": ACCOUNT,
            "role_name": deployed.host_role_arn.rsplit("/", 1)[1], "role_arn": deployed.host_role_arn,
            "aws_endpoint": f"http://127.0.0.1:{MOTO_PORT}", "admin_key_id": admin.key_id, "admin_secret": admin.secret,
        }  # fmt: skip
        (workdir / "imds.json").write_text(json.dumps(config))
        state["machine"].spawn(
            ["-m", "rehearsal.boot.standins", "imds", str(workdir / "imds.json")], workdir / "imds.log"
        )
        enforce_iam(emulator)
        keys = state["keys"]
        script = userdata.with_standins(
            resolved_user_data(admin, deployed), standins(keys["rstudio"].fingerprint, keys["cran"].fingerprint)
        )
        state["script"] = userdata.write(workdir / "user-data", script)
        return f"4 stacks; host {deployed.instance_id}; IAM enforced from here on; user data {len(script)} bytes"

    def first_boot() -> str:
        code, seconds = boot(state["machine"], state["script"])
        state["boot_seconds"] = seconds
        if code != 0:
            log = state["machine"].run("tail -n 30 /var/log/simlab-bootstrap.log", check=False).stdout
            raise BootFailed(f"the bootstrap exited {code}: ...{log[-1500:]}")
        return f"bootstrap exit 0 in {seconds:.0f} s"

    def host() -> str:
        machine, deployed, admin = state["machine"], state["deployed"], state["admin"]
        lines = checks.accounts(machine, deployed.users, machine.volume_path())
        lines += checks.home_files(machine, deployed.users)
        lines += checks.ssm_user(machine)
        events = admin.client("cloudformation").describe_stack_events(StackName=deployed.stack_name)["StackEvents"]
        lines.append(checks.signal(events, deployed.logical_id, "SUCCESS"))
        for user in deployed.users:
            lines.append(checks.identity(machine, user, f"{PLATFORM}-{user.name}-rstudio"))
        return "; ".join(lines)

    def as_each_user() -> str:
        machine, deployed, admin = state["machine"], state["deployed"], state["admin"]
        lines, jobs = [], {}
        for user in deployed.users:
            proved, jobs[user.name] = checks.submits(machine, user, admin.client("sagemaker"), PLATFORM)
            lines += proved
        state["jobs"] = jobs
        return "; ".join(lines)

    def isolation() -> str:
        deployed = state["deployed"]
        alice, bob = deployed.users
        return "; ".join(checks.isolation(state["machine"], bob, alice, deployed.bucket, PLATFORM))

    def reboot() -> str:
        machine, deployed = state["machine"], state["deployed"]
        bob = deployed.users[1]
        checks.plant_links(machine, bob)  # what bob left on EFS for the next bootstrap, which runs as root
        before = checks.snapshot(machine)
        code, seconds = boot(machine, state["script"])
        if code != 0:
            raise BootFailed(f"the second run exited {code}")
        after = checks.snapshot(machine)
        if before != after:
            changed = [line for line in after.splitlines() if line not in before.splitlines()]
            raise BootFailed(f"the second run changed: {changed[:5]}")
        links = checks.links_reached_nothing(machine, bob)
        checks.accounts(machine, deployed.users, machine.volume_path())
        return f"second run exit 0 in {seconds:.0f} s; accounts, homes, units, rules, configs unchanged; {links}"

    def every_boot() -> str:
        return "; ".join(checks.every_boot(state["machine"], state["deployed"].users[1]))

    def bad_signature() -> str:
        machine, deployed, admin = state["machine"], state["deployed"], state["admin"]
        machine.run("dpkg --purge rstudio-server")
        shutil.copyfile(state["tampered"], served / "rstudio/rstudio-server.deb")
        code, _ = boot(machine, state["script"])
        if code == 0:
            raise BootFailed("the bootstrap installed a package whose signature does not verify")
        events = admin.client("cloudformation").describe_stack_events(StackName=deployed.stack_name)["StackEvents"]
        reason = checks.signal(events, deployed.logical_id, "FAILURE")
        if not reason.endswith("-failed-at-rstudio-signature"):
            raise BootFailed(f"the failure signal says {reason!r}")
        log = machine.run("grep 'verify-deb:' /var/log/simlab-bootstrap.log | tail -n 1").stdout.strip()
        if "does not match its signed" not in log:
            raise BootFailed(f"no verify-deb reason in the log: {log!r}")
        installed = machine.run("dpkg-query -W rstudio-server", check=False).returncode
        if installed == 0:
            raise BootFailed("rstudio-server is installed after the refusal")
        return f"{reason}; log: {log.split('simlab-bootstrap: ')[-1]}"

    try:
        step("stand-ins", make_standins)
        step("image", make_image)
        step("machine", start_machine)
        step("deploy", deploy_step)
        step("first boot", first_boot)
        step("host", host)
        step("as each user", as_each_user)
        step("isolation", isolation)
        step("reboot", reboot)
        step("every boot", every_boot)
        step("bad signature", bad_signature)
    except BootFailed:
        pass
    finally:
        if "machine" in state:
            state["machine"].run("cat /var/log/simlab-bootstrap.log > /dev/null", check=False)
            log = state["machine"].run("cat /var/log/simlab-bootstrap.log", check=False).stdout
            (workdir / "simlab-bootstrap.log").write_text(log)
            # EC2_BOOT_KEEP=1 (debugging): the container and its stand-ins stay up; their PIDs are in processes.txt.
            if os.environ.get("EC2_BOOT_KEEP") != "1":
                state["machine"].remove()
            else:
                pids = " ".join(str(p.pid) for p in state["machine"].processes)
                (workdir / "processes.txt").write_text(f"{pids}\nrelay port {state['emulator'].port}\n")
        for key in state.get("keys", {}).values():
            stop_agent(key)
    return report
