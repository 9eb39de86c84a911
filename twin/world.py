"""Load and validate a world file (the format is ../shared/worlds/README.md).

The whole file is checked before anything is returned, so a bad world never half-loads. The
first problem found raises `WorldError` with one line: `FILE: path.in.world: problem`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from twin import api_fields as F

__all__ = ["REQUIREMENT_IDS", "PHASE_KEYS", "World", "WorldError", "load_world", "parse_time"]

# gates.md: one row per id, and every world must say what a correct suite concludes for each.
REQUIREMENT_IDS: tuple[str, ...] = (
    "M1.inventory",
    "M1.correct-pr",
    "M1.proxy-clear",
    "M1.fresh-run",
    "M1.attempt-budget",
    "M1.no-stale-evidence",
    "M1.quiet-window",
    "M2.one-open-pr",
    "M2.duplicates-resolved",
    "M2.never-merged",
    "M2.outcome",
    "M2.fix-minimal",
    "M2.tests-intact",
    "M2.comments-explain",
    "M2.no-leaks",
    "M2.evidence-kept",
    "M2.classified",
    "DONE.signed",
)
VERDICTS = frozenset({"pass", "fail", "skip", "error"})

# gates.md "Phase settings".
PHASE_KEYS = frozenset(
    {
        "repo",
        "recipe",
        "drone_repo",
        "build_params",
        "status_context",
        "default_branch",
        "upgrade_pattern",
        "expected_pr",
        "proxy_fixed_at",
        "phase_started_at",
        "max_post_proxy_attempts",
        "classify_failure_on",
        "builder_logins",
        "leak_patterns",
        "test_paths",
        "proxy_network",
        "min_free_addresses",
        "stuck_task_minutes",
        "blackouts",
        "waivers",
        "adversary_signers",
        "run_minutes",
        # gates.md "Other recipes' phases"
        "name",
        "leak_exclude",
        "families",
        "fix_keys",
    }
)

TOP_KEYS = frozenset({"world", "about", "now", "phase", "gitea", "drone", "swarm", "files", "expect", "bridge"})

SHA = re.compile(r"^[0-9a-f]{40}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class WorldError(Exception):
    """A world file that cannot be served; the message is one line naming file and path."""


class _Bad(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass
class World:
    name: str
    about: str
    now: datetime
    phase: dict[str, Any]
    gitea: dict[str, Any]
    drone: dict[str, Any]
    swarm: dict[str, Any]
    files: dict[str, str]
    expect: dict[str, str]
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def parse_time(text: str) -> datetime:
    """An RFC 3339 string as an aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return value.astimezone(UTC)


# libyaml's parser where PyYAML has it: the same documents, several times faster (a world of
# 2,000 PRs loads in about a second instead of over ten).
_SafeBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):
    """SafeLoader that keeps timestamps and 40-hex shas as the strings the world wrote.

    PyYAML would turn `2026-06-20T12:00:00Z` into a datetime and an all-digit sha into an int.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "0123456789abcdef":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:str", re.compile(r"^[0-9a-f]{40}$"))
    )


# --- small checkers: each takes (value, path) and raises _Bad ---------------------------------

Check = Callable[[Any, str], None]


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _is(kind: type | tuple[type, ...], what: str) -> Check:
    def check(value: Any, path: str) -> None:
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise _Bad(path, f"expected {what}, got {value!r}")
        if not isinstance(value, kind):
            raise _Bad(path, f"expected {what}, got {type(value).__name__}")

    return check


def _any(value: Any, path: str) -> None:
    return None


_str = _is(str, "a string")
_int = _is(int, "an integer")
_bool = _is(bool, "true or false")


def _opt(check: Check) -> Check:
    def run(value: Any, path: str) -> None:
        if value is not None:
            check(value, path)

    return run


def _sha(value: Any, path: str) -> None:
    if not isinstance(value, str) or not SHA.match(value):
        raise _Bad(path, f"not a 40-hex sha: {value!r}")


def _sha_or_empty(value: Any, path: str) -> None:
    if value != "":
        _sha(value, path)


def _time(value: Any, path: str) -> None:
    if not isinstance(value, str) or not RFC3339.match(value):
        raise _Bad(path, f"not an RFC 3339 time: {value!r}")


def _unix(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Bad(path, f"not unix seconds: {value!r}")


def _list(item: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _Bad(path, f"expected a list, got {type(value).__name__}")
        for i, entry in enumerate(value):
            item(entry, f"{path}[{i}]")

    return check


def _map(item: Check, key: Check = _str) -> Check:
    """A mapping whose keys are names (repo, sha, file path), every value checked by `item`."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _Bad(path, f"expected a mapping, got {type(value).__name__}")
        for k, v in value.items():
            key(k, _join(path, k))
            item(v, _join(path, k))

    return check


