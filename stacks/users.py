"""RStudio users (`rstudio_users`): who logs in, in either workspace mode, and with which role.

One entry is `name`, `name:user` or `name:admin`. In ec2 mode a name becomes a Linux account (admins get sudo)
with its own IAM role; in sagemaker mode it becomes a SageMaker user profile (admins get Posit Workbench's admin
dashboard). In both, the name also starts the user's job names and S3 prefix, so names are letters and digits
only: a '-' would let one user's prefix (`simlab-al-`) be the start of another's (`simlab-al-x-`), and SageMaker
job names allow no '_'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROLES = ("admin", "user")
# Linux: lowercase, up to 32 characters; names the host itself uses are refused.
LINUX_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
RESERVED_NAMES = ("root", "ubuntu", "ssm-user", "rstudio-server", "nobody", "daemon")
_PROFILE_NAME = re.compile(r"[a-z][a-z0-9]*")
# A SageMaker domain holds at most 60 RStudio users (RStudio on SageMaker quotas).
MAX_SAGEMAKER_USERS = 60
MAX_EC2_USERS = 50
# Fixed UIDs keep file ownership on the shared EFS home across replaced hosts; the first user keeps the 2000
# that the single-user release gave `rstudio_user`.
FIRST_UID = 2000
# Job names are at most 63 characters: `<platform>-<user>-<name>-<yyyymmdd-HHMMSS>-<8 hex>`; keeping
# platform + '-' + user to 24 leaves 13 characters for the job's own name (8 in a sweep).
MAX_JOB_NAME_PREFIX = 24


class UsersError(ValueError):
    """An `rstudio_users` entry the platform cannot use (the message names the entry)."""


@dataclass(frozen=True)
class RStudioUser:
    name: str
    admin: bool
    uid: int

    @property
    def role(self) -> str:
        return "admin" if self.admin else "user"


def parse_users(entries: tuple[str, ...], *, mode: str, platform_name: str) -> tuple[RStudioUser, ...]:
    """Validate `rstudio_users` entries for the workspace `mode`; raise UsersError naming the first bad one."""
    if not entries:
        raise UsersError("the list is empty; name at least one user, e.g. alice:admin,bob")
    users: list[RStudioUser] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        name, sep, role = entry.strip().partition(":")
        role = role if sep else "user"
        if role not in ROLES:
            raise UsersError(f"'{entry}' has role '{role}'; roles are admin or user (name, name:admin, name:user)")
        if not _PROFILE_NAME.fullmatch(name):
            what = (
                "it starts the user's profile, job names and S3 prefix"
                if mode == "sagemaker"
                else "it names the user's Linux account and IAM role and starts their job names and S3 prefix"
            )
            raise UsersError(
                f"'{name}' is not a valid name in {mode} mode; use lowercase letters and digits, "
                f"starting with a letter ({what})"
            )
        if len(platform_name) + 1 + len(name) > MAX_JOB_NAME_PREFIX:
            room = MAX_JOB_NAME_PREFIX - len(platform_name) - 1
            raise UsersError(
                f"'{name}' is too long: with platform '{platform_name}' names may have at most {room} "
                "characters (job names are limited to 63)"
            )
        if mode == "ec2" and name in RESERVED_NAMES:
            raise UsersError(f"'{name}' is taken on the host; not {', '.join(RESERVED_NAMES)}")
        if name in seen:
            raise UsersError(f"'{name}' is listed twice")
        seen.add(name)
        users.append(RStudioUser(name=name, admin=role == "admin", uid=FIRST_UID + index))
    limit = MAX_SAGEMAKER_USERS if mode == "sagemaker" else MAX_EC2_USERS
    if len(users) > limit:
        raise UsersError(f"{len(users)} users; a {mode} workspace holds at most {limit}")
    return tuple(users)
