"""The twin's Docker API against the real engine: same field names, types and meanings.

Two checks on `fetch_swarm` snapshots, one from the lab engine (with lab objects of every kind
the suite reads) and one from the twin serving a shared world:

1. every field the suite reads (SUITE_READS) is present in both, with the same JSON type, and
   means the same (a time the suite's parser reads, a CIDR, an address, a state from the
   engine's list);
2. the twin invents nothing: every field path of a twin object exists on the real engine's
   objects of the same kind, with a type the engine also uses there.

Map keys that are names rather than field names (labels, endpoint and service names in a
network's inspect, plugin names) are folded into `{}` so the two sides compare.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import docker
import docker.types
import pytest
import yaml

from ghostgates.fetch.engine import EngineTarget, read_swarm
from ghostgates.timeutil import parse_time

from .conftest import STACK_LABEL, Lab, docker_host, note, running_replicas, task_state, wait_for

WORLD = Path(__file__).resolve().parents[3] / "shared" / "worlds" / "leaked-volume.yaml"
TWIN_PROXY = "proxy"
S = 1_000_000_000

TASK_STATES = {"new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting",
               "running", "complete", "shutdown", "failed", "rejected", "remove", "orphaned"}
UPDATE_STATES = {"updating", "paused", "completed", "rollback_started", "rollback_paused",
                 "rollback_completed"}
CONTAINER_STATES = {"created", "restarting", "running", "removing", "paused", "exited", "dead"}

# (collection, path, JSON type, meaning). `[]` walks a list, `{}` every value of a name-keyed map.
# The fields ghostgates/fetch/engine.py and ghostgates/rules read from a snapshot (and the ones an
# operator's evidence names), kept beside the parity check that guards them.
SUITE_READS: list[tuple[str, str, str, str]] = [
    ("info", "SystemTime", "str", "time"),
    ("info", "Swarm.LocalNodeState", "str", "word"),
    ("info", "Swarm.ControlAvailable", "bool", ""),
    ("info", "Swarm.NodeID", "str", ""),
    ("nodes", "ID", "str", ""),
    ("nodes", "Description.Hostname", "str", ""),
    ("nodes", "Status.State", "str", "word"),
    ("nodes", "Spec.Availability", "str", "word"),
    ("networks", "Id", "str", ""),
    ("networks", "Name", "str", ""),
    ("networks", "Driver", "str", ""),
    ("networks", "Scope", "str", ""),
    ("networks", "Labels", "dict", ""),
    ("networks", "IPAM.Config[].Subnet", "str", "cidr"),
    ("network_inspect", "Name", "str", ""),
    ("network_inspect", "IPAM.Config[].Subnet", "str", "cidr"),
    ("network_inspect", "IPAM.Config[].Gateway", "str", "ip"),
    ("network_inspect", "Containers{}.Name", "str", ""),
    ("network_inspect", "Containers{}.IPv4Address", "str", "ip/prefix"),
    ("network_inspect", "Services{}.VIP", "str", "ip"),
    ("network_inspect", "Services{}.Tasks[].Name", "str", ""),
    ("network_inspect", "Services{}.Tasks[].EndpointIP", "str", "ip"),
    ("services", "ID", "str", ""),
    ("services", "Spec.Name", "str", ""),
    ("services", "Spec.Labels", "dict", ""),
    ("services", "UpdateStatus.State", "str", "update-state"),
    ("services", "UpdateStatus.Message", "str", ""),
    ("tasks", "ID", "str", ""),
    ("tasks", "ServiceID", "str", ""),
    ("tasks", "Slot", "int", ""),
    ("tasks", "DesiredState", "str", "task-state"),
    ("tasks", "Status.State", "str", "task-state"),
    ("tasks", "Status.Timestamp", "str", "time"),
    ("tasks", "Status.Message", "str", ""),
    ("tasks", "Status.Err", "str", ""),
    ("volumes", "Name", "str", ""),
    ("volumes", "Labels", "dict", ""),
    ("volumes", "CreatedAt", "str", "time"),
    ("containers", "Id", "str", ""),
    ("containers", "Names[]", "str", "slash-name"),
    ("containers", "Labels", "dict", ""),
    ("containers", "State", "str", "container-state"),
    ("secrets", "ID", "str", ""),
    ("secrets", "Spec.Name", "str", ""),
    ("secrets", "Spec.Labels", "dict", ""),
    ("configs", "ID", "str", ""),
    ("configs", "Spec.Name", "str", ""),
    ("configs", "Spec.Labels", "dict", ""),
]

FIELD = re.compile(r"^[A-Z][A-Za-z0-9]*$")
JSON_TYPES = {str: "str", bool: "bool", int: "int", float: "float", dict: "dict", list: "list",
              type(None): "null"}


def _type(value: Any) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def flatten(obj: Any, path: str = "", out: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Every field path of `obj` with the JSON types seen there."""
    out = out if out is not None else defaultdict(set)
    if path:
        out[path].add(_type(obj))
    if isinstance(obj, dict):
        for key, value in obj.items():
            step = key if FIELD.match(str(key)) else "{}"
            flatten(value, f"{path}.{step}" if path else step, out)
    elif isinstance(obj, list):
        for value in obj:
            flatten(value, f"{path}[]", out)
    return out