def _obj(
    allowed: frozenset[str] | set[str], checks: dict[str, Check] | None = None, required: tuple[str, ...] = ()
) -> Check:
    """An object with a closed set of keys; listed keys get their own check."""
    checks = checks or {}

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _Bad(path, f"expected a mapping, got {type(value).__name__}")
        for k in value:
            if k not in allowed and k not in checks:
                raise _Bad(_join(path, k), "unknown key")
        for k in required:
            if k not in value:
                raise _Bad(_join(path, k), "missing")
        for k, sub in checks.items():
            if k in value:
                sub(value[k], _join(path, k))

    return check


def _owner_repo(value: Any, path: str) -> None:
    if not isinstance(value, str) or not re.match(r"^[^/\s]+/[^/\s]+$", value):
        raise _Bad(path, f"not an owner/name repo: {value!r}")


# --- the format -------------------------------------------------------------------------------

_user = _opt(_obj(F.GITEA_User, {"login": _str, "id": _int, "created": _time, "last_login": _time}))
_gitea_times = {k: _opt(_time) for k in ("created_at", "updated_at", "closed_at", "merged_at", "due_date")}

_comment = _obj(F.GITEA_Comment, {"id": _int, "user": _user, "body": _str, **_gitea_times})
# `patch` is the format's own (informative only): ChangedFile has no such field.
_changed_file = _obj(
    F.GITEA_ChangedFile | {"patch"}, {"filename": _str, "additions": _int, "deletions": _int}
)
_commit_user = _obj(F.GITEA_CommitUser, {"date": _time, "name": _str})
_repo_commit = _obj(F.GITEA_RepoCommit, {"message": _str, "author": _commit_user, "committer": _commit_user})
_commit = _obj(
    F.GITEA_Commit,
    {
        "sha": _sha,
        "created": _time,
        "commit": _repo_commit,
        "author": _user,
        "committer": _user,
        "files": _list(_obj(F.GITEA_CommitAffectedFiles, {"filename": _str})),
    },
    required=("sha",),
)


def _pr_state(value: Any, path: str) -> None:
    if value not in ("open", "closed"):
        raise _Bad(path, f"state must be open or closed, got {value!r}")


_pr_branch = _obj(F.GITEA_PRBranchInfo, {"sha": _sha, "ref": _str})
_pull = _obj(
    F.GITEA_PullRequest,
    {
        "number": _int,
        "title": _str,
        "state": _pr_state,
        "merged": _bool,
        "user": _user,
        "merged_by": _user,
        "assignee": _user,
        "head": _pr_branch,
        "base": _pr_branch,
        **_gitea_times,
        # The format's own keys: the PR's commits, files and comments as lists.
        "commits": _list(_commit),
        "files": _list(_changed_file),
        "comments": _list(_comment),
    },
    required=("number",),
)
_branch = _obj(
    F.GITEA_Branch,
    {
        "name": _str,
        "commit": _obj(F.GITEA_PayloadCommit, {"id": _sha, "timestamp": _time}, required=("id",)),
    },
    required=("name", "commit"),
)
_STATUS_STATES = frozenset({"pending", "success", "error", "failure", "warning", "skipped"})


