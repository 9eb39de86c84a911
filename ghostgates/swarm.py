"""Reads of the Swarm through the Docker Engine API (the `docker` SDK): fetch only, no verdicts.

The snapshot is the engine's own JSON, so that the rules read the same field names on a real
manager and on the twin (tests/lab holds the two to each other).
"""

from __future__ import annotations

import ipaddress
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import docker.errors
import requests.exceptions

from .errors import NotFound, ServiceError, Unauthorised, Unreachable

API_VERSION = "1.41"
STACK_LABEL = "com.docker.stack.namespace"


def connect(docker_host: str | None = None, timeout: float = 20) -> docker.DockerClient:
    """A client for DOCKER_HOST (tcp://, unix://, or ssh:// through the user's ssh config)."""
    host = docker_host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.DockerClient(base_url=host, version=API_VERSION, timeout=max(1, round(timeout)),
                                     use_ssh_client=host.startswith("ssh://"))
    except docker.errors.DockerException as exc:
        raise Unreachable(f"Docker engine at {host}: {exc}", url=host) from None
    # The SDK rewrites unix:// and ssh:// addresses; errors should name the one the user gave.
    client.ghostgates_host = host  # type: ignore[attr-defined]
    return client


def fetch_swarm(client: docker.DockerClient, proxy_network: str | None = None) -> dict[str, Any]:
    """Everything the Swarm rules read, in one pass; the proxy network with its verbose inspect."""
    api = client.api
    where = getattr(client, "ghostgates_host", None) or getattr(api, "base_url", "docker")
    try:
        # The reads are independent: in parallel, a remote manager's latency is paid about twice,
        # not ten times.
        with ThreadPoolExecutor(max_workers=4) as pool:
            reads = {
                "info": pool.submit(api.info),
                "networks": pool.submit(api.networks),
                "services": pool.submit(api.services),
                "tasks": pool.submit(api.tasks),
                "volumes": pool.submit(api.volumes),
                "containers": pool.submit(api.containers, all=True),
                "secrets": pool.submit(api.secrets),
                "configs": pool.submit(api.configs),
            }
            got = {key: future.result() for key, future in reads.items()}
        info, networks = got["info"], got["networks"]
        snapshot: dict[str, Any] = {
            "now": info.get("SystemTime"),
            "info": info,
            "nodes": api.nodes() if _is_manager(info) else [],
            "networks": networks,
            "services": got["services"],
            "tasks": got["tasks"],
            "volumes": (got["volumes"] or {}).get("Volumes") or [],
            "containers": got["containers"],
            "secrets": got["secrets"],
            "configs": got["configs"],
            "network_inspect": {},
        }
        if proxy_network:
            for net in networks:
                if net.get("Name") == proxy_network:
                    snapshot["network_inspect"][proxy_network] = api.inspect_network(
                        net["Id"], verbose=True, scope="swarm")
        return snapshot
    except docker.errors.APIError as exc:
        code = exc.status_code
        if code in (401, 403):
            raise Unauthorised(f"Docker engine at {where} refused the request ({code})",
                               url=where, status=code) from None
        if code == 404:
            raise NotFound(f"Docker engine at {where}: {exc.explanation}", url=where, status=code) from None
        raise ServiceError(f"Docker engine at {where}: {exc}", url=where, status=code) from None
    except (requests.exceptions.RequestException, docker.errors.DockerException, OSError) as exc:
        raise Unreachable(f"Docker engine at {where} unreachable: {type(exc).__name__}: {exc}",
                          url=where) from None


def _is_manager(info: dict[str, Any]) -> bool:
    return bool((info.get("Swarm") or {}).get("ControlAvailable"))


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


def named_objects(snapshot: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, name, node) of every object a leak could hide in, stacks included.

    `node` is empty for what the manager's API lists; volumes read on each node
    (`node_volumes`: node -> names) carry their node, since volumes live per node.
    """
    out: list[tuple[str, ...]] = []
    stacks: set[str] = set()

    def labels_of(obj: dict[str, Any]) -> dict[str, str]:
        return obj.get("Labels") or (obj.get("Spec") or {}).get("Labels") or {}

    for svc in snapshot.get("services") or []:
        out.append(("service", (svc.get("Spec") or {}).get("Name", "")))
        stacks.add(labels_of(svc.get("Spec") or {}).get(STACK_LABEL, ""))
    for con in snapshot.get("containers") or []:
        names = con.get("Names") or []
        out.append(("container", (names[0] if names else con.get("Id", "")).lstrip("/")))
        stacks.add(labels_of(con).get(STACK_LABEL, ""))
    for vol in snapshot.get("volumes") or []:
        out.append(("volume", vol.get("Name", "")))
        stacks.add(labels_of(vol).get(STACK_LABEL, ""))
    for net in snapshot.get("networks") or []:
        out.append(("network", net.get("Name", "")))
        stacks.add(labels_of(net).get(STACK_LABEL, ""))
    for kind in ("secret", "config"):
        for obj in snapshot.get(kind + "s") or []:
            spec = obj.get("Spec") or {}
            out.append((kind, spec.get("Name", "")))
            stacks.add((spec.get("Labels") or {}).get(STACK_LABEL, ""))
    for node, names in sorted((snapshot.get("node_volumes") or {}).items()):
        out.extend(("volume", name, node) for name in names)
    out.extend(("stack", name) for name in sorted(stacks) if name)
    return [(item[0], item[1], item[2] if len(item) > 2 else "") for item in out]
