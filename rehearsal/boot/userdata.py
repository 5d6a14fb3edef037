"""The host's user data as the deployed template gives it, resolved against what moto deployed, with the
rehearsal's stand-ins put in.

The template's UserData is an Fn::Join of bootstrap.sh's text and CloudFormation tokens (IDs, ARNs, pseudo
parameters). They are resolved here as CloudFormation would resolve them, from the stack's own resources in
moto; the script part must be bootstrap.sh, word for word. Then each stand-in variable (STANDINS) is set, the
values the template already holds being replaced and the others added, in bootstrap.render's format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.workspace import bootstrap

_EXPORT = re.compile(r"^export (SIMLAB_[A-Z0-9_]+)='([^'\n]*)'$")


@dataclass(frozen=True)
class Standin:
    production: str  # the default in bootstrap.sh / host-setup.sh, or what the stack writes
    what: str


# Every variable the rehearsal sets differently from a real deploy (docs/rehearsal.md lists them too).
STANDINS: dict[str, Standin] = {
    "SIMLAB_AWS_ENDPOINT_URL": Standin("(empty: AWS's endpoints)", "moto server"),
    "SIMLAB_PIP_INDEX_URL": Standin("https://pypi.org/simple", "PyPI: a simple index of prebuilt wheels"),
    "SIMLAB_EFS_UTILS_REPO": Standin("https://github.com/aws/efs-utils.git", "GitHub: a bare clone"),
    "SIMLAB_HOME_SOURCE": Standin("<file system ID>:/", "EFS: a podman volume"),
    "SIMLAB_HOME_FSTYPE": Standin("efs", "EFS: a bind mount"),
    "SIMLAB_HOME_OPTIONS": Standin("_netdev,noresvport,tls,iam", "EFS: a bind mount"),
    "SIMLAB_CRAN_URL": Standin("https://cloud.r-project.org/bin/linux/ubuntu", "CRAN's apt repository"),
    "SIMLAB_CRAN_KEY_FINGERPRINT": Standin("E298A3A825C0D65DFD57CBB651716619E084DAB9", "CRAN's signing key"),
    "SIMLAB_R_PACKAGES_URL": Standin("https://packagemanager.posit.co/cran/__linux__", "Posit Package Manager"),
    "SIMLAB_RSTUDIO_DEB_URL": Standin("download2.rstudio.org (posit.py)", "the RStudio Server package"),
    "SIMLAB_RSTUDIO_KEY_URL": Standin("dl.posit.co (posit.py)", "Posit's signing key"),
    "SIMLAB_RSTUDIO_KEY_FINGERPRINT": Standin("8B65...2D60 (posit.py)", "Posit's signing key"),
}


def resolve(node: Any, lookup: Callable[[str], str], exports: Mapping[str, str]) -> str:
    """The string CloudFormation makes of `node`: Fn::Join, Fn::Sub, Ref, Fn::ImportValue; lookup(logical id or
    pseudo parameter) gives a Ref's value."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Ref":
            return lookup(argument)
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(resolve(part, lookup, exports) for part in parts)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            values = {name: resolve(value, lookup, exports) for name, value in variables.items()}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: values.get(m.group(1)) or lookup(m.group(1)), text)
        if function == "Fn::ImportValue":
            return exports[resolve(argument, lookup, exports)]
    raise ValueError(f"the rehearsal cannot resolve {json.dumps(node)[:200]} in the user data")


def user_data(
    template: Mapping[str, Any], logical_id: str, lookup: Callable[[str], str], exports: Mapping[str, str]
) -> str:
    """The instance's user data as the host receives it."""
    encoded = template["Resources"][logical_id]["Properties"]["UserData"]["Fn::Base64"]
    return resolve(encoded, lookup, exports)


def split(script: str) -> tuple[dict[str, str], str]:
    """(the exported values, bootstrap.sh's body) of rendered user data; refuses anything else."""
    lines = script.split("\n")
    if lines[0] != "#!/bin/bash" or not lines[1].startswith("# Values of this deployment"):
        raise ValueError("the user data does not start as bootstrap.render writes it")
    values: dict[str, str] = {}
    index = 2
    while index < len(lines) and (match := _EXPORT.match(lines[index])):
        values[match.group(1)] = match.group(2)
        index += 1
    body = "\n".join(lines[index:])
    expected = bootstrap.SCRIPT.read_text().partition("\n")[2]
    if body != expected:
        raise ValueError("the user data's script is not stacks/workspace/bootstrap.sh")
    return values, body


def with_standins(script: str, standins: Mapping[str, str]) -> str:
    unknown = set(standins) - set(STANDINS)
    if unknown:
        raise ValueError(f"not a documented stand-in: {', '.join(sorted(unknown))}")
    values, body = split(script)
    return bootstrap.render({**values, **standins}, "#!/bin/bash\n" + body)


def write(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script)
    path.chmod(0o700)
    return path
