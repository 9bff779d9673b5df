"""Reply addresses: signed for one party of one conversation of one tenant; any character
changed, another conversation's or tenant's id, or another key makes them unknown."""

import uuid

import pytest

from widget.mail.addresses import reply_address, reply_address_parse, reply_address_verify

from .conftest import REPLY_DOMAIN

VISITOR = uuid.UUID("6b8f2a3e-1c55-4a0e-9d5e-0c1b2a3d4e5f")


def claim_holds(address: str, visitor_id=VISITOR) -> bool:
    claim = reply_address_parse(address)
    return claim is not None and reply_address_verify(claim, visitor_id=visitor_id)


def test_an_address_names_its_tenant_conversation_and_party():
    visitor = reply_address(tenant_id=7, conversation_id=42, visitor_id=VISITOR)
    agent = reply_address(tenant_id=7, conversation_id=42, visitor_id=VISITOR, agent_id=3)
    assert visitor.endswith(f"@{REPLY_DOMAIN}")
    assert visitor.startswith("c-7-42-v-")
    assert agent.startswith("c-7-42-a3-")
    assert len(visitor.partition("@")[0]) <= 64  # RFC 5321's bound on a local part
    claim = reply_address_parse(agent)
    assert (claim.tenant_id, claim.conversation_id, claim.agent_id) == (7, 42, 3)
    assert claim_holds(visitor)
    assert claim_holds(agent)
    # Mail systems may change an address's case: read in lower case.
    assert claim_holds(visitor.upper())
    assert claim_holds(f"<{visitor}>")


def test_every_one_character_change_is_refused():
    address = reply_address(tenant_id=7, conversation_id=42, visitor_id=VISITOR)
    local, _, domain = address.partition("@")
    for position, character in enumerate(local):
        for other in {"a", "7", "2", "-", "z"} - {character}:
            altered = f"{local[:position]}{other}{local[position + 1 :]}@{domain}"
            assert not claim_holds(altered), altered


@pytest.mark.parametrize(
    "swap",
    [
        ("c-7-", "c-8-"),  # another tenant
        ("-42-", "-43-"),  # another conversation
        ("-v-", "-a1-"),  # the visitor's address used as an agent's
    ],
)
def test_an_address_cannot_be_turned_into_another_conversations_or_tenants(swap):
    address = reply_address(tenant_id=7, conversation_id=42, visitor_id=VISITOR)
    assert not claim_holds(address.replace(*swap, 1))


def test_another_visitor_other_domains_and_other_keys_are_refused(settings):
    address = reply_address(tenant_id=7, conversation_id=42, visitor_id=VISITOR)
    assert not claim_holds(address, visitor_id=uuid.uuid4())  # the conversation's visitor changed
    assert reply_address_parse(address.replace(REPLY_DOMAIN, "evil.test")) is None
    assert reply_address_parse("someone@" + REPLY_DOMAIN) is None
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-after-a-rotation-" + "x" * 40
    assert claim_holds(address)  # a rotation keeps old emails answerable
    settings.SECRET_KEY_FALLBACKS = []
    assert not claim_holds(address)
