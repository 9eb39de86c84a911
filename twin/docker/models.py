"""Docker Engine state: the world's flat `swarm` section expanded into engine JSON.

Expansion follows ../shared/worlds/README.md: service Name/Labels go under Spec, a task's
State/Err/Timestamp under Status, ids the world leaves out are made up (stable per name).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from twin.docker.network import network_object
from twin.http import NotFound
from twin.ids import hex_id, swarm_id

__all__ = ["DockerBackend", "rfc3339nano"]

# A task that is not meant to run any more: its desired state follows it (swarmkit).
STOPPED_STATES = frozenset({"shutdown", "complete", "failed", "rejected", "remove"})
NODE_ADDR = "10.10.0.2"
HOSTNAME = "manager-1"


def rfc3339nano(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


class DockerBackend:
    def __init__(self, swarm: dict[str, Any], now: datetime) -> None:
        self.now = now
        self.created = rfc3339nano(now - timedelta(days=30))
        self.node = self._node()
        self.networks_given = list(swarm.get("networks") or [])
        self.services: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        for given in swarm.get("services") or []:
            service = self._service(given)
            self.services.append(service)
            for slot, task in enumerate(given.get("tasks") or [], start=1):
                self.tasks.append(self._task(service, slot, task))
        self.volumes = [self._volume(v) for v in swarm.get("volumes") or []]
        self.containers = [self._container(c) for c in swarm.get("containers") or []]
        self.secrets = [self._spec_object("secret", s) for s in swarm.get("secrets") or []]
        self.configs = [self._spec_object("config", c) for c in swarm.get("configs") or []]

    # --- expansion --------------------------------------------------------------------------

    def _meta(self, object_id: str) -> dict[str, Any]:
        return {
            "ID": object_id,
            "Version": {"Index": 10},
            "CreatedAt": self.created,
            "UpdatedAt": self.created,
        }

    def _node(self) -> dict[str, Any]:
        node_id = swarm_id("node", HOSTNAME)
        return {
            **self._meta(node_id),
            "Spec": {"Labels": {}, "Role": "manager", "Availability": "active"},
            "Description": {
                "Hostname": HOSTNAME,
                "Platform": {"Architecture": "x86_64", "OS": "linux"},
                "Resources": {"NanoCPUs": 2000000000, "MemoryBytes": 4124626944},
                "Engine": {
                    "EngineVersion": "20.10.24",
                    "Plugins": [{"Type": "Network", "Name": "overlay"}, {"Type": "Volume", "Name": "local"}],
                },
                "TLSInfo": {"TrustRoot": "", "CertIssuerSubject": "", "CertIssuerPublicKey": ""},
            },
            "Status": {"State": "ready", "Addr": NODE_ADDR},
            "ManagerStatus": {"Leader": True, "Reachability": "reachable", "Addr": f"{NODE_ADDR}:2377"},
        }

    def _service(self, given: dict[str, Any]) -> dict[str, Any]:
        name = given["Name"]
        out: dict[str, Any] = {
            **self._meta(given.get("ID") or swarm_id("service", name)),
            "Spec": {
                "Name": name,
                "Labels": dict(given.get("Labels") or {}),
                "TaskTemplate": {
                    "ContainerSpec": {"Image": "", "Isolation": "default"},
                    "ForceUpdate": 0,
                    "Runtime": "container",
                },
                "Mode": {"Replicated": {"Replicas": 1}},
                "EndpointSpec": {"Mode": "vip"},
            },
            "Endpoint": {"Spec": {"Mode": "vip"}},
        }
        if given.get("UpdateStatus"):
            status = {"State": "", "StartedAt": self.created, "Message": ""}
            status.update(given["UpdateStatus"])
            out["UpdateStatus"] = status
        return out

    def _task(self, service: dict[str, Any], slot: int, given: dict[str, Any]) -> dict[str, Any]:
        state = given["State"]
        name = service["Spec"]["Name"]
        stamp = given.get("Timestamp") or rfc3339nano(self.now)
        status: dict[str, Any] = {"Timestamp": stamp, "State": state, "Message": state, "PortStatus": {}}
        if given.get("Err"):
            status["Err"] = given["Err"]  # omitempty in swarmkit's TaskStatus
        return {
            **self._meta(given.get("ID") or swarm_id("task", name, slot, stamp)),
            "Labels": {},
            "Spec": {"ContainerSpec": {"Image": "", "Isolation": "default"}, "ForceUpdate": 0},
            "ServiceID": service["ID"],
            "Slot": slot,
            "NodeID": self.node["ID"],
            "Status": status,
            "DesiredState": "shutdown" if state in STOPPED_STATES else "running",
        }

    def _volume(self, given: dict[str, Any]) -> dict[str, Any]:
        name = given["Name"]
        return {
            "CreatedAt": self.created.split(".")[0] + "Z",
            "Driver": given.get("Driver", "local"),
            "Labels": given.get("Labels") if given.get("Labels") is not None else None,
            "Mountpoint": f"/var/lib/docker/volumes/{name}/_data",
            "Name": name,
            "Options": None,
            "Scope": "local",
        }

    def _container(self, given: dict[str, Any]) -> dict[str, Any]:
        names = list(given.get("Names") or [])
        state = given.get("State", "running")
        return {
            "Id": given.get("Id") or hex_id("container", *names),
            "Names": names,
            "Image": given.get("Image", ""),
            "ImageID": "sha256:" + hex_id("image", given.get("Image", "")),
            "Command": "",
            "Created": int(self.now.timestamp()) - 3600,
            "Ports": [],
            "Labels": dict(given.get("Labels") or {}),
            "State": state,
            "Status": given.get("Status")
            or ("Up About an hour" if state == "running" else "Exited (0) 1 hour ago"),
            "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": {}},
            "Mounts": [],
        }

    def _spec_object(self, kind: str, given: dict[str, Any]) -> dict[str, Any]:
        spec = {"Name": given["Spec"]["Name"], "Labels": dict(given["Spec"].get("Labels") or {})}
        if kind == "config":
            spec["Data"] = ""
        return {**self._meta(given.get("ID") or swarm_id(kind, spec["Name"])), "Spec": spec}

    # --- reads ------------------------------------------------------------------------------

    def networks(self, verbose: bool = False) -> list[dict[str, Any]]:
        names = [s["Spec"]["Name"] for s in self.services]
        return [
            network_object(n, i, self.created, self.node, names, verbose)
            for i, n in enumerate(self.networks_given)
        ]

    def inspect_network(self, ref: str, verbose: bool) -> dict[str, Any]:
        for network in self.networks(verbose):
            if ref in (network["Id"], network["Name"]) or (len(ref) >= 3 and network["Id"].startswith(ref)):
                return network
        raise NotFound(f"network {ref} not found")

    def find(self, objects: list[dict[str, Any]], ref: str, kind: str, id_key: str = "ID") -> dict[str, Any]:
        for obj in objects:
            name = (obj.get("Spec") or {}).get("Name") or obj.get("Name")
            if ref in (obj.get(id_key), name) or obj.get(id_key, "").startswith(ref):
                return obj
        raise NotFound(f"{kind} {ref} not found")

    def find_container(self, ref: str) -> dict[str, Any]:
        for c in self.containers:
            if c["Id"].startswith(ref) or f"/{ref}" in c["Names"] or ref in c["Names"]:
                return c
        raise NotFound(f"No such container: {ref}")

    def container_inspect(self, ref: str) -> dict[str, Any]:
        c = self.find_container(ref)
        running = c["State"] == "running"
        return {
            "Id": c["Id"],
            "Created": self.created,
            "Path": "",
            "Args": [],
            "State": {
                "Status": c["State"],
                "Running": running,
                "Paused": False,
                "Restarting": False,
                "OOMKilled": False,
                "Dead": False,
                "Pid": 4242 if running else 0,
                "ExitCode": 0,
                "Error": "",
                "StartedAt": self.created,
                "FinishedAt": "0001-01-01T00:00:00Z",
            },
            "Image": c["ImageID"],
            "Name": c["Names"][0] if c["Names"] else "",
            "RestartCount": 0,
            "Driver": "overlay2",
            "Platform": "linux",
            "Mounts": [],
            "Config": {
                "Hostname": c["Id"][:12],
                "Image": c["Image"],
                "Labels": c["Labels"],
                "Env": [],
                "Cmd": None,
                "Entrypoint": None,
            },
            "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": {}},
        }
