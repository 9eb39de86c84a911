"""The failure classes, one definition (ghostgates/read/classes.py) for every reader of them.

gates.md "Failure classes": `infra`, `recipe-timing`, `recipe-bug`, `stale-test`, `unknown`; the
state file's `## Classification` lines, a comment's `Class:` statement and the classifier read
these words and no others.
"""

from __future__ import annotations

import pytest

from ghostgates.judge import classify
from ghostgates.read import citations, classes, statements
from ghostgates.read.statefile import StateFile

WORDS = ("infra", "recipe-timing", "recipe-bug", "stale-test", "unknown")  # gates.md's list, its order


def test_one_list_in_gates_md_order_which_is_the_classifiers_precedence() -> None:
    assert classes.CLASSES == WORDS
    assert classify.CLASSES is classes.CLASSES
    assert (classify.INFRA, classify.RECIPE_TIMING, classify.RECIPE_BUG, classify.STALE_TEST,
            classify.UNKNOWN) == WORDS


@pytest.mark.parametrize("word", WORDS)
def test_every_reader_reads_each_class_word(word: str) -> None:
    assert statements.class_word(word.upper() + ".") == word
    assert citations.class_word_spans(f"build #48: {word.upper()}") == [(word, len("build #48: "))]
    state = StateFile.parse("STATUS-ghost.md", f"## Classification\n- build #48: {word}\n")
    assert [(c.build, c.cls) for c in state.classifications("x/cc-ci")] == [(48, word)]
    assert classify.contradiction(word, "") is None  # a word the classifier knows: no ValueError


@pytest.mark.parametrize("word", ["infrastructure", "timing", "bug", "recipe", "stale", "flaky"])
def test_no_reader_reads_another_word(word: str) -> None:
    assert statements.class_word(word) is None
    assert citations.class_word_spans(f"build #48: {word}") == []
    state = StateFile.parse("STATUS-ghost.md", f"## Classification\n- build #48: {word}\n")
    assert state.classifications("x/cc-ci") == []
    with pytest.raises(ValueError, match="unknown failure class"):
        classify.contradiction(word, "")
