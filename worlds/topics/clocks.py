"""Which build is whose, and which is latest (gates.md *Its build*, *Its latest finished build*).

The two servers' clocks may differ by up to a minute: build-stamped-before-testme (make_worlds.py) is
the side within it; here, the side past it: a build the bridge links but Drone stamps minutes
before the testme is no answer to it (docs/corners.md)."""

from __future__ import annotations

from make_worlds import CORRECT, DRONE, GREEN_BUILD, MEMBER, World, add_run, build, mut, state_line


@mut("build-stamped-minutes-before-testme", "build #287, linked by the bridge, is stamped 160 s before testme "
     "407: past the minute two clocks may differ, it is no answer to that testme, so PR #12 has no "
     "finished post-proxy testme build", fail=("M1.fresh-run",))
def _stamped_long_before(w: World) -> None:
    b = build(w, GREEN_BUILD)
    for key in ("created", "started", "finished", "updated"):
        b[key] -= 180  # created 20 s after the testme by Gitea's clock: 160 s before it by Drone's


# *Its latest finished build* (gates.md Words): the finished one with the highest number. killed-build
# and running-build (make_worlds.py) are the side where no finished build remains; here a later
# build that is not finished leaves the earlier finished one the latest.
@mut("later-build-killed-latest-finished-stays", "after green build #287 a second testme's build #288 was "
     "killed (cited in the inventory): #287 is still the latest finished build, every verdict the base's")
def _later_killed(w: World) -> None:
    # the testme by an org member: the builder's last comment stays the one explaining #287
    add_run(w, CORRECT, "2026-07-15T16:00:00Z", 288, status="killed", login=MEMBER)
    state_line(w, "Inventory", f"- build #288 ({DRONE}/288): a second post-proxy testme, killed by hand.")
