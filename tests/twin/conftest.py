"""Fixtures for the twin's own tests: tiny worlds written per test, and a running twin."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from worldkit import tiny_world, write_world

from twin import running_twin
from twin.server import TwinHandle


@pytest.fixture
def world_file(tmp_path: Path) -> Callable[..., Path]:
    def make(data: dict[str, Any] | None = None, name: str = "w.yaml", **changes: Any) -> Path:
        body = copy.deepcopy(data) if data is not None else tiny_world(**changes)
        return write_world(tmp_path / name, body)

    return make


@pytest.fixture
def twin(world_file: Callable[..., Path]) -> Iterator[TwinHandle]:
    with running_twin(world_file()) as handle:
        yield handle


@pytest.fixture
def gitea(twin: TwinHandle) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"token {twin.gitea_token}"}
    with httpx.Client(base_url=twin.gitea_url + "/api/v1", headers=headers, timeout=5) as client:
        yield client


@pytest.fixture
def drone(twin: TwinHandle) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {twin.drone_token}"}
    with httpx.Client(base_url=twin.drone_url + "/api", headers=headers, timeout=5) as client:
        yield client
