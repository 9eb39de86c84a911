"""Docker Engine handlers: list and inspect, with the engine's `filters`."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from twin.docker import system
from twin.docker.filters import apply, parse_filters
from twin.docker.models import DockerBackend
from twin.http import NotFound, Reply, json_reply

__all__ = ["DockerResponses"]


def _truthy(request: Request, name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


def _spec_name(obj: dict) -> str:
    return obj["Spec"]["Name"]


def _spec_labels(obj: dict) -> dict:
    return obj["Spec"].get("Labels") or {}


class DockerResponses:
    def __init__(self, backend: DockerBackend) -> None:
        self.backend = backend

    def ping(self, request: Request) -> Reply:
        # moby api/server/router/system/system_routes.go pingHandler: the Swarm header is
        # "inactive", or "active/manager" / "active/worker".
        state = self.backend.swarm_state
        role = "active/manager" if state == "active" else "active/worker"
        headers = {
            "Swarm": "inactive" if state == "inactive" else role,
            "Cache-Control": "no-cache, no-store, must-revalidate",
            "Pragma": "no-cache",
        }
        body = b"" if request.method == "HEAD" else b"OK"
        return Reply(body=body, headers=headers, content_type="text/plain; charset=utf-8")

    def version(self, request: Request) -> Reply:
        return json_reply(system.version())

    def info(self, request: Request) -> Reply:
        return json_reply(system.info(self.backend))

    def swarm_inspect(self, request: Request) -> Reply:
        return json_reply(self.backend.swarm_object())

    def node_list(self, request: Request) -> Reply:
        self.backend.require_manager()
        nodes = apply(
            [self.backend.node],
            parse_filters(request.args.get("filters")),
            {
                "id": lambda n: n["ID"],
                "name": lambda n: n["Description"]["Hostname"],
                "role": lambda n: n["Spec"]["Role"],
                "membership": lambda n: "accepted",
                "label": lambda n: n["Spec"]["Labels"],
                "node.label": lambda n: n["Spec"]["Labels"],
            },
            name_prefix=True,
        )
        return json_reply(nodes)

    def node_inspect(self, request: Request, ref: str) -> Reply:
        self.backend.require_manager()
        return json_reply(self.backend.find([self.backend.node], ref, "node"))

    def service_list(self, request: Request) -> Reply:
        self.backend.require_manager()
        services = apply(
            self.backend.services,
            parse_filters(request.args.get("filters")),
            {
                "id": lambda s: s["ID"],
                "name": _spec_name,
                "label": _spec_labels,
                "mode": lambda s: "replicated",
                "runtime": lambda s: "container",
            },
            name_prefix=True,
        )
        if _truthy(request, "status"):
            # moby daemon/cluster/services.go GetServices: `status=true` (API 1.41) fills
            # ServiceStatus from swarmkit's ListServiceStatuses; without it the field is absent.
            services = [{**s, "ServiceStatus": self.backend.service_status(s)} for s in services]
        return json_reply(services)

    def service_inspect(self, request: Request, ref: str) -> Reply:
        self.backend.require_manager()
        return json_reply(self.backend.resolve_service(ref))

    def task_list(self, request: Request) -> Reply:
        """moby daemon/cluster/tasks.go GetTasks + swarmkit manager/controlapi/task.go ListTasks.

        `service` and `node` name or id are resolved to ids first (an unknown service is 404);
        `name` is a prefix over swarmkit's task name `<service>.<slot>.<id>` (api/naming);
        `label` matches the labels of the task's service (ServiceAnnotations), which is how
        `docker stack ps` finds a stack's tasks (label com.docker.stack.namespace=NAME).
        """
        self.backend.require_manager()
        filters = parse_filters(request.args.get("filters"))
        if filters.get("service"):
            filters["service"] = [self.backend.resolve_service(ref)["ID"] for ref in filters["service"]]
        if filters.get("node"):
            node = self.backend.node
            filters["node"] = [node["ID"] if ref in (node["Description"]["Hostname"], "self") else ref
                               for ref in filters["node"]]
        tasks = apply(
            self.backend.tasks,
            filters,
            {
                "id": lambda t: t["ID"],
                "name": self.backend.task_name,
                "label": lambda t: _spec_labels(self.backend.service_of(t) or {"Spec": {}}),
                "service": lambda t: t["ServiceID"],
                "node": lambda t: t["NodeID"],
                "desired-state": lambda t: t["DesiredState"],
                "runtime": lambda t: "container",
                "_up-to-date": lambda t: "true",
            },
            name_prefix=True,
        )
        return json_reply(tasks)

    def task_inspect(self, request: Request, ref: str) -> Reply:
        self.backend.require_manager()
        for task in self.backend.tasks:
            if task["ID"].startswith(ref):
                return json_reply(task)
        raise NotFound(f"task {ref} not found")

    def volume_list(self, request: Request) -> Reply:
        volumes = apply(
            self.backend.volumes,
            parse_filters(request.args.get("filters")),
            {
                "name": lambda v: v["Name"],
                "label": lambda v: v["Labels"] or {},
                "driver": lambda v: v["Driver"],
                "dangling": lambda v: "false",
            },
        )
        return json_reply({"Volumes": volumes, "Warnings": []})

    def volume_inspect(self, request: Request, ref: str) -> Reply:
        return json_reply(self.backend.find(self.backend.volumes, ref, "volume", id_key="Name"))

    def network_list(self, request: Request) -> Reply:
        networks = apply(
            self.backend.networks(),
            parse_filters(request.args.get("filters")),
            {
                "id": lambda n: n["Id"],
                "name": lambda n: n["Name"],
                "label": lambda n: n["Labels"],
                "driver": lambda n: n["Driver"],
                "scope": lambda n: n["Scope"],
                "type": lambda n: "custom" if n["Name"] != "ingress" else "builtin",
            },
        )
        return json_reply(networks)

    def network_inspect(self, request: Request, ref: str) -> Reply:
        return json_reply(self.backend.inspect_network(ref, verbose=_truthy(request, "verbose")))

    def container_list(self, request: Request) -> Reply:
        containers = self.backend.containers
        if not _truthy(request, "all"):
            containers = [c for c in containers if c["State"] == "running"]
        containers = apply(
            containers,
            parse_filters(request.args.get("filters")),
            {
                "id": lambda c: c["Id"],
                "name": lambda c: " ".join(c["Names"]),
                "label": lambda c: c["Labels"],
                "status": lambda c: c["State"],
            },
        )
        return json_reply(containers)

    def container_inspect(self, request: Request, ref: str) -> Reply:
        return json_reply(self.backend.container_inspect(ref))

    def _named_object_list(self, request: Request, objects: list[dict[str, Any]]) -> Reply:
        """Secrets and configs list alike: the same filters (id, label, name, names), names by prefix."""
        self.backend.require_manager()
        return json_reply(
            apply(
                objects,
                parse_filters(request.args.get("filters")),
                {"id": lambda s: s["ID"], "name": _spec_name, "label": _spec_labels, "names": _spec_name},
                name_prefix=True,
            )
        )

    def secret_list(self, request: Request) -> Reply:
        return self._named_object_list(request, self.backend.secrets)

    def secret_inspect(self, request: Request, ref: str) -> Reply:
        self.backend.require_manager()
        return json_reply(self.backend.find(self.backend.secrets, ref, "secret"))

    def config_list(self, request: Request) -> Reply:
        return self._named_object_list(request, self.backend.configs)

    def config_inspect(self, request: Request, ref: str) -> Reply:
        self.backend.require_manager()
        return json_reply(self.backend.find(self.backend.configs, ref, "config"))
