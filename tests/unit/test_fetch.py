"""The fetch side's contracts (BRIEF, issue 10): membership, redaction, required phase keys, logs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ghostgates.errors import ConfigError, ServiceError, Unauthorised
from ghostgates.fetch.http import ApiClient
from ghostgates.fetch.retry import RetryPolicy
from ghostgates.read.phase import REQUIRED, load_phase
from ghostgates.redact import redact_text, redact_url

ROOT = Path(__file__).resolve().parents[2]


def client(handler, base: str = "https://git.example.org/api/v1") -> ApiClient:
    api = ApiClient("Gitea", base, {}, policy=RetryPolicy(retries=1, backoff=0))
    api._client = httpx.Client(base_url=base, transport=httpx.MockTransport(handler), follow_redirects=False)
    return api


# routers/api/v1/org/member.go (IsMember): 204 member, 404 not, and a redirect to
# /orgs/{org}/public_members/{user} when the asking token may not see private membership; there
# (IsPublicMember) 204 is a public member, visibly a member (gates.md), and 404 is no answer.
@pytest.mark.parametrize(("status", "location", "public", "want"), [
    (204, None, None, True),
    (404, None, None, False),
    (303, "/api/v1/orgs/recipe-maintainers/public_members/hedda", 404, None),
    (302, "/api/v1/orgs/recipe-maintainers/public_members/hedda", 404, None),
    (303, "/api/v1/orgs/recipe-maintainers/public_members/hedda", 204, True),
])
def test_membership_answers(status: int, location: str | None, public: int | None, want: bool | None) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/orgs/recipe-maintainers/public_members/hedda":
            assert public is not None, "public members asked without a redirect"
            return httpx.Response(public)
        assert request.url.path == "/api/v1/orgs/recipe-maintainers/members/hedda"
        return httpx.Response(status, headers={"Location": location} if location else {})

    assert client(handler).membership("recipe-maintainers", "hedda") is want


def test_membership_redirect_elsewhere_is_an_error() -> None:
    api = client(lambda request: httpx.Response(302, headers={"Location": "https://sso.example.org/login"}))
    with pytest.raises(ServiceError, match="not to the public members"):
        api.membership("recipe-maintainers", "hedda")


def test_redirects_are_never_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(303, headers={"Location": "/api/v1/elsewhere"})

    with pytest.raises(ServiceError, match="answered 303"):
        client(handler).get_json("/repos/a/b")
    assert seen == ["/api/v1/repos/a/b"]


def test_redact_url_and_text() -> None:
    assert redact_url("https://user:s3cret@git.example.org/api/v1") == "https://***@git.example.org/api/v1"
    assert redact_url("https://git.example.org/x") == "https://git.example.org/x"
    assert "s3cret" not in redact_text("GET https://u:s3cret@h/x failed; tcp://tok@h:2375")


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:s3cret@git.example.org/api/v1", "https://***@git.example.org/api/v1"),
    ("https://s3cret@git.example.org", "https://***@git.example.org"),  # a token as the user name
    ("tcp://user:s3cret@manager:2376", "tcp://***@manager:2376"),
    ("ssh://ops@manager-1", "ssh://ops@manager-1"),  # a login name is no secret on ssh
    ("ssh://ops:s3cret@manager-1:2222", "ssh://ops:***@manager-1:2222"),
    ("unix:///var/run/docker.sock", "unix:///var/run/docker.sock"),
])
def test_one_redactor_for_every_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_text(f"failed: {url}: refused") == f"failed: {shown}: refused"


def test_library_errors_quoting_a_bare_netloc_are_redacted() -> None:
    # paramiko and testinfra quote the host spec without its scheme.
    assert redact_text("could not connect to ops:s3cret@manager-1 (port 22)") == \
        "could not connect to ops:***@manager-1 (port 22)"


def test_token_in_userinfo_is_never_in_an_error() -> None:
    api = client(lambda request: httpx.Response(401), base="https://user:s3cret@git.example.org/api/v1")
    with pytest.raises(Unauthorised) as caught:
        api.get_json("/repos/a/b")
    assert "s3cret" not in str(caught.value) and "s3cret" not in caught.value.url
    assert "***@git.example.org" in str(caught.value)
    assert "s3cret" not in api.base_url


def test_cut_body_is_read_again() -> None:
    answers = iter([httpx.Response(200, content=b'[{"a": 1'), httpx.Response(200, json=[{"a": 1}])])
    api = client(lambda request: next(answers))
    assert api.get_json("/x") == [{"a": 1}]
    assert api.requests == 2


def test_gitea_list_short_of_its_count_is_read_again() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        items = [{"i": 1}, {"i": 2}, {"i": 3}]
        return httpx.Response(200, json=items[:2] if calls["n"] == 1 else items, headers={"X-Total-Count": "3"})

    assert len(client(handler).gitea_pages("/x")) == 3


@pytest.mark.parametrize("key", REQUIRED)
def test_required_phase_key_missing_is_named(tmp_path: Path, key: str) -> None:
    text = (ROOT / "phases" / "ghost.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    tables = next(i for i, line in enumerate(lines) if line.startswith("["))
    lines = [line for line in lines[:tables] if not line.startswith(f"{key} =")] + lines[tables:]
    if key == "build_params":
        start = lines.index("[build_params]")
        lines = lines[:start] + lines[start + 4:]
    path = tmp_path / "phase.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{path}.*: {key}: phase key missing"):
        load_phase(path)
    # A world's phase block may give it instead.
    given = load_phase(ROOT / "phases" / "ghost.toml")
    assert load_phase(path, {key: _raw(given, key)}, "w.yaml: phase") is not None


def _raw(phase, key: str):
    value = getattr(phase, key)
    if key in ("proxy_fixed_at", "phase_started_at"):
        return value.isoformat()
    if key == "classify_failure_on":
        return value.isoformat()
    if key == "test_paths":
        return [str(t) for t in value]
    if isinstance(value, tuple):
        return list(value)
    return value


def test_a_host_error_never_shows_the_hosts_password() -> None:
    """testinfra's ssh backend runs `sshpass -p PASSWORD ssh ...` for ssh://u:PASSWORD@host and, when ssh
    fails, raises RuntimeError(CommandResult) whose command carries it (testinfra/backend/ssh.py)."""
    from types import SimpleNamespace

    from ghostgates.fetch.hostcheck import describe_host_error

    result = SimpleNamespace(command=b"sshpass -p s3cr%40t ssh -p 1 u@manager date", rc=255,
                             stderr="ssh: connect to host manager port 1: Connection refused")
    line = describe_host_error(RuntimeError(result), "ssh://u:s3cr%40t@manager:1")
    assert "s3cr" not in line and line.startswith("`sshpass -p *** ssh -p 1 u@manager date` exited 255: ssh:")
