"""The one URL redactor: whatever a URL's userinfo holds never reaches a terminal, a report or an error.

Used wherever the suite shows a URL (the clients' messages, the engine's description, the run's
header) and on the text of errors raised underneath (httpx, docker-py, paramiko, testinfra), which
may quote the address they were given.

The rule: a password is always `***`; a user name stays only on `ssh://` (a login name, as in
`ssh://ops@manager-1`), elsewhere the whole userinfo is `***` (`https://TOKEN@host` is a token).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

# scheme://userinfo@ in free text; and a bare user:password@host (an SDK that quotes its netloc).
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s]*)@")
_BARE_USERINFO = re.compile(r"(?<![\w/:*])([\w.-]+):(?!\*\*\*@)[^\s/@:]+@(?=[\w.\[-])")


def _userinfo(scheme: str, userinfo: str) -> str:
    user, has_password, _ = userinfo.partition(":")
    if scheme.lower() == "ssh" and user:
        return f"{user}:***" if has_password else user
    return "***"


def redact_url(url: str) -> str:
    """`url` without its secrets: `https://user:TOKEN@host` -> `https://***@host`, `ssh://ops:pw@m` -> `ssh://ops:***@m`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if "@" not in parts.netloc:
        return redact_text(url)
    userinfo, host = parts.netloc.rsplit("@", 1)
    netloc = f"{_userinfo(parts.scheme, userinfo)}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_text(text: str) -> str:
    """Every URL's userinfo in free text redacted as `redact_url` does (messages that quote a URL)."""
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{_userinfo(m.group(1)[:-3], m.group(2))}@", text)
    return _BARE_USERINFO.sub(r"\1:***@", text)


def secrets_of(url: str) -> tuple[str, ...]:
    """The secret parts of `url`'s userinfo as a library may quote them: the password (and, off ssh://,
    the user name), as written and percent-decoded. testinfra, for one, runs `sshpass -p PASSWORD`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    if "@" not in parts.netloc:
        return ()
    user, has_password, password = parts.netloc.rsplit("@", 1)[0].partition(":")
    found = [password] if has_password else []
    if parts.scheme.lower() != "ssh":
        found.append(user)
    return tuple({form for secret in found if secret for form in (secret, unquote(secret))})


def scrub(text: str, *urls: str | None) -> str:
    """`text` (a library's error) with every URL's userinfo redacted, and the secrets of `urls` (the
    addresses it was given) wherever they stand, also outside any URL."""
    text = redact_text(text)
    for url in urls:
        for secret in secrets_of(url or ""):
            text = re.sub(rf"(?<![\w*]){re.escape(secret)}(?![\w*])", "***", text)
    return text
