"""Docker Engine API of the twin, read through the docker SDK as the suite reads a manager."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import docker
import httpx
import pytest

from twin.server import TwinHandle


@pytest.fixture(params=["1.41", "auto"])
def client(twin: TwinHandle, request: pytest.FixtureRequest) -> Iterator[docker.DockerClient]:
    c = docker.DockerClient(base_url=twin.docker_url, version=request.param, timeout=5)
    yield c
    c.close()


def test_ping_version_info(client: docker.DockerClient, twin: TwinHandle) -> None:
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.41"
    info = client.info()
    assert info["Swarm"]["LocalNodeState"] == "active" and info["Swarm"]["ControlAvailable"] is True
    assert info["SystemTime"].startswith("2026-06-15T12:00:00")
    ping = httpx.get(twin.docker_url.replace("tcp://", "http://") + "/_ping")
    assert ping.headers["API-Version"] == "1.41" and ping.text == "OK"
    assert ping.headers["date"] == "Mon, 15 Jun 2026 12:00:00 GMT"


def test_nodes(client: docker.DockerClient) -> None:
    nodes = client.nodes.list()
    assert len(nodes) == 1 and nodes[0].attrs["Spec"]["Role"] == "manager"
    assert client.nodes.get(nodes[0].id).id == nodes[0].id


def test_services_and_tasks(client: docker.DockerClient) -> None:
    services = client.services.list()
    assert [s.name for s in services] == ["app_web"]
    web = services[0]
    assert web.attrs["Spec"]["Labels"] == {"com.docker.stack.namespace": "app"}
    assert web.attrs["UpdateStatus"]["State"] == "paused"
    assert client.services.list(filters={"name": "nope"}) == []
    assert [s.name for s in client.services.list(filters={"label": "com.docker.stack.namespace=app"})] == ["app_web"]
    for selector in (web.id, "app_web"):
        tasks = client.api.tasks(filters={"service": selector})
        assert {t["ServiceID"] for t in tasks} == {web.id}
        states = {t["Status"]["State"]: t for t in tasks}
        assert states["rejected"]["Status"]["Err"] == "could not find an available IP"
        assert states["rejected"]["DesiredState"] == "shutdown" and states["running"]["DesiredState"] == "running"
        assert "Err" not in states["running"]["Status"]
    assert [t["ServiceID"] for t in web.tasks()] == [web.id, web.id]
    with pytest.raises(docker.errors.NotFound, match="service other not found"):
        client.api.tasks(filters={"service": "other"})


def test_volumes_containers_secrets_configs(client: docker.DockerClient) -> None:
    raw = client.api.volumes()
    assert raw["Warnings"] == [] and [v["Name"] for v in raw["Volumes"]] == ["app_data"]
    assert [v.name for v in client.volumes.list()] == ["app_data"]
    assert [c.name for c in client.containers.list()] == ["app_web.1.abc"]
    assert sorted(c.name for c in client.containers.list(all=True)) == ["app_web.1.abc", "old"]
    assert [s.name for s in client.secrets.list()] == ["app_pw_v1"]
    assert [c.name for c in client.configs.list()] == ["app_conf_v1"]


def test_network_verbose_addresses(client: docker.DockerClient) -> None:
    assert [n.name for n in client.networks.list()] == ["proxy"]
    net = client.api.inspect_network("proxy", verbose=True)
    subnet = ipaddress.ip_network(net["IPAM"]["Config"][0]["Subnet"])
    gateway = net["IPAM"]["Config"][0]["Gateway"]
    assert gateway == "10.0.1.1"
    ips = [c["IPv4Address"].split("/")[0] for c in net["Containers"].values()]
    assert list(net["Containers"]) == ["lb-proxy"]
    for service in net["Services"].values():
        ips.append(service["VIP"])
        ips.extend(t["EndpointIP"] for t in service["Tasks"])
    assert len(ips) == len(set(ips)) == 9
    for ip in map(ipaddress.ip_address, ips):
        assert ip in subnet and ip not in (subnet.network_address, subnet.broadcast_address)
        assert str(ip) != gateway
    plain = client.api.inspect_network(net["Id"])
    assert plain["Containers"] == {} and "Services" not in plain


def test_unknown_objects_404(client: docker.DockerClient) -> None:
    with pytest.raises(docker.errors.NotFound):
        client.services.get("nope")
    with pytest.raises(docker.errors.NotFound):
        client.api.inspect_network("nope")