def values_at(obj: Any, path: str) -> list[Any]:
    """The values at a SUITE_READS path (missing steps give nothing)."""
    items = [obj]
    for step in re.findall(r"[A-Za-z0-9]+|\[\]|\{\}", path):
        nxt: list[Any] = []
        for item in items:
            if step == "[]" and isinstance(item, list):
                nxt.extend(item)
            elif step == "{}" and isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, dict) and step in item:
                nxt.append(item[step])
        items = nxt
    return items


def collection(snapshot: dict[str, Any], name: str) -> list[Any]:
    if name == "info":
        return [snapshot["info"]]
    if name == "network_inspect":
        return list(snapshot["network_inspect"].values())
    return list(snapshot[name])


def meaning_problem(meaning: str, value: Any) -> str | None:
    try:
        if meaning == "time":
            parse_time(value)
        elif meaning == "cidr":
            ipaddress.ip_network(value, strict=False)
            assert "/" in value
        elif meaning == "ip":
            ipaddress.ip_address(value)
        elif meaning == "ip/prefix":
            ipaddress.ip_interface(value)
            assert "/" in value
        elif meaning == "word":
            assert re.fullmatch(r"[a-z]+", value)
        elif meaning == "task-state":
            assert value in TASK_STATES
        elif meaning == "update-state":
            assert value in UPDATE_STATES
        elif meaning == "container-state":
            assert value in CONTAINER_STATES
        elif meaning == "slash-name":
            assert value.startswith("/")
    except (AssertionError, ValueError, TypeError) as exc:
        return f"{value!r} is not a {meaning} ({type(exc).__name__})"
    return None


