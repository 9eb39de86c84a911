"""Signed adversary records (gates.md, "What the suite writes into the review file").

The signature is OpenSSH's own (`ssh-keygen -Y sign`, namespace `ghost-gates`, the SSHSIG format
git uses for SSH-signed commits), made and checked by Debian's openssh-client rather than by
code of ours:

- the message is the record line's text before ` sig=` (Record.payload(): from `<!--` up to and
  including the `at=` value), UTF-8, no newline;
- ` sig=` carries the armored signature's base64 body: the lines between `-----BEGIN SSH
  SIGNATURE-----` and `-----END SSH SIGNATURE-----` joined without newlines (standard base64 of
  the binary SSHSIG blob, `=` padding kept);
- a record is *signed* when `ssh-keygen -Y find-principals` finds its key in the phase's
  `adversary_signers` file and `ssh-keygen -Y verify` accepts it for that principal; a record
  without ` sig=` is *unsigned*; any other is *forged*, and the check says what is wrong: a
  signature made for another namespace, a key that has expired or is not yet valid
  (`valid-before`/`valid-after` in the file), a key not in the file, a signature that does not
  match the text (a field changed after signing), a blob that is not a signature.

docs/signing.md shows the commands.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Mapping
from pathlib import Path

from ghostgates.errors import GateError
from ghostgates.judge.rules.done import SignatureCheck
from ghostgates.record.review import Record, records

NAMESPACE = "ghost-gates"
_BEGIN, _END = "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----"
_TIMEOUT = 30.0


class SigningError(GateError):
    """Signing or checking could not be done (no ssh-keygen, no allowed-signers file, ...)."""


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SigningError("ssh-keygen not found: install Debian's openssh-client (scripts/setup.sh does)")
    return found


def _run(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, input=stdin, capture_output=True, timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise SigningError(f"{' '.join(args[:3])} did not answer in {_TIMEOUT:.0f} s") from None


def unarmor(armored: str) -> str:
    """The ` sig=` value: the armored signature's base64 body on one line."""
    lines = [line.strip() for line in armored.strip().splitlines()]
    if not lines or lines[0] != _BEGIN or lines[-1] != _END:
        raise SigningError("ssh-keygen gave no armored SSH signature")
    return "".join(lines[1:-1])


def armor(sig: str) -> str:
    """The armored file ssh-keygen reads back (OpenSSH wraps the body at 70 columns)."""
    return "\n".join([_BEGIN, *textwrap.wrap(sig, 70), _END]) + "\n"


def sign(payload: str, key: str) -> str:
    """Sign `payload` with `key`: a private key file, or a public key file whose private half is in ssh-agent."""
    if not Path(key).is_file():
        raise SigningError(f"{key}: signing key not found")
    done = _run([_ssh_keygen(), "-q", "-Y", "sign", "-f", key, "-n", NAMESPACE], payload.encode())
    if done.returncode != 0:
        raise SigningError(f"ssh-keygen could not sign with {key}: {_first_line(done.stderr)}")
    return unarmor(done.stdout.decode())


def agent_key(allowed_signers: Path) -> str | None:
    """The first ssh-agent key that the allowed-signers file names, as one public-key line; None if none."""
    if not os.environ.get("SSH_AUTH_SOCK") or shutil.which("ssh-add") is None:
        return None
    try:
        listed = subprocess.run(["ssh-add", "-L"], capture_output=True, timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return None
    if listed.returncode != 0:
        return None
    allowed = _allowed_keys(allowed_signers)
    for line in listed.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) >= 2 and (parts[0], parts[1]) in allowed:
            return f"{parts[0]} {parts[1]}"
    return None


def sign_with_agent(payload: str, public_key: str) -> str:
    with tempfile.TemporaryDirectory(prefix="ghost-gates-sign-") as tmp:
        pub = Path(tmp) / "key.pub"
        pub.write_text(public_key + "\n")
        return sign(payload, str(pub))


def _allowed_keys(allowed_signers: Path) -> set[tuple[str, str]]:
    """(key type, base64) of every key in an allowed-signers file (principals [options] type key)."""
    keys: set[tuple[str, str]] = set()
    for line in _read_signers(allowed_signers).splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        for i, part in enumerate(parts[1:], start=1):
            if part.startswith(("ssh-", "ecdsa-", "sk-")) and i + 1 < len(parts):
                keys.add((part, parts[i + 1]))
                break
    return keys


