"""Volumes live per node: M2.no-leaks reads each node's engine through testinfra (--node-hosts)."""

from __future__ import annotations

import secrets

import docker
import pytest
import testinfra

from ghostgates.fetch import hostcheck
from ghostgates.judge.rules.m2 import no_leaks
from ghostgates.read.phase import Phase

pytestmark = pytest.mark.lab


def test_a_volume_only_a_node_holds_is_named_with_its_node(engine: docker.DockerClient) -> None:
    name = f"ghostlab-nodevol-{secrets.token_hex(3)}"
    phase = Phase.from_mapping({"leak_patterns": ["ghostlab-nodevol-*"]})
    volume = engine.volumes.create(name, labels={"ghostgates.lab": "1"})
    try:
        names = hostcheck.node_volumes(testinfra.get_host("local://"))
        assert name in names
        # The manager's own listing is left empty: only the node's view can find the leak.
        verdict = no_leaks({"node_volumes": {"node-a": names}}, phase)
        assert verdict.status == "fail"
        assert f"volume {name} on node node-a" in verdict.reason
        assert {"kind": "volume", "name": name, "node": "node-a"} in verdict.evidence
    finally:
        volume.remove(force=True)
    names = hostcheck.node_volumes(testinfra.get_host("local://"))
    assert no_leaks({"node_volumes": {"node-a": names}}, phase).status == "pass"
