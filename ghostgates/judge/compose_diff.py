"""What a PR changes beyond the upgrade itself (for `M2.fix-minimal`).

gates.md: the PR's changes beyond the upgrade (image tags, version labels, release notes under
`release/`) may touch only deploy-timing and health settings of compose files (the keys of
`update_config` and `rollback_config`, the timing keys of `healthcheck` (`interval`, `timeout`,
`retries`, `start_period`, `start_interval`), `restart_policy` and `stop_grace_period`; a health
check's `test`, or disabling it, is a change beyond the upgrade). So every change is sorted into one of three
kinds: `upgrade`, `timing` or `other`. The diff is semantic (parsed YAML, not text lines), so a
reformatted file or a label list rewritten as a mapping is no change, and a new `deploy:` block
is reported leaf by leaf.

Pure functions: the caller fetches the ChangedFile list and the compose texts at both shas.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ghostgates.judge.classify import is_root_compose_file

UPGRADE = "upgrade"
TIMING = "timing"
OTHER = "other"

# Service keys whose every sub-key is deploy timing or health (gates.md M2.fix-minimal).
_TIMING_DEPLOY_KEYS = frozenset({"update_config", "rollback_config", "restart_policy"})
# A health check's timing keys (compose-spec healthcheck); its `test` and `disable` are not timing.
_TIMING_HEALTH_KEYS = frozenset({"interval", "timeout", "retries", "start_period", "start_interval"})
# Service keys that are deploy timing by themselves (how long a stopping task is given).
_TIMING_SERVICE_KEYS = frozenset({"stop_grace_period"})
# Co-op Cloud's version label, e.g. coop-cloud.${STACK_NAME}.version=2.0.0+6.44.1; abra reads it.
_VERSION_LABEL = re.compile(r"^coop-cloud\.[^=]+\.version$")
# Compose keys that take either a list of KEY=VALUE strings or a mapping; compose treats both
# forms alike, so they are compared as mappings.
_KV_KEYS = frozenset({"environment", "labels", "args", "sysctls"})


class ComposeError(ValueError):
    """A compose file the diff cannot read (bad YAML, not a mapping, no text on either side)."""


class _Absent:
    """A key or file missing on one side; distinct from YAML's null."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Change:
    """One changed leaf. `path` is dotted (keys holding dots are quoted: labels["a.b"]);
    whole-file changes (non-compose files, renames) have path "". `before`/`after` are the
    leaf values, None where the leaf is missing on that side, or, for whole-file changes, the
    old and new filenames (None when the file is added or deleted)."""

    file: str
    path: str
    before: Any
    after: Any

    def describe(self) -> str:
        if not self.path:
            if self.before and self.after and self.before != self.after:
                return f"{self.file} (renamed from {self.before})"
            if self.before is None:
                return f"{self.file} (added)"
            if self.after is None:
                return f"{self.file} (deleted)"
            return f"{self.file} (modified)"
        return f"{self.file}: {self.path} ({self.before!r} -> {self.after!r})"


@dataclass
class ChangeReport:
    upgrade: list[Change] = field(default_factory=list)
    timing: list[Change] = field(default_factory=list)
    other: list[Change] = field(default_factory=list)

    def verdict_kind(self) -> str:
        """`none`: nothing beyond the upgrade (the gate skips); `beyond`: something other than
        timing changed (fail, naming `other`); `timing`: only timing/health changes, which need
        a justification from logs."""
        if self.other:
            return "beyond"
        if self.timing:
            return "timing"
        return "none"


def is_compose_file(filename: str) -> bool:
    """One of the recipe's compose files: gates.md "Other recipes' phases", "A recipe's compose
    files are `compose.yml` and every `compose.*.yml` at its root" (classify.is_root_compose_file,
    the one definition). Any other file (a `docker-compose.yml`, a `compose.yaml`, a
    `deploy/compose.yml`) is no compose file: a change to it is a change beyond the upgrade,
    never the upgrade itself nor a deploy-timing key."""
    return is_root_compose_file(filename)


def _is_release_file(filename: str) -> bool:
    return filename.startswith("release/")


def _parse(text: str | None, filename: str, side: str, sha_hint: str) -> Any:
    if text is None:
        return ABSENT
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ComposeError(f"{filename} at the {side} sha{sha_hint}: YAML does not parse: {exc}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ComposeError(
            f"{filename} at the {side} sha{sha_hint}: top level is {type(doc).__name__}, not a mapping"
        )
    return doc


def _scalar_text(value: Any) -> Any:
    # Compose stringifies mapping-form values (FOO: 1 means FOO=1), so compare them as text.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_kv(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        out: dict[str, Any] = {}
        for item in value:
            key, sep, val = item.partition("=")
            out[key] = val if sep else None
        return out
    if isinstance(value, dict):
        return {str(k): _scalar_text(v) for k, v in value.items()}
    return value


def _leaves(path: tuple[str, ...], before: Any, after: Any) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """Changed leaves between two parsed values; mappings recurse (also into an added or removed
    mapping, so a new `deploy.update_config` is seen key by key); anything else is a leaf."""
    if path and path[-1] in _KV_KEYS:
        before, after = _as_kv(before), _as_kv(after)
    b_map = isinstance(before, dict)
    a_map = isinstance(after, dict)
    if (b_map or before is ABSENT) and (a_map or after is ABSENT) and (b_map or a_map):
        b = before if b_map else {}
        a = after if a_map else {}
        for key in list(b) + [k for k in a if k not in b]:
            yield from _leaves(
                path + (str(key),), b.get(key, ABSENT), a.get(key, ABSENT)
            )
        return
    if before != after:
        yield path, before, after


