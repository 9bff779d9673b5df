"""Outbound webhooks: the API to manage them, signed deliveries to a real loopback receiver,
retries with backoff visible to the tenant, and the worker as a process of its own."""

import hashlib
import hmac
import importlib
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from config.embedded import database_url
from tenants import site_directory
from tenants.models import Webhook, WebhookDelivery
from tenants.selectors import site_current_key
from tenants.services import site_create
from tenants.webhooks import webhooks_deliver_due
from tests.support.api_clients import PlatformClient, error_code
from tests.support.processes import ROOT, free_port, parley_environment
from widget.models import Conversation, Visitor
from widget.services.conversations import conversation_close
from widget.services.messages import MessagePost, message_post, message_post_many
from widget.services.sessions import VisitorIdentity, visitor_session_start
from widget.webhook_events import enqueue_conversation_closed

pytestmark = pytest.mark.django_db

subject_migration = importlib.import_module("tenants.migrations.0004_webhook_delivery_subject")


class Receiver:
    """A tenant's webhook endpoint on loopback: records each request, answers with the next
    status of `statuses` (the last one repeats). With `tls` (a server context) it speaks HTTPS
    and records the server name each client asked for (SNI)."""

    def __init__(self, statuses=(200,), tls: ssl.SSLContext | None = None):
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        self.server_names: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = self.url_for("127.0.0.1")
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url_for(self, host: str, scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.server.server_port}/hooks/parley"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Resolver:
    """A stand-in for DNS, which has no runnable stand-in here: `name` resolves to each of
    `answers` in turn (the last one repeats), as a rebinding attacker's name server answers;
    every other name (and an address) resolves as usual."""

    def __init__(self, monkeypatch, name: str, answers: list[str]):
        self.asked = 0
        real_getaddrinfo = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host != name:
                return real_getaddrinfo(host, port, *args, **kwargs)
            answer = answers[min(self.asked, len(answers) - 1)]
            self.asked += 1
            return real_getaddrinfo(answer, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def verify_signature(secret: str, headers: dict, body: bytes) -> dict:
    """What a receiver does: recompute the HMAC over "<t>.<raw body>" and compare."""
    fields = dict(part.split("=", 1) for part in headers["Parley-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest())
    assert abs(int(fields["t"]) - time.time()) < 60
    return json.loads(body)


@pytest.fixture
def site(tenant_a):
    return site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])


@pytest.fixture
def conversation(tenant_a, site):
    with schema_context(tenant_a.schema_name):
        return Conversation.objects.create(room="cv_hooked", site_id=site.id)


def subscribe(api, url, events=None):
    body = {"url": url} if events is None else {"url": url, "events": events}
    response = api.post_json("/api/v1/webhooks", body)
    assert response.status_code == 201, response.content
    return response.json()


def send_message(api, conversation, text, capture):
    with capture(execute=True):
        response = api.post_json(
            f"/api/v1/conversations/{conversation.id}/messages", {"text": text}
        )
    assert response.status_code == 201
    return response.json()


def deliveries(api, webhook_id):
    response = api.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200
    return response.json()["data"]


def make_due_now():
    """Let the backoff pass, as the clock would."""
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())


# --- Managing webhooks --------------------------------------------------------------------


def test_a_webhook_is_created_listed_and_deleted(api_a):
    created = subscribe(api_a, "https://hooks.example.com/parley", ["message.created"])
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["message.created"]
    listed = api_a.get("/api/v1/webhooks").json()["data"]
    assert [hook["id"] for hook in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert api_a.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert api_a.get("/api/v1/webhooks").json()["data"] == []


def test_a_webhook_subscribes_to_every_event_by_default(api_a):
    assert set(subscribe(api_a, "https://hooks.example.com/")["events"]) == {
        "message.created",
        "conversation.created",
        "conversation.closed",
        "conversation.rated",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://hooks.example.com/"},
        {"url": "not a url"},
        {"url": "https://user:pw@hooks.example.com/"},
        {"url": "https://hooks\u00ad.example.com/"},  # a soft hyphen: no host name can have it
        {"url": "https://hooks.example.com/", "events": ["message.deleted"]},
        {"url": "https://hooks.example.com/", "events": []},
        {"url": 5},
        {"url": "https://hooks.example.com/", "secret": "mine"},
        {},
    ],
)
def test_a_bad_webhook_is_refused(api_a, body):
    response = api_a.post_json("/api/v1/webhooks", body)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_a_tenant_has_at_most_twenty_webhooks(api_a):
    for n in range(20):
        subscribe(api_a, f"https://hooks.example.com/{n}")
    response = api_a.post_json("/api/v1/webhooks", {"url": "https://hooks.example.com/21"})
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert "at most 20" in response.json()["error"]["message"]


