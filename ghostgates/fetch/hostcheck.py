"""Host-level evidence from a Swarm manager, through testinfra.

The engine's task objects do not always carry an address-allocation error: a task the allocator
could not give an address stays in `new` with the message `created` (seen on Engine 20.10), and
the error itself is written only to the engine's log. This module reads that log: the systemd
journal of `docker.service` where systemd runs, else the dockerd log file (the one
scripts/swarm-setup.sh writes, or GHOSTGATES_DOCKERD_LOG).

Local backend in CI (`testinfra.get_host("local://")`), ssh to a manager in production
(`testinfra.get_host("ssh://manager")`).
"""

from __future__ import annotations

import os
import re
import shlex
from datetime import UTC, datetime, timedelta
from typing import Any

import testinfra

from ghostgates.judge.classify import ADDRESS_EXHAUSTION_KEYWORDS, address_exhaustion
from ghostgates.redact import scrub
from ghostgates.timeutil import maybe_time

# What the allocator writes when a network has no address left, e.g. (Engine 20.10, swarmkit):
#   error="could not find an available IP while allocating VIP"
#   error="failed to allocate network IP for task T network N: could not find an available IP"
# One definition lives in ghostgates.judge.classify (issue 12): the host greps its fixed keywords
# (case-insensitively), and the regex decides each line.
ADDRESS_ERRORS = ADDRESS_EXHAUSTION_KEYWORDS
DEFAULT_LOG = "/var/log/ghostgates-dockerd.log"
_TIME = re.compile(r'time="([^"]+)"')


def describe_host_error(exc: BaseException, spec: str | None = None) -> str:
    """One line for a failure to run a command on a host, with the command's stderr.

    testinfra's ssh backend raises RuntimeError(CommandResult) when ssh itself fails (exit 255):
    its text is the object's repr, so the stderr (why ssh failed) is taken from the result. Any
    URL or `user:password@host` in it is redacted (testinfra and paramiko quote the host spec), and
    `spec`'s password wherever it stands (testinfra's ssh backend runs `sshpass -p PASSWORD`).
    """
    result = exc.args[0] if exc.args else None
    stderr = getattr(result, "stderr", None)
    if stderr is not None or hasattr(result, "rc"):
        command = getattr(result, "command", b"")
        command = command.decode(errors="replace") if isinstance(command, bytes) else str(command or "")
        detail = " ".join(str(stderr or "").split()) or "no error output"
        return scrub(f"`{command}` exited {getattr(result, 'rc', '?')}: {detail}", spec)
    text = " ".join(str(exc).split())
    return scrub(text, spec) or type(exc).__name__


def get_host(spec: str | None = None) -> Any:
    """A testinfra host: `local://` unless GHOSTGATES_MANAGER_HOST or `spec` names another."""
    return testinfra.get_host(spec or os.environ.get("GHOSTGATES_MANAGER_HOST") or "local://")


def engine_log_path() -> str:
    return os.environ.get("GHOSTGATES_DOCKERD_LOG") or DEFAULT_LOG


def _host_now(host: Any) -> datetime:
    out = host.run("date -u +%s.%N")
    try:
        return datetime.fromtimestamp(float(out.stdout.strip()), UTC)
    except ValueError:
        raise RuntimeError(
            f"could not read the host's clock: {out.stdout.strip()} {out.stderr.strip()}") from None


def _has_systemd(host: Any) -> bool:
    return bool(host.file("/run/systemd/system").is_directory)


def _parse_time(line: str) -> datetime | None:
    m = _TIME.search(line)
    if not m:
        return None
    try:
        return maybe_time(m.group(1))  # dockerd writes nanoseconds: timeutil takes them
    except ValueError:
        return None


def address_errors_in_engine_log(host: Any, minutes: float, log_path: str | None = None,
                                 unit: str = "docker") -> list[str]:
    """Lines of the engine's log from the last `minutes` that report address exhaustion.

    Reads `journalctl -u <unit>` where the host runs systemd and has that unit's journal, else
    the dockerd log file (`log_path`, GHOSTGATES_DOCKERD_LOG, or the setup script's default).
    Raises RuntimeError when neither can be read: the caller turns that into an `error` verdict.
    """
    now = _host_now(host)
    since = now - timedelta(minutes=minutes)
    patterns = " ".join(f"-e {shlex.quote(p)}" for p in ADDRESS_ERRORS)
    if _has_systemd(host) and log_path is None:
        cmd = (f"journalctl -u {shlex.quote(unit)} --since @{int(since.timestamp())} "
               f"--no-pager -o short-iso | grep -F -i {patterns}")
        out = host.run(cmd)
        if out.rc not in (0, 1):  # grep: 1 = no match
            raise RuntimeError(f"journalctl on the host failed: {out.stderr.strip()}")
        return [line for line in out.stdout.splitlines() if line.strip() and address_exhaustion(line)]
    path = log_path or engine_log_path()
    if not host.file(path).exists:
        raise RuntimeError(f"no systemd journal and no engine log at {path} on the host "
                           "(set GHOSTGATES_DOCKERD_LOG)")
    out = host.run(f"grep -F -i {patterns} {shlex.quote(path)}")
    if out.rc not in (0, 1):
        raise RuntimeError(f"reading {path} on the host failed: {out.stderr.strip()}")
    lines = []
    for line in out.stdout.splitlines():
        stamp = _parse_time(line)
        if not address_exhaustion(line):
            continue
        if stamp is None or stamp >= since:
            lines.append(line)
    return lines


def node_volumes(host: Any) -> list[str]:
    """The volume names a node's engine holds: volumes live per node, and a manager lists only its own."""
    out = host.run("docker volume ls --format '{{.Name}}'")
    if out.rc != 0:
        raise RuntimeError(f"`docker volume ls` on the host failed: {out.stderr.strip()}")
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]
