"""Who may do what: the capabilities of each role, and the rules for managing the team.

agents: the inbox only (canned replies included, to insert, not to manage); admins: the inbox,
sites, the team (not its owners), API keys, webhooks, labels and canned replies;
owners: everything, billing included. The dashboard's pages and the agent socket ask here.
"""

from enum import StrEnum

from accounts.models import Role


class Capability(StrEnum):
    INBOX = "inbox"
    SITES = "sites"
    TEAM = "team"
    API_KEYS = "api_keys"
    WEBHOOKS = "webhooks"
    BILLING = "billing"
    AUDIT = "audit"  # the tenant's audit log
    ACCOUNT = "account"  # export the tenant's data, close the account
    LABELS = "labels"  # manage the inbox's labels (any member puts them on conversations)
    # Manage the canned replies (any member reads them and inserts them in the composer).
    CANNED_REPLIES = "canned_replies"
    # Export a visitor's data and erase them (a visitor's request under data-protection law).
    VISITOR_DATA = "visitor_data"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.AGENT: frozenset({Capability.INBOX}),
    Role.ADMIN: frozenset(
        {
            Capability.INBOX,
            Capability.SITES,
            Capability.TEAM,
            Capability.API_KEYS,
            Capability.WEBHOOKS,
            Capability.AUDIT,
            Capability.LABELS,
            Capability.CANNED_REPLIES,
            Capability.VISITOR_DATA,
        }
    ),
    Role.OWNER: frozenset(Capability),
}


def user_can(user, capability: Capability) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return capability in ROLE_CAPABILITIES.get(user.role, frozenset())


def may_manage_member(actor, member) -> bool:
    """Whether `actor` may change the role of or remove `member`: only owners touch owners."""
    if not user_can(actor, Capability.TEAM):
        return False
    return actor.role == Role.OWNER or member.role != Role.OWNER


def assignable_roles(actor) -> list[str]:
    """The roles `actor` may give: admins make agents and admins, owners also owners."""
    if actor.role == Role.OWNER:
        return [Role.OWNER, Role.ADMIN, Role.AGENT]
    return [Role.ADMIN, Role.AGENT]
