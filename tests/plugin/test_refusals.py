"""Refusals before anything is written (issue 19, cases 1, 2, 6 and 12): one line, exit 4, files kept.

gates.md: a run whose Gitea or Drone cannot be used at all stops before it decides anything, says in
one line which service and why, and writes no block into the review file; a `--world` run never
writes into a state dir holding files it did not put there. The operator's files here are kept
byte for byte whatever the run was told.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twin import running_twin, statedir
from twin.world import load_world

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "world.yaml"
# A signed adversary record as the operator keeps it: no misconfigured run may touch it.
SIGNED = (b"# REVIEW: ghost\n\n## M1: State inventory and clean retry: PASS\n<!-- gate-record gate=M1 verdict=PASS "
          b"role=adversary head=f1e2d3c4b5a6978877665544332211a0b9c8d7e6 build=58 at=2026-07-15T20:00:00Z "
          b"sig=U1NIU0lHAAAAAQ== -->\n<!-- /gate-record gate=M1 -->\n")


def _text(result: pytest.RunResult) -> str:
    return result.stdout.str() + result.stderr.str()


def _nothing_reported(suite: pytest.Pytester) -> bool:
    reports = suite.path / "reports"
    return not reports.exists() or not any(reports.iterdir())


# --- case 1: --world on a state dir of the user's own -------------------------------------------------

def test_world_on_a_directory_of_the_users_own_loses_nothing(suite: pytest.Pytester, tmp_path: Path) -> None:
    state = tmp_path / "machine-docs"
    state.mkdir()
    own = {"STATUS-ghost.md": b"my status\n", "REVIEW-ghost.md": SIGNED, "JOURNAL-ghost.md": b"day 1\n"}
    for name, data in own.items():
        (state / name).write_bytes(data)
    result = suite.runpytest_inprocess("gates/m1", "--world", str(DEMO), "--state-dir", str(state))
    assert result.ret == 4
    line = f"--state-dir {state}: holds JOURNAL-ghost.md and 2 more, which this suite did not put there"
    assert _text(result).count(line) == 1, _text(result)
    assert {p.name: p.read_bytes() for p in state.iterdir()} == own
    assert _nothing_reported(suite)


def test_world_writes_into_a_new_dir_and_again_over_its_own_files(suite: pytest.Pytester, tmp_path: Path) -> None:
    state = tmp_path / "fresh"
    first = suite.runpytest_inprocess("gates/m1", "--world", str(DEMO), "--state-dir", str(state))
    assert first.ret == 0, _text(first)
    assert (state / statedir.MANIFEST).is_file() and "gate-record gate=M1" in (state / "REVIEW-ghost.md").read_text()
    # The review file this run rewrote is the suite's too: the next --world run may write there again.
    again = suite.runpytest_inprocess("gates/m1", "--world", str(DEMO), "--state-dir", str(state))
    assert again.ret == 0, _text(again)
    # Once the operator edits one of them, it is theirs.
    (state / "STATUS-ghost.md").write_text("edited by hand\n")
    edited = suite.runpytest_inprocess("gates/m1", "--world", str(DEMO), "--state-dir", str(state))
    assert edited.ret == 4 and "holds STATUS-ghost.md, which this suite did not put there" in _text(edited)
    assert (state / "STATUS-ghost.md").read_text() == "edited by hand\n"


def test_world_into_an_empty_dir_of_the_users_is_fine(suite: pytest.Pytester, tmp_path: Path) -> None:
    state = tmp_path / "empty"
    state.mkdir()
    assert suite.runpytest_inprocess("gates/m1", "--world", str(DEMO), "--state-dir", str(state)).ret == 0


def test_a_symlink_in_the_world_state_dir_is_not_the_suites(suite: pytest.Pytester, tmp_path: Path) -> None:
    state, outside = tmp_path / "state", tmp_path / "outside.md"
    state.mkdir()
    outside.write_bytes(SIGNED)
    (state / "REVIEW-ghost.md").symlink_to(outside)
    result = suite.runpytest_inprocess("gates/m1", "--world", str(DEMO), "--state-dir", str(state))
    assert result.ret == 4 and "holds REVIEW-ghost.md, which this suite did not put there" in _text(result)
    assert outside.read_bytes() == SIGNED


def test_world_file_paths_resolve_inside_the_state_dir(tmp_path: Path) -> None:
    # A directory inside the state dir that links outside it: the world's file would land outside.
    state, outside = tmp_path / "state", tmp_path / "outside"
    state.mkdir()
    outside.mkdir()
    (state / "notes").symlink_to(outside)
    with pytest.raises(statedir.StateDirError, match=r"outside the state dir"):
        statedir.write_world_files({"machine-docs/notes/x.md": "planted"}, state)
    for name in ("machine-docs/../../x", "/tmp/x", "../x"):
        with pytest.raises(statedir.StateDirError):
            statedir.target(state, name)
    assert not any(outside.iterdir()) and not (tmp_path / "x").exists()
    assert statedir.target(state, "machine-docs/STATUS-ghost.md") == state.resolve() / "STATUS-ghost.md"


# --- case 2: a service that cannot be used ---------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    world = load_world(DEMO)
    state = tmp_path / "machine-docs"
    state.mkdir()
    for name, text in world.files.items():
        (state / Path(name).name).write_text(text)
    (state / "REVIEW-ghost.md").write_bytes(SIGNED)
    with running_twin(world) as twin:
        yield twin, state


def _misconfigured(twin: Any, case: str) -> tuple[dict[str, str], str]:
    """The environment of one misconfiguration, and the sentence the run must say once."""
    env = {"GITEA_URL": twin.gitea_url, "GITEA_TOKEN": twin.gitea_token, "DRONE_SERVER": twin.drone_url,
           "DRONE_TOKEN": twin.drone_token, "DOCKER_HOST": twin.docker_url}
    host = twin.gitea_url.split("://", 1)[1]
    if case == "no scheme":
        env["GITEA_URL"] = host
        return env, f"GITEA_URL={host}: not an http:// or https:// URL"
    if case == "does not resolve":
        env["GITEA_URL"] = "http://gitea.no-such-host.invalid"
        return env, "GITEA_URL=http://gitea.no-such-host.invalid: the host gitea.no-such-host.invalid does not resolve"
    if case == "refused":
        port = _free_port()
        env["DRONE_SERVER"] = f"http://127.0.0.1:{port}"
        return env, f"DRONE_SERVER=http://127.0.0.1:{port}: 127.0.0.1:{port} refused the connection"
    if case == "tls":
        env["GITEA_URL"] = f"https://{host}"
        return env, f"GITEA_URL=https://{host}: the TLS handshake with {host} failed"
    if case == "gitea 401":
        env["GITEA_TOKEN"] = "0" * 40
        return env, "GITEA_TOKEN: Gitea answered 401 for the token's own user"
    if case == "drone 401":
        env["DRONE_TOKEN"] = "0" * 32
        return env, "DRONE_TOKEN: Drone answered 401 for the token's own user"
    if case == "not gitea":
        env["GITEA_URL"] = twin.drone_url
        return env, f"GITEA_URL={twin.drone_url}: is not Gitea: GET {twin.drone_url}/api/v1/version answered 404"
    if case == "not drone":
        env["DRONE_SERVER"] = twin.gitea_url
        return env, f"DRONE_SERVER={twin.gitea_url}: is not Drone: GET {twin.gitea_url}/version answered 404"
    raise AssertionError(case)


def _configured_right(twin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The served twin's addresses and tokens in the environment: a run that can use its services."""
    env, _ = _misconfigured(twin, "gitea 401")
    env["GITEA_TOKEN"] = twin.gitea_token
    for name, value in env.items():
        monkeypatch.setenv(name, value)


