"""Is `--sign-key` a key the phase's adversary_signers names? (issue 19, case 12)

Checked before the run writes anything (plugins/run.py): a private key by the public half
`ssh-keygen -y` derives, a public key file (its private half in ssh-agent) as it is, an encrypted
key without asking a passphrase (its `.pub` beside it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ghostgates.record import signing

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs openssh-client (scripts/setup.sh)")


def _key(where: Path, name: str, passphrase: str = "") -> Path:
    key = where / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(key)], check=True)
    return key


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    adversary, stranger = _key(tmp_path, "adversary"), _key(tmp_path, "stranger")
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"# who may sign\nadversary@ghost-gates {adversary.with_suffix('.pub').read_text()}")
    return adversary, stranger, signers


def test_a_private_key_in_the_file_is_allowed_and_a_stranger_is_not(setup: tuple[Path, Path, Path]) -> None:
    adversary, stranger, signers = setup
    assert signing.allowed_signer(str(adversary), signers)
    assert not signing.allowed_signer(str(stranger), signers)


def test_a_private_key_without_its_pub_beside_it_is_judged_by_its_own_public_half(
        setup: tuple[Path, Path, Path]) -> None:
    adversary, stranger, signers = setup
    adversary.with_suffix(".pub").unlink()
    # A .pub that lies (the stranger's, beside the adversary's key) does not decide either.
    shutil.copy(stranger.with_suffix(".pub"), stranger.parent / "liar.pub")
    shutil.copy(adversary, stranger.parent / "liar")
    assert signing.allowed_signer(str(adversary), signers)
    assert signing.allowed_signer(str(stranger.parent / "liar"), signers)


def test_a_public_key_file_is_read_as_it_is(setup: tuple[Path, Path, Path]) -> None:
    adversary, stranger, signers = setup
    assert signing.allowed_signer(str(adversary.with_suffix(".pub")), signers)
    assert not signing.allowed_signer(str(stranger.with_suffix(".pub")), signers)


def test_an_encrypted_key_asks_no_passphrase_and_falls_back_to_its_pub(tmp_path: Path) -> None:
    key = _key(tmp_path, "locked", passphrase="secret words")
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"adversary@ghost-gates {key.with_suffix('.pub').read_text()}")
    assert signing.allowed_signer(str(key), signers)


def test_a_file_that_is_no_key_is_a_signing_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("not a key\n")
    with pytest.raises(signing.SigningError, match=r"not an SSH key whose public half can be read"):
        signing.public_key(str(junk))