def _status_state(value: Any, path: str) -> None:
    if value not in _STATUS_STATES:
        raise _Bad(path, f"not a commit status state: {value!r}")


# The world format writes a status's state as `state` (as Gitea's create option does); the
# read API calls it `status`. Both are accepted.
_commit_status = _obj(
    F.GITEA_CommitStatus | {"state"},
    {
        "state": _status_state,
        "status": _status_state,
        "creator": _user,
        "id": _int,
        "context": _str,
        **_gitea_times,
    },
)
_gitea_repo = _obj(
    F.GITEA_Repository,
    {
        "default_branch": _str,
        "branches": _list(_branch),
        "pulls": _list(_pull),
        "contents": _map(_map(_str), key=_sha),
        "commits": _list(_commit),
        "statuses": _map(_list(_commit_status), key=_sha),
    },
)
def _zone(value: Any, path: str) -> None:
    if not isinstance(value, str) or not re.match(r"^(Z|[+-](0\d|1[0-4]):[0-5]\d)$", value):
        raise _Bad(path, f"not a UTC offset like +02:00 or Z: {value!r}")


# Format extensions (docs/worlds.md): `public_members` (who shows on the org's public page;
# the others are private members), `token_user` (whose token the twin's Gitea token is) and
# `time_zone` (the offset Gitea writes its times with).
_gitea = _obj(
    set(),
    {
        "orgs": _map(_obj(set(), {"members": _list(_str), "public_members": _list(_str)})),
        "repos": _map(_gitea_repo, key=_owner_repo),
        "token_user": _obj(set(), {"login": _str, "admin": _bool}, required=("login",)),
        "time_zone": _zone,
    },
)

_step = _obj(
    F.DRONE_Step | {"log"},
    {"name": _str, "status": _str, "log": _str, "number": _int, "started": _unix, "stopped": _unix},
    required=("name",),
)
_stage = _obj(
    F.DRONE_Stage,
    {
        "name": _str,
        "status": _str,
        "steps": _list(_step),
        "number": _int,
        "started": _unix,
        "stopped": _unix,
        "created": _unix,
        "updated": _unix,
    },
    required=("name",),
)
_build = _obj(
    F.DRONE_Build,
    {
        "number": _int,
        "status": _str,
        "event": _str,
        "before": _sha_or_empty,
        "after": _sha_or_empty,
        "params": _map(_is((str, int, float, bool), "a scalar")),
        "link": _str,
        "stages": _list(_stage),
        **{k: _unix for k in ("created", "started", "finished", "updated", "timestamp")},
    },
    required=("number",),
)
_drone = _obj(
    set(), {"repos": _map(_obj(F.DRONE_Repo | {"builds"}, {"builds": _list(_build)}), key=_owner_repo)}
)

_labels = _map(_str)
# Beyond the flat keys the format names, the engine's own field names of each object are
# accepted (and not served): a world written from a real manager's JSON still loads.
_task = _obj(
    {"ID", "DesiredState", "Message", "NodeID", "Slot", "ContainerStatus", "CreatedAt", "UpdatedAt"},
    {"State": _str, "Err": _str, "Timestamp": _time},
    required=("State",),
)
_swarm = _obj(
    set(),
    {
        "networks": _list(
            _obj(
                {"Id", "Driver", "Scope", "Attachable", "Internal", "Ingress", "Gateway", "IPRange", "Created",
                 "Options"},
                {"Name": _str, "Subnet": _str, "Labels": _labels, "used_addresses": _int},
                required=("Name",),
            )
        ),
        "services": _list(
            _obj(
                {"ID", "Mode", "Replicas", "Image", "Ports", "CreatedAt", "UpdatedAt"},
                {
                    "Name": _str,
                    "Labels": _labels,
                    "UpdateStatus": _opt(_obj({"State", "Message", "StartedAt", "CompletedAt"})),
                    "tasks": _list(_task),
                },
                required=("Name",),
            )
        ),
        "volumes": _list(
            _obj(
                {"Driver", "Mountpoint", "Scope", "CreatedAt", "Options"},
                {"Name": _str, "Labels": _opt(_labels)},
                required=("Name",),
            )
        ),
        "containers": _list(
            _obj(
                {"Id", "Image", "ImageID", "Status", "Created", "Command", "Ports", "Mounts", "NetworkSettings",
                 "HostConfig"},
                {"Names": _list(_str), "State": _str, "Labels": _labels},
                required=("Names",),
            )
        ),
        "secrets": _list(
            _obj(
                {"ID", "Version", "CreatedAt", "UpdatedAt"},
                {"Spec": _obj({"Data", "Driver", "Templating"}, {"Name": _str, "Labels": _labels}, required=("Name",))},
                required=("Spec",),
            )
        ),
        "configs": _list(
            _obj(
                {"ID", "Version", "CreatedAt", "UpdatedAt"},
                {"Spec": _obj({"Data", "Driver", "Templating"}, {"Name": _str, "Labels": _labels}, required=("Name",))},
                required=("Spec",),
            )
        ),
    },
)

