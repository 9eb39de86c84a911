"""The failure classes (gates.md "Failure classes"): the one list of class words.

The state file's `## Classification` items (read/statefile.py, through read/citations.py), a
comment's `Class:` statement (read/statements.py) and the classifier (judge/classify.py) all read
these words and no others. The order is gates.md's, and it is the classifier's precedence too:
infra over timing (a pause under address exhaustion is the confound, not the recipe), timing over
recipe-bug, recipe-bug over stale-test; `unknown` last (none of the above is shown, never guessed).
"""

from __future__ import annotations

INFRA = "infra"
RECIPE_TIMING = "recipe-timing"
RECIPE_BUG = "recipe-bug"
STALE_TEST = "stale-test"
UNKNOWN = "unknown"

CLASSES: tuple[str, ...] = (INFRA, RECIPE_TIMING, RECIPE_BUG, STALE_TEST, UNKNOWN)