def _read_signers(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SigningError(f"{path}: the phase's adversary_signers file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningError(f"{path}: the phase's adversary_signers file cannot be read: {exc}") from None


def public_key(key: str) -> tuple[str, str]:
    """(key type, base64) of a signing key file: a public key file as it is, a private key's public half
    as `ssh-keygen -y` derives it (no passphrase asked: an encrypted key falls back to its `.pub`)."""
    path = Path(key)
    try:
        head = path.read_bytes()[:16384].decode("utf-8", errors="replace")
    except OSError as exc:
        raise SigningError(f"{key}: cannot be read: {exc.strerror or exc}") from None
    parsed = _key_line(head)
    if parsed is None:
        derived = _run([_ssh_keygen(), "-y", "-P", "", "-f", key], b"")
        parsed = _key_line(derived.stdout.decode(errors="replace")) if derived.returncode == 0 else None
    if parsed is None and Path(key + ".pub").is_file():
        parsed = _key_line(Path(key + ".pub").read_text(encoding="utf-8", errors="replace"))
    if parsed is None:
        raise SigningError(f"{key}: not an SSH key whose public half can be read")
    return parsed


def _key_line(text: str) -> tuple[str, str] | None:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(("ssh-", "ecdsa-", "sk-")):
            return parts[0], parts[1]
    return None


def allowed_signer(key: str, allowed_signers: Path) -> bool:
    """Whether the allowed-signers file names `key` (a private or public key file)."""
    return public_key(key) in _allowed_keys(allowed_signers)


def check(record: Record, allowed_signers: Path) -> SignatureCheck:
    if not record.sig:
        return SignatureCheck("unsigned", "the record line carries no sig=")
    _read_signers(allowed_signers)
    keygen = _ssh_keygen()
    with tempfile.TemporaryDirectory(prefix="ghost-gates-verify-") as tmp:
        sig_file = Path(tmp) / "record.sig"
        sig_file.write_text(armor(record.sig))
        found = _run([keygen, "-Y", "find-principals", "-s", str(sig_file), "-f", str(allowed_signers)], b"")
        principals = [p for p in found.stdout.decode().split() if p] if found.returncode == 0 else []
        namespace = signed_namespace(record.sig)
        if namespace is not None and namespace != NAMESPACE:
            return SignatureCheck("forged", f"signed for the namespace {namespace!r}, not {NAMESPACE!r}: a "
                                  "signature made for something else (sign with -n ghost-gates)")
        if not principals:
            return SignatureCheck("forged", _not_found(found.stderr, allowed_signers))
        why = ""
        for principal in principals:
            verified = _run([keygen, "-Y", "verify", "-f", str(allowed_signers), "-I", principal,
                             "-n", NAMESPACE, "-s", str(sig_file)], record.payload().encode())
            if verified.returncode == 0:
                return SignatureCheck("signed", f"by {principal}")
            why = why or _diagnosis(verified.stderr, allowed_signers)
        return SignatureCheck("forged", why or f"the signature of {', '.join(principals)} does not match the "
                              "record's text (a field was changed after signing)")


def signed_namespace(sig: str) -> str | None:
    """The namespace an SSHSIG blob was made for (OpenSSH PROTOCOL.sshsig: "SSHSIG", uint32
    version, string publickey, string namespace, ...); None where the blob does not parse."""
    try:
        blob = base64.b64decode(sig, validate=False)
    except (binascii.Error, ValueError):
        return None
    if not blob.startswith(b"SSHSIG") or len(blob) < 14:
        return None
    at = 10  # magic and version

    def string() -> bytes | None:
        nonlocal at
        if at + 4 > len(blob):
            return None
        size = int.from_bytes(blob[at:at + 4], "big")
        value = blob[at + 4:at + 4 + size]
        at += 4 + size
        return value if len(value) == size else None

    if string() is None:  # the public key
        return None
    namespace = string()
    return None if namespace is None else namespace.decode("utf-8", errors="replace")


def _diagnosis(stderr: bytes, allowed_signers: Path) -> str:
    """What ssh-keygen's own messages say is wrong (sshsig.c, ssh-keygen.c), in words; "" for none
    of those: a key outside its validity (`valid-before`, `valid-after`), a namespace the file does
    not permit for the key, a namespace that does not match."""
    text = stderr.decode(errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]

    def quoted(marker: str) -> str:
        line = next(line for line in lines if marker in line)
        return line.split(": ", 1)[1] if ": " in line else line

    if "key has expired" in text:
        return f"the signing key has expired in {allowed_signers} ({quoted('key has expired')})"
    if "key is not yet valid" in text:
        return f"the signing key is not yet valid in {allowed_signers} ({quoted('key is not yet valid')})"
    if "not permitted for use in signature namespace" in text:
        return f"{allowed_signers} does not permit the signing key for the namespace {NAMESPACE!r}"
    if "namespace does not match" in text:
        return f"the signature was made for another namespace, not {NAMESPACE!r}"
    return ""


def _not_found(stderr: bytes, allowed_signers: Path) -> str:
    """Why find-principals named nobody: a listed key outside its validity, or a key not in the file."""
    return _diagnosis(stderr, allowed_signers) or (f"not signed by a key in {allowed_signers}: the signing key "
                                                   "is not listed there")


def checks(found: Mapping[str, Record], allowed_signers: Path) -> dict[str, SignatureCheck]:
    return {gate: check(rec, allowed_signers) for gate, rec in found.items()}


def signature_checks(adversary_signers: str | None, review_text: str | None,
                     base_dir: Path) -> dict[str, SignatureCheck] | None:
    """What DONE.signed needs beside the text: None where the phase names no signers, else a check per record.

    The one call for everything that judges DONE (the DONE test, an in-process world judge).
    """
    path = signers_path(adversary_signers, base_dir)
    if path is None or review_text is None:
        return None
    return checks(records(review_text), path)


def signers_path(value: str | None, base_dir: Path) -> Path | None:
    """The phase's `adversary_signers`, `~` expanded, a relative path taken from `base_dir` (the checkout)."""
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _first_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""
