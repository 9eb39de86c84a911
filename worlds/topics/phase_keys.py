"""Phase keys of other recipes' phases (gates.md "Other recipes' phases"): `name` and `fix_keys`.

`name`: the state files are STATUS-<name>.md and REVIEW-<name>.md, the recipe's name where the
phase sets none. One side: the base world's files under the name the phase gives, every verdict
the base's. The other: the phase names itself, the files keep the recipe's name, so the state file
the phase reads is missing."""

from __future__ import annotations

from make_worlds import World, mut, timing_fix

NAME = "ghost-blog"


def _rename(w: World, name: str) -> None:
    files = w["files"]
    for kind in ("STATUS", "REVIEW", "JOURNAL", "BACKLOG"):
        old = f"machine-docs/{kind}-ghost.md"
        if old in files:
            files[f"machine-docs/{kind}-{name}.md"] = files.pop(old)


@mut("phase-name-names-the-state-files", f"the phase sets name = {NAME!r} and the state files are "
     f"STATUS-{NAME}.md and REVIEW-{NAME}.md: read as the base world's")
def _named(w: World) -> None:
    w["phase"]["name"] = NAME
    _rename(w, NAME)


@mut("phase-name-files-keep-the-recipe-name", f"the phase sets name = {NAME!r} but the files are still "
     "STATUS-ghost.md and REVIEW-ghost.md: the state file the phase names is missing",
     fail=("M1.inventory", "M1.correct-pr", "M1.no-stale-evidence", "M2.evidence-kept", "M2.classified"),
     skip=("DONE.signed",))
def _unnamed(w: World) -> None:
    w["phase"]["name"] = NAME


# `fix_keys`: compose key paths a minimal fix may touch in this phase beyond the timing keys
# (gates.md M2.fix-minimal); by default nothing. fix-env-change (make_worlds.py) is the default side.
@mut("fix-env-change-in-fix-keys", "the timing fix also adds MYSQL_INNODB_BUFFER_POOL_SIZE to the db service, "
     "and the phase's fix_keys names db.environment.MYSQL_INNODB_BUFFER_POOL_SIZE: allowed",
     passes=("M2.fix-minimal",))
def _env_in_fix_keys(w: World) -> None:
    timing_fix(w, env=True)
    w["phase"]["fix_keys"] = ["db.environment.MYSQL_INNODB_BUFFER_POOL_SIZE"]


@mut("fix-env-change-other-fix-key", "the same environment change, but fix_keys names another variable "
     "(db.environment.MYSQL_MAX_CONNECTIONS): beyond the upgrade", fail=("M2.fix-minimal",))
def _env_other_fix_key(w: World) -> None:
    timing_fix(w, env=True)
    w["phase"]["fix_keys"] = ["db.environment.MYSQL_MAX_CONNECTIONS"]