CASES = ["no scheme", "does not resolve", "refused", "tls", "gitea 401", "drone 401", "not gitea", "not drone"]


@pytest.mark.parametrize("case", CASES)
def test_a_service_that_cannot_be_used_stops_the_run_once(suite: pytest.Pytester, served: tuple[Any, Path],
                                                         monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    twin, state = served
    env, sentence = _misconfigured(twin, case)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = suite.runpytest_inprocess("gates", "--state-dir", str(state))
    assert result.ret == 4, _text(result)
    assert _text(result).count(sentence) == 1, _text(result)
    assert (state / "REVIEW-ghost.md").read_bytes() == SIGNED  # the signed record, byte for byte
    assert _nothing_reported(suite)
    assert "INTERNALERROR" not in _text(result) and "Traceback" not in _text(result)


def test_the_same_services_configured_right_run(suite: pytest.Pytester, served: tuple[Any, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    twin, state = served
    _configured_right(twin, monkeypatch)
    result = suite.runpytest_inprocess("gates/m1", "--state-dir", str(state), "--role", "builder")
    assert result.ret == 0, _text(result)


# --- case 6 and 12: the review file, the default state dir, the signing key --------------------------

def test_a_symlinked_review_file_is_refused_and_its_target_kept(suite: pytest.Pytester, served: tuple[Any, Path],
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    twin, state = served
    outside = tmp_path / "elsewhere.md"
    outside.write_bytes(SIGNED)
    (state / "REVIEW-ghost.md").unlink()
    (state / "REVIEW-ghost.md").symlink_to(outside)
    for name, value in _misconfigured(twin, "gitea 401")[0].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITEA_TOKEN", twin.gitea_token)
    result = suite.runpytest_inprocess("gates", "--state-dir", str(state))
    assert result.ret == 4
    assert _text(result).count(f"{state / 'REVIEW-ghost.md'}: a symlink (to {outside})") == 1
    assert outside.read_bytes() == SIGNED and _nothing_reported(suite)


def test_a_review_file_that_is_not_a_file_is_refused(suite: pytest.Pytester, served: tuple[Any, Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    twin, state = served
    (state / "REVIEW-ghost.md").unlink()
    (state / "REVIEW-ghost.md").mkdir()
    for name, value in _misconfigured(twin, "gitea 401")[0].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITEA_TOKEN", twin.gitea_token)
    result = suite.runpytest_inprocess("gates", "--state-dir", str(state), "--role", "builder")
    assert result.ret == 4 and f"{state / 'REVIEW-ghost.md'}: not a regular file" in _text(result)


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[bool]:
    """`path` made unwritable even to root (immutable), else by its mode; False when neither holds."""
    made = os.geteuid() == 0 and shutil.which("chattr") is not None and subprocess.run(
        ["chattr", "+i", str(path)], capture_output=True).returncode == 0
    if not made:
        path.chmod(0o444)
    try:
        yield not os.access(path, os.W_OK)
    finally:
        if made:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o644)


def test_an_unwritable_review_file_never_ends_green(suite: pytest.Pytester, served: tuple[Any, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    twin, state = served
    _configured_right(twin, monkeypatch)
    review = state / "REVIEW-ghost.md"
    with _read_only(review) as unwritable:
        if not unwritable:
            pytest.skip("cannot make a file unwritable here")
        result = suite.runpytest_inprocess("gates/m1", "--state-dir", str(state))
        builder = suite.runpytest_inprocess("gates/m1", "--state-dir", str(state), "--role", "builder")
    assert result.ret == 4, _text(result)
    assert _text(result).count(f"{review}: not writable: the adversary's run writes its gate blocks there") == 1
    assert "passed" not in _text(result)
    assert review.read_bytes() == SIGNED
    assert builder.ret == 0  # the builder writes no block: reading the file is all it needs


def test_a_missing_default_state_dir_is_a_usage_error_as_an_explicit_one(
        suite: pytest.Pytester, served: tuple[Any, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    twin, _state = served
    _configured_right(twin, monkeypatch)
    default = suite.path / "machine-docs"
    assert not default.exists()
    result = suite.runpytest_inprocess("gates")
    assert result.ret == 4
    assert _text(result).count(f"--state-dir {default} (the default): no such directory") == 1
    assert not default.exists() and _nothing_reported(suite)
    explicit = suite.runpytest_inprocess("gates", "--state-dir", "machine-docs")
    assert explicit.ret == 4 and "--state-dir machine-docs: no such directory" in _text(explicit)


needs_ssh = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs openssh-client")


@needs_ssh
def test_a_sign_key_without_signers_in_the_phase_is_refused(suite: pytest.Pytester, tmp_path: Path) -> None:
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    result = suite.runpytest_inprocess("gates/m1", "--world", str(DEMO), "--sign-key", str(key))
    assert result.ret == 4
    assert _text(result).count(f"--sign-key {key}: the phase names no adversary_signers") == 1


# --- case 6 and 11 through a run: one line naming the file, exit 4, nothing written -------------------

def test_a_world_file_key_outside_the_state_dir_writes_nothing(suite: pytest.Pytester, tmp_path: Path) -> None:
    import yaml

    world = yaml.safe_load(DEMO.read_text())
    world["files"]["machine-docs/../../planted.md"] = "planted\n"
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    state = tmp_path / "deep" / "er" / "state"
    result = suite.runpytest_inprocess("gates/m1", "--world", str(path), "--state-dir", str(state))
    assert result.ret == 4
    assert _text(result).count(f"{path}: files.machine-docs/../../planted.md: ") == 1
    assert not state.exists() and not list(tmp_path.rglob("planted.md"))


def test_a_billion_laughs_world_is_a_usage_error(suite: pytest.Pytester, tmp_path: Path) -> None:
    from tests.unit.test_hostile_files import BILLION_LAUGHS

    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    result = suite.runpytest_inprocess("gates/m1", "--world", str(path))
    assert result.ret == 4 and _text(result).count(f"{path}: line 4: YAML alias refused") == 1
    assert "INTERNALERROR" not in _text(result)


def test_a_deeply_nested_phase_file_is_a_usage_error(suite: pytest.Pytester, tmp_path: Path) -> None:
    path = tmp_path / "phase.toml"
    path.write_text("repo = " + "[" * 100_000 + "]" * 100_000 + "\n")
    result = suite.runpytest_inprocess("gates/m1", "--world", str(DEMO), "--phase", str(path))
    assert result.ret == 4, _text(result)
    assert _text(result).count(f"{path}: nested deeper than a phase file may be") == 1
    assert "INTERNALERROR" not in _text(result) and "RecursionError" not in _text(result)
