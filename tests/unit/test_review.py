"""The review file: record lines, escaping, block extent and replacement, atomic writes.

gates.md, "What the suite writes into the review file": a block opens with `## M1 ...` and its
record line and ends with `<!-- /gate-record gate=M1 -->`; only such blocks are replaced or read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ghostgates.catalogue import GATES
from ghostgates.record import atomic, review

SHA = "a" * 40


def rec(gate: str = "M1", verdict: str = "PASS", role: str = "adversary") -> str:
    return review.Record(gate, verdict, role, SHA, "57", "2026-06-15T11:20:00Z").line()


def block(gate: str = "M1", body: str = "new", verdict: str = "PASS") -> str:
    return (f"## {gate}: t: {verdict}\n{rec(gate, verdict)}\nChecked by ghost-gates as adversary at "
            f"2026-06-15T11:20:00Z: 7 pass.\n\n| requirement | verdict | reason |\n|---|---|---|\n"
            f"| {GATES[gate][0]} | pass | {body} |\n{review.end_marker(gate)}\n")


def old_block(gate: str = "M1", body: str = "old") -> str:
    """A block as the suite wrote it before the closing marker existed."""
    return block(gate, body).replace(review.end_marker(gate) + "\n", "")


def test_records_read_only_the_line_that_opens_a_gate_block():
    text = f"# R\n\n{rec('M2')}\n\n## M1: x: PASS\n\n{rec()}\nbody {rec('M2')}\n\n## M2: y\nno record\n"
    found = review.records(text)
    assert set(found) == {"M1"}
    assert found["M1"].build == "57" and found["M1"].head == SHA


def test_record_gate_must_match_its_block():
    assert review.records(f"## M2: y\n{rec('M1')}\n") == {}


def test_records_inside_a_code_fence_do_not_count():
    text = f"```\n## M1: x\n{rec()}\n```\n"
    assert review.records(text) == {}


def test_an_indented_record_is_code_not_a_record():
    assert review.records(f"## M1: x\n\n    {rec()}\n") == {}
    assert set(review.records(f"## M1: x\n   {rec()}\n")) == {"M1"}


def test_escape_cannot_forge_a_record_or_break_markdown():
    hostile = f"nice\n\n## M1: PASS\n{rec()} | cell ] [link](x) `code` {review.end_marker('M1')} ~~~"
    out = review.escape(hostile)
    assert "\n" not in out and "<!--" not in out and "-->" not in out
    assert "\\|" in out and "\\#\\#" in out and "\\~" in out
    assert review.records(f"## M1: t\n{out}\n") == {}


def test_escape_flattens_unicode_line_separators():
    out = review.escape(f"a\u2028{rec()}\u2029b\x85c")
    assert "\u2028" not in out and "<!--" not in out


def test_a_user_section_named_m1_is_not_a_block():
    # "## M1 notes" has no record line: it is the user's, neither replaced nor read.
    text = "# R\n\n## M1 notes\nmine\n"
    new = review.replace_block(text, "M1", block())
    assert new == text + "\n" + block()
    assert review.blocks(new)["M1"].start == text.count("\n") + 1


def test_the_block_replaced_is_the_block_read():
    text = "## M1 notes\nmine\n\n" + block(body="first") + "\n" + block(body="second")
    found = review.blocks(text)["M1"]
    assert found.closed and found.start == 3
    new = review.replace_block(text, "M1", block(body="third"))
    assert new == "## M1 notes\nmine\n\n" + block(body="third") + "\n" + block(body="second")


@pytest.mark.parametrize("after", [
    "# Top-level notes\nkeep me\n",
    "### Small heading\nkeep me\n",
    "Setext notes\n============\nkeep me\n",
    "Setext two\n----------\nkeep me\n",
    "just a paragraph, no heading\n",
    "| M1.inventory | by hand | a row of my own |\n",
])
def test_what_a_person_wrote_after_a_block_stays(after: str):
    text = "# R\n\n" + block(body="old") + after
    new = review.replace_block(text, "M1", block(body="new"))
    assert new == "# R\n\n" + block(body="new") + after


@pytest.mark.parametrize("after", [
    "### Small heading\nkeep me\n",
    "\nAll requirements of M1 passed against the live state.\n",
    "\njust a paragraph, no heading\n",
    "| M1.inventory | by hand | a row of my own |\n",
    "# Top-level notes\nkeep me\n",  # gates.md: to the next level-2 heading, not any heading
])
def test_an_old_block_runs_to_the_next_level_2_heading(after: str):
    # gates.md: "in a file written before blocks had one, to the next level-2 heading: the text of an
    # old block goes with it" (issue 19, case 3: an old PASS block's sentence stayed under a new FAIL).
    text = "# R\n\n" + old_block(body="old") + after + "\n## M2 by hand\nx\n"
    found = review.blocks(text)["M1"]
    assert not found.closed
    new = review.replace_block(text, "M1", block(body="new", verdict="FAIL"))
    assert new == "# R\n\n" + block(body="new", verdict="FAIL") + "\n## M2 by hand\nx\n"
    # The next run finds the closed block and replaces exactly it.
    assert review.replace_block(new, "M1", block(body="again")) == new.replace(
        block(body="new", verdict="FAIL"), block(body="again"))


def test_an_old_block_at_the_end_of_the_file_runs_to_the_end():
    text = "# R\n\n" + old_block(body="old") + "\nAll requirements of M1 passed against the live state.\n"
    assert review.replace_block(text, "M1", block(body="new")) == "# R\n\n" + block(body="new")


def test_a_setext_level_2_heading_ends_an_old_block():
    text = "# R\n\n" + old_block(body="old") + "\nmine\n\nSetext two\n----------\nkeep me\n"
    new = review.replace_block(text, "M1", block(body="new"))
    assert new == "# R\n\n" + block(body="new") + "\nSetext two\n----------\nkeep me\n"


def test_a_note_typed_inside_a_closed_block_goes_with_it():
    # gates.md: "A block runs from its heading to its closing marker".
    text = block().replace(review.end_marker("M1"), "my note inside\n" + review.end_marker("M1")) + "after\n"
    new = review.replace_block(text, "M1", block(body="x"))
    assert new == block(body="x") + "after\n"
    assert review.blocks(new)["M1"].closed


def test_replace_blocks_puts_both_gates_in_one_text():
    text = "# R\n\n" + block("M1", "a") + "\nnotes\n"
    new = review.replace_blocks(text, {"M1": block("M1", "b"), "M2": block("M2", "c")})
    assert new == "# R\n\n" + block("M1", "b") + "\nnotes\n\n" + block("M2", "c")


def test_replace_block_appends_when_absent_and_creates_from_nothing():
    assert review.replace_block("# R\nnotes", "M2", "## M2: b\n") == "# R\nnotes\n\n## M2: b\n"
    assert review.replace_block("", "M1", "## M1: a\n") == "## M1: a\n"


def test_replace_block_keeps_crlf_files_crlf():
    text = ("# R\r\n\r\n" + block(body="old") + "\r\n## Notes\r\nkeep\r\n").replace("\n", "\r\n").replace(
        "\r\r\n", "\r\n")
    new = review.replace_block(text, "M1", block(body="new"))
    assert new == text.replace("| old |", "| new |")


def test_lines_split_as_markdown_does_not_as_splitlines():
    # U+2028 is text to Markdown: a record after it on the "same" line is not a line of its own.
    text = f"## M1: x\u2028{rec()}\n"
    assert review.records(text) == {}
    assert review.split_lines("a\r\nb\rc\nd\u2028e") == ["a\r\n", "b\r", "c\n", "d\u2028e"]
    text = f"## M1: x\u2028still the heading\n{rec()}\n"
    assert set(review.records(text)) == {"M1"}


def test_a_byte_order_mark_is_no_text():
    text = "\ufeff" + block(body="old") + "\nnotes\n"
    assert set(review.records(text)) == {"M1"}
    assert review.replace_block(text, "M1", block(body="new")) == "\ufeff" + block(body="new") + "\nnotes\n"


def test_m10_heading_is_not_m1():
    text = "## M10: other\nx\n"
    assert review.replace_block(text, "M1", "## M1: a\n") == "## M10: other\nx\n\n## M1: a\n"


def test_a_signed_record_round_trips():
    line = review.Record("M1", "PASS", "adversary", SHA, "57", "2026-06-15T11:20:00Z", "QUJD+/==").line()
    assert line.endswith(" at=2026-06-15T11:20:00Z sig=QUJD+/== -->")
    parsed = review.parse_record(line)
    assert parsed is not None and parsed.sig == "QUJD+/==" and line.startswith(parsed.payload() + " sig=")


def test_write_atomic_leaves_no_temp_files(tmp_path: Path):
    path = tmp_path / "REVIEW-ghost.md"
    path.write_text("keep\n")
    review.write_atomic(path, lambda old: old + "more\n")
    assert path.read_text() == "keep\nmore\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REVIEW-ghost.md"]


def test_the_next_write_removes_a_killed_runs_temporary_file(tmp_path: Path):
    path = tmp_path / "REVIEW-ghost.md"
    path.write_text("keep\n")
    left = tmp_path / ".REVIEW-ghost.md.k1ll3d.tmp"
    left.write_text("half a file")
    other = tmp_path / ".STATUS-ghost.md.x.tmp"  # another file's: not ours to remove
    other.write_text("x")
    review.write_atomic(path, lambda old: old + "more\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".STATUS-ghost.md.x.tmp", "REVIEW-ghost.md"]


def test_write_atomic_keeps_the_old_file_when_the_update_fails(tmp_path: Path):
    path = tmp_path / "REVIEW-ghost.md"
    path.write_text("keep\n")

    def boom(old: str) -> str:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        review.write_atomic(path, boom)
    assert path.read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REVIEW-ghost.md"]


def test_an_unreadable_review_file_is_never_overwritten(tmp_path: Path):
    path = tmp_path / "REVIEW-ghost.md"
    path.write_bytes(b"caf\xe9 notes in latin-1\n")
    with pytest.raises(atomic.WriteError, match="REVIEW-ghost.md: cannot be read: not UTF-8"):
        review.write_atomic(path, lambda old: old + "x")
    assert path.read_bytes() == b"caf\xe9 notes in latin-1\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes files whatever their mode")
def test_a_file_without_permission_is_one_line_naming_it(tmp_path: Path):
    path = tmp_path / "REVIEW-ghost.md"
    path.write_text("x\n")
    path.chmod(0)
    with pytest.raises(atomic.WriteError, match="REVIEW-ghost.md: cannot be read"):
        review.write_atomic(path, lambda old: old)


def test_a_report_written_through_a_symlink_keeps_the_link(tmp_path: Path):
    real = tmp_path / "kept" / "gates.json"
    real.parent.mkdir()
    real.write_text("a\n")
    link = tmp_path / "gates.json"
    link.symlink_to(real)
    atomic.update_text(link, lambda old: old + "b\n")
    assert link.is_symlink() and real.read_text() == "a\nb\n"


def test_the_review_file_is_never_written_through_a_symlink(tmp_path: Path):
    """A link planted after the start-of-run check (plugins/run.py) is refused at the write itself:
    the outside file stays as it was (issue 19, item 6)."""
    outside = tmp_path / "outside.md"
    outside.write_text("theirs\n")
    link = tmp_path / "state" / "REVIEW-ghost.md"
    link.parent.mkdir()
    link.symlink_to(outside)
    with pytest.raises(atomic.WriteError, match="REVIEW-ghost.md: a symlink"):
        review.write_atomic(link, lambda old: old + "block\n")
    assert outside.read_text() == "theirs\n" and link.is_symlink()


def test_a_directory_in_the_way_is_one_line(tmp_path: Path):
    (tmp_path / "gates.json").mkdir()
    with pytest.raises(atomic.WriteError, match="gates.json: cannot be written"):
        atomic.replace_text(tmp_path / "gates.json", "{}")
