"""A swarm overlay network as the engine shows it, with `used_addresses` turned into endpoints.

The suite counts used addresses as the distinct IPs among `Containers[*].IPv4Address`,
`Services[*].VIP` and `Services[*].Tasks[*].EndpointIP` of the verbose inspect, so the twin
places exactly that many distinct host addresses there: one on the network's load balancer
(`lb-<name>`), the rest as service VIPs each followed by a few task endpoints.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from twin.ids import hex_id, swarm_id

__all__ = ["TASKS_PER_SERVICE", "host_addresses", "network_object"]

TASKS_PER_SERVICE = 3
VXLAN_BASE = 4096


def host_addresses(subnet: str) -> tuple[str, list[str], int]:
    """(gateway, addresses free for endpoints, prefix length) of an IPv4 subnet."""
    net = ipaddress.ip_network(subnet, strict=False)
    hosts = [str(h) for h in net.hosts()]
    if not hosts:
        return "", [], net.prefixlen
    return hosts[0], hosts[1:], net.prefixlen


def network_object(
    given: dict[str, Any],
    index: int,
    created: str,
    node: dict[str, Any],
    service_names: list[str],
    verbose: bool,
) -> dict[str, Any]:
    name = given["Name"]
    subnet = given.get("Subnet") or f"10.0.{index + 1}.0/24"
    gateway, free, prefix = host_addresses(subnet)
    is_ingress = name == "ingress"
    out: dict[str, Any] = {
        "Name": name,
        "Id": given.get("Id") or swarm_id("network", name),
        "Created": created,
        "Scope": "swarm",
        "Driver": given.get("Driver", "overlay"),
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": [{"Subnet": subnet, "Gateway": gateway}]},
        "Internal": False,
        "Attachable": False,
        "Ingress": is_ingress,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": {},
        "Options": {"com.docker.network.driver.overlay.vxlanid_list": str(VXLAN_BASE + 1 + index)},
        "Labels": dict(given.get("Labels") or {}),
    }
    if not verbose:
        return out
    used = min(int(given.get("used_addresses", 0)), len(free))
    addresses = free[:used]
    containers: dict[str, Any] = {}
    services: dict[str, Any] = {}
    if addresses:
        lb = addresses[0]
        containers[f"lb-{name}"] = {
            "Name": f"{name}-endpoint",
            "EndpointID": hex_id("endpoint", name, "lb"),
            "MacAddress": _mac(lb),
            "IPv4Address": f"{lb}/{prefix}",
            "IPv6Address": "",
        }
        rest = addresses[1:]
        group = 0
        while rest:
            chunk, rest = rest[: 1 + TASKS_PER_SERVICE], rest[1 + TASKS_PER_SERVICE :]
            svc = service_names[group] if group < len(service_names) else f"{name}-endpoints-{group}"
            services[svc] = {
                "VIP": chunk[0],
                "Ports": [],
                "LocalLBIndex": 257 + group,
                "Tasks": [
                    {
                        "Name": f"{svc}.{t}.{swarm_id('task-endpoint', name, svc, t)}",
                        "EndpointID": hex_id("endpoint", name, svc, t),
                        "EndpointIP": ip,
                        "Info": {"Host IP": node["Status"]["Addr"]},
                    }
                    for t, ip in enumerate(chunk[1:], start=1)
                ],
            }
            group += 1
    out["Containers"] = containers
    out["Services"] = services
    out["Peers"] = [{"Name": node["Description"]["Hostname"], "IP": node["Status"]["Addr"]}]
    return out


def _mac(ip: str) -> str:
    return "02:42:" + ":".join(f"{int(part):02x}" for part in ip.split("."))
