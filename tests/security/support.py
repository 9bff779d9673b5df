"""What the security tests share: a tenant's world of data with recognisable words in it, and
dashboard browsers signed in on a tenant's host."""

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context, tenant_context

from accounts.models import Role, User
from tenants.models import Site, Tenant, Webhook
from tenants.selectors import site_current_key
from tenants.services import api_key_create, site_create, webhook_create
from widget.models import CannedReply, Conversation, Label, Message, Visitor

ORIGIN = "https://shop.example.com"
PASSWORD = "a-long-enough-passphrase-42"


@dataclass(frozen=True)
class World:
    """One tenant's data. Every string in `words` is something only this tenant may ever see."""

    tenant: Tenant
    site: Site
    site_key: str
    api_key: str
    api_key_id: int
    visitor: Visitor
    conversation: Conversation
    message: Message
    webhook: Webhook
    owner: User
    label: Label
    canned_reply: CannedReply

    @property
    def words(self) -> tuple[str, ...]:
        return (
            self.site.name,
            self.site_key,
            self.visitor.name,
            self.message.text,
            self.webhook.url,
            self.owner.email,
            self.conversation.room,
            self.label.name,
            self.canned_reply.body,
        )


def world_of(
    tenant: Tenant,
    *,
    conversation_pk: int | None = None,
    canned_reply_pk: int | None = None,
    label_pk: int | None = None,
) -> World:
    slug = tenant.slug
    site = site_create(tenant=tenant, name=f"{slug} private site", allowed_origins=[ORIGIN])
    row, api_key = api_key_create(tenant=tenant, name=f"{slug} server")
    webhook = webhook_create(
        tenant=tenant, url=f"https://{slug}.example.net/private-hook", events=["message.created"]
    )
    with schema_context(tenant.schema_name):
        visitor = Visitor.objects.create(site_id=site.id, name=f"{slug} visitor Quentin")
        conversation = Conversation.objects.create(
            pk=conversation_pk, room=f"cv_{slug}_private_room", site_id=site.id, visitor=visitor
        )
        message = Message.objects.create(
            conversation=conversation,
            author_kind="visitor",
            author_id=str(visitor.id),
            text=f"{slug} private words",
        )
        owner = User.objects.create_user(
            email=f"owner@{slug}.test", password=PASSWORD, role=Role.OWNER
        )
        label = Label.objects.create(pk=label_pk, name=f"{slug} secret label")
        conversation.labels.add(label)
        canned_reply = CannedReply.objects.create(
            pk=canned_reply_pk,
            shortcut="refund",
            title="Refunds",
            body=f"{slug} secret refund policy",
        )
    return World(
        tenant=tenant,
        site=site,
        site_key=site_current_key(site).key,
        api_key=api_key,
        api_key_id=row.pk,
        visitor=visitor,
        conversation=conversation,
        message=message,
        webhook=webhook,
        owner=owner,
        label=label,
        canned_reply=canned_reply,
    )


def host_of(tenant: Tenant) -> str:
    return f"{tenant.slug}.localhost"


def signed_in(tenant: Tenant, member: User, **options) -> Client:
    """A browser on the tenant's host with a dashboard session of `member`."""
    client = Client(HTTP_HOST=host_of(tenant), **options)
    with tenant_context(tenant):
        client.force_login(member)
    return client


def identity_hash(secret: str, user_id: str) -> str:
    """What a tenant's server computes: hex(HMAC-SHA256(identity_secret, user.id))."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


# --- Every URL of a tenant host -----------------------------------------------------------

# The object an `<int:pk>` names, by URL name prefix.
DASHBOARD_IDS = {
    "conversation": lambda w: w.conversation.pk,
    "site": lambda w: w.site.pk,
    "team": lambda w: w.owner.pk,
    "api_key": lambda w: w.api_key_id,
    "webhook": lambda w: w.webhook.pk,
    "label": lambda w: w.label.pk,
    "canned_reply": lambda w: w.canned_reply.pk,
}
# Ids kept in the public schema, unique across tenants: another tenant's must be 404.
PUBLIC_SCHEMA_IDS = {"site", "api_key", "webhook"}


def dashboard_patterns(resolver=None, prefix="") -> list[tuple[str, str]]:
    """(route with converters, URL name) of every tenant-host URL."""
    resolver = resolver or get_resolver("config.urls_tenant")
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found += dashboard_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry.name))
    return found


def kind_of(name: str) -> str | None:
    return next((kind for kind in DASHBOARD_IDS if name.startswith(kind)), None)


def dashboard_url(route: str, name: str, world) -> str:
    kind = kind_of(name)
    if "<int:pk>" in route:
        assert kind, f"{name}: add the object its pk names to DASHBOARD_IDS"
        route = route.replace("<int:pk>", str(DASHBOARD_IDS[kind](world)))
    route = route.replace("<int:label_pk>", str(world.label.pk))
    route = route.replace("<uuid:visitor_id>", str(world.visitor.pk))
    for converter in ("<str:token>", "<str:room>", "<str:key>", "<uidb64>", "<token>"):
        route = route.replace(converter, "MTIz")
    # The widget's scripts and data served on this host (re_path): a version of hex digits, a
    # language.
    if route.startswith("^"):
        route = re.sub(r"\(\?P<version>[^)]*\)", "0123456789abcdef0123", route)
        route = re.sub(r"\(\?P<locale>[^)]*\)", "en", route)
        route = route.removeprefix("^").removesuffix("$").replace("\\.", ".")
    assert "<" not in route, f"{name}: fill {route}"
    return "/" + route
