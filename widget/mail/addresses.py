"""Reply addresses: `c-<tenant>-<conversation>-<party>-<mac>@<reply domain>`.

`party` is `v` for the conversation's visitor or `a<member id>` for an agent. `mac` is the
first 80 bits of an HMAC-SHA256, in lower-case base32 (16 characters), over the tenant, the
conversation, the party and the conversation's visitor id, with a key derived from SECRET_KEY
for that tenant alone (`salted_hmac` with the tenant in its salt). So an address names one
conversation of one tenant for one party, cannot be made for another without the key, stops
working when the conversation's visitor changes, and any character changed makes it unknown.
Mail systems may change the case of an address: it is read in lower case, and the token has
no upper-case letters. Keys in SECRET_KEY_FALLBACKS are accepted too, for a rotation.
"""

import base64
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

MAC_BYTES = 10  # 80 bits: 16 base32 characters, no padding
TOKEN = re.compile(
    r"^c-(?P<tenant>[1-9][0-9]{0,9})-(?P<conversation>[1-9][0-9]{0,18})"
    r"-(?P<party>v|a[1-9][0-9]{0,18})-(?P<mac>[a-z2-7]{16})$"
)


@dataclass(frozen=True)
class ReplyAddress:
    """What a well-formed reply address claims (not yet verified: `reply_address_verify`)."""

    tenant_id: int
    conversation_id: int
    agent_id: int | None  # None: the conversation's visitor
    mac: str


def _party(agent_id: int | None) -> str:
    return "v" if agent_id is None else f"a{agent_id}"


def _mac(
    tenant_id: int, conversation_id: int, party: str, visitor_id: str, secret: str | None
) -> str:
    digest = salted_hmac(
        f"parley.email.reply-address.t{tenant_id}",
        f"{tenant_id}-{conversation_id}-{party}-{visitor_id}",
        secret=secret,
        algorithm="sha256",
    ).digest()
    return base64.b32encode(digest[:MAC_BYTES]).decode().lower()


def reply_address(
    *, tenant_id: int, conversation_id: int, visitor_id: object, agent_id: int | None = None
) -> str:
    """The address whose mail becomes a message of this conversation by this party."""
    party = _party(agent_id)
    mac = _mac(tenant_id, conversation_id, party, str(visitor_id or ""), None)
    return f"c-{tenant_id}-{conversation_id}-{party}-{mac}@{settings.EMAIL_REPLY_DOMAIN}"


def reply_address_parse(address: str) -> ReplyAddress | None:
    """The claim of an address of the reply domain, or None for any other address."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if domain != settings.EMAIL_REPLY_DOMAIN.lower():
        return None
    match = TOKEN.match(local)
    if match is None:
        return None
    party = match["party"]
    return ReplyAddress(
        tenant_id=int(match["tenant"]),
        conversation_id=int(match["conversation"]),
        agent_id=None if party == "v" else int(party[1:]),
        mac=match["mac"],
    )


def reply_address_verify(claim: ReplyAddress, *, visitor_id: object) -> bool:
    """Whether the claim was signed by Parley for this conversation's visitor."""
    party = _party(claim.agent_id)
    return any(
        constant_time_compare(
            claim.mac,
            _mac(claim.tenant_id, claim.conversation_id, party, str(visitor_id or ""), secret),
        )
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    )
