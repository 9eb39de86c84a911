"""The structure of the state and review files as CommonMark reads them (markdown-it-py).

gates.md "What the gates read from the state file": level-2 headings as CommonMark reads them
(ATX `## DONE`, or setext: the text underlined with `---`), whose text is exactly the anchor; a
heading inside a code block (fenced or indented), an HTML block or comment, or a block quote is
not a heading; a leading byte-order mark is no text; a section runs to the next level-2 heading.
And (issue 9) citations are read from the text a reader sees.

This module is a thin layer over the parser: it never scans Markdown lines itself. It answers
in *source line numbers* (the parser's `token.map`), so callers keep byte-exact control of the
file (the review writer replaces its own blocks and keeps every other byte), and it renders the
text a reader sees line by line, so a citation or a class word keeps the line it was written on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import unescape

from markdown_it import MarkdownIt
from markdown_it.token import Token

BOM = "\ufeff"
# The CommonMark preset: no GFM extensions, so a table or `~~` is text, read as text.
_MD = MarkdownIt("commonmark")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<![A-Z][^>]*>|<\?.*?\?>", re.S)
# An HTML link (gates.md References: "A link, Markdown (`[text](url)`) or HTML (`<a href="url">`),
# cites its target as well as its text"): its opening tag's href, its closing tag.
_A_OPEN = re.compile(r"<a\s[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+))[^>]*>", re.I | re.S)
_A_CLOSE = re.compile(r"</a\s*>", re.I)


@dataclass(frozen=True)
class Section:
    start: int  # source line of the heading (its first line, for a setext heading)
    end: int  # one past the section's last line: the next level-2 heading's line, or the end
    title: str  # the heading's text as a reader sees it (no markup, whitespace collapsed)
    body_start: int = -1  # first line after the heading (a setext heading spans two or more)

    @property
    def body(self) -> range:
        return range(self.body_start if self.body_start >= 0 else self.start + 1, self.end)


@dataclass(frozen=True)
class Item:
    """A unit of text under a heading: a list item (its own lines, not those of a nested list),
    or one line of text outside any list."""

    start: int
    end: int
    text: str  # visible text, lines joined with "\n"


def normalise(text: str) -> str:
    """The text as the parser numbers its lines: no leading BOM, line ends as one "\\n"."""
    if text.startswith(BOM):
        text = text[len(BOM):]
    return re.sub(r"\r\n?", "\n", text)


@dataclass(frozen=True)
class Document:
    """One parse of a Markdown text: its level-2 sections, and its visible text by source line."""

    lines: tuple[str, ...]  # source lines
    visible: tuple[str, ...]  # what a reader sees of each source line ("" for markup only)
    sections: tuple[Section, ...]
    _tokens: tuple[Token, ...]

    def section_named(self, title: str) -> list[Section]:
        """Every level-2 section whose heading text is exactly `title` (case included)."""
        return [s for s in self.sections if s.title == title]

    def visible_text(self, lines: range | None = None) -> str:
        chosen = self.visible if lines is None else self.visible[lines.start:lines.stop]
        return "\n".join(chosen)

    def items(self, lines: range) -> list[Item]:
        """List items and loose text lines inside `lines`, in order (see Item)."""
        inside = [t for t in self._tokens if t.map and lines.start <= t.map[0] < lines.stop]
        item_ranges = [(t.map[0], t.map[1]) for t in inside if t.type == "list_item_open" and t.map]
        owned: dict[int, int] = {}  # line -> start line of the innermost item holding it
        for a, b in item_ranges:  # outer items come first, inner ones overwrite them
            for line in range(a, min(b, lines.stop)):
                owned[line] = a
        out: list[Item] = []
        for a, b in item_ranges:
            mine = [n for n in range(a, min(b, lines.stop)) if owned.get(n) == a]
            text = "\n".join(self.visible[n] for n in mine if self.visible[n].strip())
            if text:
                out.append(Item(a, b, text))
        for n in lines:
            if n not in owned and n < len(self.visible) and self.visible[n].strip():
                out.append(Item(n, n + 1, self.visible[n]))
        return sorted(out, key=lambda i: i.start)

    def blocks(self) -> list[str]:
        """The visible text of each leaf block (paragraph, heading, code, HTML), in order: the
        units a sentence cannot run across."""
        out: list[str] = []
        for t in self._tokens:
            if t.map and t.type in ("inline", "fence", "code_block", "html_block"):
                a, b = t.map
                text = "\n".join(v for v in self.visible[a:b] if v.strip())
                if text:
                    out.append(text)
        return out


def _strip_html(html: str, hrefs: list[str] | None = None) -> str:
    """What a reader sees of raw HTML: comments and tags removed, line ends kept; an `<a href>`
    link's target follows its text, as a Markdown link's does (`text <url>`). `hrefs` carries the
    open links across the pieces of one inline text (each inline tag is a piece of its own)."""
    html = _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), html)
    stack = hrefs if hrefs is not None else []

    def tag(m: re.Match[str]) -> str:
        text, breaks = m.group(0), "\n" * m.group(0).count("\n")
        opened = _A_OPEN.fullmatch(text)
        if opened is not None:
            stack.append(unescape(next(g for g in opened.groups() if g is not None)))
            return breaks
        if _A_CLOSE.fullmatch(text):
            href = stack.pop() if stack else ""
            return (f" <{href}>" if href.strip() else "") + breaks
        if text[:2].lower() == "<a" and re.match(r"<a[\s>]", text, re.I):
            stack.append("")  # an anchor without href: its closing tag cites nothing
        return breaks

    return _TAG.sub(tag, html)


def _inline_text(token: Token) -> str:
    """The visible text of an inline token; soft and hard breaks stay line breaks, a link's
    target follows its text (a link cites its URL)."""
    parts: list[str] = []
    hrefs: list[str] = []
    html_hrefs: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "html_inline":
            parts.append(_strip_html(child.content, html_hrefs))
        elif kind == "link_open":
            hrefs.append(str(child.attrs.get("href") or ""))
        elif kind == "link_close":
            href = hrefs.pop() if hrefs else ""
            if href:
                parts.append(f" <{href}>")
        elif kind == "image":
            parts.append("".join(c.content for c in child.children or []))
    return "".join(parts)


def _place(visible: list[str], first: int, last: int, text: str) -> None:
    """Put `text` on source lines first..last-1: line for line where the counts agree, else
    (a code span or comment that joined lines) all on the first line."""
    rows = text.split("\n")
    if len(rows) > last - first:
        rows = rows[: max(last - first - 1, 0)] + [" ".join(rows[max(last - first - 1, 0):])]
    for offset, row in enumerate(rows):
        n = first + offset
        if n < len(visible):
            visible[n] = (visible[n] + " " + row).strip() if visible[n] else row


def _title(token: Token) -> str:
    return " ".join(_inline_text(token).replace("\n", " ").split())


@lru_cache(maxsize=256)
def parse(text: str) -> Document:
    src = normalise(text or "")
    lines = src.split("\n")
    tokens = _MD.parse(src)
    visible = [""] * len(lines)
    heads: list[tuple[int, int, str]] = []  # (start, body start, title)
    quoted = 0
    for i, t in enumerate(tokens):
        if t.type == "blockquote_open":
            quoted += 1
        elif t.type == "blockquote_close":
            quoted -= 1
        elif t.type == "heading_open" and t.tag == "h2" and t.map and not quoted:
            inline = tokens[i + 1]
            heads.append((t.map[0], t.map[1], _title(inline)))
        if not t.map:
            continue
        a, b = t.map
        if t.type == "inline":
            _place(visible, a, b, _inline_text(t))
        elif t.type == "fence":
            _place(visible, a + 1, b, t.content.rstrip("\n"))
        elif t.type == "code_block":
            _place(visible, a, b, t.content.rstrip("\n"))
        elif t.type == "html_block":
            _place(visible, a, b, _strip_html(t.content).rstrip("\n"))
    sections = tuple(
        Section(start, heads[k + 1][0] if k + 1 < len(heads) else len(lines), title, body)
        for k, (start, body, title) in enumerate(heads))
    return Document(tuple(lines), tuple(visible), sections, tuple(tokens))


def visible_text(text: str) -> str:
    """The text a reader sees, one line per source line (markup, HTML comments and tags gone)."""
    return parse(text).visible_text()


def sections(lines: list[str]) -> list[Section]:
    """Level-2 sections of a file given as lines (no line ends); indexes into those lines."""
    return list(parse("\n".join(lines)).sections)


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(source line, text a reader sees) of each line of a paragraph or heading that stands
    outside any block quote: gates.md's statements are read from these. Code blocks (fenced or
    indented), HTML blocks and comments are no paragraph, so nothing in them is here; a list
    item's paragraphs are. Emphasis is markup (`**Blocker:**` reads `Blocker:`)."""
    src = normalise(text or "")
    out: list[tuple[int, str]] = []
    quoted = 0
    for t in _MD.parse(src):
        if t.type == "blockquote_open":
            quoted += 1
        elif t.type == "blockquote_close":
            quoted -= 1
        elif t.type == "inline" and t.map and not quoted:
            for offset, row in enumerate(_inline_text(t).split("\n")):
                out.append((t.map[0] + offset, row))
    return out
