"""Runs inside the VPC (a job subnet): resolves each hostname with the VPC's resolver and reports those that do not
resolve, or resolve to a public address. With interface_endpoints=none the landing zone provides the endpoints
centrally (endpoints with private DNS in this VPC, or private hosted zones associated with it); either way the
SDKs' default hostnames must resolve to private addresses here. Invoked by network_check.py, which turns the
answer into the deploy's failure message; this function needs no route out (DNS queries to the VPC resolver are
not filtered by security groups or network ACLs).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

Resolver = Callable[[str], list[str]]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"NotPrivate": not_private(event["Hostnames"], resolve)}


def resolve(hostname: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(hostname, 443, proto=socket.IPPROTO_TCP)})


def not_private(hostnames: dict[str, str], resolver: Resolver) -> dict[str, str]:
    """service -> why its hostname does not count as private: no answer, or a public address."""
    found = {}
    for service, hostname in hostnames.items():
        try:
            addresses = resolver(hostname)
        except OSError as error:
            found[service] = f"{hostname} does not resolve: {error}"
            continue
        public = [a for a in addresses if ipaddress.ip_address(a).is_global]
        if public or not addresses:
            found[service] = f"{hostname} -> {', '.join(public) or 'no address'}"
    return found
