"""A real localstripe server (a fake, stateful Stripe API) on a loopback port, for tests.

localstripe's own command binds every interface and keeps its store in `/tmp/localstripe.pickle`
shared by every run on the machine. Here its aiohttp app is served on 127.0.0.1 only, from a
thread with its own event loop, and the store stays in memory: each server starts empty.

localstripe supports customers, products, plans (the legacy form of prices), payment methods,
subscriptions, invoices, events and signed webhooks (`POST /_config/webhooks/<id>`); it has no
Prices, Checkout Sessions or Billing Portal.
"""

import asyncio
import threading

import httpx
import pytest
from aiohttp import web
from localstripe import server as localstripe_server
from localstripe import webhooks as localstripe_webhooks
from localstripe.resources import store

from tests.support.processes import free_port


class LocalStripe:
    """localstripe serving on `self.url` (loopback) until `stop()`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> "LocalStripe":
        self.reset()
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    async def _serve(self) -> None:
        self._runner = web.AppRunner(localstripe_server.app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _shutdown(self) -> None:
        # Webhook deliveries still waiting (localstripe sends each one a second late) are dropped.
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    def reset(self) -> None:
        """Forget every object and webhook endpoint."""
        # The store pickles itself to a fixed /tmp path on every change; keep it in memory.
        store.dump_to_disk = lambda: None
        store.clear()
        localstripe_webhooks._webhooks.clear()

    def register_webhook(self, *, url: str, secret: str, events: list[str]) -> None:
        """Have localstripe POST these event types to `url`, signed with `secret`."""
        response = httpx.post(
            f"{self.url}/_config/webhooks/parley",
            json={"url": url, "secret": secret, "events": events},
        )
        response.raise_for_status()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture(scope="session")
def localstripe():
    """One localstripe for the whole run (its aiohttp app can only ever serve one event loop)."""
    server = LocalStripe().start()
    yield server
    server.stop()
