"""Ratings: `POST /api/widget/v1/rating` for the visitor's closed conversation, its validation and
refusals, the `conversation.rated` webhook, the conversation's `rating` in the site-key API, and
the averages per agent and per site."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import WebhookDelivery
from tenants.services import webhook_create
from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import ORIGIN, make_agent, make_site, make_visitor
from widget.models import Conversation, Message, Rating
from widget.selectors import ratings_by_agent, ratings_of_site
from widget.services.conversations import conversation_assign, conversation_close
from widget.services.ratings import conversation_rate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform")]

URL = "/api/widget/v1/rating"


@pytest.fixture
def site(tenant_a, on_plan):
    on_plan(tenant_a, "pro")  # room for three sites
    return make_site(tenant_a)


@pytest.fixture
def visitor(site):
    return make_visitor(site, name="Greta")


@pytest.fixture
def browser():
    return PlatformClient(HTTP_ORIGIN=ORIGIN)


def close(tenant, visitor, *, agent=None) -> Conversation:
    with schema_context(tenant.schema_name):
        conversation = Conversation.objects.get(room=visitor.room)
        Message.objects.create(
            conversation=conversation, author_kind="visitor", author_id="v", text="Help"
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
        if agent is not None:
            member = get_user_model().objects.get(pk=agent.user_id)
            conversation_assign(tenant_id=tenant.id, conversation=conversation, assignee=member)
        conversation_close(tenant_id=tenant.id, conversation=conversation)
        return conversation


def rate(browser, site, visitor, **fields):
    body = {"site_key": site.key, "visitor_token": visitor.token, "score": 5} | fields
    return browser.post_json(URL, body)


def test_a_closed_conversation_is_rated_and_rating_again_replaces_it(
    browser, tenant_a, site, visitor
):
    agent = make_agent(tenant_a)
    close(tenant_a, visitor, agent=agent)
    response = rate(browser, site, visitor, score=4, comment="  Quick and kind.  ")
    assert response.status_code == 200, response.content
    assert response.json()["score"] == 4
    assert response.json()["comment"] == "Quick and kind."
    assert response["Access-Control-Allow-Origin"] == ORIGIN

    again = rate(browser, site, visitor, score=2)
    assert (again.status_code, again.json()["score"], again.json()["comment"]) == (200, 2, "")
    with schema_context(tenant_a.schema_name):
        [rating] = Rating.objects.all()
        assert (rating.score, rating.agent_id, rating.site_id) == (2, agent.user_id, site.site.id)


def test_an_open_conversation_cannot_be_rated(browser, tenant_a, site, visitor):
    response = rate(browser, site, visitor)
    assert (response.status_code, error_code(response)) == (409, "conflict")
    with schema_context(tenant_a.schema_name):
        assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"score": 0},
        {"score": 6},
        {"score": "5"},
        {"score": 4.5},
        {"score": None},
        {"comment": "x" * 1001},
        {"comment": "nul\x00"},
        {"comment": 5},
        {"extra": 1},
    ],
)
def test_a_bad_rating_is_refused_and_nothing_is_stored(browser, tenant_a, site, visitor, fields):
    close(tenant_a, visitor)
    response = rate(browser, site, visitor, **fields)
    assert (response.status_code, error_code(response)) == (400, "bad_request")
    with schema_context(tenant_a.schema_name):
        assert not Rating.objects.exists()


def test_only_the_visitors_own_conversation_on_its_own_site_is_rated(
    browser, tenant_a, tenant_b, site, visitor
):
    close(tenant_a, visitor)
    bad = rate(browser, site, visitor, visitor_token="not-a-token")
    assert (bad.status_code, error_code(bad)) == (401, "invalid_token")
    other_site = make_site(tenant_a, name="Other")
    wrong_site = rate(browser, other_site, visitor)
    assert (wrong_site.status_code, error_code(wrong_site)) == (401, "invalid_token")
    elsewhere = make_site(tenant_b)
    other_tenant = rate(browser, elsewhere, visitor)
    assert (other_tenant.status_code, error_code(other_tenant)) == (401, "invalid_token")
    foreign = rate(PlatformClient(HTTP_ORIGIN="https://evil.example"), site, visitor)
    assert (foreign.status_code, error_code(foreign)) == (403, "origin_not_allowed")
    with schema_context(tenant_a.schema_name):
        assert not Rating.objects.exists()


def test_a_rating_is_a_webhook_event_and_in_the_apis_conversation(
    browser, api_a, tenant_a, site, visitor
):
    webhook_create(
        tenant=tenant_a, url="https://hooks.example.com/p", events=["conversation.rated"]
    )
    conversation = close(tenant_a, visitor)
    rate(browser, site, visitor, score=3, comment="OK")

    [body] = [json.loads(b) for b in WebhookDelivery.objects.values_list("body", flat=True)]
    assert body["type"] == "conversation.rated"
    assert body["data"]["conversation"]["id"] == conversation.pk
    assert {k: body["data"]["conversation"]["rating"][k] for k in ("score", "comment")} == {
        "score": 3,
        "comment": "OK",
    }
    [listed] = api_a.get("/api/v1/conversations?status=closed").json()["data"]
    assert (listed["rating"]["score"], listed["rating"]["comment"]) == (3, "OK")


def test_averages_per_agent_and_per_site(tenant_a, site):
    anna, ben = make_agent(tenant_a), make_agent(tenant_a)
    other_site = make_site(tenant_a, name="Other")
    for agent, rated_site, score in [(anna, site, 5), (anna, site, 4), (ben, other_site, 2)]:
        visitor = make_visitor(rated_site)
        conversation = close(tenant_a, visitor, agent=agent)
        with schema_context(tenant_a.schema_name):
            conversation_rate(tenant_id=tenant_a.id, conversation=conversation, score=score)
    with schema_context(tenant_a.schema_name):
        by_agent = ratings_by_agent()
        assert (by_agent[anna.user_id].average, by_agent[anna.user_id].count) == (4.5, 2)
        assert (by_agent[ben.user_id].average, by_agent[ben.user_id].count) == (2, 1)
        assert ratings_of_site(site_id=site.site.id).average == 4.5
        assert ratings_of_site(site_id=other_site.site.id).count == 1
        empty = make_site(tenant_a, name="Empty")
        assert (
            ratings_of_site(site_id=empty.site.id).average,
            ratings_of_site(site_id=empty.site.id).count,
        ) == (None, 0)
