"""Key material: generating site keys, API keys and identity secrets, and hashing API keys."""

import hashlib
import secrets

SITE_KEY_PREFIX = "pk_"
API_KEY_PREFIX = "sk_"


def new_site_key() -> str:
    return SITE_KEY_PREFIX + secrets.token_urlsafe(18)  # 24 url-safe characters


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)  # 43 url-safe characters


def new_identity_secret() -> str:
    return secrets.token_hex(32)  # 32 bytes


def api_key_digest(api_key: str) -> str:
    """API keys are long random strings, so a plain SHA-256 digest is a safe stored form."""
    return hashlib.sha256(api_key.encode()).hexdigest()
