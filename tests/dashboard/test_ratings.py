"""Visitors' ratings in the dashboard: on the conversation page, each agent's average on the team
page, the site's on its page."""

import pytest
from django_tenants.utils import tenant_context

from tenants.services import site_create
from tests.support.factories import visitor_conversation
from widget.models import Conversation
from widget.services.conversations import conversation_close
from widget.services.ratings import conversation_rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(tenant_a):
    return site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])


def rated(tenant, site, *, room: str, assignee, score: int, comment: str = "") -> Conversation:
    conversation = visitor_conversation(
        tenant, room=room, texts=(("visitor", "Hi"),), site_id=site.pk, name=room
    )
    with tenant_context(tenant):
        Conversation.objects.filter(pk=conversation.pk).update(assignee=assignee)
        conversation.refresh_from_db()
        conversation_close(tenant_id=tenant.id, conversation=conversation)
        conversation_rate(
            tenant_id=tenant.id, conversation=conversation, score=score, comment=comment
        )
    return conversation


def test_the_conversation_page_shows_the_visitors_rating(
    tenant_a, site, admin, agent, tenant_client
):
    conversation = rated(
        tenant_a, site, room="cv_rated", assignee=agent, score=4, comment="<b>Quick</b> & kind"
    )
    page = tenant_client(tenant_a, admin).get(f"/conversations/{conversation.pk}/")
    html = page.content.decode()
    assert "★★★★☆" in html
    assert "<strong>4 out of 5</strong>" in html
    assert "&lt;b&gt;Quick&lt;/b&gt; &amp; kind" in html

    unrated = visitor_conversation(tenant_a, room="cv_open", texts=(("visitor", "Hi"),))
    other = tenant_client(tenant_a, admin).get(f"/conversations/{unrated.pk}/").content.decode()
    assert "Asked when the conversation is closed." in other


def test_the_team_page_and_the_site_page_show_the_averages(
    tenant_a, site, admin, agent, tenant_client
):
    rated(tenant_a, site, room="cv_one", assignee=agent, score=5)
    rated(tenant_a, site, room="cv_two", assignee=agent, score=4)
    client = tenant_client(tenant_a, admin)
    team = client.get("/team/").content.decode()
    agent_row = team.split('data-rating="agent@alpha.test"')[1].split("</td>")[0]
    assert "<strong>4.5</strong> out of 5" in agent_row
    assert "(2 ratings)" in agent_row
    admin_row = team.split('data-rating="admin@alpha.test"')[1].split("</td>")[0]
    assert "No ratings yet" in admin_row

    site_page = client.get(f"/sites/{site.pk}/").content.decode()
    site_rating = site_page.split('id="site-rating"')[1].split("</p>")[0]
    assert "<strong>4.5</strong> out of 5" in site_rating
