"""Secrets Parley must be able to read back, encrypted at rest.

An API key is only ever compared, so only its digest is stored (tenants/keys.py). A site's
identity secret and a webhook's secret are different: Parley signs and verifies with them, so it
needs the secret itself. They are stored encrypted (Fernet: AES-128-CBC with an HMAC-SHA256 tag)
under a key derived from SECRET_KEY with HKDF, so a copy of the database (a backup, a read
replica, a SQL injection) does not give away the secrets without the application's key.

SECRET_KEY_FALLBACKS are accepted for reading, so a SECRET_KEY rotation keeps old rows readable;
every write uses the current key (infra/RUNBOOK.md, Rotate secrets).

Ciphertext is random (a fresh IV each time), so these columns cannot be searched by value.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

_HKDF_SALT = b"parley.secrets-at-rest"
_HKDF_INFO = b"parley.secrets-at-rest.fernet.v1"


class SecretUnreadable(ValueError):
    """A stored secret that no current or fallback SECRET_KEY decrypts."""


def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


@lru_cache(maxsize=4)
def _cipher(secret_keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in secret_keys])


def _current_cipher() -> MultiFernet:
    return _cipher((settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS))


def secret_encrypt(plaintext: str) -> str:
    return _current_cipher().encrypt(plaintext.encode()).decode("ascii")


def secret_decrypt(ciphertext: str) -> str:
    try:
        return _current_cipher().decrypt(ciphertext.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError):
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS."
        ) from None


class EncryptedTextField(models.TextField):
    """A text column holding the Fernet ciphertext of its value; Python code sees the plaintext.
    The empty string is stored as is (a site without an identity secret)."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return secret_decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return secret_encrypt(value)
