"""The lab: Swarm failures reproduced on a real engine (scripts/swarm-setup.sh brings one up).

Every object a lab test makes carries the label `ghostgates.lab=1` (and, where its name is free,
the prefix `ghostlab-`), is removed by the test's own finalizer, and the session ends with a
sweep that fails loudly if the engine still lists any of them.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import docker
import docker.errors
import docker.types
import pytest

LAB_LABEL = "ghostgates.lab"
LABELS = {LAB_LABEL: "1"}
PREFIX = os.environ.get("GHOSTGATES_LAB_PREFIX", "ghostlab-")
IMAGE = os.environ.get("GHOSTGATES_LAB_IMAGE", "ghostgates/busybox:lab")
STACK_LABEL = "com.docker.stack.namespace"
T = TypeVar("T")


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


NOTES: list[str] = []


def note(text: str) -> None:
    """Print a finding of the lab and keep it for the run's summary (shown without -s too)."""
    print(text)
    NOTES.append(text.strip("\n"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if NOTES:
        terminalreporter.write_sep("=", "ghost-gates lab: what the engine did")
        for line in NOTES:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.lab)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def lab_objects(client: docker.DockerClient) -> list[tuple[str, str]]:
    """(kind, name) of everything on the engine that the lab made (by label or by prefix)."""
    api = client.api
    flt = {"label": f"{LAB_LABEL}=1"}
    found: set[tuple[str, str]] = set()
    for svc in api.services():
        name = svc["Spec"]["Name"]
        if (svc["Spec"].get("Labels") or {}).get(LAB_LABEL) or name.startswith(PREFIX):
            found.add(("service", name))
    for con in api.containers(all=True):
        name = (con.get("Names") or ["/?"])[0].lstrip("/")
        if (con.get("Labels") or {}).get(LAB_LABEL) or name.startswith(PREFIX):
            found.add(("container", name))
    for vol in (api.volumes(filters=flt) or {}).get("Volumes") or []:
        found.add(("volume", vol["Name"]))
    for vol in (api.volumes() or {}).get("Volumes") or []:
        if vol["Name"].startswith(PREFIX):
            found.add(("volume", vol["Name"]))
    for net in api.networks():
        if (net.get("Labels") or {}).get(LAB_LABEL) or net["Name"].startswith(PREFIX):
            found.add(("network", net["Name"]))
    for kind, objs in (("secret", api.secrets()), ("config", api.configs())):
        for obj in objs:
            spec = obj["Spec"]
            if (spec.get("Labels") or {}).get(LAB_LABEL) or spec["Name"].startswith(PREFIX):
                found.add((kind, spec["Name"]))
    return sorted(found)


def service_containers(client: docker.DockerClient, services: set[str]) -> list[tuple[str, str]]:
    """The containers of these services' tasks, stopped ones included."""
    if not services:
        return []
    out = []
    for con in client.api.containers(all=True, filters={"label": "com.docker.swarm.service.name"}):
        if (con.get("Labels") or {}).get("com.docker.swarm.service.name") in services:
            out.append(("container", (con.get("Names") or ["/?"])[0].lstrip("/")))
    return out


ORDER = ("service", "container", "secret", "config", "network", "volume")


def remove_object(client: docker.DockerClient, kind: str, name: str) -> None:
    api = client.api
    try:
        if kind == "service":
            api.remove_service(name)
        elif kind == "container":
            api.remove_container(name, force=True, v=False)
        elif kind == "secret":
            api.remove_secret(name)
        elif kind == "config":
            api.remove_config(name)
        elif kind == "network":
            api.remove_network(name)
        elif kind == "volume":
            api.remove_volume(name, force=True)
    except docker.errors.NotFound:
        pass


def sweep(client: docker.DockerClient, objects: list[tuple[str, str]],
          timeout: float = 30) -> list[tuple[str, str]]:
    """Remove the objects in dependency order, retrying while services' tasks wind down.

    Returns what is still there at the deadline."""
    deadline = time.monotonic() + timeout
    pending = list(objects)
    services = {name for kind, name in objects if kind == "service"}
    while pending:
        for kind in ORDER:
            for obj in [o for o in pending if o[0] == kind]:
                try:
                    remove_object(client, *obj)
                except docker.errors.APIError:
                    continue  # in use: a service's task or endpoint not gone yet
        present = set(lab_objects(client))
        pending = [o for o in pending if o in present]
        # a removed service's task containers linger a moment: wait for (and remove) them too
        pending += [o for o in service_containers(client, services) if o not in pending]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    return pending


class Lab:
    """Makes engine objects for one test, labelled and tracked, and removes them after it."""

    def __init__(self, client: docker.DockerClient, test: str) -> None:
        self.client = client
        self.api = client.api
        self.test = test
        self.made: list[tuple[str, str]] = []
        self.token = secrets.token_hex(3)

    def name(self, what: str) -> str:
        return f"{PREFIX}{what}-{self.token}"

    def track(self, kind: str, name: str) -> None:
        if (kind, name) not in self.made:
            self.made.append((kind, name))

    @staticmethod
    def labels(extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**LABELS, **(extra or {})}

    def network(self, name: str, subnet: str | None = None, labels: dict[str, str] | None = None,
                **kw: Any) -> dict[str, Any]:
        ipam = None
        if subnet:
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        self.track("network", name)
        net = self.api.create_network(name, driver="overlay", ipam=ipam, labels=self.labels(labels),
                                      scope="swarm", **kw)
        return net

    def service(self, name: str, command: list[str], *, networks: list[str] | None = None,
                replicas: int = 1, labels: dict[str, str] | None = None,
                container_labels: dict[str, str] | None = None, **kw: Any) -> Any:
        self.track("service", name)
        return self.client.services.create(
            IMAGE, command, name=name, networks=networks or [], mode=docker.types.ServiceMode(
                "replicated", replicas=replicas),
            labels=self.labels(labels), container_labels=self.labels(container_labels or labels),
            stop_grace_period=1_000_000_000, **kw)

    def volume(self, name: str, labels: dict[str, str] | None = None) -> Any:
        self.track("volume", name)
        return self.client.volumes.create(name, labels=self.labels(labels))

    def secret(self, name: str, data: bytes, labels: dict[str, str] | None = None) -> Any:
        self.track("secret", name)
        return self.api.create_secret(name, data, labels=self.labels(labels))

    def config(self, name: str, data: bytes, labels: dict[str, str] | None = None) -> Any:
        self.track("config", name)
        return self.api.create_config(name, data, labels=self.labels(labels))

    def stopped_container(self, name: str, labels: dict[str, str] | None = None) -> Any:
        self.track("container", name)
        con = self.client.containers.run(IMAGE, ["true"], name=name, detach=True,
                                         labels=self.labels(labels))
        con.wait(timeout=30)
        return con

    def cleanup(self) -> list[tuple[str, str]]:
        return sweep(self.client, list(reversed(self.made)))


@pytest.fixture(scope="session")
def engine() -> Iterator[docker.DockerClient]:
    """The engine at DOCKER_HOST (or the default socket), a swarm manager with the lab image.

    Skips the lab, with the reason, when no such engine answers. At the end of the session, every
    lab object still listed is removed and the session fails loudly naming it."""
    host = docker_host()
    try:
        client = docker.DockerClient(base_url=host, version="auto", timeout=30)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the engine means: no lab here
        why = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        pytest.skip(f"lab: no Docker engine answers at {host} ({why}); run scripts/swarm-setup.sh first")
    info = client.info()
    swarm = info.get("Swarm") or {}
    if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
        pytest.skip(f"lab: the engine at {host} is not a swarm manager "
                    f"(state {swarm.get('LocalNodeState')!r}); run scripts/swarm-setup.sh first")
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"lab: image {IMAGE} is missing at {host}; run scripts/swarm-setup.sh first")
    left_before = lab_objects(client)
    if left_before:
        note(f"[lab] removing objects left by an earlier lab run: {left_before}")
        sweep(client, left_before)
    yield client
    remains = lab_objects(client)
    if remains:
        still = sweep(client, remains, timeout=60)
        raise AssertionError(
            "LAB LEAK: the lab session ended with its objects still on the engine: "
            f"{remains}; after a final sweep still there: {still or 'nothing'}")
    note("[lab] final check: no lab objects listed by the engine "
          "(services, containers, volumes, networks, secrets, configs)")


def _lab_for(engine: docker.DockerClient, name: str) -> Iterator[Lab]:
    the_lab = Lab(engine, name)
    yield the_lab
    still = the_lab.cleanup()
    if still:
        raise AssertionError(f"lab: {name} could not remove {still}")


@pytest.fixture(scope="module")
def module_lab(engine: docker.DockerClient, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A Lab shared by one module's tests; its objects are removed after the module."""
    yield from _lab_for(engine, request.module.__name__)


@pytest.fixture
def lab(engine: docker.DockerClient, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A Lab for one test; its objects are removed when the test ends, pass or fail."""
    yield from _lab_for(engine, request.node.name)


def task_state(api: Any, service: str) -> list[dict[str, Any]]:
    """The service's tasks; none once the service is gone."""
    try:
        return api.tasks(filters={"service": service})
    except docker.errors.NotFound:
        return []


def running_replicas(api: Any, service: str) -> int:
    return sum(1 for t in task_state(api, service) if t["Status"]["State"] == "running"
               and t["DesiredState"] == "running")
