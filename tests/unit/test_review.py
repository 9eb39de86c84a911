"""The review file: record lines, escaping, block replacement, atomic writes."""

from __future__ import annotations

from pathlib import Path

from ghostgates import review

SHA = "a" * 40


def rec(gate: str = "M1", verdict: str = "PASS", role: str = "adversary") -> str:
    return review.Record(gate, verdict, role, SHA, "57", "2026-06-15T11:20:00Z").line()


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


def test_escape_cannot_forge_a_record_or_break_markdown():
    hostile = f"nice\n\n## M1: PASS\n{rec()} | cell ] [link](x) `code`"
    out = review.escape(hostile)
    assert "\n" not in out and "<!--" not in out and "-->" not in out
    assert "\\|" in out and "\\#\\#" in out
    assert review.records(f"## M1: t\n{out}\n") == {}


def test_replace_block_keeps_every_other_byte():
    text = "# R\n\nhand notes\n\n## M1: old\nold\n\n## Notes\nkeep\n"
    new = review.replace_block(text, "M1", "## M1: new\nnew\n")
    assert new == "# R\n\nhand notes\n\n## M1: new\nnew\n\n## Notes\nkeep\n"


def test_replace_block_appends_when_absent_and_creates_from_nothing():
    assert review.replace_block("# R\nnotes", "M2", "## M2: b\n") == "# R\nnotes\n\n## M2: b\n"
    assert review.replace_block("", "M1", "## M1: a\n") == "## M1: a\n"


def test_replace_block_keeps_crlf_files_crlf():
    text = "# R\r\n\r\n## M1: old\r\nold\r\n\r\n## Notes\r\nkeep\r\n"
    new = review.replace_block(text, "M1", "## M1: new\nnew\n")
    assert new == "# R\r\n\r\n## M1: new\r\nnew\r\n\r\n## Notes\r\nkeep\r\n"


def test_m10_heading_is_not_m1():
    text = "## M10: other\nx\n"
    assert review.replace_block(text, "M1", "## M1: a\n") == "## M10: other\nx\n\n## M1: a\n"


def test_write_atomic_leaves_no_temp_files(tmp_path: Path):
    path = tmp_path / "REVIEW-ghost.md"
    path.write_text("keep\n")
    review.write_atomic(path, lambda old: old + "more\n")
    assert path.read_text() == "keep\nmore\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REVIEW-ghost.md"]


def test_write_atomic_keeps_the_old_file_when_the_update_fails(tmp_path: Path):
    path = tmp_path / "REVIEW-ghost.md"
    path.write_text("keep\n")

    def boom(old: str) -> str:
        raise RuntimeError("no")

    try:
        review.write_atomic(path, boom)
    except RuntimeError:
        pass
    assert path.read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REVIEW-ghost.md"]