@pytest.fixture(scope="module")
def real_snapshot(module_lab: Lab, engine: docker.DockerClient) -> dict[str, Any]:
    """The lab engine with one object of each kind the suite reads, in the states it reads."""
    api = engine.api
    lab = module_lab
    net = lab.name("parity")
    lab.network(net, subnet="10.213.255.224/28", labels={STACK_LABEL: "ghostlab"})
    web = lab.name("parity-web")
    lab.service(web, ["sleep", "1d"], networks=[net], labels={STACK_LABEL: "ghostlab"},
                endpoint_spec=docker.types.EndpointSpec(mode="vip"),  # as the CLI and stack deploy set it
                update_config=docker.types.UpdateConfig(monitor=S // 2, failure_action="pause"))
    broken = lab.name("parity-broken")
    lab.service(broken, ["false"], restart_policy=docker.types.RestartPolicy(condition="none"))
    lab.volume(lab.name("parity"), labels={STACK_LABEL: "ghostlab"})
    lab.secret(lab.name("parity"), b"x", labels={STACK_LABEL: "ghostlab"})
    lab.config(lab.name("parity"), b"x", labels={STACK_LABEL: "ghostlab"})
    lab.stopped_container(lab.name("parity-stopped"))
    wait_for(f"{web} running", lambda: running_replicas(api, web) == 1, 30)
    engine.services.get(web).update(labels={STACK_LABEL: "ghostlab", "ghostgates.lab": "1", "rev": "2"})
    wait_for(f"{web} update completed", lambda: (api.inspect_service(web).get("UpdateStatus") or {})
             .get("State") == "completed" and running_replicas(api, web) == 1, 30)
    wait_for(f"{broken} failed", lambda: any(t["Status"].get("Err") for t in task_state(api, broken)), 30)
    return read_swarm(EngineTarget(docker_host()), proxy_network=net)


@pytest.fixture(scope="module")
def twin_snapshot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The twin serving a shared world, plus a failed task and a paused update (no shared world
    has them), so that every field the suite reads has a value on the twin's side too."""
    server = pytest.importorskip("twin.server", reason="the twin (twin/server.py) is not there yet")
    if not WORLD.exists():
        pytest.skip(f"no world at {WORLD}")
    world = yaml.safe_load(WORLD.read_text())
    world["world"] = "lab-parity"
    world["swarm"]["services"].append({
        "Name": "ghostlab_paused",
        "Labels": {STACK_LABEL: "ghostlab"},
        "UpdateStatus": {"State": "paused",
                         "Message": "update paused due to failure or early termination of task x"},
        "tasks": [{"State": "failed", "Err": "task: non-zero exit (137): dockerexec: unhealthy container",
                   "Timestamp": "2026-06-15T11:58:00Z"},
                  {"State": "new", "Err": "", "Timestamp": "2026-06-15T11:59:00Z"}],
    })
    path = tmp_path_factory.mktemp("world") / "lab-parity.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    with server.running_twin(path) as handle:
        return read_swarm(EngineTarget(handle.docker_url, {}), proxy_network=TWIN_PROXY)


def test_fields_the_suite_reads_match(real_snapshot: dict[str, Any], twin_snapshot: dict[str, Any]) -> None:
    problems: list[str] = []
    for coll, path, jtype, meaning in SUITE_READS:
        for side, snap in (("engine", real_snapshot), ("twin", twin_snapshot)):
            values = [v for obj in collection(snap, coll) for v in values_at(obj, path)]
            if not values:
                problems.append(f"{side}: {coll}.{path}: absent")
                continue
            types = {_type(v) for v in values} - {"null"}
            if types != {jtype}:
                problems.append(f"{side}: {coll}.{path}: type {sorted(types) or ['null']}, expected {jtype}")
            if meaning:
                for v in values:
                    if v is not None and (p := meaning_problem(meaning, v)):
                        problems.append(f"{side}: {coll}.{path}: {p}")
                        break
    note(f"\n[parity] {len(SUITE_READS)} fields the suite reads, checked on the engine "
          f"({real_snapshot['info'].get('ServerVersion')}) and the twin")
    assert not problems, "\n".join(problems)


def test_twin_invents_no_field(real_snapshot: dict[str, Any], twin_snapshot: dict[str, Any]) -> None:
    problems: list[str] = []
    checked = 0
    for coll in ("info", "nodes", "networks", "network_inspect", "services", "tasks", "volumes",
                 "containers", "secrets", "configs"):
        real: dict[str, set[str]] = defaultdict(set)
        for obj in collection(real_snapshot, coll):
            flatten(obj, out=real)
        twin: dict[str, set[str]] = defaultdict(set)
        for obj in collection(twin_snapshot, coll):
            flatten(obj, out=twin)
        for path, types in sorted(twin.items()):
            checked += 1
            if path not in real:
                problems.append(f"{coll}.{path}: the twin has it, the engine does not")
            elif not (types - {"null"}) <= real[path]:
                problems.append(f"{coll}.{path}: twin {sorted(types)}, engine {sorted(real[path])}")
    note(f"\n[parity] {checked} field paths of the twin's objects found on the real engine")
    assert not problems, "\n".join(problems)
