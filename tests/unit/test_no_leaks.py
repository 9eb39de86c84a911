"""M2.no-leaks over a Swarm snapshot: every kind, stacks by label, volumes per node, look-alikes."""

from __future__ import annotations

from ghostgates.judge.rules.m2 import no_leaks
from ghostgates.read.phase import Phase

PHASE = Phase.from_mapping({"leak_patterns": ["ghos-*", "dev-ghost*"]})
STACK = "com.docker.stack.namespace"


def test_each_kind_is_named():
    swarm = {
        "services": [{"Spec": {"Name": "ghos-abc123_app", "Labels": {STACK: "ghos-abc123"}}}],
        "containers": [{"Names": ["/dev-ghost_db.1.xyz"], "Labels": {}}],
        "volumes": [{"Name": "ghos-abc123_content", "Labels": {}}],
        "networks": [{"Name": "dev-ghost_internal", "Labels": {STACK: "dev-ghost"}}],
        "secrets": [{"Spec": {"Name": "ghos-abc123_pw_v1", "Labels": {}}}],
        "configs": [{"Spec": {"Name": "dev-ghost_conf_v1", "Labels": {}}}],
    }
    verdict = no_leaks(swarm, PHASE)
    assert verdict.status == "fail"
    kinds = {(e["kind"], e["name"]) for e in verdict.evidence if e["kind"] != "engine"}
    assert kinds == {("service", "ghos-abc123_app"), ("container", "dev-ghost_db.1.xyz"),
                     ("volume", "ghos-abc123_content"), ("network", "dev-ghost_internal"),
                     ("secret", "ghos-abc123_pw_v1"), ("config", "dev-ghost_conf_v1"),
                     ("stack", "ghos-abc123"), ("stack", "dev-ghost")}


def test_look_alikes_never_match():
    swarm = {"volumes": [{"Name": "ghost-blog"}, {"Name": "my-ghos-notes"}, {"Name": "ghos"}],
             "networks": [{"Name": "dev-ghos_x"}]}
    assert no_leaks(swarm, PHASE).status == "pass"


def test_node_volumes_name_their_node():
    swarm = {"node_volumes": {"worker-2": ["ghos-aa11bb_mysql", "traefik_certs"], "worker-1": []}}
    verdict = no_leaks(swarm, PHASE)
    assert verdict.status == "fail"
    assert "volume ghos-aa11bb_mysql on node worker-2" in verdict.reason
    assert no_leaks({"node_volumes": {"worker-1": ["x"]}}, PHASE).reason.endswith("(volumes read on worker-1).")


def test_polling_is_said():
    assert "after polling 4 s" in no_leaks({}, PHASE, polled_seconds=4).reason


# --- other recipes' phases: leak_exclude and the stack label (gates.md) --------------------
SIBLINGS = Phase.from_mapping({"recipe": "lasuite-docs", "leak_patterns": ["lasu-*", "lasuite-*"],
                               "leak_exclude": ["lasuite-drive*", "lasuite-meet*"]})


def test_a_sibling_recipes_stack_with_the_same_prefix_is_not_a_leak():
    swarm = {"services": [{"Spec": {"Name": "lasuite-drive_app", "Labels": {STACK: "lasuite-drive"}}}],
             "volumes": [{"Name": "lasuite-meet_db", "Labels": {STACK: "lasuite-meet"}}]}
    verdict = no_leaks(swarm, SIBLINGS)
    assert verdict.status == "pass", verdict.reason
    assert "but lasuite-drive*, lasuite-meet*" in verdict.reason


def test_without_the_exclusion_the_sibling_is_reported():
    swarm = {"services": [{"Spec": {"Name": "lasuite-drive_app", "Labels": {STACK: "lasuite-drive"}}}]}
    plain = Phase.from_mapping({"recipe": "lasuite-docs", "leak_patterns": ["lasu-*", "lasuite-*"]})
    assert no_leaks(swarm, plain).status == "fail"


def test_an_object_labelled_with_a_leaking_stack_leaks_whatever_its_name():
    # The secret's own name is excluded (and would match no pattern): its label names a leaking stack.
    swarm = {"secrets": [{"Spec": {"Name": "lasuite-drive_pw_v1", "Labels": {STACK: "lasu-9f2c1a"}}},
                         {"Spec": {"Name": "pw_v2", "Labels": {STACK: "lasu-9f2c1a"}}}],
             "configs": [{"Spec": {"Name": "lasuite-drive_conf", "Labels": {STACK: "lasuite-drive"}}}]}
    verdict = no_leaks(swarm, SIBLINGS)
    assert verdict.status == "fail"
    names = {(e["kind"], e["name"]) for e in verdict.evidence if e["kind"] != "engine"}
    assert names == {("secret", "lasuite-drive_pw_v1"), ("secret", "pw_v2"), ("stack", "lasu-9f2c1a")}
    assert "secret pw_v2 (stack lasu-9f2c1a)" in verdict.reason
    assert "lasuite-docs phase" in verdict.reason


def test_a_leaking_stack_name_that_is_excluded_attributes_nothing():
    swarm = {"networks": [{"Name": "n1", "Labels": {STACK: "lasuite-drive"}}]}
    assert no_leaks(swarm, SIBLINGS).status == "pass"
