"""The Swarm snapshot as the rules read it: plain engine JSON in, plain answers out.

Pure: the SDK reads that make a snapshot are ghostgates/fetch/engine.py; importing this
(and so the rules) loads no Docker SDK.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ghostgates.shapes import SwarmSnapshot

# Docker's stack label (cli/compose/convert: LabelNamespace).
STACK_LABEL = "com.docker.stack.namespace"


def engine_evidence(snapshot: SwarmSnapshot) -> dict[str, Any]:
    """The evidence item naming the engine a snapshot was read from (every Swarm verdict carries it)."""
    return {"kind": "engine", "name": str(snapshot.get("engine") or "not recorded"),
            **({"swarm_manager": snapshot["manager"]} if "manager" in snapshot else {})}


def not_manager(snapshot: SwarmSnapshot) -> str | None:
    """Why the engine read cannot answer for the Swarm (no swarm, a worker), or None."""
    if snapshot.get("manager") is False:
        return str(snapshot.get("not_manager") or f"the Docker engine {snapshot.get('engine')} is not an active "
                   "swarm manager")
    return None


def used_addresses(inspect: dict[str, Any]) -> set[str]:
    """Distinct addresses taken on a network: task endpoints, VIPs and load-balancer endpoints."""
    used: set[str] = set()

    def add(addr: str | None) -> None:
        if addr:
            used.add(addr.split("/", 1)[0])

    for endpoint in (inspect.get("Containers") or {}).values():
        add(endpoint.get("IPv4Address"))
    for service in (inspect.get("Services") or {}).values():
        add(service.get("VIP"))
        for task in service.get("Tasks") or []:
            add(task.get("EndpointIP"))
    return used


def host_addresses(inspect: dict[str, Any]) -> tuple[str | None, int]:
    """The IPv4 subnet of a network and its host addresses (network and broadcast excluded)."""
    for config in ((inspect.get("IPAM") or {}).get("Config") or []):
        subnet = config.get("Subnet")
        if not subnet:
            continue
        net = ipaddress.ip_network(subnet, strict=False)
        if net.version != 4:
            continue
        hosts = net.num_addresses - 2 if net.prefixlen < 31 else net.num_addresses
        return subnet, hosts
    return None, 0


def named_objects(snapshot: SwarmSnapshot) -> list[tuple[str, str, str]]:
    """(kind, name, node) of every object a leak could hide in, stacks included (see labelled_objects)."""
    return [(kind, name, node) for kind, name, node, _ in labelled_objects(snapshot)]


def labelled_objects(snapshot: SwarmSnapshot) -> list[tuple[str, str, str, str]]:
    """(kind, name, node, stack) of every object a leak could hide in, stacks included.

    `node` is empty for what the manager's API lists; volumes read on each node
    (`node_volumes`: node -> names) carry their node, since volumes live per node. `stack` is
    the object's `com.docker.stack.namespace` label ("" without one; a stack names itself):
    gates.md attributes an object to the stack its label names, whatever its own name.
    """
    out: list[tuple[str, str, str, str]] = []
    stacks: set[str] = set()

    def labels_of(obj: dict[str, Any]) -> dict[str, str]:
        return obj.get("Labels") or (obj.get("Spec") or {}).get("Labels") or {}

    def add(kind: str, name: str, labels: dict[str, Any]) -> None:
        stack = str(labels.get(STACK_LABEL) or "")
        stacks.add(stack)
        out.append((kind, name, "", stack))

    for svc in snapshot.get("services") or []:
        add("service", (svc.get("Spec") or {}).get("Name", ""), labels_of(svc.get("Spec") or {}))
    for con in snapshot.get("containers") or []:
        names = con.get("Names") or []
        add("container", (names[0] if names else con.get("Id", "")).lstrip("/"), labels_of(con))
    for vol in snapshot.get("volumes") or []:
        add("volume", vol.get("Name", ""), labels_of(vol))
    for net in snapshot.get("networks") or []:
        add("network", net.get("Name", ""), labels_of(net))
    for kind, objects in (("secret", snapshot.get("secrets")), ("config", snapshot.get("configs"))):
        for obj in objects or []:
            spec = obj.get("Spec") or {}
            add(kind, spec.get("Name", ""), spec.get("Labels") or {})
    for node, names in sorted((snapshot.get("node_volumes") or {}).items()):
        out.extend(("volume", name, node, "") for name in names)
    out.extend(("stack", name, "", name) for name in sorted(stacks) if name)
    return out
