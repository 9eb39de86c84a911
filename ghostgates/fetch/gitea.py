"""Reads of the recipe repo on Gitea (API v1): fetch only, plain JSON out.

The reading itself is the fetch plan's (ghostgates.fetch.plan); this module is its face for callers
that read Gitea alone (the trigger), and the one write the suite makes (a comment).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ghostgates.fetch.http import ApiClient
from ghostgates.fetch.plan import GiteaPlan, raw_file
from ghostgates.read.phase import Phase
from ghostgates.shapes import GiteaData

__all__ = ["fetch_gitea", "post_comment", "raw_file"]


def fetch_gitea(api: ApiClient, phase: Phase, correct_pr: int | None,
                compose_file: Callable[[str], bool] | None = None) -> GiteaData:
    """The repo, its pulls and branches, each upgrade PR's comments, the correct PR's commits and
    files, the memberships the rules ask, and the compose files `compose_file(name)` picks."""
    return GiteaPlan(api, phase, correct_pr, compose_file).run()


def post_comment(api: ApiClient, repo: str, number: int, body: str) -> dict[str, Any]:
    return api.post_json(f"/repos/{repo}/issues/{number}/comments", {"body": body})
