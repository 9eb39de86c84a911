"""A Gitea client generated at import time from Gitea's swagger, with typed models.

Nobody here wrote its answers' shapes: every operation, path, query and response model comes
from `gitea-swagger-v1.26.3.json`. Each `definitions` entry becomes a frozen dataclass, and
every answer is decoded strictly into them, as a typed generated client (the Go SDK, a
datamodel-codegen model with `extra=forbid` and strict types) would:

- a field the model does not define is an error (the twin invents nothing);
- integers are ints (never bools or floats), booleans bools, strings strings, enums in range;
- a `date-time` is RFC 3339 with an offset, and is decoded to an aware datetime;
- a status the operation does not declare is an error.

Gitea is Go: a nil pointer, slice or time marshals as null, so null is accepted where Go may
write it (a $ref, an array, a date-time, a map, and the plain pointer fields below).
"""

from __future__ import annotations

import dataclasses
import json
import keyword
import re
import ssl
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

SWAGGER = Path(__file__).resolve().parents[2] / ".." / "shared" / "contracts" / "gitea-swagger-v1.26.3.json"
# Plain-typed fields that are Go pointers in Gitea's structs (modules/structs), so null when unset.
POINTER_FIELDS = frozenset({"merge_commit_sha", "target", "submodule_git_url", "encoding", "content",
                            "download_url"})
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class StrictDecodeError(AssertionError):
    """An answer that Gitea's own models cannot hold; the message names the JSON path."""


@cache
def spec() -> dict[str, Any]:
    return json.loads(SWAGGER.read_text())


def _field_name(name: str) -> str:
    out = re.sub(r"\W", "_", name)
    return out + "_" if keyword.iskeyword(out) or out[:1].isdigit() else out


@cache
def model(name: str) -> type:
    """The dataclass generated for definition `name`; its fields are the definition's properties."""
    props = spec()["definitions"][name].get("properties") or {}
    fields = [(_field_name(p), Any, dataclasses.field(default=None)) for p in props]
    cls = dataclasses.make_dataclass(name, fields, frozen=True)
    cls.__swagger_properties__ = {p: _field_name(p) for p in props}  # type: ignore[attr-defined]
    return cls


def decode(schema: dict[str, Any], value: Any, path: str = "$", *, pointer: bool = False) -> Any:
    """`value` decoded into the typed model `schema` describes, or StrictDecodeError."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if value is None:
            return None  # a nil *Struct
        definition = spec()["definitions"][name]
        if definition.get("type", "object") != "object" or "properties" not in definition:
            return decode(definition, value, path)
        if not isinstance(value, dict):
            raise StrictDecodeError(f"{path}: {name} must be an object, got {type(value).__name__}")
        cls = model(name)
        names = cls.__swagger_properties__  # type: ignore[attr-defined]
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise StrictDecodeError(f"{path}: {name} has no field(s) {', '.join(unknown)}")
        props = definition["properties"]
        return cls(**{names[k]: decode(props[k], v, f"{path}.{k}", pointer=k in POINTER_FIELDS)
                      for k, v in value.items()})
    kind = schema.get("type")
    if kind is None:
        return value  # swagger's "any" (interface{})
    if value is None:
        if kind in ("array", "object") or schema.get("format") == "date-time" or pointer:
            return None
        raise StrictDecodeError(f"{path}: null where Gitea's model has a plain {kind}")
    if kind == "array":
        if not isinstance(value, list):
            raise StrictDecodeError(f"{path}: expected an array, got {type(value).__name__}")
        return [decode(schema.get("items") or {}, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "object":
        if not isinstance(value, dict):
            raise StrictDecodeError(f"{path}: expected an object, got {type(value).__name__}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return {k: decode(extra, v, f"{path}.{k}") for k, v in value.items()}
        return dict(value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise StrictDecodeError(f"{path}: expected an integer, got {value!r}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StrictDecodeError(f"{path}: expected a number, got {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise StrictDecodeError(f"{path}: expected a boolean, got {value!r}")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise StrictDecodeError(f"{path}: expected a string, got {value!r}")
        if "enum" in schema and value not in schema["enum"]:
            raise StrictDecodeError(f"{path}: {value!r} is not one of {schema['enum']}")
        if schema.get("format") == "date-time":
            if not RFC3339.match(value):
                raise StrictDecodeError(f"{path}: {value!r} is not an RFC 3339 date-time")
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value
    raise StrictDecodeError(f"{path}: swagger type {kind!r} is not modelled")


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the decoded model(s); None for a body-less answer
    headers: httpx.Headers


@cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS context (certificates verified), made once: making one reads the CA bundle,
    a third of what a client over one world costs (httpx shares a context across clients the same way)."""
    return httpx.create_ssl_context()


class GiteaClient:
    """Operations by swagger operationId: `client.call("repoGetPullRequest", owner=..., index=4)`."""

    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/") + spec().get("basePath", "/api/v1"),
                                 headers={"Authorization": f"token {token}"}, timeout=10, follow_redirects=False,
                                 verify=_tls())
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for template, ops in spec()["paths"].items():
            for method, op in ops.items():
                if isinstance(op, dict) and "operationId" in op:
                    self.operations[op["operationId"]] = (method.upper(), template, op)

    def close(self) -> None:
        self.http.close()

    def call(self, operation: str, **args: Any) -> Answer:
        method, template, op = self.operations[operation]
        path_names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
        query_names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        unknown = set(args) - path_names - query_names
        if unknown:
            raise TypeError(f"{operation} takes no parameter(s) {sorted(unknown)}")
        path = template
        for name in path_names:
            safe = "/" if name in ("filepath", "ref") else ""
            path = path.replace("{" + name + "}", quote(str(args[name]), safe=safe))
        query = {k: v for k, v in args.items() if k in query_names}
        response = self.http.request(method, path, params=query)
        declared = op["responses"].get(str(response.status_code))
        if declared is None:
            raise StrictDecodeError(f"{operation}: status {response.status_code} is not one the swagger declares "
                                    f"({', '.join(op['responses'])})")
        if "$ref" in declared:
            declared = spec()["responses"][declared["$ref"].rsplit("/", 1)[1]]
        schema = declared.get("schema")
        if schema is None or response.status_code >= 300:
            return Answer(response.status_code, None, response.headers)
        if schema.get("type") == "file":
            return Answer(response.status_code, response.content, response.headers)
        return Answer(response.status_code, decode(schema, response.json(), f"{operation}"), response.headers)

    def pages(self, operation: str, **args: Any) -> list[Any]:
        """Every item of a paged list, following X-Total-Count."""
        items: list[Any] = []
        page = 1
        while True:
            answer = self.call(operation, page=page, limit=50, **args)
            items.extend(answer.body or [])
            total = int(answer.headers.get("x-total-count", len(items)))
            if len(items) >= total or not answer.body:
                return items
            page += 1
