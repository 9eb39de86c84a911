"""Docker Engine state: the world's flat `swarm` section expanded into engine JSON.

Expansion follows ../shared/worlds/README.md: service Name/Labels go under Spec, a task's
State/Err/Timestamp under Status, ids the world leaves out are made up (stable per name).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from twin.docker.network import network_object
from twin.http import BadRequest, NotFound, Unavailable
from twin.ids import hex_id, swarm_id

__all__ = ["DockerBackend", "engine_time", "rfc3339nano", "task_name"]

# A task that is not meant to run any more: its desired state follows it (swarmkit).
STOPPED_STATES = frozenset({"shutdown", "complete", "failed", "rejected", "remove"})
NODE_ADDR = "10.10.0.2"
SWARM_STATES = ("active", "inactive", "worker")
# moby daemon/cluster/errors.go (Engine 20.10): what a node that cannot answer for the swarm says.
NO_SWARM = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect '
            "this node to swarm and try again.")
NOT_MANAGER = ("This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. "
               "Please run this command on a manager node or promote the current node to a manager.")


class NotManager(Unavailable):
    """The engine is not an active swarm manager: 503, as moby's notAvailableError."""
HOSTNAME = "manager-1"


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$", re.IGNORECASE)


def rfc3339nano(moment: datetime) -> str:
    """A time as the engine writes one: UTC, nine fractional digits (Go's time.Time in JSON).

    Go's RFC3339Nano drops trailing zeros; real stamps almost never end in one, and the twin
    keeps all nine so that every client reads nanoseconds, as it must from a live engine.
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def engine_time(text: str) -> str:
    """A world's RFC 3339 time (any fraction, any offset) in the engine's nine-digit UTC form.

    The instant is kept to the nanosecond: digits past the sixth are carried as written.
    """
    m = _STAMP.match(text.strip())
    if not m:
        return text
    whole, fraction, zone = m.group(1), (m.group(2) or ""), m.group(3).upper()
    fraction = fraction.ljust(9, "0")
    base = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone)).astimezone(UTC)
    return base.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


def task_name(service_name: str, slot: int, task_id: str) -> str:
    """swarmkit api/naming/naming.go Task(): `<service>.<slot>.<id>` for a replicated task."""
    return f"{service_name}.{slot}.{task_id}"


class DockerBackend:
    def __init__(self, swarm: dict[str, Any], now: datetime, swarm_state: str = "active") -> None:
        self.now = now
        # `active` (a manager), or `inactive` (an engine that is in no swarm): the suite must say
        # so rather than read an empty Swarm as a clean one.
        self.swarm_state = swarm_state
        self.created = rfc3339nano(now - timedelta(days=30))
        self.node = self._node()
        self.networks_given = list(swarm.get("networks") or [])
        self.services: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        for given in swarm.get("services") or []:
            service = self._service(given)
            self.services.append(service)
            for slot, task in enumerate(given.get("tasks") or [], start=1):
                self.tasks.append(self._task(service, int(task.get("Slot") or slot), task))
            # Replicas the orchestrator keeps: the tasks meant to run (at least one).
            wanted = sum(1 for t in self.tasks if t["ServiceID"] == service["ID"] and t["DesiredState"] == "running")
            service["Spec"]["Mode"]["Replicated"]["Replicas"] = int(given.get("Replicas") or max(1, wanted))
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
                    "ContainerSpec": {"Image": str(given.get("Image") or ""), "Isolation": "default"},
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
            for key in ("StartedAt", "CompletedAt"):
                if isinstance(status.get(key), str):
                    status[key] = engine_time(status[key])
            out["UpdateStatus"] = status
        return out

    def _task(self, service: dict[str, Any], slot: int, given: dict[str, Any]) -> dict[str, Any]:
        state = given["State"]
        name = service["Spec"]["Name"]
        stamp = engine_time(given["Timestamp"]) if given.get("Timestamp") else rfc3339nano(self.now)
        status: dict[str, Any] = {"Timestamp": stamp, "State": state, "Message": given.get("Message") or state,
                                  "PortStatus": {}}
        if given.get("Err"):
            status["Err"] = given["Err"]  # omitempty in swarmkit's TaskStatus
        task_id = given.get("ID") or swarm_id("task", name, slot, given.get("Timestamp") or stamp)
        return {
            **self._meta(task_id),
            "Labels": {},
            "Spec": {"ContainerSpec": dict(service["Spec"]["TaskTemplate"]["ContainerSpec"]), "ForceUpdate": 0},
            "ServiceID": service["ID"],
            "Slot": slot,
            "NodeID": self.node["ID"],
            "Status": status,
            "DesiredState": given.get("DesiredState") or ("shutdown" if state in STOPPED_STATES else "running"),
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

    def require_manager(self) -> None:
        """moby daemon/cluster/errors.go: a node that is not an active manager answers 503."""
        if self.swarm_state == "inactive":
            raise NotManager(NO_SWARM)
        if self.swarm_state != "active":
            raise NotManager(NOT_MANAGER)

    def service_of(self, task: dict[str, Any]) -> dict[str, Any] | None:
        return next((s for s in self.services if s["ID"] == task["ServiceID"]), None)

    def task_name(self, task: dict[str, Any]) -> str:
        service = self.service_of(task)
        return task_name(service["Spec"]["Name"] if service else "", task["Slot"], task["ID"])

    def service_status(self, service: dict[str, Any]) -> dict[str, int]:
        """swarmkit manager/controlapi/service.go ListServiceStatuses, for a replicated service."""
        mine = [t for t in self.tasks if t["ServiceID"] == service["ID"]]
        running = sum(1 for t in mine if t["DesiredState"] == "running" and t["Status"]["State"] == "running")
        return {"RunningTasks": running, "DesiredTasks": service["Spec"]["Mode"]["Replicated"]["Replicas"],
                "CompletedTasks": 0}

    def resolve_service(self, ref: str) -> dict[str, Any]:
        """moby daemon/cluster/helpers.go getService: full id, then exact name, then a unique id prefix."""
        for service in self.services:
            if service["ID"] == ref:
                return service
        for service in self.services:
            if service["Spec"]["Name"] == ref:
                return service
        prefixed = [s for s in self.services if s["ID"].startswith(ref)]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise BadRequest(f"service {ref} is ambiguous ({len(prefixed)} matches found)")
        raise NotFound(f"service {ref} not found")

    def swarm_object(self) -> dict[str, Any]:
        """GET /swarm: the cluster object with its join tokens (moby api/types/swarm/swarm.go Swarm)."""
        self.require_manager()
        node_id = self.node["ID"]
        return {
            "ID": node_id[::-1],
            "Version": {"Index": 10},
            "CreatedAt": self.created,
            "UpdatedAt": self.created,
            "Spec": {
                "Name": "default",
                "Labels": {},
                "Orchestration": {"TaskHistoryRetentionLimit": 5},
                "Raft": {"SnapshotInterval": 10000, "KeepOldSnapshots": 0, "LogEntriesForSlowFollowers": 500,
                         "ElectionTick": 10, "HeartbeatTick": 1},
                "Dispatcher": {"HeartbeatPeriod": 5000000000},
                "CAConfig": {"NodeCertExpiry": 7776000000000000},
                "TaskDefaults": {},
                "EncryptionConfig": {"AutoLockManagers": False},
            },
            "TLSInfo": self.node["Description"]["TLSInfo"],
            "RootRotationInProgress": False,
            "DefaultAddrPool": ["10.0.0.0/8"],
            "SubnetSize": 24,
            "DataPathPort": 4789,
            "JoinTokens": {
                "Worker": "SWMTKN-1-" + hex_id("worker", node_id, length=50) + "-" + hex_id("w", node_id, length=25),
                "Manager": "SWMTKN-1-" + hex_id("worker", node_id, length=50) + "-" + hex_id("m", node_id, length=25),
            },
        }

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
