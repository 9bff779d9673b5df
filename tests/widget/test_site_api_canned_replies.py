"""`/api/v1/canned-replies`: list in pages, create, read, change, delete; the services' rules as
documented errors (400 naming the field, 409 for a taken shortcut), audit entries naming the
API key, tenants apart (another tenant's id answers 404 like a missing one), and the OpenAPI
document."""

import pytest
from django_tenants.utils import schema_context

from tenants.models import AuditEntry
from tests.support.api_clients import error_code
from widget.models import CannedReply

pytestmark = pytest.mark.django_db

URL = "/api/v1/canned-replies"
HELLO = {"shortcut": "hello", "title": "Greeting", "body": "Hi {{visitor.name|there}}!"}


def test_replies_are_created_listed_in_pages_changed_and_deleted(api_a, tenant_a):
    created = api_a.post_json(URL, HELLO)
    assert created.status_code == 201
    reply = created.json()
    assert {k: reply[k] for k in HELLO} == HELLO
    assert reply["created_by_id"] is None  # the API made it, not a member
    for n in range(2):
        api_a.post_json(URL, {"shortcut": f"/Later{n}", "title": "Later", "body": "Soon."})

    first = api_a.get(URL, {"limit": 2}).json()
    assert [r["shortcut"] for r in first["data"]] == ["hello", "later0"]
    second = api_a.get(URL, {"limit": 2, "cursor": first["next"]}).json()
    assert [r["shortcut"] for r in second["data"]] == ["later1"]
    assert second["next"] is None

    one = f"{URL}/{reply['id']}"
    assert api_a.get(one).json()["body"] == HELLO["body"]
    changed = api_a.patch_json(one, {"title": "Hello there"})
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["body"]) == ("Hello there", HELLO["body"])
    assert api_a.delete(one).status_code == 204
    assert error_code(api_a.get(one)) == "not_found"

    entries = AuditEntry.objects.filter(tenant=tenant_a, action__startswith="canned_reply.")
    assert [e.action for e in entries.order_by("id")] == [
        "canned_reply.created",
        "canned_reply.created",
        "canned_reply.created",
        "canned_reply.updated",
        "canned_reply.deleted",
    ]
    assert {e.actor_kind for e in entries} == {"api_key"}


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({**HELLO, "shortcut": "HELLO"}, 409, "conflict", "The shortcut /hello is taken"),
        ({**HELLO, "shortcut": "two words"}, 400, "bad_request", "shortcut: letters, digits"),
        ({**HELLO, "body": "   "}, 400, "bad_request", "body: String should have at least 1"),
        ({**HELLO, "body": "x" * 3001}, 400, "bad_request", "body: String should have at most"),
        ({**HELLO, "body": "Hi {{visitor.phone}}"}, 400, "bad_request", "body: {{visitor.phone}}"),
        ({**HELLO, "title": None}, 400, "bad_request", "title: "),
        ({**HELLO, "extra": 1}, 400, "bad_request", "extra: "),
        ({"shortcut": "x", "title": "x"}, 400, "bad_request", "body: Field required"),
    ],
)
def test_a_refused_reply_answers_the_documented_error(api_a, body, status, code, message):
    assert api_a.post_json(URL, HELLO).status_code == 201
    answer = api_a.post_json(URL, body)
    assert answer.status_code == status
    assert error_code(answer) == code
    assert answer.json()["error"]["message"].startswith(message)


def test_a_change_is_checked_as_a_new_reply_is(api_a):
    hello = api_a.post_json(URL, HELLO).json()
    bye = api_a.post_json(URL, {"shortcut": "bye", "title": "Bye", "body": "Bye!"}).json()
    taken = api_a.patch_json(f"{URL}/{bye['id']}", {"shortcut": "Hello"})
    assert (taken.status_code, error_code(taken)) == (409, "conflict")
    null = api_a.patch_json(f"{URL}/{hello['id']}", {"body": None})
    assert (null.status_code, error_code(null)) == (400, "bad_request")
    assert "body may not be null" in null.json()["error"]["message"]
    assert api_a.get(f"{URL}/{bye['id']}").json()["shortcut"] == "bye"


def test_another_tenants_reply_is_not_found_like_a_missing_one(api_a, api_b, tenant_b):
    theirs = api_b.post_json(URL, HELLO).json()
    assert api_a.get(URL).json()["data"] == []
    for answer in (
        api_a.get(f"{URL}/{theirs['id']}"),
        api_a.patch_json(f"{URL}/{theirs['id']}", {"title": "Mine now"}),
        api_a.delete(f"{URL}/{theirs['id']}"),
        api_a.get(f"{URL}/{theirs['id'] + 1000}"),  # one that does not exist: the same answer
    ):
        assert (answer.status_code, error_code(answer)) == (404, "not_found")
    too_large = api_a.get(f"{URL}/{2**63}")  # no bigint names it
    assert (too_large.status_code, error_code(too_large)) == (400, "bad_request")
    # The same shortcut is tenant A's to take.
    assert api_a.post_json(URL, HELLO).status_code == 201
    with schema_context(tenant_b.schema_name):
        assert CannedReply.objects.get().title == "Greeting"


def test_an_unauthenticated_call_is_refused(platform):
    from tests.support.api_clients import PlatformClient

    answer = PlatformClient().get(URL)
    assert (answer.status_code, error_code(answer)) == (401, "invalid_token")


def test_the_openapi_document_names_the_endpoints_and_their_errors(api_a):
    paths = api_a.get("/api/v1/openapi.json").json()["paths"]
    listing, one = paths[URL], paths[URL + "/{canned_reply_id}"]
    assert set(listing) == {"get", "post"}
    assert set(one) == {"get", "patch", "delete"}
    assert set(listing["post"]["responses"]) == {"201", "400", "401", "404", "409", "413", "429"}
    assert set(one["patch"]["responses"]) >= {"200", "400", "401", "404", "409", "429"}
    assert set(one["get"]["responses"]) >= {"200", "401", "404", "429"}