def _image_repo(image: Any) -> str | None:
    if not isinstance(image, str):
        return None
    name = image.split("@", 1)[0]
    head, sep, tag = name.rpartition(":")
    # A colon before the last slash is a registry port (host:5000/ghost), not a tag.
    if sep and "/" not in tag:
        return head
    return name


def _kind(path: tuple[str, ...], before: Any, after: Any) -> str:
    if len(path) < 3 or path[0] != "services":
        # Top-level extension fields (x-*) do nothing by themselves: compose uses them only
        # through YAML anchors, and the resolved values show up, and are judged, where used.
        return "ignore" if path and path[0].startswith("x-") else OTHER
    rest = path[2:]
    if rest == ("image",):
        repo_b, repo_a = _image_repo(before), _image_repo(after)
        # Only a new tag or digest of the same image is the upgrade; a different image is not.
        return UPGRADE if repo_b is not None and repo_b == repo_a else OTHER
    if rest[0] == "healthcheck":
        return TIMING if len(rest) == 2 and rest[1] in _TIMING_HEALTH_KEYS else OTHER
    if len(rest) == 1 and rest[0] in _TIMING_SERVICE_KEYS:
        return TIMING
    if rest[0] == "deploy" and len(rest) >= 2:
        if rest[1] in _TIMING_DEPLOY_KEYS:
            return TIMING
        if rest[1] == "labels" and len(rest) == 3 and _VERSION_LABEL.match(rest[2]):
            return UPGRADE
    return OTHER


def _fix_key(path: tuple[str, ...], fix_keys: tuple[str, ...]) -> bool:
    """A change under one of the phase's `fix_keys` (`db.environment.MARIADB_AUTO_UPGRADE`: the
    service, then the key path; a key covers its sub-keys), gates.md "Other recipes' phases"."""
    if len(path) < 3 or path[0] != "services":
        return False
    dotted = ".".join(path[1:])
    return any(dotted == k or dotted.startswith(k + ".") for k in fix_keys)


def _format_path(path: tuple[str, ...]) -> str:
    parts: list[str] = []
    for key in path:
        if parts and ("." in key or not key):
            parts[-1] += f'["{key}"]'
        else:
            parts.append(key)
    return ".".join(parts)


def _shown(value: Any) -> Any:
    return None if value is ABSENT else value


def _text(side: Mapping[str, str | None], name: str | None) -> str | None:
    return side.get(name) if name else None


def classify_changes(
    files: list[dict[str, Any]],
    base: Mapping[str, str | None],
    head: Mapping[str, str | None],
    *,
    base_sha: str = "",
    head_sha: str = "",
    fix_keys: tuple[str, ...] = (),
) -> ChangeReport:
    """Sort every change of a PR into upgrade / timing / other.

    `files` are Gitea ChangedFile dicts; `base` and `head` map a compose filename to its text at
    the PR's base and head sha (None or missing when the file is absent there). The optional
    shas only make a ComposeError name the commit.
    """
    report = ChangeReport()
    buckets = {UPGRADE: report.upgrade, TIMING: report.timing, OTHER: report.other}
    for entry in files:
        name = str(entry.get("filename") or "")
        status = str(entry.get("status") or "modified")
        previous = entry.get("previous_filename") or None
        old_name = previous if status == "renamed" and previous else name
        if _is_release_file(name):
            # Release notes are part of the upgrade whatever happens to them.
            report.upgrade.append(Change(name, "", None if status == "added" else old_name,
                                         None if status == "deleted" else name))
            continue
        if not is_compose_file(name):
            report.other.append(Change(name, "", None if status == "added" else old_name,
                                       None if status == "deleted" else name))
            continue
        before_text = None if status == "added" else _text(base, old_name)
        after_text = None if status == "deleted" else _text(head, name)
        if before_text is None and after_text is None:
            # A changed compose file with no text on either side means the caller could not
            # fetch it; judging it as "no change" would let the gate skip unseen.
            raise ComposeError(f"{name}: no text at the base sha or the head sha")
        if (before_text is None) != (after_text is None) and status not in ("added", "deleted"):
            # A modified file missing on one side is a fetch gap, not a file written from nothing.
            side = "base" if before_text is None else "head"
            raise ComposeError(f"{name} is {status or 'changed'} but has no text at the {side} sha")
        if old_name != name:
            # Which file abra reads is itself a change beyond the upgrade.
            report.other.append(Change(name, "", old_name, name))
        before = _parse(before_text, old_name, "base", f" {base_sha}" if base_sha else "")
        after = _parse(after_text, name, "head", f" {head_sha}" if head_sha else "")
        for path, b, a in _leaves((), before, after):
            kind = _kind(path, b, a)
            if kind == OTHER and _fix_key(path, fix_keys):
                kind = TIMING  # the phase's `fix_keys`: allowed beside the timing keys, justified alike
            if kind in buckets:
                buckets[kind].append(Change(name, _format_path(path), _shown(b), _shown(a)))
    return report
