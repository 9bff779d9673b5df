"""Visitor tokens are signed, expire, and refuse tampering."""

import pytest
from django.core import signing

from core.errors import InvalidToken
from tenants.tokens import token_issue, token_verify


def issue(**overrides):
    fields = {"tenant_id": 1, "site_id": 2, "visitor_id": "v-1", "conversation": "cv_abc"}
    return token_issue(**(fields | overrides))


def test_a_token_round_trips_its_claims():
    token, claims = issue(user_id="u-9")
    verified = token_verify(token)
    assert verified == claims
    assert verified.user_id == "u-9"
    assert verified.expires_at == claims.issued_at + 24 * 3600


@pytest.mark.parametrize("bad", [None, "", 42, "garbage", "x" * 3000, {"token": "x"}])
def test_malformed_tokens_are_refused(bad):
    with pytest.raises(InvalidToken):
        token_verify(bad)


def test_a_tampered_token_is_refused():
    token, _ = issue()
    payload, _, signature = token.rpartition(":")
    forged = signing.dumps(
        {"tenant_id": 1, "site_id": 3, "visitor_id": "v-1", "conversation": "cv_x"},
        salt="another salt",
    )
    with pytest.raises(InvalidToken):
        token_verify(forged)
    with pytest.raises(InvalidToken):
        token_verify(payload + ":" + signature[::-1])


def test_an_expired_token_is_refused(settings):
    token, _ = issue()
    settings.VISITOR_TOKEN_TTL = -1
    with pytest.raises(InvalidToken):
        token_verify(token)
