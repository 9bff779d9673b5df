"""Self-hosting without billing, as `make run` runs: no Stripe, the installation's default plan
(`self-hosted`). One real daphne worker takes 100 concurrent visitor sockets and 5,000 messages in
the month (the Free plan stops at 20 and 1,000), and the month's usage is counted all the same.

Every client of this test comes from 127.0.0.1, so the per-address abuse budgets, which a real
site's visitors from many addresses never meet together, are lifted here; the visitors' own
budget (60 messages in 10 minutes) stays."""

import asyncio

import pytest
from django.db import connection

from config.embedded import database_url
from tenants.billing.models import MonthlyUsage
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import VisitorClient

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VISITORS = 100
MESSAGES_EACH = 50
LIMIT = 120  # seconds: a limit for a hung worker, not a measure of speed


def test_without_billing_a_tenant_takes_100_visitors_and_5000_messages(tenant_a):
    site = make_site(tenant_a)
    members = [make_visitor(site) for _ in range(VISITORS)]
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict),
        STRIPE_SECRET_KEY="",
        PARLEY_DEFAULT_PLAN="self-hosted",
        PARLEY_BUDGET_VISITOR_MESSAGES="60",
        PARLEY_BUDGET_ADDRESS_MESSAGES="1000000",
        PARLEY_WS_ADDRESS_UNAUTHENTICATED="1000",
        PARLEY_ADDRESS_PLAN_SHARE="1",
        BILLING_USAGE_FLUSH_SECONDS="0.5",
    )
    environment.pop("REDIS_URL", None)

    async def talk(client: VisitorClient, number: int) -> None:
        for window in range(0, MESSAGES_EACH, 10):  # ten at a time: within the frame limits
            for n in range(window, window + 10):
                await client.send_message(f"v{number}-{n}", f"message {n}")
            await client.wait_acked(timeout=LIMIT)

    async def scenario(port: int) -> list[int]:
        clients = [
            VisitorClient(f"v{n}", site, room=member.room, token=member.token, port=port)
            for n, member in enumerate(members)
        ]
        for client in clients:
            await client.connect()
        await asyncio.gather(*(talk(client, n) for n, client in enumerate(clients)))
        codes = [code for client in clients for code in client.close_codes]
        for client in clients:
            await client.stop()
        return codes

    with Daphne(environment=environment) as worker:
        codes = asyncio.run(asyncio.wait_for(scenario(worker.port), LIMIT * 2))
    assert codes == []  # no socket was closed: no 4402, no 4429
    usage = MonthlyUsage.objects.get(tenant=tenant_a)
    assert usage.messages == VISITORS * MESSAGES_EACH