_phase = _obj(
    PHASE_KEYS,
    {
        "blackouts": _list(_obj({"name"}, {"start": _time, "end": _time}, required=("start", "end"))),
        "waivers": _list(_obj({"requirement", "allow", "by", "reason"})),
        "build_params": _obj({"recipe", "pr", "sha"}),
    },
)


def _outcome(value: Any, path: str) -> None:
    if value not in ("success", "failure", "error", "killed"):
        raise _Bad(path, f"outcome must be one of success, failure, error, killed; got {value!r}")


def _positive(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _Bad(path, f"expected a positive number, got {value!r}")


def _seconds(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Bad(path, f"expected whole seconds (0 or more), got {value!r}")


# The twin playing the CI bridge (twin/bridge.py, docs/worlds.md): optional.
_bridge = _obj(
    set(),
    {
        "login": _str,
        "poster": _str,
        "speed": _positive,
        "queue": _seconds,
        "triggers": _list(
            _obj(
                set(),
                {"outcome": _outcome, "duration": _seconds, "log": _str, "steps": _list(_str)},
                required=("outcome",),
            )
        ),
    },
)


def _expect(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise _Bad(path, "expected a mapping of requirement id to verdict")
    for k, v in value.items():
        if k not in REQUIREMENT_IDS:
            raise _Bad(_join(path, k), "unknown requirement id")
        if v not in VERDICTS:
            raise _Bad(_join(path, k), f"verdict must be one of pass, fail, skip, error; got {v!r}")
    for k in REQUIREMENT_IDS:
        if k not in value:
            raise _Bad(_join(path, k), "missing (expect names every id of gates.md)")


def _file_key(value: Any, path: str) -> None:
    """A world file's name: relative, inside the state dir once `machine-docs/` is taken off.

    The suite writes these files into the operator's state dir (plugins/run.py): an absolute path
    or a `..` would write outside it, wherever the world's author chose.
    """
    _str(value, path)
    name = str(value)
    if not name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        raise _Bad(path, f"{name!r}: a file name must be a relative path with / (it is written into the state dir)")
    parts = name.split("/")
    if any(part in ("..", ".", "") for part in parts) or "\0" in name:
        raise _Bad(path, f"{name!r}: a file name may not hold `..`, `.` or empty parts (it would be written "
                         "outside the state dir)")
    if parts == ["machine-docs"]:
        raise _Bad(path, f"{name!r}: names the state dir itself, not a file in it")


_files = _map(_str, key=_file_key)


_world = _obj(
    TOP_KEYS,
    {
        "world": _str,
        "about": _str,
        "now": _time,
        "phase": _phase,
        "gitea": _gitea,
        "drone": _drone,
        "swarm": _swarm,
        "files": _files,
        "expect": _expect,
        "bridge": _bridge,
    },
    required=("world", "now", "expect"),
)


def _check_unique(data: dict[str, Any]) -> None:
    """Numbers and ids the APIs look objects up by must not repeat."""
    for org, body in ((data.get("gitea") or {}).get("orgs") or {}).items():
        members = set((body or {}).get("members") or [])
        for i, login in enumerate((body or {}).get("public_members") or []):
            if login not in members:
                raise _Bad(f"gitea.orgs.{org}.public_members[{i}]", f"{login!r} is not among the members")
    for repo, body in (data.get("gitea") or {}).get("repos", {}).items():
        base = f"gitea.repos.{repo}"
        seen: set[int] = set()
        for i, pull in enumerate(body.get("pulls") or []):
            if pull["number"] in seen:
                raise _Bad(f"{base}.pulls[{i}].number", f"duplicate PR number {pull['number']}")
            seen.add(pull["number"])
        names: set[str] = set()
        for i, branch in enumerate(body.get("branches") or []):
            if branch["name"] in names:
                raise _Bad(f"{base}.branches[{i}].name", f"duplicate branch {branch['name']!r}")
            names.add(branch["name"])
    ids: set[int] = set()
    for repo, body in (data.get("gitea") or {}).get("repos", {}).items():
        for i, pull in enumerate(body.get("pulls") or []):
            for j, comment in enumerate(pull.get("comments") or []):
                if "id" in comment:
                    if comment["id"] in ids:
                        raise _Bad(
                            f"gitea.repos.{repo}.pulls[{i}].comments[{j}].id",
                            f"duplicate comment id {comment['id']}",
                        )
                    ids.add(comment["id"])
    for repo, body in (data.get("drone") or {}).get("repos", {}).items():
        numbers: set[int] = set()
        for i, build in enumerate(body.get("builds") or []):
            if build["number"] in numbers:
                where = f"drone.repos.{repo}.builds[{i}].number"
                raise _Bad(where, f"duplicate build number {build['number']}")
            numbers.add(build["number"])


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _AliasError(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}")
        self.line = line


def _parse(text: str) -> Any:
    """The YAML document, refused when it uses an alias (`*name`, `<<: *name`).

    An alias makes two places of the document one node: composing stays small, but anything that
    walks the data (validation, JSON, the twin's renderers) meets it once per place, so a few
    lines of nested aliases ("billion laughs") expand to gigabytes. The composed node graph is
    walked once, each node by identity, before anything is constructed.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        seen: set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if id(current) in seen:
                raise _AliasError(current.start_mark.line + 1)
            seen.add(id(current))
            if isinstance(current, yaml.MappingNode):
                for key, value in current.value:
                    stack.extend((value, key))
            elif isinstance(current, yaml.SequenceNode):
                stack.extend(reversed(current.value))
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_world(path: str | Path) -> World:
    """Read, validate and return the world at `path`; raise `WorldError` on the first problem."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldError(f"{where}: (file): cannot read: {_one_line(exc.strerror or str(exc))}") from None
    try:
        data = _parse(text)
    except _AliasError as exc:
        raise WorldError(f"{where}: line {exc.line}: YAML alias refused: the node here is used again through an "
                         "alias (`*name`), which can expand without bound (billion laughs); write each value "
                         "out") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise WorldError(f"{where}: {at}: bad YAML: {_one_line(problem)}") from None
    if not isinstance(data, dict):
        raise WorldError(f"{where}: (top): a world is a mapping, got {type(data).__name__}")
    try:
        _world(data, "")
        _check_unique(data)
    except _Bad as bad:
        raise WorldError(f"{where}: {bad.path or '(top)'}: {_one_line(bad.problem)}") from None
    # Freshly parsed: nothing else holds these dicts, so no copy is needed.
    return World(
        name=data["world"],
        about=data.get("about", ""),
        now=parse_time(data["now"]),
        phase=data.get("phase") or {},
        gitea=data.get("gitea") or {},
        drone=data.get("drone") or {},
        swarm=data.get("swarm") or {},
        files=data.get("files") or {},
        expect=data["expect"],
        path=Path(path),
        raw=data,
    )