def test_malformed_and_oversized_webhook_bodies_are_refused(api_a):
    malformed = api_a.post_json("/api/v1/webhooks", '{"url": ')
    assert (malformed.status_code, error_code(malformed)) == (400, "invalid_json")
    huge = api_a.post_json("/api/v1/webhooks", {"url": "https://h.example/" + "x" * 70_000})
    assert (huge.status_code, error_code(huge)) == (413, "payload_too_large")


@pytest.mark.parametrize("suffix", ["", "/deliveries"])
def test_another_tenants_webhook_is_not_found(api_a, api_b, suffix):
    theirs = subscribe(api_b, "https://b.example.com/hook")
    method = api_a.delete if suffix == "" else api_a.get
    response = method(f"/api/v1/webhooks/{theirs['id']}{suffix}")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert Webhook.objects.filter(pk=theirs["id"]).exists()


# --- Deliveries ---------------------------------------------------------------------------


def test_a_message_is_delivered_signed(api_a, conversation, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        hook = subscribe(api_a, receiver.url, ["message.created"])
        sent = send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
        assert webhooks_deliver_due() == 1

    [(headers, body)] = receiver.requests
    event = verify_signature(hook["secret"], headers, body)
    assert event["type"] == "message.created"
    assert headers["Parley-Event"] == "message.created"
    assert headers["Parley-Event-Id"] == event["id"]
    assert event["data"]["message"]["id"] == sent["id"]
    assert event["data"]["message"]["text"] == "Hello"
    assert event["data"]["conversation"]["room"] == "cv_hooked"

    [delivery] = deliveries(api_a, hook["id"])
    assert delivery["status"] == "delivered"
    assert [attempt["status_code"] for attempt in delivery["attempts"]] == [200]


def test_a_signature_made_with_another_secret_does_not_verify(
    api_a, conversation, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        subscribe(api_a, receiver.url, ["message.created"])
        send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
        webhooks_deliver_due()
    [(headers, body)] = receiver.requests
    with pytest.raises(AssertionError):
        verify_signature("whsec_someone_else", headers, body)


@override_settings(WEBHOOK_RETRY_SCHEDULE=[10, 60])
def test_a_failing_receiver_is_retried_with_backoff_and_the_tenant_sees_each_attempt(
    api_a, conversation, django_capture_on_commit_callbacks
):
    with Receiver(statuses=[500, 503, 200]) as receiver:
        hook = subscribe(api_a, receiver.url, ["message.created"])
        send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)

        assert webhooks_deliver_due() == 1
        [pending] = deliveries(api_a, hook["id"])
        assert pending["status"] == "pending"
        wait = datetime.fromisoformat(pending["next_attempt_at"]) - timezone.now()
        assert timedelta(seconds=8) < wait <= timedelta(seconds=10)
        assert webhooks_deliver_due() == 0  # not before the backoff has passed
        assert len(receiver.requests) == 1

        make_due_now()
        assert webhooks_deliver_due() == 1
        [pending] = deliveries(api_a, hook["id"])
        wait = datetime.fromisoformat(pending["next_attempt_at"]) - timezone.now()
        assert timedelta(seconds=58) < wait <= timedelta(seconds=60)

        make_due_now()
        assert webhooks_deliver_due() == 1

    [delivered] = deliveries(api_a, hook["id"])
    assert delivered["status"] == "delivered"
    assert [a["status_code"] for a in delivered["attempts"]] == [500, 503, 200]
    assert delivered["attempts"][0]["error"] == "the endpoint answered HTTP 500"
    # Every attempt sends the same event, each signed afresh.
    assert len({body for _, body in receiver.requests}) == 1
    for headers, body in receiver.requests:
        verify_signature(hook["secret"], headers, body)


@override_settings(WEBHOOK_RETRY_SCHEDULE=[10])
def test_a_delivery_fails_for_good_after_the_last_retry(
    api_a, conversation, django_capture_on_commit_callbacks
):
    with Receiver(statuses=[500]) as receiver:
        hook = subscribe(api_a, receiver.url, ["message.created"])
        send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
        webhooks_deliver_due()
        make_due_now()
        webhooks_deliver_due()
        make_due_now()
        assert webhooks_deliver_due() == 0
    [failed] = deliveries(api_a, hook["id"])
    assert failed["status"] == "failed"
    assert failed["next_attempt_at"] is None
    assert len(failed["attempts"]) == 2


def test_an_unreachable_receiver_is_recorded(
    api_a, conversation, django_capture_on_commit_callbacks
):
    hook = subscribe(api_a, f"http://127.0.0.1:{free_port()}/gone", ["message.created"])
    send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
    webhooks_deliver_due()
    [pending] = deliveries(api_a, hook["id"])
    assert pending["status"] == "pending"
    assert pending["attempts"][0]["status_code"] is None
    assert "ConnectError" in pending["attempts"][0]["error"]


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)
def test_a_private_address_is_never_called_in_production(
    api_a, conversation, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        hook = subscribe(api_a, receiver.url, ["message.created"])
        send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
        webhooks_deliver_due()
    assert receiver.requests == []
    [pending] = deliveries(api_a, hook["id"])
    assert "non-public address (127.0.0.1)" in pending["attempts"][0]["error"]


def test_a_stored_url_the_http_client_refuses_fails_its_own_delivery_only(
    api_a, conversation, django_capture_on_commit_callbacks
):
    """A webhook URL saved before URLs were checked as the worker reads them must not crash
    the delivery round (and the worker) for every tenant's deliveries."""
    with Receiver() as receiver:
        broken = subscribe(api_a, "https://hooks.example.com/", ["message.created"])
        Webhook.objects.filter(pk=broken["id"]).update(url="https://hooks\u00ad.example.com/")
        working = subscribe(api_a, receiver.url, ["message.created"])
        send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
        assert webhooks_deliver_due() == 2
    assert len(receiver.requests) == 1
    [delivered] = deliveries(api_a, working["id"])
    assert delivered["status"] == "delivered"
    [refused] = deliveries(api_a, broken["id"])
    assert refused["attempts"][0]["error"].startswith("the URL is not valid")


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)
def test_a_host_that_rebinds_to_loopback_after_the_check_is_never_called(
    api_a, conversation, monkeypatch, django_capture_on_commit_callbacks
):
    """DNS rebinding: the name answers a public address to the check, then 127.0.0.1 to the
    connection. Its first answer is a multicast address: public to the check (Python's
    `is_global`), and refused by the kernel at connect() at once, so nothing leaves the
    machine; what matters is that the request never reaches the loopback receiver."""
    with Receiver() as receiver:
        resolver = Resolver(monkeypatch, "hooks.rebind.test", ["224.0.0.1", "127.0.0.1"])
        hook = subscribe(api_a, receiver.url_for("hooks.rebind.test"), ["message.created"])
        send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
        webhooks_deliver_due()
    assert receiver.requests == []
    assert resolver.asked == 1  # resolved once: the checked address is the one called
    [pending] = deliveries(api_a, hook["id"])
    assert pending["status"] == "pending"
    assert "ConnectError" in pending["attempts"][0]["error"]


