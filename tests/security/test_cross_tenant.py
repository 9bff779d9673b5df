"""Tenant B against tenant A's data, on every surface: the site-key API (every operation of its
OpenAPI document), the session endpoint, both sockets, and every dashboard URL. The answer is
always a refusal (404, a login redirect, a socket close), never one of A's words, and A's data is
unchanged afterwards.

New API operations and dashboard URLs are picked up automatically: one whose ids the tests do
not know how to fill fails `test_every_..._is_covered` until it is added to the tables here.
"""

from dataclasses import replace

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django_tenants.utils import schema_context

from tenants.models import ApiKey, Site, Webhook
from tests.security.support import (
    ORIGIN,
    PUBLIC_SCHEMA_IDS,
    dashboard_patterns,
    dashboard_url,
    host_of,
    kind_of,
    signed_in,
    world_of,
)
from tests.support.api_clients import PlatformClient, error_code, site_api_client
from tests.support.factories import make_agent, make_site, make_visitor
from tests.support.sockets import agent_socket, chat_socket
from widget.models import CannedReply, Conversation, Label, Message, Visitor


@pytest.fixture(autouse=True)
def _tenants_on_a_plan_with_several_sites(tenant_a, tenant_b, on_plan):
    """These tests give a tenant several sites: more than the free plan allows."""
    on_plan(tenant_a, "pro")
    on_plan(tenant_b, "pro")


# --- The site-key API: every operation, tenant B's key, tenant A's ids ---------------------------

# The id each path (or query) parameter takes: tenant A's object of that kind.
API_ID_PARAMETERS = {
    "site_id": lambda a: a.site.id,
    "conversation_id": lambda a: a.conversation.id,
    "visitor_id": lambda a: a.visitor.id,
    "webhook_id": lambda a: a.webhook.id,
    "canned_reply_id": lambda a: a.canned_reply.id,
    "label_id": lambda a: a.label.id,
    "site": lambda a: a.site.id,  # GET /conversations?site=
}
# Filters and paging: no id of another tenant's object (a label is named, a member is the
# tenant's own, a search is words).
API_PAGING_PARAMETERS = {
    "cursor",
    "limit",
    "status",
    "q",
    "snoozed",
    "unassigned",
    "assignee",
    "label",
}
# Tenant A's conversation, canned reply and label ids: ones B cannot happen to hold (per schema).
A_CONVERSATION_PK = 1_000_000_007
# A valid body for operations that take one, so that only ownership can refuse the request.
API_BODIES = {
    ("patch", "/api/v1/sites/{site_id}"): {"name": "Taken over", "allowed_origins": []},
    ("post", "/api/v1/sites/{site_id}/rotate-key"): {"grace_seconds": 0},
    ("post", "/api/v1/conversations/{conversation_id}/messages"): {"text": "injected by B"},
    ("post", "/api/v1/sites"): {"name": "B's own", "allowed_origins": [ORIGIN]},
    ("post", "/api/v1/webhooks"): {"url": "https://b.example.net/hook"},
    ("post", "/api/v1/canned-replies"): {"shortcut": "b-own", "title": "B", "body": "B's"},
    ("patch", "/api/v1/canned-replies/{canned_reply_id}"): {"body": "Taken over"},
    ("put", "/api/v1/conversations/{conversation_id}/assignee"): {"member_id": None},
    ("put", "/api/v1/conversations/{conversation_id}/snooze"): {"until": "2999-01-01T00:00:00Z"},
    ("post", "/api/v1/labels"): {"name": "B's own label"},
    ("patch", "/api/v1/labels/{label_id}"): {"name": "Taken over"},
    # A's conversation id among B's own: skipped (B has none with it), nothing of A's changes.
    ("post", "/api/v1/conversations/bulk"): {"ids": [A_CONVERSATION_PK], "action": "close"},
}


def api_operations() -> list[tuple[str, str, dict]]:
    document = PlatformClient().get("/api/v1/openapi.json").json()
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def a_state(a) -> tuple:
    """What B must not be able to change of A's data."""
    site = Site.objects.get(pk=a.site.pk)
    with schema_context(a.tenant.schema_name):
        conversation = Conversation.objects.get(pk=a.conversation.pk)
        texts = list(Message.objects.filter(conversation=conversation).values_list("text"))
        visitor_exists = Visitor.objects.filter(pk=a.visitor.pk).exists()
        canned_replies = list(CannedReply.objects.values_list("shortcut", "title", "body"))
        labels = list(Label.objects.values_list("name", "color"))
        conversation_labels = list(conversation.labels.values_list("pk", flat=True))
    return (
        site.name,
        tuple(site.allowed_origins),
        site.identity_secret,
        tuple(
            site.keys.filter(revoked_at__isnull=True, expires_at__isnull=True).values_list("key")
        ),
        conversation.status,
        tuple(texts),
        visitor_exists,
        Webhook.objects.filter(pk=a.webhook.pk).exists(),
        ApiKey.objects.get(pk=a.api_key_id).revoked_at,
        tuple(canned_replies),
        tuple(labels),
        tuple(conversation_labels),
        conversation.assignee_id,
        conversation.snoozed_until,
    )


