"""What must hold on the host after its bootstrap, checked inside the container and in moto.

Each check returns the lines it proved, and raises BootFailed with what it found instead. Expected values come
from the deployment (the users and UIDs the settings give, the passwords the rehearsal put in the secrets, the
roles moto holds), never from the host's own files.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

from rehearsal.boot.machine import Machine

# A token from the metadata service: curl exits 7 when the connection is refused.
IMDS_TOKEN = (
    "curl -sS -m 5 -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'"
)
RSTUDIO = "curl -fsS -m 5 -o /dev/null http://127.0.0.1:8787/"


class BootFailed(Exception):
    """A property the host does not have."""


@dataclass(frozen=True)
class User:
    name: str
    admin: bool
    uid: int
    password: str
    secret_arn: str


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise BootFailed(what)


def accounts(machine: Machine, users: list[User], volume: Any) -> list[str]:
    """UIDs, homes (0750, their owner's, on the mounted volume), passwords from the secrets, admins' groups."""
    mount = machine.run("findmnt --noheadings --output SOURCE,FSTYPE /home", check=False).stdout.strip()
    _require("/srv/efs-standin" in mount or "ec2-boot-efs" in mount, f"/home is not the volume: {mount!r}")
    lines = [f"/home is the mounted volume ({mount})"]
    for user in users:
        entry = machine.run(f"getent passwd {user.name}", check=False).stdout.strip().split(":")
        _require(len(entry) == 7, f"no account {user.name}")
        _require(entry[2] == str(user.uid) and entry[3] == str(user.uid), f"{user.name} has uid {entry[2]}")
        _require(entry[5] == f"/home/{user.name}", f"{user.name}'s home is {entry[5]}")
        stat = machine.run(f"stat -c '%a %u %g' /home/{user.name}").stdout.split()
        _require(stat == ["750", str(user.uid), str(user.uid)], f"/home/{user.name} is {stat}")
        on_volume = volume / user.name
        _require(on_volume.is_dir() and on_volume.stat().st_uid == user.uid, f"{user.name}'s home is not on the volume")
        # The shadow entry is the password of the user's secret (crypt with the entry's own salt and method).
        check = (
            "import crypt, spwd, sys; e = spwd.getspnam(sys.argv[1]).sp_pwdp; "
            "sys.exit(0 if crypt.crypt(sys.argv[2], e) == e else 1)"
        )
        matches = machine.run(
            f"python3 -W ignore -c {shlex.quote(check)} {user.name} {shlex.quote(user.password)}", check=False
        )
        _require(matches.returncode == 0, f"{user.name}'s password is not the one in their secret")
        groups = set(machine.run(f"id -nG {user.name}").stdout.split())
        sudo = machine.run(f"sudo -l -U {user.name}", check=False).stdout
        may_sudo = "(ALL : ALL) ALL" in sudo
        if user.admin:
            _require(
                {"docker", "simlab-admins"} <= groups and may_sudo, f"admin {user.name}: {groups}, sudo {may_sudo}"
            )
        else:
            # no rule of any kind (not only not the admins' one): sudo's own words for a user without any
            no_rule = f"User {user.name} is not allowed to run sudo" in sudo
            _require(not {"docker", "simlab-admins", "sudo"} & groups and no_rule, f"{user.name}: {groups}, {sudo}")
        role = "admin: sudo and docker" if user.admin else "user: neither sudo nor docker"
        lines.append(f"{user.name} uid {user.uid}, 0750 home on the volume, password from its secret, {role}")
    return lines


def home_files(machine: Machine, users: list[User]) -> list[str]:
    """What the bootstrap puts in each home is the user's own: their AWS config naming the credential service
    (private), the welcome example and the examples."""
    for user in users:
        home = f"/home/{user.name}"
        listed = machine.run(f"stat -c '%n %u %g %a' {home}/.aws {home}/.aws/config {home}/welcome.R {home}/examples")
        expected = [
            f"{home}/.aws {user.uid} {user.uid} 700",
            f"{home}/.aws/config {user.uid} {user.uid} 600",
            f"{home}/welcome.R {user.uid} {user.uid} 644",
        ]
        lines = listed.stdout.splitlines()
        _require(lines[:3] == expected and lines[3].startswith(f"{home}/examples {user.uid} {user.uid} "), str(lines))
        config = machine.run(f"cat {home}/.aws/config").stdout
        _require("credential_process = /usr/local/bin/simlab-credentials" in config, f"{user.name}'s config: {config}")
    return ["each home holds its user's own AWS config (0600), welcome.R and examples"]


def ssm_user(machine: Machine) -> list[str]:
    entry = machine.run("getent passwd ssm-user", check=False).stdout.strip().split(":")
    _require(len(entry) == 7 and int(entry[2]) < 1000, f"ssm-user: {entry}")
    sudo = machine.run("sudo -l -U ssm-user", check=False).stdout
    _require("is not allowed to run sudo" in sudo, f"ssm-user may sudo: {sudo.strip()[-200:]}")
    groups = set(machine.run("id -nG ssm-user").stdout.split())
    _require(not {"sudo", "docker", "simlab-admins", "admin"} & groups, f"ssm-user groups {groups}")
    return [f"ssm-user (uid {entry[2]}) without sudo or docker"]


SUBMIT = (
    "library(simjobs); job <- submit_simulation(people = 50, iterations = 200, seed = 7, name = 'boot'); "
    "cat(job, '\\n')"
)


def submits(machine: Machine, user: User, sagemaker: Any, platform: str) -> tuple[list[str], str]:
    """library(simjobs) and a job submission in R as `user`; the job is theirs in moto. Returns its name."""
    loaded = machine.run("Rscript -e 'suppressMessages(library(simjobs)); cat(\"ok\\n\")'", user=user.name, check=False)
    _require(loaded.stdout.strip().endswith("ok"), f"library(simjobs) as {user.name}: {loaded.stderr.strip()[-300:]}")
    done = machine.run(f"Rscript -e {shlex.quote(SUBMIT)}", user=user.name, check=False, timeout=300)
    names = re.findall(rf"\b{platform}-{user.name}-[a-z0-9-]+", done.stdout)
    _require(done.returncode == 0 and bool(names), f"submission as {user.name}: {(done.stdout + done.stderr)[-600:]}")
    job = names[-1]
    described = sagemaker.describe_processing_job(ProcessingJobName=job)
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=described["ProcessingJobArn"])["Tags"]}
    role = described["RoleArn"].rsplit("/", 1)[1]
    _require(tags.get("user") == user.name, f"{job} is tagged {tags}")
    _require(f"-{user.name}-" in role or user.name in role.lower(), f"{job} runs as role {role}")
    return [f"library(simjobs) and submit_simulation as {user.name}: {job} (tag user={user.name})"], job


def signal(events: list[dict[str, Any]], logical_id: str, status: str) -> str:
    found = [
        e["ResourceStatusReason"]
        for e in events
        if e["LogicalResourceId"] == logical_id and e.get("ResourceStatusReason", "").startswith(f"Received {status}")
    ]
    _require(bool(found), f"no {status} signal for {logical_id} in the stack events")
    return str(found[0])


def isolation(machine: Machine, intruder: User, victim: User, bucket: str, platform: str) -> list[str]:
    """As `intruder`: the metadata service refuses, the victim's secret and objects are denied, while each of
    them reads and writes their own prefix (so the denials are about whose prefix, not about S3)."""
    imds = machine.run(IMDS_TOKEN, user=intruder.name, check=False)
    _require(imds.returncode == 7, f"IMDS as {intruder.name}: exit {imds.returncode} {imds.stdout}{imds.stderr}")
    as_root = machine.run(IMDS_TOKEN, check=False)
    _require(as_root.returncode == 0 and bool(as_root.stdout.strip()), "IMDS refuses root too")
    secret = machine.run(
        f"aws secretsmanager get-secret-value --secret-id {shlex.quote(victim.secret_arn)}",
        user=intruder.name,
        check=False,
    )
    _require(secret.returncode != 0 and "AccessDenied" in secret.stderr, f"{victim.name}'s secret: {secret.stderr}")
    own = {user.name: f"s3://{bucket}/jobs/{platform}-{user.name}-notes/input.txt" for user in (intruder, victim)}
    for user in (victim, intruder):
        wrote = machine.run(f"echo {user.name} | aws s3 cp - {own[user.name]}", user=user.name, check=False)
        _require(wrote.returncode == 0, f"{user.name} cannot write their own prefix: {wrote.stderr.strip()[-300:]}")
    read = machine.run(f"aws s3 cp {own[victim.name]} -", user=intruder.name, check=False)
    _require(read.returncode != 0 and ("403" in read.stderr or "AccessDenied" in read.stderr), f"read: {read.stderr}")
    write = machine.run(f"echo x | aws s3 cp - {own[victim.name]}", user=intruder.name, check=False)
    _require(write.returncode != 0, f"{intruder.name} overwrote {victim.name}'s object")
    back = machine.run(f"aws s3 cp {own[victim.name]} -", user=victim.name, check=False)
    _require(back.stdout.strip() == victim.name, f"{victim.name}'s object now holds {back.stdout!r}")
    reason = imds.stderr.strip().splitlines()[-1] if imds.stderr.strip() else "refused"
    return [
        f"as {intruder.name}: metadata service refused ({reason}); root reaches it",
        f"as {intruder.name}: {victim.name}'s secret AccessDenied",
        f"each writes their own prefix; as {intruder.name}: {victim.name}'s object denied (read and write)",
    ]


def identity(machine: Machine, user: User, role_name: str) -> str:
    """The user's AWS identity is their own role, through the credential service."""
    who = machine.run("aws sts get-caller-identity --output json", user=user.name, check=False)
    _require(who.returncode == 0, f"{user.name} has no AWS identity: {who.stderr.strip()[-300:]}")
    arn = json.loads(who.stdout)["Arn"]
    _require(f":assumed-role/{role_name}/{user.name}" in arn, f"{user.name} acts as {arn}")
    return f"{user.name} acts as {arn.split(':', 5)[5]}"


# What a second run of the bootstrap must leave exactly as it was (each part's errors included: a file that is
# missing must be missing both times).
SNAPSHOT = " 2>&1 ; ".join(
    [
        "getent passwd", "getent group", "cut -d: -f1 /etc/shadow", "stat -c '%n %a %u %g' /home/*",
        "ls -la --time-style=full-iso /home/*/", "cat /etc/fstab", "cat /etc/sudoers.d/*", "iptables -S OUTPUT",
        "cat /etc/simlab/user-roles /etc/simlab/users", "cat /etc/rstudio/rserver.conf",
        "systemctl is-enabled simlab-imds-guard simlab-credentials simlab-set-password rstudio-server docker",
        "find /etc/systemd/system -name '*simlab*' | sort", "dpkg-query -W", "/opt/simlab/venv/bin/pip freeze",
        "ls -la --time-style=full-iso /home/*/.aws/",
        "md5sum /home/*/.aws/config /etc/profile.d/simlab.sh /etc/R/Rprofile.site /usr/lib/R/etc/Renviron.site "
        "/etc/systemd/system/simlab-*.service /usr/local/sbin/simlab-* /usr/local/bin/simlab-credentials",
    ]
) + " 2>&1 ; true"  # fmt: skip


def snapshot(machine: Machine) -> str:
    return machine.run(SNAPSHOT).stdout


# A directory root owns, where the links a user plants in their home point.
CANARY = "/srv/simlab-canary"


def plant_links(machine: Machine, user: User) -> None:
    """What a user could leave in their home (it lives on EFS) for the next host's bootstrap, which runs as root:
    ~/.aws and ~/examples as links into a directory root owns. Their own files are kept aside."""
    machine.run(f"install -d -o root -g root -m 0755 {CANARY}")
    moves = "mv ~/.aws ~/.aws.kept && mv ~/examples ~/examples.kept"
    machine.run(f"{moves} && ln -s {CANARY} ~/.aws && ln -s {CANARY}/examples ~/examples", user=user.name)


def links_reached_nothing(machine: Machine, user: User) -> str:
    """After a bootstrap run: the directory the links point at is root's as it was and empty; the user's files
    are put back."""
    state = machine.run(f"stat -c '%U %G %a' {CANARY}; ls -A {CANARY}").stdout.split()
    _require(state == ["root", "root", "755"], f"{CANARY} after the run: {state}")
    machine.run("rm ~/.aws ~/examples && mv ~/.aws.kept ~/.aws && mv ~/examples.kept ~/examples", user=user.name)
    return f"{user.name}'s links (~/.aws, ~/examples into a root directory) reached nothing"


def every_boot(machine: Machine, user: User) -> list[str]:
    """A boot as the units see it: no rule (iptables rules live in memory) and nothing started. Starting RStudio
    Server, the users' way in, must first set the metadata rule; if the rule cannot be set, RStudio stays down."""

    def after_boot() -> None:
        machine.run("systemctl stop rstudio-server simlab-imds-guard && iptables -w -F OUTPUT")
        _require(machine.run(IMDS_TOKEN, user=user.name, check=False).returncode == 0, "no rule, yet IMDS refuses")

    after_boot()
    machine.run("systemctl start rstudio-server")
    refused = machine.run(IMDS_TOKEN, user=user.name, check=False).returncode
    rules = machine.run("iptables -w -S OUTPUT").stdout.count("169.254.169.254")
    _require(refused == 7 and rules == 1, f"after RStudio started: IMDS as {user.name} exit {refused}, {rules} rules")
    _require(machine.run(RSTUDIO, check=False).returncode == 0, "RStudio does not answer")
    after_boot()
    machine.run("chmod 0644 /usr/local/sbin/simlab-imds-guard")  # the rule cannot be set
    try:
        started = machine.run("systemctl start rstudio-server", check=False).returncode
        _require(started != 0 and machine.run(RSTUDIO, check=False).returncode != 0, "RStudio started without the rule")
    finally:
        machine.run("chmod 0755 /usr/local/sbin/simlab-imds-guard && systemctl start rstudio-server")
    return [
        f"at boot, RStudio starts only after the metadata rule: IMDS as {user.name} refused again",
        "without the rule, RStudio stays down",
    ]
