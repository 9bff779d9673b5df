"""The visitor's forms over HTTP (`POST /api/widget/v1/prechat`, `/offline`): answers checked
against the site's questions and stored on the visitor, the offline message in the inbox, and
every refusal with its code and the field it names."""

import pytest
from django_tenants.utils import schema_context

from tenants.services import site_update
from tenants.site_directory import site_cache_clear
from tests.support.api_clients import PlatformClient, error_code
from widget.models import Conversation, Message, Visitor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform")]

QUESTIONS = [
    {"label": "Order number", "type": "number", "required": True},
    {"label": "Topic", "type": "select", "options": ["Billing", "Bugs"]},
    {"label": "Work email", "type": "email"},
    {"label": "Send me news", "type": "checkbox"},
    {"label": "Anything else", "type": "text"},
]


@pytest.fixture
def session(site):
    site_update(site=site.site, prechat="email_required", prechat_fields=QUESTIONS)
    site_cache_clear()
    client = PlatformClient(HTTP_ORIGIN=site.origin)
    body = client.post_json("/api/widget/v1/session", {"site_key": site.key}).json()
    return client, body


def test_the_session_answer_names_the_questions_until_they_are_answered(site, session):
    client, body = session
    assert body["prechat"]["mode"] == "email_required"
    assert body["prechat"]["done"] is False
    assert [field["key"] for field in body["prechat"]["fields"]] == [
        "order_number",
        "topic",
        "work_email",
        "send_me_news",
        "anything_else",
    ]
    answers = {"order_number": "1042", "topic": "Bugs", "send_me_news": True}
    response = client.post_json(
        "/api/widget/v1/prechat",
        {
            "site_key": site.key,
            "visitor_token": body["token"],
            "name": " Greta ",
            "email": "greta@example.com",
            "answers": answers,
        },
    )
    assert response.status_code == 200, response.content
    with schema_context(site.tenant.schema_name):
        visitor = Visitor.objects.get(pk=body["visitor_id"])
    assert (visitor.name, visitor.email) == ("Greta", "greta@example.com")
    assert visitor.prechat_answers == [
        {"key": "order_number", "label": "Order number", "value": "1042"},
        {"key": "topic", "label": "Topic", "value": "Bugs"},
        {"key": "send_me_news", "label": "Send me news", "value": True},
    ]
    again = client.post_json(
        "/api/widget/v1/session", {"site_key": site.key, "visitor_token": body["token"]}
    ).json()
    assert again["prechat"]["done"] is True


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"email": ""}, {"email": "is required", "order_number": "is required"}),
        (
            {"email": "greta@", "answers": {"order_number": "12"}},
            {"email": "is not an email address"},
        ),
        ({"answers": {"order_number": "twelve"}}, {"order_number": "is not a number"}),
        (
            {"answers": {"order_number": "1", "topic": "Cats"}},
            {"topic": "is not one of the choices"},
        ),
        (
            {"answers": {"order_number": "1", "work_email": "x"}},
            {"work_email": "is not an email address"},
        ),
        (
            {"answers": {"order_number": "1", "send_me_news": "yes"}},
            {"send_me_news": "true or false"},
        ),
        (
            {"answers": {"order_number": "1", "shoe_size": "44"}},
            {"shoe_size": "is not a question of this site"},
        ),
        (
            {"answers": {"order_number": "1", "anything_else": "x" * 501}},
            {"anything_else": "at most 500 characters of text"},
        ),
        ({"name": "x" * 201, "answers": {"order_number": "1"}}, {"name": "at most 200 characters"}),
    ],
)
def test_bad_answers_are_refused_naming_each_field(site, session, fields, problems):
    client, body = session
    form = {"site_key": site.key, "visitor_token": body["token"], "email": "g@example.com"}
    response = client.post_json("/api/widget/v1/prechat", form | fields)
    assert response.status_code == 400
    assert error_code(response) == "invalid_form"
    assert response.json()["error"]["fields"] == problems
    with schema_context(site.tenant.schema_name):
        assert Visitor.objects.get(pk=body["visitor_id"]).prechat_at is None


def test_a_form_needs_the_visitors_token_of_this_site(site, session, tenant_a):
    client, body = session
    form = {"site_key": site.key, "email": "g@example.com", "message": "Hi"}
    refused = client.post_json("/api/widget/v1/offline", form | {"visitor_token": "nope"})
    assert (refused.status_code, error_code(refused)) == (401, "invalid_token")
    elsewhere = PlatformClient(HTTP_ORIGIN="https://evil.example")
    refused = elsewhere.post_json("/api/widget/v1/offline", form | {"visitor_token": body["token"]})
    assert (refused.status_code, error_code(refused)) == (403, "origin_not_allowed")
    refused = client.post_json("/api/widget/v1/prechat", {"site_key": site.key})
    assert (refused.status_code, error_code(refused)) == (400, "bad_request")


def test_an_offline_message_becomes_a_conversation_in_the_inbox(site, session):
    client, body = session
    form = {
        "site_key": site.key,
        "visitor_token": body["token"],
        "name": "Greta",
        "email": "greta@example.com",
        "message": "Do you ship to Norway?",
        "client_id": "offline-1",
    }
    response = client.post_json("/api/widget/v1/offline", form)
    assert response.status_code == 200, response.content
    assert response.json()["conversation"] == body["conversation"]
    # The widget retrying the same form stores it once.
    assert client.post_json("/api/widget/v1/offline", form).json() == response.json()
    with schema_context(site.tenant.schema_name):
        conversation = Conversation.objects.get(room=body["conversation"])
        assert conversation.last_message_at is not None  # in the inbox
        assert conversation.waiting_since is not None
        messages = list(Message.objects.filter(conversation=conversation))
        assert [(m.author_kind, m.text) for m in messages] == [
            ("visitor", "Do you ship to Norway?")
        ]
        assert conversation.visitor.email == "greta@example.com"

    refused = client.post_json("/api/widget/v1/offline", form | {"email": "", "message": " "})
    assert error_code(refused) == "invalid_form"
    assert refused.json()["error"]["fields"] == {
        "email": "is required",
        "message": "1 to 4000 characters",
    }
