"""GET /_ping, /version and /info of a Docker Engine 20.10 (API 1.41) swarm manager."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from twin.docker.models import HOSTNAME, DockerBackend, rfc3339nano

__all__ = ["API_VERSION", "ENGINE_VERSION", "info", "version"]

API_VERSION = "1.41"
MIN_API_VERSION = "1.12"
ENGINE_VERSION = "20.10.24"


def version() -> dict[str, Any]:
    details = {
        "ApiVersion": API_VERSION,
        "Arch": "amd64",
        "BuildTime": "2023-04-04T10:28:27.000000000+00:00",
        "Experimental": "false",
        "GitCommit": "5d6db84",
        "GoVersion": "go1.19.7",
        "KernelVersion": "6.1.0-18-amd64",
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux",
    }
    return {
        "Platform": {"Name": "Docker Engine - Community"},
        "Components": [{"Name": "Engine", "Version": ENGINE_VERSION, "Details": details}],
        "Version": ENGINE_VERSION,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "5d6db84",
        "GoVersion": "go1.19.7",
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": "6.1.0-18-amd64",
        "BuildTime": "2023-04-04T10:28:27.000000000+00:00",
    }


def engine_id(seed: str) -> str:
    """The daemon's ID as an engine of ENGINE_VERSION (20.10) reports it: moby daemon/info.go sets
    `ID: daemon.ID`, the libtrust key ID of the daemon's key (docker/libtrust util.go keyIDEncode:
    the first 240 bits of the key's SHA-256, base32, in twelve groups of four joined by `:`,
    `7TRN:IPZB:QYBB:VPBQ:UWM2:CBGS:...`). Engines from 23.0 write a UUID instead
    (daemon/id.go loadOrCreateID); neither carries a name of its own."""
    digest = hashlib.sha256(seed.encode()).digest()[:30]
    text = base64.b32encode(digest).decode().rstrip("=")
    return ":".join(text[i:i + 4] for i in range(0, 48, 4))


def info(backend: DockerBackend) -> dict[str, Any]:
    node = backend.node
    running = sum(1 for c in backend.containers if c["State"] == "running")
    paused = sum(1 for c in backend.containers if c["State"] == "paused")
    return {
        "ID": engine_id(node["ID"]),
        "Containers": len(backend.containers),
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": len(backend.containers) - running - paused,
        "Images": len({c["Image"] for c in backend.containers}),
        "Driver": "overlay2",
        "DriverStatus": [
            ["Backing Filesystem", "extfs"],
            ["Supports d_type", "true"],
            ["Native Overlay Diff", "true"],
            ["userxattr", "false"],
        ],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
            "Authorization": None,
            "Log": [
                "awslogs",
                "fluentd",
                "gcplogs",
                "gelf",
                "journald",
                "json-file",
                "local",
                "logentries",
                "splunk",
                "syslog",
            ],
        },
        "MemoryLimit": True,
        "SwapLimit": False,
        "KernelMemory": True,
        "KernelMemoryTCP": True,
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": True,
        "CPUSet": True,
        "PidsLimit": True,
        "IPv4Forwarding": True,
        "BridgeNfIptables": True,
        "BridgeNfIp6tables": True,
        "Debug": False,
        "NFd": 42,
        "OomKillDisable": True,
        "NGoroutines": 180,
        # The suite takes "now" from the services: the engine's clock is the world's.
        "SystemTime": rfc3339nano(backend.now),
        "LoggingDriver": "json-file",
        "CgroupDriver": "systemd",
        "CgroupVersion": "2",
        "NEventsListener": 0,
        "KernelVersion": "6.1.0-18-amd64",
        "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
        "OSVersion": "12",
        "OSType": "linux",
        "Architecture": "x86_64",
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {
            "AllowNondistributableArtifactsCIDRs": [],
            "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": ["127.0.0.0/8"],
            "IndexConfigs": {
                "docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True, "Official": True}
            },
            "Mirrors": [],
        },
        "NCPU": 2,
        "MemTotal": node["Description"]["Resources"]["MemoryBytes"],
        "GenericResources": None,
        "DockerRootDir": "/var/lib/docker",
        "HttpProxy": "",
        "HttpsProxy": "",
        "NoProxy": "",
        "Name": HOSTNAME,
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": ENGINE_VERSION,
        "Runtimes": {
            "io.containerd.runc.v2": {"path": "runc"},
            "io.containerd.runtime.v1.linux": {"path": "runc"},
            "runc": {"path": "runc"},
        },
        "DefaultRuntime": "runc",
        "Swarm": _swarm_info(backend),
        "LiveRestoreEnabled": False,
        "Isolation": "",
        "InitBinary": "docker-init",
        "ContainerdCommit": {"ID": "", "Expected": ""},
        "RuncCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""},
        "SecurityOptions": ["name=seccomp,profile=default", "name=cgroupns"],
        "Warnings": None,
    }


def _swarm_info(backend: DockerBackend) -> dict[str, Any]:
    """/info's Swarm: a manager's full picture; an engine in no swarm says `inactive` and no more."""
    node = backend.node
    if backend.swarm_state == "inactive":
        return {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False,
                "Error": "", "RemoteManagers": None}
    manager = backend.swarm_state == "active"
    out: dict[str, Any] = {
        "NodeID": node["ID"],
        "NodeAddr": node["Status"]["Addr"],
        "LocalNodeState": "active",
        "ControlAvailable": manager,
        "Error": "",
        "RemoteManagers": [{"NodeID": node["ID"], "Addr": node["ManagerStatus"]["Addr"]}],
    }
    if not manager:
        return out
    cluster = {key: value for key, value in backend.swarm_object().items() if key != "JoinTokens"}
    return {**out, "Nodes": 1, "Managers": 1, "Cluster": cluster}
