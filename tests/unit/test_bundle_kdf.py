"""The sync bundle's key comes from cryptography's Scrypt (so the installer needs no second OpenSSL for Python's
hashlib): it must be the key hashlib.scrypt derived, or no bundle made before would open."""

from __future__ import annotations

import hashlib

import pytest

from desktop.models.sync import bundle

SALT = bytes.fromhex("5f0c9a1e27d84b3396a2c4e1b07d5f38")


@pytest.mark.parametrize("n", [bundle.LEGACY_SCRYPT_N, bundle.SCRYPT_N])
def test_the_key_and_check_are_hashlib_scrypts(n):
    passphrase = "Ærøskøbing ferry at nine"  # non-ASCII: the passphrase is encoded as UTF-8 either way
    r, p = bundle.SCRYPT_R, bundle.SCRYPT_P
    material = hashlib.scrypt(
        passphrase.encode("utf-8"), salt=SALT, n=n, r=r, p=p, maxmem=bundle.MAX_KDF_MEMORY, dklen=64
    )
    check = hashlib.sha256(b"locality-desk passphrase check" + material[32:]).hexdigest()
    assert bundle._derive.__wrapped__(passphrase, SALT, n, r, p) == (material[:32], check)