@pytest.fixture
def worlds(platform, tenant_a, tenant_b):
    # Conversation and canned reply ids are per schema: A's are ones B cannot happen to hold.
    a = world_of(
        tenant_a,
        conversation_pk=A_CONVERSATION_PK,
        canned_reply_pk=A_CONVERSATION_PK,
        label_pk=A_CONVERSATION_PK,
    )
    b = world_of(tenant_b)
    with schema_context(tenant_b.schema_name):
        assert not Conversation.objects.filter(pk=A_CONVERSATION_PK).exists()
        assert not CannedReply.objects.filter(pk=A_CONVERSATION_PK).exists()
        assert not Label.objects.filter(pk=A_CONVERSATION_PK).exists()
    return a, b


@pytest.mark.django_db
def test_every_site_api_operation_refuses_another_tenants_ids(worlds):
    a, b = worlds
    api_b = site_api_client(b.api_key)
    before = a_state(a)
    operations = api_operations()
    assert len(operations) >= 15
    for method, path, operation in operations:
        parameters = {p["name"]: p["in"] for p in operation.get("parameters", [])}
        unknown = set(parameters) - set(API_ID_PARAMETERS) - API_PAGING_PARAMETERS
        assert not unknown, f"{method} {path}: add {unknown} to API_ID_PARAMETERS"
        body = API_BODIES.get((method, path))
        if operation.get("requestBody", {}).get("required"):
            assert body is not None, f"{method} {path}: add a valid body to API_BODIES"
        ids = {name: API_ID_PARAMETERS[name](a) for name in parameters if name in API_ID_PARAMETERS}
        path_ids = {name: ids[name] for name in ids if parameters[name] == "path"}
        query_ids = {name: ids[name] for name in ids if parameters[name] == "query"}
        url = path.format(**path_ids)
        attempts = [(query_ids, bool(ids))]
        if query_ids and not path_ids:
            attempts.append(({}, False))  # the unfiltered list: B's own rows only
        for query, refused in attempts:
            if method in ("get", "delete"):
                response = getattr(api_b, method)(url, query)
            else:
                response = getattr(api_b, f"{method}_json")(url, body if body is not None else {})
            text = response.content.decode()
            for word in a.words:
                assert word not in text, f"{method} {path} showed B {word!r}"
            if refused:
                assert response.status_code == 404, f"{method} {path}: {text}"
                assert error_code(response) == "not_found"
            else:
                assert response.status_code in (200, 201), f"{method} {path}: {text}"
    assert a_state(a) == before


# --- The session endpoint: another tenant's site key, another site's token ------------------------


@pytest.mark.django_db
def test_a_token_replayed_on_another_site_or_tenant_never_resumes_the_visitor(worlds, tenant_a):
    a, b = worlds
    other_site_of_a = make_site(tenant_a, name="A's second site")
    page = PlatformClient(HTTP_ORIGIN=ORIGIN)
    own = page.post_json("/api/widget/v1/session", {"site_key": a.site_key}).json()
    assert (
        page.post_json(
            "/api/widget/v1/session", {"site_key": a.site_key, "visitor_token": own["token"]}
        ).json()["visitor_id"]
        == own["visitor_id"]
    )  # the token does resume on its own site

    for site_key in (other_site_of_a.key, b.site_key):
        response = page.post_json(
            "/api/widget/v1/session", {"site_key": site_key, "visitor_token": own["token"]}
        )
        assert response.status_code == 200
        session = response.json()
        assert session["visitor_id"] != own["visitor_id"]
        assert session["conversation"] != own["conversation"]
        for word in a.words:
            assert word not in response.content.decode()


# --- Sockets ------------------------------------------------------------------------------------


async def auth_close_code(site, room: str, token: str) -> int:
    """Open the chat socket of `site` in `room`, send `auth` with `token`: the close code. The
    socket must be closed before any frame (no `ready` with the room's messages)."""
    socket = chat_socket(site, room)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": token})
    output = await socket.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output  # not a `ready` frame
    return output["code"]


