"""A build's log as gates.md defines it: the text a person reads in Drone's log view.

Drone stores a step's output as the step wrote it (harness/drone handler/api/repos/builds/logs/
find.go serves the stored lines, `[{"pos", "out", "time"}]`, byte for byte), so the colour and
cursor codes that tools print into CI logs come with it; the log view renders them, a reader never
sees them. gates.md ("A build's log"): terminal colour and cursor codes (ANSI escape sequences)
are not text: `state \\x1b[1mnew\\x1b[0m` reads `state new`.

The sequences are ECMA-48's (the standard behind ANSI X3.64), in their 7-bit form (ESC, 0x1B,
then ...) and their 8-bit C1 form:
- CSI: `ESC [` (or U+009B), parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, one final
  byte 0x40-0x7E (SGR colours `ESC[1;31m`, cursor moves `ESC[2K`, `ESC[?25l`);
- control strings: OSC `ESC ]` (U+009D; hyperlinks and window titles), DCS `ESC P`, SOS `ESC X`,
  PM `ESC ^`, APC `ESC _`, each up to its string terminator (ST `ESC \\` or U+009C; BEL also ends
  an OSC) or, unterminated, the end of its line;
- every other escape sequence: ESC, intermediate bytes 0x20-0x2F, one final byte 0x30-0x7E
  (`ESC(B`, `ESC7`, `ESC=`);
- a lone ESC and the remaining C1 controls (U+0080-U+009F) are no text either.
"""

from __future__ import annotations

import re

_CSI = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
_OTHER = r"\x1b[\x20-\x2f]*[\x30-\x7e]"
_ANSI = re.compile(f"{_CSI}|{_STRING}|{_OTHER}|\x1b|[\x80-\x9f]")


def readable(text: str) -> str:
    """The log text with every ANSI escape sequence removed (see the module's docstring)."""
    return _ANSI.sub("", text) if ("\x1b" in text or _has_c1(text)) else text


def _has_c1(text: str) -> bool:
    return any("\x80" <= ch <= "\x9f" for ch in text)