def test_the_checked_address_is_called_under_the_hosts_own_name_and_certificate(
    api_a, conversation, monkeypatch, tmp_path, django_capture_on_commit_callbacks
):
    """Connecting to the resolved address keeps the URL's host for the receiver: the Host
    header, the TLS server name (SNI) and the certificate checked against it."""
    authority = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("hooks.example.test").configure_cert(tls)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))  # httpx trusts it then
    with Receiver(tls=tls) as receiver:
        # A second answer nobody listens on: a second resolution would fail the delivery.
        Resolver(monkeypatch, "hooks.example.test", ["127.0.0.1", "127.0.0.2"])
        url = receiver.url_for("hooks.example.test", scheme="https")
        hook = subscribe(api_a, url, ["message.created"])
        send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
        assert webhooks_deliver_due() == 1
    [(headers, body)] = receiver.requests
    assert headers["Host"] == f"hooks.example.test:{receiver.server.server_port}"
    assert receiver.server_names == ["hooks.example.test"]
    verify_signature(hook["secret"], headers, body)
    [delivered] = deliveries(api_a, hook["id"])
    assert delivered["status"] == "delivered", delivered["attempts"]


def test_only_subscribed_events_are_delivered(
    api_a, tenant_a, site, django_capture_on_commit_callbacks
):
    key = site_current_key(site).key
    with Receiver() as receiver:
        hook = subscribe(api_a, receiver.url, ["conversation.created", "conversation.closed"])
        with django_capture_on_commit_callbacks(execute=True):
            session = PlatformClient(HTTP_ORIGIN="https://shop.example").post_json(
                "/api/widget/v1/session", {"site_key": key}
            )
        assert session.status_code == 200
        with schema_context(tenant_a.schema_name):
            conversation = Conversation.objects.get(room=session.json()["conversation"])
        send_message(api_a, conversation, "not subscribed", django_capture_on_commit_callbacks)
        with (
            schema_context(tenant_a.schema_name),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert conversation_close(tenant_id=tenant_a.id, conversation=conversation)
            assert not conversation_close(tenant_id=tenant_a.id, conversation=conversation)
        assert webhooks_deliver_due() == 2

    events = [verify_signature(hook["secret"], *request) for request in receiver.requests]
    assert sorted(event["type"] for event in events) == [
        "conversation.closed",
        "conversation.created",
    ]
    for event in events:
        assert event["data"]["conversation"]["room"] == session.json()["conversation"]
    closed = next(event for event in events if event["type"] == "conversation.closed")
    assert closed["data"]["conversation"]["status"] == "closed"


def test_every_chat_events_delivery_is_stored_in_the_transaction_of_the_event(
    api_a, tenant_a, site, conversation
):
    """A crash between a commit and its after-commit hooks must not lose a webhook: each
    delivery row is written by the event's own transaction. This test's transaction never
    commits, so no after-commit hook ever runs, as after such a crash."""
    subscribe(api_a, "https://hooks.example.com/parley")
    session = visitor_session_start(site=site_directory.site_for_key(site_current_key(site).key))
    with schema_context(tenant_a.schema_name):
        sent, _ = message_post(
            tenant_id=tenant_a.id, conversation=conversation, text="one", author_kind="agent"
        )
        batch = message_post_many(
            tenant_id=tenant_a.id,
            posts=[
                MessagePost(conversation, "two", "visitor", "v1", client_id="c-2"),
                MessagePost(session.conversation, "three", "visitor", "v2", client_id="c-3"),
            ],
        )
        assert conversation_close(tenant_id=tenant_a.id, conversation=conversation)

    bodies = [json.loads(body) for body in WebhookDelivery.objects.values_list("body", flat=True)]
    assert sorted(
        (body["type"], body["data"].get("message", {}).get("id")) for body in bodies
    ) == sorted(
        [
            # Each conversation is created by its first message, not by the session.
            ("conversation.created", None),
            ("conversation.created", None),
            ("message.created", sent.id),
            ("message.created", batch[0][0].id),
            ("message.created", batch[1][0].id),
            ("conversation.closed", None),
        ]
    )


def test_erasing_a_visitor_erases_them_from_every_stored_and_pending_delivery(
    api_a, tenant_a, site
):
    """After an erasure request, no webhook body Parley keeps (sent or waiting) holds the
    visitor's name, email or words, and what was waiting is never sent."""
    words = ["I am Grace, my card ends 4242", "Still waiting", "Hello, lobby"]
    with Receiver() as receiver:
        subscribe(api_a, receiver.url)
        info = site_directory.site_for_key(site_current_key(site).key)
        grace = visitor_session_start(
            site=info,
            identity=VisitorIdentity(user_id="u-1", name="Grace Hopper", email="grace@navy.test"),
        )
        other = visitor_session_start(site=info)
        with schema_context(tenant_a.schema_name):
            lobby = Conversation.objects.create(room="lobby", site_id=site.id, kind="public")
            mine = grace.conversation
            for conversation, text in [(mine, words[0]), (mine, words[1]), (lobby, words[2])]:
                message_post(
                    tenant_id=tenant_a.id,
                    conversation=conversation,
                    text=text,
                    author_kind="visitor",
                    author_id=str(grace.visitor.id),
                    author_name="Grace Hopper",
                )
            message_post(
                tenant_id=tenant_a.id,
                conversation=other.conversation,
                text="not Grace",
                author_kind="visitor",
                author_id=str(other.visitor.id),
            )
        assert webhooks_deliver_due(limit=4) == 4  # sent; the rest still waits
        sent_before = len(receiver.requests)

        assert api_a.delete(f"/api/v1/visitors/{grace.visitor.id}").status_code == 204
        make_due_now()
        webhooks_deliver_due()
        after = [json.loads(body) for _, body in receiver.requests[sent_before:]]

    kept = list(WebhookDelivery.objects.values_list("body", flat=True))
    for secret in ["Grace Hopper", "grace@navy.test", str(grace.visitor.id), *words]:
        assert not [body for body in kept if secret in body], secret
        assert not [event for event in after if secret in json.dumps(event)], secret
    assert any("not Grace" in body for body in kept)  # another visitor's stay as they were
    assert not WebhookDelivery.objects.filter(status="pending").exists()


def test_deliveries_stored_before_subjects_existed_get_theirs_from_their_body(
    api_a, tenant_a, conversation
):
    with schema_context(tenant_a.schema_name):
        visitor = Visitor.objects.create(site_id=conversation.site_id, name="Ada")
        conversation.visitor = visitor
        conversation.save()
        lobby = Conversation.objects.create(room="lobby", site_id=conversation.site_id)
    subscribe(api_a, "https://hooks.example.com/parley", ["message.created"])
    with schema_context(tenant_a.schema_name):
        for room, kind in [(conversation, "agent"), (lobby, "visitor"), (lobby, "agent")]:
            message_post(
                tenant_id=tenant_a.id,
                conversation=room,
                text="hi",
                author_kind=kind,
                author_id=str(visitor.id) if kind == "visitor" else "1",
            )
    WebhookDelivery.objects.update(subject="")  # as the rows were before the migration

    with connection.schema_editor() as editor:
        subject_migration.subjects_from_bodies(apps, editor)

    assert sorted(WebhookDelivery.objects.values_list("subject", flat=True)) == sorted(
        ["", str(visitor.id), str(visitor.id)]
    )


def test_an_event_costs_no_query_when_the_tenant_has_no_webhook(
    tenant_a, conversation, django_assert_num_queries
):
    enqueue_conversation_closed(tenant_a.id, conversation)  # fills the subscription cache
    with django_assert_num_queries(0):
        enqueue_conversation_closed(tenant_a.id, conversation)
    assert not WebhookDelivery.objects.exists()


# --- The worker process ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the worker closes connections between rounds
@override_settings(WEBHOOK_DELIVERY_RETENTION_DAYS=30)
def test_the_worker_deletes_finished_deliveries_past_the_retention(api_a):
    """Without pruning, the delivery log (every body sent) grows in the public schema forever."""
    hook = Webhook.objects.get(pk=subscribe(api_a, "https://hooks.example.com/parley")["id"])
    ages = {"old-delivered": 31, "old-failed": 31, "old-pending": 31, "recent-delivered": 29}
    for event_id, days in ages.items():
        delivery = WebhookDelivery.objects.create(
            webhook=hook,
            event_id=event_id,
            event_type="message.created",
            body="{}",
            status=event_id.split("-")[1],
            next_attempt_at=timezone.now() + timedelta(hours=1),
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            created_at=timezone.now() - timedelta(days=days)
        )

    call_command("webhooks_worker", "--once")

    remaining = set(WebhookDelivery.objects.values_list("event_id", flat=True))
    assert remaining == {"old-pending", "recent-delivered"}  # a pending one is still to be sent


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_worker_process_delivers_and_retries_on_its_own(
    api_a, conversation, django_capture_on_commit_callbacks
):
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict),
        PARLEY_WEBHOOK_RETRY_SCHEDULE="1,1",
        PARLEY_WEBHOOK_POLL_SECONDS="0.2",
    )
    with Receiver(statuses=[500, 200]) as receiver:
        hook = subscribe(api_a, receiver.url, ["message.created"])
        send_message(api_a, conversation, "Hello", django_capture_on_commit_callbacks)
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "webhooks_worker"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 20
            while len(receiver.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            worker.terminate()
            _, errors = worker.communicate(timeout=10)
        assert worker.returncode == 0, errors.decode()[-2000:]

    [delivered] = deliveries(api_a, hook["id"])
    assert delivered["status"] == "delivered"
    first, second = (datetime.fromisoformat(a["at"]) for a in delivered["attempts"])
    assert second - first >= timedelta(seconds=1)  # the backoff was waited for