@pytest.mark.django_db(transaction=True)
async def test_chat_tokens_of_another_site_or_tenant_are_refused(tenant_a, tenant_b, fresh_sockets):
    def build():
        site_a, site_a2, site_b = (
            make_site(tenant_a),
            make_site(tenant_a, name="Second"),
            make_site(tenant_b),
        )
        return (
            (site_a, make_visitor(site_a)),
            (site_a2, make_visitor(site_a2)),
            (site_b, make_visitor(site_b)),
        )

    (site_a, alice), (_, alice2), (site_b, bob) = await database_sync_to_async(build)()
    # The visitor's own socket works (the refusals below are about ownership, not setup).
    own = chat_socket(site_a, alice.room)
    assert (await own.connect())[0]
    await own.send_json_to({"type": "auth", "token": alice.token})
    assert (await own.receive_json_from(timeout=5))["type"] == "ready"
    await own.disconnect()

    # Same tenant, another site's token in A's room: a new session for this site fixes it.
    assert await auth_close_code(site_a, alice.room, alice2.token) == 4401
    # Another tenant's token, through A's key, in A's room.
    assert await auth_close_code(site_a, alice.room, bob.token) == 4403
    # B's own key and token, naming A's private room.
    assert await auth_close_code(site_b, alice.room, bob.token) == 4403
    # A's token through B's key (in A's room, then in B's visitor's room).
    assert await auth_close_code(site_b, alice.room, alice.token) == 4403
    assert await auth_close_code(site_b, bob.room, alice.token) == 4403


@pytest.mark.django_db(transaction=True)
async def test_a_dashboard_session_of_another_tenant_opens_no_agent_socket(
    tenant_a, tenant_b, fresh_sockets
):
    agent_a = await database_sync_to_async(make_agent)(tenant_a)
    agent_b = await database_sync_to_async(make_agent)(tenant_b)
    own = agent_socket(agent_a)
    assert (await own.connect())[0]  # A's session on A's host is admitted
    await own.disconnect()

    # B's session cookie presented on A's host (same-origin headers): refused at the handshake.
    b_cookie_on_a = agent_socket(replace(agent_b, host=agent_a.host))
    assert (await b_cookie_on_a.connect())[0] is False
    # A's session on B's host, even from A's dashboard origin: refused.
    a_cookie_on_b = agent_socket(
        replace(agent_a, host=agent_b.host), origin=f"http://{agent_a.host}"
    )
    assert (await a_cookie_on_b.connect())[0] is False


# --- The dashboard: every URL pattern ------------------------------------------------------------

# Pages anyone may open (signing in, resetting a password, accepting an invitation).
PUBLIC_DASHBOARD_URLS = {
    "login",
    "login_link",
    "logout",
    "invitation_accept",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "avatar",  # a member's picture, named by an unguessable token of its own tenant
    "chime",  # the notification sound, the same for everyone
    "widget_preview",  # the widget's build, the same for everyone
    "widget_markdown",  # likewise
    "widget_emoji",  # the emoji picker: likewise
    "widget_emoji_data",  # its words and emoji, one file a language: likewise
}


@pytest.mark.django_db
def test_every_dashboard_url_is_covered():
    patterns = dashboard_patterns()
    assert len(patterns) >= 25
    for route, name in patterns:
        assert name, f"{route} has no URL name"
        if "<int:pk>" in route:
            assert kind_of(name), f"{name}: add the object its pk names to DASHBOARD_IDS"


@pytest.mark.django_db
def test_another_tenants_session_cookie_shows_nothing_on_every_dashboard_url(worlds):
    a, b = worlds
    b_member = signed_in(b.tenant, b.owner)
    b_cookie = b_member.cookies["sessionid"].value
    assert b_member.get("/").status_code == 200  # a real, live session on B's host
    before = a_state(a)
    on_a = Client(HTTP_HOST=host_of(a.tenant))
    on_a.cookies["sessionid"] = b_cookie
    for route, name in dashboard_patterns():
        url = dashboard_url(route, name, a)
        for method in ("get", "post"):
            response = getattr(on_a, method)(url)
            text = response.content.decode(errors="replace")  # a sound or a picture
            for word in a.words:
                assert word not in text, f"{method} {url} showed {word!r}"
            if name in PUBLIC_DASHBOARD_URLS:
                assert response.status_code < 500, (method, url)
            elif response.status_code != 405:  # a wrong method is refused before anything
                assert response.status_code == 302, (method, url, response.status_code)
                assert response["Location"].startswith("/login/"), (method, url)
    assert a_state(a) == before
    assert b_member.get("/").status_code == 200  # and B's session was not spent on A's host


@pytest.mark.django_db
def test_a_member_reaches_no_other_tenants_object_on_any_dashboard_url(worlds):
    a, b = worlds
    before = a_state(b)
    member_of_a = signed_in(a.tenant, a.owner)
    checked = 0
    for route, name in dashboard_patterns():
        if "<int:pk>" not in route:
            continue
        url = dashboard_url(route, name, b)
        for method in ("get", "post"):
            response = getattr(member_of_a, method)(url)
            text = response.content.decode()
            for word in b.words:
                assert word not in text, f"{method} {url} showed {word!r}"
            if kind_of(name) in PUBLIC_SCHEMA_IDS:
                assert response.status_code in (404, 405), (method, url, response.status_code)
            checked += 1
    assert checked >= 20
    assert a_state(b) == before
