"""Gitea v1 routes (under /api/v1) and the WSGI app that serves them."""

from __future__ import annotations

from datetime import datetime

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from twin.faults import FaultSet
from twin.gitea.models import GiteaBackend
from twin.gitea.objects import Renderer
from twin.gitea.responses import GiteaResponses
from twin.http import Reply, ServiceApp, json_reply, require_token

__all__ = ["gitea_app", "url_map"]

R = "/api/v1/repos/<owner>/<repo>"

url_map = Map(
    [
        Rule("/api/v1/version", endpoint="version_get", methods=["GET"]),
        Rule("/api/v1/user", endpoint="user_get_current", methods=["GET"]),
        Rule(R, endpoint="repo_get", methods=["GET"]),
        Rule(f"{R}/pulls", endpoint="repo_list_pull_requests", methods=["GET"]),
        Rule(f"{R}/pulls/<int:index>", endpoint="repo_get_pull_request", methods=["GET"]),
        Rule(f"{R}/pulls/<int:index>/merge", endpoint="repo_pull_request_is_merged", methods=["GET"]),
        Rule(f"{R}/pulls/<int:index>/commits", endpoint="repo_get_pull_request_commits", methods=["GET"]),
        Rule(f"{R}/pulls/<int:index>/files", endpoint="repo_get_pull_request_files", methods=["GET"]),
        Rule(f"{R}/issues/<int:index>/comments", endpoint="issue_get_comments", methods=["GET"]),
        Rule(f"{R}/issues/<int:index>/comments", endpoint="issue_create_comment", methods=["POST"]),
        Rule(f"{R}/issues/comments/<int:id>", endpoint="issue_get_comment", methods=["GET"]),
        Rule(f"{R}/branches", endpoint="repo_list_branches", methods=["GET"]),
        Rule(f"{R}/branches/<path:branch>", endpoint="repo_get_branch", methods=["GET"]),
        Rule(f"{R}/commits", endpoint="repo_get_all_commits", methods=["GET"]),
        Rule(f"{R}/git/commits/<sha>", endpoint="repo_get_single_commit", methods=["GET"]),
        Rule(f"{R}/commits/<path:ref>/statuses", endpoint="repo_list_statuses_by_ref", methods=["GET"]),
        Rule(f"{R}/commits/<path:ref>/status", endpoint="repo_get_combined_status_by_ref", methods=["GET"]),
        Rule(f"{R}/statuses/<sha>", endpoint="repo_list_statuses", methods=["GET"]),
        Rule(f"{R}/raw/<path:filepath>", endpoint="repo_get_raw_file", methods=["GET"]),
        Rule(f"{R}/contents/<path:filepath>", endpoint="repo_get_contents", methods=["GET"]),
        # The root folder (routers/api/v1/api.go: m.Get("/contents", repo.GetContentsList)).
        Rule(f"{R}/contents", endpoint="repo_get_contents", defaults={"filepath": ""}, methods=["GET"]),
        Rule("/api/v1/orgs/<org>/members/<username>", endpoint="org_is_member", methods=["GET"]),
        Rule("/api/v1/orgs/<org>/public_members/<username>", endpoint="org_is_public_member", methods=["GET"]),
    ],
    strict_slashes=False,
)


def _token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    # Deprecated in the spec, still honoured by Gitea.
    return request.args.get("token") or request.args.get("access_token")


def gitea_app(
    backend: GiteaBackend,
    *,
    base_url: str,
    token: str,
    now: datetime,
    latency_ms: int = 0,
    faults: FaultSet | None = None,
) -> ServiceApp:
    renderer = Renderer(base_url, now, backend.time_zone)
    responses = GiteaResponses(backend, renderer)

    def authorise(request: Request) -> None:
        require_token(_token(request), token, "token is required",
                      "user does not exist [uid: 0, name: ]: invalid username, password or token")

    def error(status: int, message: str, request: Request) -> Reply:
        body: dict[str, object] = {"message": message, "url": f"{renderer.base}/api/swagger"}
        if status == 404:
            body["errors"] = []
        return json_reply(body, status)

    return ServiceApp(
        "gitea",
        url_map,
        responses,
        now=now,
        authorise=authorise,
        error=error,
        latency_ms=latency_ms,
        faults=faults,
        public_endpoints=("version_get",),
    )
