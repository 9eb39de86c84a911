"""Hostile text made inert for where it goes: one function per destination.

Everything a server or a world sends (a PR's title, a comment's `html_url`, a build's `link`, a
log line the evidence quotes) is text an attacker chose. Each output the suite writes escapes it
for its own grammar, here and nowhere else:

    terminal("state \\x1b[2J")        -> 'state \\\\x1b[2J'      (no control character reaches a tty)
    html_text('"><img src=x>')       -> '&quot;&gt;&lt;img src=x&gt;'
    safe_url("javascript:alert(1)")  -> None                  (only http and https become links)
    markdown_text("| ## x")          -> '\\\\| \\\\#\\\\# x'

A URL becomes a link only when it is `http` or `https` with a host and no whitespace, quote,
angle bracket or control character in it: `javascript:`, `vbscript:`, `data:`, `file:` and
anything odd stay text (gates.json keeps them as `unsafe_url`, never as `url`).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

# C0 (but none kept), DEL, C1, and the characters that reorder or break what a reader sees:
# bidi overrides and isolates (CVE-2021-42574, "Trojan Source"), line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
_URL_BAD = re.compile(r"[\s\"'<>`\\\x00-\x1f\x7f-\x9f]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|!~])")


def _visible(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal(text: object) -> str:
    """One line for a terminal: every control character shown as a visible escape (`\\x1b`, `\\r`,
    `\\n`), so a quoted log can neither clear the screen, move the cursor, overwrite a line with
    `\\r`, open an OSC 8 link, nor paint a fake verdict line."""
    return _CONTROL.sub(lambda m: _visible(m.group(0)), str(text))


def terminal_lines(text: object) -> str:
    """Several lines the suite itself laid out (a block it prints): each line escaped, the suite's
    own line breaks kept."""
    return "\n".join(terminal(line) for line in str(text).split("\n"))


def safe_url(url: object) -> str | None:
    """`url` when it may become a link (http or https, with a host, nothing that could leave an
    attribute or a Markdown link), else None."""
    if not isinstance(url, str) or not url or len(url) > 2048 or _URL_BAD.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def html_text(text: object) -> str:
    """Text for HTML element content or a quoted attribute value (quotes escaped too)."""
    return html.escape(terminal(text), quote=True)


def html_link(name: object, url: object) -> str:
    """An `<a>` to an http(s) URL, its text escaped; any other URL is shown as plain escaped text."""
    safe = safe_url(url)
    if safe is None:
        return html_text(name)
    return (f'<a href="{html.escape(safe, quote=True)}" target="_blank" rel="noopener noreferrer">'
            f"{html_text(name)}</a>")


def markdown_text(text: object) -> str:
    """One line of inert Markdown: no HTML comment, no heading, no table break, no link syntax."""
    flat = terminal(" ".join(str(text).split()))
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def markdown_link(name: object, url: object) -> str:
    """`[name](url)` for an http(s) URL that cannot leave the link; else the escaped name."""
    safe = safe_url(url)
    text = markdown_text(name)
    if safe is None or re.search(r"[()\[\]|]", safe):
        return text
    return f"[{text}]({safe})"


def evidence_item(item: dict[str, Any]) -> dict[str, Any]:
    """An evidence object for gates.json: a URL that may not become a link moves to `unsafe_url`."""
    url = item.get("url")
    if url is None or safe_url(url) is not None:
        return dict(item)
    out = {k: v for k, v in item.items() if k != "url"}
    out["unsafe_url"] = str(url)
    return out
