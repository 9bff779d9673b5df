"""The threads that run a worker's HTTP requests, and how many there are.

Django's own ASGI handler runs the sync part of each request (the middleware and the view)
through asgiref in a thread of that request's own (`ThreadSensitiveContext`: a fresh executor per
request). Each thread opens its own database connection, and with CONN_MAX_AGE that connection
outlives the thread that used it: a worker under a burst held one idle connection per request
it had served at once (65 after a few bursts), and PostgreSQL refused the next with
"too many clients", answered 500.

Here the whole sync part of a request runs as one call on one of `PARLEY_HTTP_THREADS` threads
(default 8), so a worker holds at most that many connections for HTTP (plus the sockets' one,
core/db_thread.py), each kept warm between requests under Django's CONN_MAX_AGE rules. A
request that finds every thread busy waits for one up to `PARLEY_HTTP_THREAD_WAIT` seconds
(default 2), then is answered 503 `unavailable` with `Retry-After`: a client told to come back
later rather than a queue that grows with the burst and times every request out.

The middleware chain is loaded sync, as under WSGI: a request's middleware and view run on its
one thread with no hop between them. `/healthz` (the liveness probe: does the process answer?)
is answered on the event loop without a thread, so that a worker busy with a burst is not taken
for dead and restarted.
"""

import asyncio
import contextvars
import math
import weakref
from concurrent.futures import ThreadPoolExecutor

import django
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponse, JsonResponse
from django.urls import set_script_prefix

from core.errors import PayloadTooLarge, Unavailable
from core.http_errors import error_answer


class NoThreadFree(Exception):
    """Every thread stayed busy for the whole wait."""


class BoundedThreads:
    """At most `threads` threads for sync work; a call waits `wait` seconds at most for one."""

    def __init__(self, *, threads: int, wait: float):
        self.threads = threads
        self.wait = wait
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="parley-http")
        # One count of free threads per event loop (an asyncio semaphore belongs to one loop;
        # the worker has one, tests run several in turn).
        self._free: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def run(self, function, *args):
        """`function(*args)` on a free thread, with the caller's context (its log fields);
        `NoThreadFree` if none frees up within the wait."""
        loop = asyncio.get_running_loop()
        free = self._free.get(loop)
        if free is None:
            free = self._free[loop] = asyncio.Semaphore(self.threads)
        try:
            await asyncio.wait_for(free.acquire(), timeout=self.wait)
        except TimeoutError:
            raise NoThreadFree() from None
        try:
            context = contextvars.copy_context()
            return await loop.run_in_executor(self._executor, context.run, function, *args)
        finally:
            free.release()

    async def run_queued(self, function, *args):
        """`function(*args)` on the next thread that frees up, however long that takes (for
        the end of work already admitted, such as closing a streamed response)."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, context.run, function, *args)


class BoundedThreadsASGIHandler(ASGIHandler):
    """Django's ASGI handler, running each request's sync part on `threads`."""

    def __init__(self, threads: BoundedThreads):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = threads

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}")
        if scope["path"] == "/healthz":
            await self.send_response(_sized(JsonResponse({"status": "ok"})), send)
            return
        if _declared_length(scope) > settings.HTTP_MAX_BODY_BYTES:
            # Refused before a byte of it is read: Django would spool all of it to disk first.
            await self.send_response(_sized(error_answer(PayloadTooLarge())), send)
            return
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        except _BodyTooLarge:
            await self.send_response(_sized(error_answer(PayloadTooLarge())), send)
            return
        try:
            response = await self.threads.run(self._respond, scope, body_file)
        except NoThreadFree:
            busy = Unavailable(retry_after=math.ceil(self.threads.wait) or 1)
            response = _sized(error_answer(busy))
        try:
            await self.send_response(response, send)
        finally:
            if response.streaming:
                await self.threads.run_queued(response.close)
            body_file.close()

    async def read_body(self, receive):
        """Django's, stopped past HTTP_MAX_BODY_BYTES (a body sent without a length)."""
        limit = settings.HTTP_MAX_BODY_BYTES
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        return await super().read_body(counted)

    def _respond(self, scope, body_file) -> HttpResponse:
        """The whole sync part of a request, on one thread: its database connection is this
        thread's, and `request_finished` (Django's CONN_MAX_AGE rules) runs here too."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        response = error_response if request is None else self.get_response(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()  # the body is all in memory: nothing left to read from the view
        return response


class _BodyTooLarge(Exception):
    """The body went past HTTP_MAX_BODY_BYTES while it was read."""


def _declared_length(scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _sized(response: HttpResponse) -> HttpResponse:
    """A response answered without the middleware (CommonMiddleware sets Content-Length)."""
    response["Content-Length"] = str(len(response.content))
    return response


def http_application() -> BoundedThreadsASGIHandler:
    """Django's ASGI application for a worker (in place of `get_asgi_application()`)."""
    django.setup(set_prefix=False)
    return BoundedThreadsASGIHandler(
        BoundedThreads(threads=settings.HTTP_THREADS, wait=settings.HTTP_THREAD_WAIT)
    )
