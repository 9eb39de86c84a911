"""The engine's `filters` query parameter: JSON `{"key": ["value", ...]}` (or the old map form)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from twin.http import BadRequest

__all__ = ["Filters", "parse_filters"]

Filters = dict[str, list[str]]


def parse_filters(text: str | None) -> Filters:
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        raise BadRequest(f"invalid filter {text!r}") from None
    if not isinstance(raw, dict):
        raise BadRequest(f"invalid filter {text!r}")
    out: Filters = {}
    for key, values in raw.items():
        # Old clients send {"key": {"value": true}}.
        out[key] = list(values) if isinstance(values, list) else [k for k, v in dict(values).items() if v]
    return out


def _label_ok(labels: dict[str, str], wanted: list[str]) -> bool:
    for entry in wanted:
        key, eq, value = entry.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


def apply(
    objects: list[dict[str, Any]],
    filters: Filters,
    fields: dict[str, Callable[[dict[str, Any]], Any]],
    *,
    name_prefix: bool = False,
) -> list[dict[str, Any]]:
    """Keep objects that pass every filter; `fields` maps a filter key to a getter.

    `label` matches key or key=value; `id` a prefix; `name` a substring (the local objects:
    moby's filters.Args.Match for containers, networks, volumes) or, with `name_prefix`, a
    prefix (the swarm objects: moby daemon/cluster/filters.go hands `name` to swarmkit as
    NamePrefixes for services, tasks, nodes, secrets and configs); any other key exactly.
    """
    kept = []
    for obj in objects:
        ok = True
        for key, wanted in filters.items():
            if not wanted:
                continue
            if key not in fields:
                raise BadRequest(f"invalid filter '{key}'")
            value = fields[key](obj)
            if key == "label":
                ok = _label_ok(value or {}, wanted)
            elif key == "name" and name_prefix:
                ok = any(str(value).startswith(w) for w in wanted)
            elif key == "name":
                ok = any(w in str(value) for w in wanted)
            elif key == "id":
                ok = any(str(value).startswith(w) for w in wanted)
            elif isinstance(value, list | tuple | set):
                ok = any(w in value for w in wanted)
            else:
                ok = str(value) in wanted
            if not ok:
                break
        if ok:
            kept.append(obj)
    return kept
