"""The twin's lists of API field names are the contracts' own."""

from __future__ import annotations

import json

import pytest
from worldkit import CONTRACTS

from twin import api_fields


@pytest.mark.parametrize("name", [n for n in dir(api_fields) if n.startswith(("GITEA_", "DRONE_"))])
def test_field_list_matches_contract(name: str) -> None:
    api, definition = name.split("_", 1)
    if api == "GITEA":
        spec = json.loads((CONTRACTS / "gitea-swagger-v1.26.3.json").read_text())["definitions"]
    else:
        spec = json.loads((CONTRACTS / "drone-v1.schema.json").read_text())["$defs"]
    assert getattr(api_fields, name) == frozenset(spec[definition]["properties"])
