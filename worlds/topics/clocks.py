"""The two servers' clocks (gates.md, *Its build*): up to a minute apart. build-stamped-before-testme
(make_worlds.py) is the side within the minute; here, the side past it: a build the bridge links
but Drone stamps three minutes before the testme is no answer to it (docs/corners.md)."""

from __future__ import annotations

from make_worlds import GREEN_BUILD, World, build, mut


@mut("build-stamped-minutes-before-testme", "build #287, linked by the bridge, is stamped 160 s before testme "
     "407: past the minute two clocks may differ, it is no answer to that testme, so PR #12 has no "
     "finished post-proxy testme build", fail=("M1.fresh-run",))
def _stamped_long_before(w: World) -> None:
    b = build(w, GREEN_BUILD)
    for key in ("created", "started", "finished", "updated"):
        b[key] -= 180  # created 20 s after the testme by Gitea's clock: 160 s before it by Drone's
