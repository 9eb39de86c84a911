"""Signed adversary records (gates.md: `adversary_signers`, ` sig=`), with keys made here.

The signatures are OpenSSH's SSHSIG (`ssh-keygen -Y sign`, PROTOCOL.sshsig in openssh-portable),
the format git uses for `gpg.format=ssh`; the allowed-signers file is ssh-keygen(1)'s
ALLOWED SIGNERS format, as git's `gpg.ssh.allowedSignersFile`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ghostgates.record import review, signing

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs openssh-client (scripts/setup.sh)")

SHA = "c" * 40


def keypair(where: Path, name: str) -> Path:
    key = where / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def allowed(where: Path, *entries: tuple[str, Path]) -> Path:
    path = where / "allowed_signers"
    path.write_text("".join(f"{who} {(key.with_suffix('.pub')).read_text().strip()}\n" for who, key in entries))
    return path


def signed_record(key: Path, **fields: str) -> review.Record:
    rec = review.Record(**{"gate": "M1", "verdict": "PASS", "role": "adversary", "head": SHA, "build": "58",
                           "at": "2026-06-15T18:00:00Z", **fields})
    return rec.signed(signing.sign(rec.payload(), str(key)))


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    return {"adversary": keypair(tmp_path, "adversary"), "stranger": keypair(tmp_path, "stranger")}


def test_a_record_signed_by_an_allowed_key_verifies(tmp_path: Path, keys: dict[str, Path]):
    signers = allowed(tmp_path, ("adversary@ghost-gates", keys["adversary"]))
    rec = signed_record(keys["adversary"])
    # The line round-trips through the review file's parser and still verifies.
    parsed = review.parse_record(rec.line())
    assert parsed == rec
    assert signing.check(parsed, signers) == signing.SignatureCheck("signed", "by adversary@ghost-gates")


def test_the_sig_value_is_the_armored_body_on_one_line(keys: dict[str, Path]):
    rec = signed_record(keys["adversary"])
    assert rec.sig and "\n" not in rec.sig and "-" not in rec.sig
    armored = signing.armor(rec.sig)
    assert armored.startswith("-----BEGIN SSH SIGNATURE-----\n") and signing.unarmor(armored) == rec.sig
    import base64

    assert base64.b64decode(rec.sig).startswith(b"SSHSIG")


def test_an_unsigned_record_is_named_unsigned(tmp_path: Path, keys: dict[str, Path]):
    signers = allowed(tmp_path, ("adversary@ghost-gates", keys["adversary"]))
    rec = review.Record("M1", "PASS", "adversary", SHA, "58", "2026-06-15T18:00:00Z")
    assert signing.check(rec, signers).status == "unsigned"


def test_a_key_not_in_the_file_is_forged(tmp_path: Path, keys: dict[str, Path]):
    signers = allowed(tmp_path, ("adversary@ghost-gates", keys["adversary"]))
    result = signing.check(signed_record(keys["stranger"]), signers)
    assert result.status == "forged" and "not signed by a key in" in result.detail


@pytest.mark.parametrize("field, value", [("verdict", "PASS"), ("build", "59"), ("head", "d" * 40),
                                          ("at", "2026-06-15T18:00:01Z"), ("gate", "M2")])
def test_a_tampered_field_is_forged(tmp_path: Path, keys: dict[str, Path], field: str, value: str):
    signers = allowed(tmp_path, ("adversary@ghost-gates", keys["adversary"]))
    # A signed FAIL whose fields are edited afterwards (above all: FAIL made PASS).
    rec = signed_record(keys["adversary"], verdict="FAIL")
    fields = {k: getattr(rec, k) for k in ("gate", "verdict", "role", "head", "build", "at", "sig")}
    fields[field] = value
    tampered = review.Record(**fields)
    result = signing.check(tampered, signers)
    assert result.status == "forged" and "does not match" in result.detail


def test_a_forged_signature_blob_is_forged(tmp_path: Path, keys: dict[str, Path]):
    signers = allowed(tmp_path, ("adversary@ghost-gates", keys["adversary"]))
    rec = review.Record("M1", "PASS", "adversary", SHA, "58", "2026-06-15T18:00:00Z", "U1NIU0lHAAAAAQ==")
    assert signing.check(rec, signers).status == "forged"


def test_a_signature_for_another_namespace_is_forged(tmp_path: Path, keys: dict[str, Path]):
    signers = allowed(tmp_path, ("adversary@ghost-gates", keys["adversary"]))
    rec = review.Record("M1", "PASS", "adversary", SHA, "58", "2026-06-15T18:00:00Z")
    out = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(keys["adversary"]), "-n", "git"],
                         input=rec.payload().encode(), capture_output=True, check=True)
    result = signing.check(rec.signed(signing.unarmor(out.stdout.decode())), signers)
    # It says what is wrong (the namespace), never "a field was changed after signing".
    assert result.status == "forged" and "namespace 'git', not 'ghost-gates'" in result.detail, result.detail


def _dated(tmp_path: Path, key: Path, option: str) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(f"adversary@ghost-gates {option} {key.with_suffix('.pub').read_text().strip()}\n")
    return path


# ssh-keygen(1) ALLOWED SIGNERS: valid-before/valid-after bound a key's validity; sshsig.c says
# "key has expired" / "key is not yet valid" and then find-principals finds no principal.
@pytest.mark.parametrize(("option", "words"), [
    ('valid-before="20200101"', "has expired"),
    ('valid-after="29990101"', "is not yet valid"),
])
def test_a_key_outside_its_validity_says_so(tmp_path: Path, keys: dict[str, Path], option: str, words: str):
    signers = _dated(tmp_path, keys["adversary"], option)
    result = signing.check(signed_record(keys["adversary"]), signers)
    assert result.status == "forged" and f"the signing key {words}" in result.detail, result.detail
    assert "No principal matched" not in result.detail


def test_a_key_the_file_keeps_for_other_namespaces_says_so(tmp_path: Path, keys: dict[str, Path]):
    signers = _dated(tmp_path, keys["adversary"], 'namespaces="git"')
    result = signing.check(signed_record(keys["adversary"]), signers)
    assert result.status == "forged" and "does not permit the signing key" in result.detail, result.detail


def test_a_key_not_in_the_file_says_so(tmp_path: Path, keys: dict[str, Path]):
    signers = allowed(tmp_path, ("adversary@ghost-gates", keys["adversary"]))
    result = signing.check(signed_record(keys["stranger"]), signers)
    assert result.detail.endswith("the signing key is not listed there"), result.detail


def test_a_missing_allowed_signers_file_is_an_error_not_a_verdict(tmp_path: Path, keys: dict[str, Path]):
    with pytest.raises(signing.SigningError, match="adversary_signers file does not exist"):
        signing.check(signed_record(keys["adversary"]), tmp_path / "nope")


def test_the_agent_key_named_in_the_file_signs(tmp_path: Path, keys: dict[str, Path]):
    if shutil.which("ssh-agent") is None:
        pytest.skip("no ssh-agent")
    signers = allowed(tmp_path, ("adversary@ghost-gates", keys["adversary"]))
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        import os
        import time

        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(keys["stranger"]), str(keys["adversary"])], env=env, check=True,
                       capture_output=True)
        old = os.environ.get("SSH_AUTH_SOCK")
        os.environ["SSH_AUTH_SOCK"] = str(sock)
        try:
            public = signing.agent_key(signers)
            assert public == " ".join(keys["adversary"].with_suffix(".pub").read_text().split()[:2])
            rec = review.Record("M1", "PASS", "adversary", SHA, "58", "2026-06-15T18:00:00Z")
            rec = rec.signed(signing.sign_with_agent(rec.payload(), public))
        finally:
            if old is None:
                os.environ.pop("SSH_AUTH_SOCK")
            else:
                os.environ["SSH_AUTH_SOCK"] = old
        assert signing.check(rec, signers).status == "signed"
    finally:
        agent.kill()
        agent.wait()


def test_a_relative_signers_path_is_read_from_the_base_dir(tmp_path: Path):
    assert signing.signers_path("keys/allowed", tmp_path) == tmp_path / "keys" / "allowed"
    assert signing.signers_path("/etc/allowed", tmp_path) == Path("/etc/allowed")
    assert signing.signers_path(None, tmp_path) is None
