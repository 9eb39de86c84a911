"""The upgrade itself in `.env.sample` (gates.md "Other recipes' phases").

A recipe may take an image's tag from a variable with a default in `.env.sample`
(`DB_DOCKER_VERSION=17`, read by `image: postgres:${DB_DOCKER_VERSION:-17}`): changing such a
variable is the upgrade itself, as a new image tag in the compose file is. A variable that any
other compose value interpolates (an environment entry, a command, a label) is not only an
image's, and its change is a change beyond the upgrade.

Pure: the caller gives the file's text at both sides and the recipe's compose files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

ENV_SAMPLE = ".env.sample"

# `KEY=value`, `export KEY=value`, or the same commented out (`#KEY=value`, abra's optional lines).
_ASSIGN = re.compile(r"^\s{0,40}(#\s{0,8})?(?:export\s{1,8})?([A-Za-z_][A-Za-z0-9_]{0,127})\s{0,8}=(.{0,4096})$")
# `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `$VAR` (compose's interpolation).
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]{0,127})[^}]{0,512}\}|\$([A-Za-z_][A-Za-z0-9_]{0,127})")


def _entries(text: str) -> tuple[dict[str, str], list[str]]:
    """Variables (a commented-out one keyed `#KEY`) and the other non-blank lines."""
    values: dict[str, str] = {}
    other: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _ASSIGN.match(line)
        if m is None:
            other.append(line.strip())
            continue
        key = ("#" if m.group(1) else "") + m.group(2)
        values[key] = m.group(3).strip().strip("'\"")
    return values, other


def changed_variables(base: str, head: str) -> set[str] | None:
    """The variables whose line the change adds, removes or alters; None when a line that is no
    assignment changed (prose in the file: not a variable's change)."""
    b_vals, b_other = _entries(base)
    h_vals, h_other = _entries(head)
    if sorted(b_other) != sorted(h_other):
        return None
    return {k.lstrip("#") for k in set(b_vals) | set(h_vals) if b_vals.get(k) != h_vals.get(k)}


def _strings(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*path, str(key)))
            if isinstance(key, str):
                yield (*path, "<key>"), key
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, path)
    elif isinstance(node, str):
        yield path, node


def reference_places(compose_texts: Iterable[str | None]) -> dict[str, set[str]]:
    """For each variable the compose files interpolate: where (`image`, or `other`)."""
    places: dict[str, set[str]] = {}
    for text in compose_texts:
        if not text:
            continue
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        for path, value in _strings(doc, ()):
            where = "image" if len(path) == 3 and path[0] == "services" and path[2] == "image" else "other"
            for m in _REF.finditer(value):
                places.setdefault(m.group(1) or m.group(2), set()).add(where)
    return places


def is_upgrade_only(base: str | None, head: str | None, compose_texts: Iterable[str | None]) -> bool:
    """True when every variable the `.env.sample` change touches is one that only an image
    reference of the compose files interpolates: the change is the upgrade itself."""
    if base is None or head is None:
        return False  # added or removed: a new file of settings is not an image tag
    changed = changed_variables(base, head)
    if not changed:
        return False  # prose changed, or nothing a variable says: not the upgrade's
    places = reference_places(compose_texts)
    return all(places.get(var) == {"image"} for var in changed)
