"""ghostgates.fetch.hostcheck: which log it reads on which host (a stand-in host; no engine needed).

The real engine's log is read in test_exhaustion.py, right after the exhaustion it records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ghostgates.fetch import hostcheck

LINE = ('time="2026-06-12T09:14:03.123456789Z" level=error msg="task allocation failure" '
        'error="failed to allocate network IP for task t network n: could not find an available IP"')
OLD = LINE.replace("2026-06-12T09:14:03", "2026-06-12T07:00:00")


@dataclass
class Result:
    stdout: str = ""
    stderr: str = ""
    rc: int = 0


@dataclass
class File:
    exists: bool = False
    is_directory: bool = False


@dataclass
class FakeHost:
    systemd: bool
    files: dict[str, str] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    journal: str = ""

    def run(self, cmd: str) -> Result:
        self.commands.append(cmd)
        if cmd.startswith("date"):
            return Result("1781256000.5\n")  # 2026-06-12T09:20:00.5Z
        if cmd.startswith("journalctl"):
            return Result(self.journal, rc=0 if self.journal else 1)
        if cmd.startswith("grep"):
            path = cmd.rsplit(" ", 1)[1].strip("'")
            hits = [ln for ln in self.files.get(path, "").splitlines() if "available IP" in ln]
            return Result("\n".join(hits), rc=0 if hits else 1)
        return Result(rc=127, stderr="unknown command")

    def file(self, path: str) -> File:
        if path == "/run/systemd/system":
            return File(exists=self.systemd, is_directory=self.systemd)
        return File(exists=path in self.files)


def test_systemd_host_reads_the_docker_unit_journal_since_the_window() -> None:
    host = FakeHost(systemd=True, journal="2026-06-12T09:14:03+0000 manager dockerd[1]: " + LINE + "\n")
    lines = hostcheck.address_errors_in_engine_log(host, minutes=30)
    assert len(lines) == 1 and "could not find an available IP" in lines[0]
    journal = next(c for c in host.commands if c.startswith("journalctl"))
    assert "-u docker" in journal and "--since @1781254200" in journal  # 30 min before the host's now


def test_host_without_systemd_reads_the_log_file_in_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHOSTGATES_DOCKERD_LOG", "/srv/dockerd.log")
    host = FakeHost(systemd=False, files={"/srv/dockerd.log": f"{OLD}\nlevel=info msg=ok\n{LINE}\n"})
    assert hostcheck.address_errors_in_engine_log(host, minutes=30) == [LINE]
    assert hostcheck.address_errors_in_engine_log(host, minutes=180) == [OLD, LINE]


def test_missing_log_is_an_error_not_a_clean_bill() -> None:
    host = FakeHost(systemd=False)
    with pytest.raises(RuntimeError, match="no systemd journal and no engine log at /nowhere"):
        hostcheck.address_errors_in_engine_log(host, minutes=5, log_path="/nowhere")


def test_ssh_failure_reads_as_sshs_stderr_not_a_repr() -> None:
    """testinfra's ssh backend raises RuntimeError(CommandResult) when ssh exits 255."""
    @dataclass
    class CommandResult:
        command: bytes = b"date -u +%s.%N"
        rc: int = 255
        stderr: str = "ssh: connect to host manager port 22: Connection refused\n"

    line = hostcheck.describe_host_error(RuntimeError(CommandResult()))
    assert line == "`date -u +%s.%N` exited 255: ssh: connect to host manager port 22: Connection refused"
    assert hostcheck.describe_host_error(RuntimeError("no engine log at /x")) == "no engine log at /x"
